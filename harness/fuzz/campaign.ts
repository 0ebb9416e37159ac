import fc from 'fast-check';
import type { Scenario } from '../spec/scenario';
import { stepsOf, type FuzzCase } from './arbitraries/case';
import { Exercised } from './exercised';
import { failureOfViridianCase, failureOfXenCase, type FuzzFailure } from './failure';
import { viridianProperty, xenProperty, type FuzzTarget, type TargetOptions } from './targets';
import type { ViridianFuzzCase } from './viridian/arbitrary';

/** How a campaign runs. */
export type CampaignOptions = TargetOptions & {
  /** The campaign's seed: every batch's seed is derived from it. */
  readonly seed: number;
  readonly targets: readonly FuzzTarget[];
  /** Cases per target (default 100 when no time limit is given). */
  readonly runs?: number;
  /** Stop starting batches after this many milliseconds. */
  readonly timeMs?: number;
  /** Cases per fast-check run (default 50). */
  readonly batch?: number;
  /** Stop after this many failures (default 1); each failing batch ends its target's batch. */
  readonly maxFailures?: number;
  /** Called after every case (not during shrinking) with the running totals. */
  readonly onProgress?: (progress: Progress) => void;
  /** Called when a failure has been shrunk. */
  readonly onFailure?: (failure: FuzzFailure) => void;
  /** The adapter's identity for the failures' provenance. */
  readonly adapterName: string;
  /** The clock, for tests (default performance.now). */
  readonly now?: () => number;
};

/** Running totals. */
export type Progress = {
  readonly cases: Readonly<Record<FuzzTarget, number>>;
  readonly steps: number;
  readonly failures: number;
  readonly elapsedMs: number;
};

/** What a campaign did. */
export type CampaignResult = Omit<Progress, 'failures'> & {
  readonly seed: number;
  readonly targets: readonly FuzzTarget[];
  /** Runs made while shrinking failures. */
  readonly shrinkRuns: number;
  /** The batches run: target, seed and cases, in order (each reproducible on its own). */
  readonly batches: readonly { readonly target: FuzzTarget; readonly seed: number; readonly cases: number }[];
  readonly exercised: Exercised;
  readonly failures: readonly FuzzFailure[];
  /** True when the time limit ended the campaign. */
  readonly timedOut: boolean;
};

/** The seed of batch `k` of a target: a fixed mix of the campaign's seed, the target and k (a 32-bit signed integer). */
export function batchSeed(seed: number, target: FuzzTarget, k: number): number {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ (target === 'xen' ? 0x27d4eb2f : 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ Math.imul(k + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * Runs a fuzz campaign: batches of generated cases per target, each a fast-check run with its
 * own seed (derived from the campaign's), so that any failure is reproduced by its batch seed
 * and fast-check path alone (`xvc replay --seed S --path P`). A failing case is shrunk, rerun to
 * learn its steps and first difference, and turned into a regression scenario. With a time
 * limit the batches alternate between the targets, three Xen-level to one Viridian-level.
 */
export function runCampaign(options: CampaignOptions): CampaignResult {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const batch = options.batch ?? 50;
  const maxFailures = options.maxFailures ?? 1;
  const runs = options.runs ?? (options.timeMs === undefined ? 100 : Number.POSITIVE_INFINITY);
  const cases: Record<FuzzTarget, number> = { xen: 0, viridian: 0 };
  const next: Record<FuzzTarget, number> = { xen: 0, viridian: 0 };
  const exercised = new Exercised();
  const failures: FuzzFailure[] = [];
  const batches: { target: FuzzTarget; seed: number; cases: number }[] = [];
  let steps = 0;
  let shrinkRuns = 0;
  let shrinking = false;
  let timedOut = false;
  const progress = (): Progress => ({ cases: { ...cases }, steps, failures: failures.length, elapsedMs: now() - started });
  const observer = {
    onFact: (f: Parameters<Exercised['add']>[0]) => {
      if (!shrinking) exercised.add(f);
    },
    onXenCase: (_c: FuzzCase, o: { executed: readonly unknown[]; result: { status: string } }) => {
      if (shrinking) return void shrinkRuns++;
      cases.xen++;
      steps += o.executed.length;
      if (o.result.status !== 'passed') shrinking = true;
      options.onProgress?.(progress());
    },
    onViridianCase: (_c: ViridianFuzzCase, o: { steps: number; violation: unknown }) => {
      if (shrinking) return void shrinkRuns++;
      cases.viridian++;
      steps += o.steps;
      if (o.violation !== undefined) shrinking = true;
      options.onProgress?.(progress());
    },
  };
  const properties = { xen: xenProperty(options, observer), viridian: viridianProperty(options, observer) };
  const schedule: FuzzTarget[] = options.timeMs === undefined ? [...options.targets] : options.targets.flatMap((t) => (t === 'xen' ? ['xen', 'xen', 'xen'] : [t]) as FuzzTarget[]);
  const done = (t: FuzzTarget): boolean => cases[t] >= runs;
  for (let round = 0; failures.length < maxFailures; round++) {
    const pending = schedule.filter((t) => !done(t));
    if (pending.length === 0) break;
    // Without a time limit each target runs its cases in turn; with one, they alternate.
    const target = options.timeMs === undefined ? (pending[0] as FuzzTarget) : (pending[round % pending.length] as FuzzTarget);
    if (options.timeMs !== undefined && now() - started >= options.timeMs) {
      timedOut = true;
      break;
    }
    const seed = batchSeed(options.seed, target, next[target]++);
    const numRuns = Math.min(batch, runs - cases[target]);
    shrinking = false;
    const before = cases[target];
    const details = target === 'xen' ? fc.check(properties.xen, { seed, numRuns }) : fc.check(properties.viridian, { seed, numRuns });
    batches.push({ target, seed, cases: cases[target] - before });
    shrinking = false;
    if (!details.failed || !details.counterexample || details.counterexamplePath === null) {
      if (details.failed) throw new Error(`[fuzz] fast-check failed without a counterexample: ${String(details.errorInstance ?? '')}`);
      continue;
    }
    const where = { seed, path: details.counterexamplePath, shrinks: details.numShrinks };
    const failure =
      target === 'xen'
        ? failureOfXenCase((details.counterexample as [FuzzCase])[0], where, options)
        : failureOfViridianCase((details.counterexample as [ViridianFuzzCase])[0], where, options);
    failures.push(failure);
    options.onFailure?.(failure);
  }
  const { failures: _count, ...totals } = progress();
  return { ...totals, seed: options.seed, targets: options.targets, shrinkRuns, batches, exercised, failures, timedOut };
}

/** Replays one case exactly: the batch seed and the fast-check path of a failure (xvc replay --seed S --path P). */
export function replayCase(target: FuzzTarget, seed: number, path: string, options: TargetOptions): { readonly input: FuzzCase | ViridianFuzzCase | undefined; readonly failed: boolean } {
  let input: FuzzCase | ViridianFuzzCase | undefined;
  const details =
    target === 'xen'
      ? fc.check(xenProperty(options, { onXenCase: (c) => void (input = c) }), { seed, path, numRuns: 1, endOnFailure: true })
      : fc.check(viridianProperty(options, { onViridianCase: (c) => void (input = c) }), { seed, path, numRuns: 1, endOnFailure: true });
  return { input, failed: details.failed };
}

/** The steps of a generated Xen-level case (for printing). */
export function stepsOfCase(c: FuzzCase): Scenario['steps'] {
  return stepsOf(c);
}
