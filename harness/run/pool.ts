import * as path from 'node:path';
import { CommandAdapter, START_TIMEOUT_MS, type AdapterCommandSpec, type AdapterFactory } from '../sut/index';
import type { PlannedRun } from './runner';
import { executeRun } from './runner';
import type { ScenarioResult } from './result';
import { WorkerProcess } from './workerProcess';

/*
 * Running a plan: in this process, or spread over worker processes (workerProcess.ts says why
 * not threads) that each build their own emulator instances (design.md section 7). Results come
 * back keyed by plan position, so the reports are the same whatever the number of workers. A
 * worker that dies, or a scenario that runs past its time limit (the worker is then stopped,
 * with any adapter program it started), fails that scenario as an infrastructure error; a new
 * worker takes its place and the run goes on.
 */

/** How workers get the adapter: they cannot be handed a factory function, only where it comes from. */
export type AdapterSource =
  | { readonly kind: 'reference' }
  /** An adapter module (docs/adapter-api.md) by absolute path, which workers load again; its factory as this process loaded it. */
  | { readonly kind: 'module'; readonly file: string; readonly factory: AdapterFactory }
  /** An adapter program (docs/adapter-protocol.md): each worker starts its own process. */
  | { readonly kind: 'command'; readonly spec: AdapterCommandSpec; readonly factory: AdapterFactory }
  /** An adapter only this process can build (workers are not used). */
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
export type WorkerRequest = { readonly kind: 'run'; readonly index: number; readonly file: string; readonly display: string; readonly profile: string } | { readonly kind: 'close' };
/** What the worker answers. */
export type WorkerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'result'; readonly index: number; readonly result: ScenarioResult }
  /** The harness itself failed on a run (not the adapter): the run fails with this message. */
  | { readonly kind: 'run-failed'; readonly index: number; readonly message: string }
  /** The worker could not set up (its adapter does not load there). */
  | { readonly kind: 'setup-failed'; readonly message: string };
/** The worker's start-up data. */
export type WorkerSetup = { readonly adapter: SendableAdapter; readonly log: boolean };

/** Where a worker process gets its adapter from. */
export type SendableAdapter = { readonly kind: 'reference' } | { readonly kind: 'module'; readonly file: string } | { readonly kind: 'command'; readonly spec: AdapterCommandSpec };

/** What a worker is told about the adapter (undefined: it has to stay in this process). */
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

type Slot = {
  readonly worker: WorkerProcess<WorkerRequest, WorkerReply>;
  /** The plan position it is running, its start and its time limit. */
  running: { readonly index: number; readonly started: number; readonly timer: NodeJS.Timeout } | undefined;
  ready: boolean;
};

/** Workers that may fail to start in a row before the rest of the plan is given up. */
const START_ATTEMPTS = 3;

/**
 * The pool's time limit for one scenario. For an adapter program the bridge in the worker has
 * its own, counted from the scenario's start message (docs/adapter-protocol.md); the pool's is
 * later (the program's start-up and a margin), so that the bridge ends a slow scenario cleanly
 * and the pool only catches a worker that is stuck itself.
 */
function poolTimeoutMs(options: PoolOptions): number {
  return options.adapter.kind === 'command' ? options.scenarioTimeoutMs + Math.max(START_TIMEOUT_MS, options.adapter.spec.callTimeoutMs) + 5000 : options.scenarioTimeoutMs;
}

/**
 * One run at a time per worker: a result is only certain to arrive when the worker is still
 * alive after sending it, so a worker gets its next run only then, and a worker that dies (an
 * adapter calling process.exit) is known to have died in the run it was given.
 */
