import * as path from 'node:path';
import { CommandAdapter, type AdapterCommandSpec, type AdapterFactory } from '../sut/index';
import type { PlannedRun } from './runner';
import { executeRun } from './runner';
import type { ScenarioResult } from './result';
import { WorkerProcess } from './workerProcess';

/*
 * Running a plan: in this process, or spread over worker processes (workerProcess.ts says why
 * not threads) that each build their own emulator instances (design.md section 7). Results come back keyed by plan position, so the
 * reports are the same whatever the number of workers. A worker that dies, or a scenario that
 * runs past its time limit (the worker is then terminated), fails that scenario as an
 * infrastructure error; a new worker takes its place and the run goes on.
 */

/** How workers get the adapter: they cannot be handed a factory function, only where it comes from. */
export type AdapterSource =
  | { readonly kind: 'reference' }
  /** An adapter module (docs/adapter-api.md) by absolute path, which workers load again; its factory as this thread loaded it. */
  | { readonly kind: 'module'; readonly file: string; readonly factory: AdapterFactory }
  /** An adapter program (docs/adapter-protocol.md): each worker starts its own process. */
  | { readonly kind: 'command'; readonly spec: AdapterCommandSpec; readonly factory: AdapterFactory }
  /** An adapter only this thread can build (workers are not used). */
  | { readonly kind: 'in-thread'; readonly factory: AdapterFactory };

/** What the pool needs besides the runs. */
export type PoolOptions = {
  /** Worker processes; 0 runs everything in this process (no time limit can then be enforced). */
  readonly workers: number;
  readonly adapter: AdapterSource;
  /** Keep step logs and exercised sub-ops (the reports want them). */
  readonly log: boolean;
  /** A scenario running longer than this fails as an infrastructure error (workers only). */
  readonly scenarioTimeoutMs: number;
  /** Polled between scenarios: true stops dispatching; runs in flight are abandoned. */
  readonly stopped: () => boolean;
  /** Each result as it arrives (in completion order). */
  readonly onResult?: (index: number, result: ScenarioResult) => void;
};

/** What the worker is sent (see worker.ts). */
export type WorkerRequest = { readonly type: 'run'; readonly index: number; readonly file: string; readonly display: string; readonly profile: string } | { readonly type: 'close' };
/** What the worker answers. */
export type WorkerReply = { readonly type: 'results'; readonly results: readonly { readonly index: number; readonly result: ScenarioResult }[] } | { readonly type: 'ready' };
/** The worker's start-up data. */
export type WorkerSetup = { readonly adapter: SendableAdapter; readonly log: boolean };

/** Where a worker process gets its adapter from. */
export type SendableAdapter = { readonly kind: 'reference' } | { readonly kind: 'module'; readonly file: string } | { readonly kind: 'command'; readonly spec: AdapterCommandSpec };

/** What a worker is told about the adapter (undefined: it has to stay in this thread). */
export function sendable(adapter: AdapterSource): SendableAdapter | undefined {
  switch (adapter.kind) {
    case 'reference':
      return { kind: 'reference' };
    case 'module':
      return { kind: 'module', file: adapter.file };
    case 'command':
      return { kind: 'command', spec: adapter.spec };
    case 'in-thread':
      return undefined;
    default:
      return adapter satisfies never;
  }
}

/** The factory a worker builds from what it was told, with what to call when it is done. */
export async function factoryOf(adapter: SendableAdapter, load: (file: string) => Promise<AdapterFactory>): Promise<{ factory: AdapterFactory | undefined; close: () => void }> {
  switch (adapter.kind) {
    case 'reference':
      return { factory: undefined, close: () => undefined };
    case 'module':
      return { factory: await load(adapter.file), close: () => undefined };
    case 'command': {
      const command = new CommandAdapter(adapter.spec);
      return { factory: command.factory, close: () => command.close() };
    }
    default:
      return adapter satisfies never;
  }
}

/** Runs the plan; resolves to the results by plan position (fewer when stopped). */
export async function runPlan(plan: readonly PlannedRun[], options: PoolOptions): Promise<Map<number, ScenarioResult>> {
  if (options.workers <= 0 || sendable(options.adapter) === undefined || plan.length === 0) return runInThread(plan, options);
  return runInWorkers(plan, options);
}

