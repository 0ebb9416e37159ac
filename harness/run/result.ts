import type { TraceEntry } from '../sut/index';

/** Why a scenario did not pass. */
export type FailureKind =
  /** An expectation of a step did not hold in a world. */
  | 'expectation'
  /** The worlds disagree under the semantic contract. */
  | 'contract'
  /** The adapter made a Viridian call that is not well-formed, or not allowed by the profile. */
  | 'well-formedness'
  /** The adapter (or the harness) threw, hung or misbehaved: not a conformance verdict. */
  | 'infrastructure';

/** The first thing that went wrong in a scenario run. */
export type StepFailure = {
  readonly kind: FailureKind;
  /** 0-based index of the step and its name (or action). */
  readonly step: number;
  readonly stepName: string;
  /** Which world, for an expectation. */
  readonly world?: 'xen' | 'translated' | 'viridian';
  /** The first differing field. */
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
  /** One line for a terminal. */
  readonly message: string;
  /** What the adapter did during the failing step. */
  readonly trace?: readonly TraceEntry[];
  /** Each world's observation after the failing step (JSON-safe), for reports. */
  readonly observations?: { readonly xen: unknown; readonly translated: unknown };
};

/** One step of a run as the reports show it (with the run's `log` option). */
export type StepLog = {
  readonly index: number;
  readonly title: string;
  readonly status: 'passed' | 'failed' | 'error';
  readonly durationMs: number;
  /** What the step returned in each world (Xen-level), as text. */
  readonly xen?: string;
  readonly translated?: string;
  /** What the step returned (Viridian-level), or the error a step threw. */
  readonly result?: string;
  /** The adapter's Viridian operations during the step, one line each. */
  readonly viridian: readonly string[];
};

/** One scenario in one profile. */
export type ScenarioResult = {
  readonly id: string;
  readonly title: string;
  readonly file: string;
  readonly profile: string;
  readonly world: 'xen' | 'viridian';
  readonly tags: readonly string[];
  readonly refs: readonly string[];
  readonly status: 'passed' | 'failed' | 'error';
  readonly durationMs: number;
  /** Steps that ran. */
  readonly steps: number;
  readonly failure?: StepFailure;
  /** Listed in the expectations file as a known failure, with its reason. */
  readonly known?: string;
  /** The steps that ran (with the `log` option). */
  readonly stepLog?: readonly StepLog[];
  /** Viridian operations the adapter made (all of them checked for well-formedness). */
  readonly viridianOps?: number;
  /** The Xen sub-ops ("event_channel_op EVTCHNOP_send") and Viridian calls ("viridian HVCALL_SIGNAL_EVENT") the run exercised, sorted. */
  readonly exercised?: readonly string[];
};

/**
 * A scenario that asks for something no guest can do at the point it runs (time going back):
 * an authoring error found while running; the run reports it as an error on that step.
 */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** The time an `advanceTo` step moves to, refused when it is before `now`. */
export function forwardTime(target: bigint, now: bigint): bigint {
  if (target < now) throw new ScenarioError(`advanceTo ${target} ns is before the current time ${now} ns (write $now+N for a time relative to the step)`);
  return target;
}