function runInWorkers(plan: readonly PlannedRun[], options: PoolOptions): Promise<Map<number, ScenarioResult>> {
  const results = new Map<number, ScenarioResult>();
  const setup: WorkerSetup = { adapter: sendable(options.adapter) as SendableAdapter, log: options.log };
  const count = Math.min(options.workers, plan.length);
  const limit = poolTimeoutMs(options);
  let next = 0;
  return new Promise((resolve) => {
    const slots = new Set<Slot>();
    let finished = false;
    let everReady = false;
    let failedStarts = 0;
    /** Why workers cannot start: the rest of the plan fails with it. */
    let fatal: string | undefined;
    const idle = (): boolean => [...slots].every((s) => s.running === undefined);
    const exhausted = (): boolean => options.stopped() || fatal !== undefined || next >= plan.length;
    const stop = (slot: Slot): void => {
      if (slot.running) clearTimeout(slot.running.timer);
      slot.worker.detach();
      slot.worker.kill();
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (fatal !== undefined && !options.stopped()) {
        for (; next < plan.length; next++) results.set(next, lostResult(plan[next] as PlannedRun, `no worker process could start: ${fatal}; hint: run with --workers 0 to see the error in this process`, 0));
      }
      for (const slot of slots) {
        // An idle worker ends its adapter (an adapter program's process) and exits; a busy one is stopped.
        if (slot.running) stop(slot);
        else {
          slot.worker.detach();
          slot.worker.close({ kind: 'close' }, 2000);
        }
      }
      resolve(results);
    };
    const settle = (slot: Slot, result: ScenarioResult): void => {
      const running = slot.running;
      if (!running) return;
      clearTimeout(running.timer);
      slot.running = undefined;
      results.set(running.index, result);
      options.onResult?.(running.index, result);
    };
    const dispatch = (slot: Slot): void => {
      if (finished) return;
      if (slot.ready && slot.running === undefined && !exhausted()) {
        const index = next++;
        const run = plan[index] as PlannedRun;
        const started = performance.now();
        const timer = setTimeout(() => {
          // The scenario (or the adapter) hangs: only stopping its process stops it.
          settle(slot, lostResult(run, `the scenario did not finish within ${limit} ms (--scenario-timeout); its worker was stopped`, performance.now() - started));
          replace(slot);
        }, limit);
        slot.running = { index, started, timer };
        slot.worker.post({ kind: 'run', index, file: path.resolve(run.loaded.file), display: run.loaded.file, profile: run.profile });
      }
      if (idle() && exhausted()) finish();
    };
    /** Stops a slot's worker; a new worker takes its place. */
    const replace = (slot: Slot): void => {
      slots.delete(slot);
      stop(slot);
      if (!finished && !exhausted()) start();
      if (idle() && exhausted()) finish();
    };
    const start = (): void => {
      const worker = new WorkerProcess<WorkerRequest, WorkerReply>(path.join(__dirname, 'worker.js'), setup);
      const slot: Slot = { worker, running: undefined, ready: false };
      slots.add(slot);
      let setupError: string | undefined;
      worker.onMessage((reply) => {
        switch (reply.kind) {
          case 'ready':
            slot.ready = true;
            everReady = true;
            failedStarts = 0;
            dispatch(slot);
            return;
          case 'result':
            if (slot.running?.index !== reply.index) return;
            settle(slot, reply.result);
            dispatch(slot);
            return;
          case 'run-failed': {
            const running = slot.running;
            if (running?.index !== reply.index) return;
            settle(slot, lostResult(plan[running.index] as PlannedRun, `[worker] ${reply.message}`, performance.now() - running.started));
            dispatch(slot);
            return;
          }
          case 'setup-failed':
            setupError = reply.message;
            return;
          default:
            reply satisfies never;
        }
      });
      worker.onEnd((why) => {
        if (!slots.has(slot)) return;
        if (!slot.ready) {
          // A worker that cannot start: give up on the rest only when none ever could, or after several in a row.
          slots.delete(slot);
          failedStarts++;
          if (!everReady || failedStarts >= START_ATTEMPTS) fatal = setupError ?? why;
          else if (!finished && !exhausted()) start();
          if (idle() && (exhausted() || slots.size === 0)) finish();
          return;
        }
        const running = slot.running;
        // Stopping: the scenario in flight is not reported (it did not finish).
        if (running && !options.stopped()) settle(slot, lostResult(plan[running.index] as PlannedRun, `the worker running the scenario died: ${why}`, performance.now() - running.started));
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