async function runInThread(plan: readonly PlannedRun[], options: PoolOptions): Promise<Map<number, ScenarioResult>> {
  const results = new Map<number, ScenarioResult>();
  const adapter = options.adapter;
  for (const [index, run] of plan.entries()) {
    // Let signal handlers run between scenarios.
    if (index % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (options.stopped()) break;
    const result = executeRun(run, { reference: adapter.kind === 'reference', log: options.log, ...(adapter.kind !== 'reference' ? { adapter: adapter.factory } : {}) });
    results.set(index, result);
    options.onResult?.(index, result);
  }
  return results;
}

/** A scenario the pool could not get a result for: an infrastructure error of that scenario. */
export function lostResult(run: PlannedRun, message: string, durationMs: number): ScenarioResult {
  const s = run.loaded.scenario;
  return {
    id: s.id,
    title: s.title,
    file: run.loaded.file,
    profile: run.profile,
    world: s.world ?? 'xen',
    tags: s.tags ?? [],
    refs: s.refs,
    status: 'error',
    durationMs,
    steps: 0,
    failure: { kind: 'infrastructure', step: -1, stepName: 'run', field: 'adapter', expected: 'a scenario that completes', actual: message, message },
  };
}

/**
 * Runs a worker holds at once. One: a result is only certain to arrive when the worker is still
 * alive after sending it, so a worker gets its next run only then, and a worker that dies (an
 * adapter calling process.exit) is known to have died in the run it was given. Sending runs
 * ahead gained under 10% on the corpus (npm run bench).
 */
const DEPTH = 1;

type Slot = {
  readonly worker: WorkerProcess<WorkerRequest, WorkerReply>;
  /** Plan positions sent to it, in order; the first is running. */
  readonly queue: number[];
  /** The running one's start and time limit. */
  head: { readonly started: number; readonly timer: NodeJS.Timeout } | undefined;
  ready: boolean;
};

function runInWorkers(plan: readonly PlannedRun[], options: PoolOptions): Promise<Map<number, ScenarioResult>> {
  const results = new Map<number, ScenarioResult>();
  const setup: WorkerSetup = { adapter: sendable(options.adapter) as SendableAdapter, log: options.log };
  const count = Math.min(options.workers, plan.length);
  let next = 0;
  /** Runs sent to a worker that died before starting them: sent again. */
  const again: number[] = [];
  return new Promise((resolve) => {
    const slots = new Set<Slot>();
    let finished = false;
    /** Why workers cannot start (the adapter module does not load there): the rest of the plan fails with it. */
    let fatal: string | undefined;
    const idle = (): boolean => [...slots].every((s) => s.queue.length === 0);
    const exhausted = (): boolean => options.stopped() || fatal !== undefined || (again.length === 0 && next >= plan.length);
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (fatal !== undefined && !options.stopped()) {
        for (const index of [...again.splice(0), ...Array.from({ length: plan.length - next }, (_v, k) => next + k)]) results.set(index, lostResult(plan[index] as PlannedRun, `no worker process could start: ${fatal}`, 0));
        next = plan.length;
      }
      for (const slot of slots) {
        if (slot.head) clearTimeout(slot.head.timer);
        // An idle worker ends its adapter (an adapter program's process) and exits; a busy one is stopped.
        slot.worker.detach();
        if (slot.queue.length > 0) slot.worker.kill();
        else slot.worker.close({ type: 'close' }, 2000);
      }
      resolve(results);
    };
    const settle = (index: number, result: ScenarioResult): void => {
      results.set(index, result);
      options.onResult?.(index, result);
    };
    /** Starts the time limit of the slot's running scenario. */
    const arm = (slot: Slot): void => {
      if (slot.head) clearTimeout(slot.head.timer);
      slot.head = undefined;
      const index = slot.queue[0];
      if (index === undefined) return;
      const started = performance.now();
      const timer = setTimeout(() => {
        // The scenario (or the adapter) hangs: only stopping its process stops it.
        slot.queue.shift();
        settle(index, lostResult(plan[index] as PlannedRun, `the scenario did not finish within ${options.scenarioTimeoutMs} ms (--scenario-timeout); its worker was stopped`, performance.now() - started));
        replace(slot);
      }, options.scenarioTimeoutMs);
      slot.head = { started, timer };
    };
    const fill = (slot: Slot): void => {
      if (finished) return;
      while (slot.ready && slot.queue.length < DEPTH && !exhausted()) {
        const index = again.shift() ?? next++;
        const run = plan[index] as PlannedRun;
        slot.queue.push(index);
        slot.worker.post({ type: 'run', index, file: path.resolve(run.loaded.file), display: run.loaded.file, profile: run.profile });
        if (slot.queue.length === 1) arm(slot);
      }
      if (idle() && exhausted()) finish();
    };
    /** Stops a slot's worker; what it had not started goes to another; a new worker takes its place. */
    const replace = (slot: Slot): void => {
      if (slot.head) clearTimeout(slot.head.timer);
      slots.delete(slot);
      slot.worker.detach();
      slot.worker.kill();
      again.push(...slot.queue.splice(0));
      if (!finished && !options.stopped() && fatal === undefined) start();
      for (const s of slots) fill(s);
      if (idle() && exhausted()) finish();
    };
    const start = (): void => {
      const worker = new WorkerProcess<WorkerRequest, WorkerReply>(path.join(__dirname, 'worker.js'), setup);
      const slot: Slot = { worker, queue: [], head: undefined, ready: false };
      slots.add(slot);
      worker.onMessage((reply) => {
        if (reply.type === 'ready') {
          slot.ready = true;
          fill(slot);
          return;
        }
        for (const { index, result } of reply.results) {
          if (slot.queue[0] !== index) return;
          slot.queue.shift();
          settle(index, result);
        }
        arm(slot);
        fill(slot);
      });
      worker.onEnd((why) => {
        if (!slots.has(slot)) return;
        if (!slot.ready) {
          fatal = why;
          slots.delete(slot);
          if (idle()) finish();
          return;
        }
        const running = slot.queue.shift();
        // Stopping: the scenario in flight is not reported (it did not finish).
        if (running !== undefined && !options.stopped()) settle(running, lostResult(plan[running] as PlannedRun, `the worker running the scenario died: ${why}`, performance.now() - (slot.head?.started ?? performance.now())));
        replace(slot);
      });
    };
    for (let i = 0; i < count; i++) start();
    // Stopping (a signal) while every worker is busy: stop waiting for them.
    const poll = setInterval(() => {
      if (finished) clearInterval(poll);
      else if (options.stopped()) {
        clearInterval(poll);
        finish();
      }
    }, 50);
    poll.unref();
  });
}
