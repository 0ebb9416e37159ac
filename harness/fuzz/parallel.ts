import * as path from 'node:path';
import { sendable, type AdapterSource, type SendableAdapter } from '../run/pool';
import { WorkerProcess } from '../run/workerProcess';
import { batchSeed, runCampaign, type CampaignOptions, type CampaignResult, type Progress } from './campaign';
import { Exercised } from './exercised';
import type { FuzzFailure } from './failure';
import { FUZZ_TARGETS, type FuzzTarget } from './targets';

/*
 * xvc fuzz --workers N: N independent campaigns in worker processes, each with its own emulator
 * instances and a seed derived from the campaign's (worker 0 keeps the campaign's own seed, so
 * one worker is the plain campaign), merged into one result: totals added up, batches and
 * failures in worker order. Every failure still replays from its batch seed and path alone.
 */

/** The campaign options a worker can be sent (no functions). */
export type SerialCampaignOptions = Omit<CampaignOptions, 'adapter' | 'onProgress' | 'onFailure' | 'now'>;

/** What a fuzz worker is started with. */
export type FuzzWorkerSetup = { readonly options: SerialCampaignOptions; readonly adapter: SendableAdapter };

/** What a fuzz worker posts. */
export type FuzzWorkerMessage =
  | { readonly kind: 'progress'; readonly progress: Progress }
  | { readonly kind: 'failure'; readonly failure: FuzzFailure }
  | { readonly kind: 'done'; readonly result: Omit<CampaignResult, 'exercised'>; readonly exercised: [string, number][] }
  | { readonly kind: 'crashed'; readonly message: string };

/** The seed of worker w's campaign. */
export function workerSeed(seed: number, w: number): number {
  return w === 0 ? seed : batchSeed(seed, 'xen', -1 - w);
}

/** Cases per target for worker w of n when the campaign has `runs` in all. */
function share(runs: number | undefined, w: number, n: number): number | undefined {
  return runs === undefined ? undefined : Math.floor(runs / n) + (w < runs % n ? 1 : 0);
}

/** A parallel campaign's result: what the workers that finished did, and why the others did not. */
export type ParallelCampaignResult = CampaignResult & {
  /** Workers that crashed or could not start (an infrastructure error: the campaign is incomplete). */
  readonly crashed: readonly string[];
  /** Set when `stopped` ended the campaign early (the totals are the workers' last progress). */
  readonly stopped: boolean;
};

/**
 * Runs the campaign in `workers` worker processes; with 0 (or an adapter that cannot be sent) in
 * this process, where `stopped` is not looked at until it ends. It never throws for a worker:
 * a crash is reported in `crashed`, and the other workers are stopped.
 */
export async function runParallelCampaign(options: CampaignOptions, workers: number, adapter: AdapterSource, stopped: () => boolean = () => false): Promise<ParallelCampaignResult> {
  const toWorkers = sendable(adapter);
  if (workers <= 0 || toWorkers === undefined) return { ...runCampaign(options), crashed: [], stopped: false };
  const started = performance.now();
  const { adapter: _f, onProgress, onFailure, now: _n, ...serial } = options;
  const n = Math.min(workers, options.runs ?? workers);
  const progress: Progress[] = Array.from({ length: n }, () => ({ cases: { xen: 0, viridian: 0 }, steps: 0, failures: 0, elapsedMs: 0 }));
  const sum = (): Progress => {
    const cases = sumCases(progress);
    return { cases, steps: progress.reduce((a, p) => a + p.steps, 0), failures: progress.reduce((a, p) => a + p.failures, 0), elapsedMs: performance.now() - started };
  };
  type Outcome = { readonly result: Omit<CampaignResult, 'exercised'>; readonly exercised: [string, number][] } | { readonly crashed: string } | { readonly stopped: true };
  const workersRunning: WorkerProcess<never, FuzzWorkerMessage>[] = [];
  const failuresSeen: FuzzFailure[][] = Array.from({ length: n }, () => []);
  let ending = false;
  /** Ends every worker still running (a crash or a stop): the campaign's result is then partial. */
  const endAll = (): void => {
    ending = true;
    for (const wp of workersRunning) {
      wp.detach();
      wp.kill();
    }
  };
  const poll = setInterval(() => {
    if (stopped()) endAll();
  }, 100);
  const outcomes = await Promise.all(
    Array.from({ length: n }, (_v, w) => {
      const runs = share(options.runs, w, n);
      const setup: FuzzWorkerSetup = { options: { ...serial, seed: workerSeed(options.seed, w), ...(runs !== undefined ? { runs } : {}) }, adapter: toWorkers };
      return new Promise<Outcome>((resolve) => {
        const worker = new WorkerProcess<never, FuzzWorkerMessage>(path.join(__dirname, 'fuzzWorker.js'), setup);
        workersRunning.push(worker);
        let done = false;
        const end = (outcome: Outcome): void => {
          if (done) return;
          done = true;
          resolve(outcome);
        };
        worker.onMessage((m) => {
          switch (m.kind) {
            case 'progress':
              progress[w] = m.progress;
              onProgress?.(sum());
              break;
            case 'failure':
              failuresSeen[w]?.push(m.failure);
              onFailure?.(m.failure);
              break;
            case 'done':
              end(m);
              worker.detach();
              break;
            case 'crashed':
              end({ crashed: `fuzz worker ${w + 1} (seed ${setup.options.seed}) failed: ${m.message}` });
              endAll();
              break;
            default:
              m satisfies never;
          }
        });
        worker.onEnd((why) => {
          if (ending && !done) end({ stopped: true });
          else if (!done) {
            end({ crashed: `fuzz worker ${w + 1} (seed ${setup.options.seed}) ended (${why}) before finishing its campaign` });
            endAll();
          }
        });
      });
    }),
  );
  clearInterval(poll);
  const exercised = new Exercised();
  const partial = sum();
  const finishedResults = outcomes.flatMap((o) => ('result' in o ? [o.result] : []));
  for (const o of outcomes) if ('result' in o) exercised.merge(o.exercised);
  const allDone = finishedResults.length === outcomes.length;
  return {
    cases: allDone ? sumCases(finishedResults) : partial.cases,
    steps: allDone ? finishedResults.reduce((a, r) => a + r.steps, 0) : partial.steps,
    elapsedMs: performance.now() - started,
    seed: options.seed,
    targets: options.targets,
    shrinkRuns: finishedResults.reduce((a, r) => a + r.shrinkRuns, 0),
    batches: finishedResults.flatMap((r) => r.batches),
    exercised,
    // Failures in worker order, including those of workers that did not finish.
    failures: outcomes.flatMap((o, w) => ('result' in o ? o.result.failures : (failuresSeen[w] ?? []))),
    timedOut: finishedResults.some((r) => r.timedOut),
    crashed: outcomes.flatMap((o) => ('crashed' in o ? [o.crashed] : [])),
    stopped: outcomes.some((o) => 'stopped' in o) && stopped(),
  };
}

/** Cases per target, added up over campaigns (or their progress). */
function sumCases(parts: readonly { readonly cases: Readonly<Record<FuzzTarget, number>> }[]): Record<FuzzTarget, number> {
  const cases: Record<FuzzTarget, number> = { xen: 0, viridian: 0 };
  for (const p of parts) for (const t of FUZZ_TARGETS) cases[t] += p.cases[t];
  return cases;
}
