import * as path from 'node:path';
import { sendable, type AdapterSource, type SendableAdapter } from '../run/pool';
import { WorkerProcess } from '../run/workerProcess';
import { batchSeed, runCampaign, type CampaignOptions, type CampaignResult, type Progress } from './campaign';
import { Exercised } from './exercised';
import type { FuzzFailure } from './failure';
import type { FuzzTarget } from './targets';

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
  | { readonly type: 'progress'; readonly progress: Progress }
  | { readonly type: 'failure'; readonly failure: FuzzFailure }
  | { readonly type: 'done'; readonly result: Omit<CampaignResult, 'exercised'>; readonly exercised: [string, number][] }
  | { readonly type: 'crashed'; readonly message: string };

/** The seed of worker w's campaign. */
export function workerSeed(seed: number, w: number): number {
  return w === 0 ? seed : batchSeed(seed, 'xen', -1 - w);
}

/** Cases per target for worker w of n when the campaign has `runs` in all. */
function share(runs: number | undefined, w: number, n: number): number | undefined {
  return runs === undefined ? undefined : Math.floor(runs / n) + (w < runs % n ? 1 : 0);
}

/** Runs the campaign over `workers` threads (in this thread when 1 or the adapter cannot be sent). */
export async function runParallelCampaign(options: CampaignOptions, workers: number, adapter: AdapterSource): Promise<CampaignResult> {
  const toWorkers = sendable(adapter);
  if (workers <= 1 || toWorkers === undefined) return runCampaign(options);
  const started = performance.now();
  const { adapter: _f, onProgress, onFailure, now: _n, ...serial } = options;
  const n = Math.min(workers, options.runs ?? workers);
  const progress: Progress[] = Array.from({ length: n }, () => ({ cases: { xen: 0, viridian: 0 }, steps: 0, failures: 0, elapsedMs: 0 }));
  const report = (): void => {
    const cases: Record<FuzzTarget, number> = { xen: 0, viridian: 0 };
    for (const p of progress) for (const t of ['xen', 'viridian'] as const) cases[t] += p.cases[t];
    onProgress?.({ cases, steps: progress.reduce((a, p) => a + p.steps, 0), failures: progress.reduce((a, p) => a + p.failures, 0), elapsedMs: performance.now() - started });
  };
  const outcomes = await Promise.all(
    Array.from({ length: n }, (_v, w) => {
      const runs = share(options.runs, w, n);
      const setup: FuzzWorkerSetup = { options: { ...serial, seed: workerSeed(options.seed, w), ...(runs !== undefined ? { runs } : {}) }, adapter: toWorkers };
      return new Promise<{ result: Omit<CampaignResult, 'exercised'>; exercised: [string, number][] }>((resolve, reject) => {
        const worker = new WorkerProcess<never, FuzzWorkerMessage>(path.join(__dirname, 'fuzzWorker.js'), setup);
        let done = false;
        worker.onMessage((m) => {
          switch (m.type) {
            case 'progress':
              progress[w] = m.progress;
              report();
              break;
            case 'failure':
              onFailure?.(m.failure);
              break;
            case 'done':
              done = true;
              resolve(m);
              worker.detach();
              break;
            case 'crashed':
              done = true;
              reject(new Error(`fuzz worker ${w} failed: ${m.message}`));
              break;
            default:
              m satisfies never;
          }
        });
        worker.onEnd((why) => {
          if (!done) reject(new Error(`fuzz worker ${w} ended (${why}) before finishing its campaign`));
        });
      });
    }),
  );
  const exercised = new Exercised();
  const cases: Record<FuzzTarget, number> = { xen: 0, viridian: 0 };
  for (const o of outcomes) {
    exercised.merge(o.exercised);
    for (const t of ['xen', 'viridian'] as const) cases[t] += o.result.cases[t];
  }
  const results = outcomes.map((o) => o.result);
  return {
    cases,
    steps: results.reduce((a, r) => a + r.steps, 0),
    elapsedMs: performance.now() - started,
    seed: options.seed,
    targets: options.targets,
    shrinkRuns: results.reduce((a, r) => a + r.shrinkRuns, 0),
    batches: results.flatMap((r) => r.batches),
    exercised,
    failures: results.flatMap((r) => r.failures),
    timedOut: results.some((r) => r.timedOut),
  };
}
