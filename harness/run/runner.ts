import { VIRIDIAN_PROFILE_NAMES, type AdapterFactory, type ViridianProfileName } from '../sut/index';
import type { LoadedScenario } from '../spec/load';
import { markKnown, type Expectations } from './expectations';
import type { ScenarioResult } from './result';
import { runViridianScenario } from './viridianRun';
import { runXenScenario } from './xenRun';
import type { Fact } from '../coverage/facts';

/** One scenario in one profile, to run. */
export type PlannedRun = { readonly loaded: LoadedScenario; readonly profile: ViridianProfileName };

/** Which scenarios and profiles a run covers. */
export type PlanOptions = {
  /** A profile name, 'all', or undefined: every profile each scenario names. */
  readonly profile?: string;
  /** Only scenarios whose id or title matches. */
  readonly grep?: RegExp;
};

/** The profiles a scenario names (all when it names none). */
export function scenarioProfiles(loaded: LoadedScenario): readonly ViridianProfileName[] {
  const p = loaded.scenario.profiles;
  return p === undefined || p === 'all' ? VIRIDIAN_PROFILE_NAMES : p;
}

/** The runs of a corpus, in corpus order then profile order. */
export function planRuns(scenarios: readonly LoadedScenario[], options: PlanOptions = {}): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (const loaded of scenarios) {
    const s = loaded.scenario;
    if (options.grep && !options.grep.test(s.id) && !options.grep.test(s.title)) continue;
    for (const profile of scenarioProfiles(loaded)) {
      if (options.profile !== undefined && options.profile !== 'all' && options.profile !== profile) continue;
      out.push({ loaded, profile });
    }
  }
  return out;
}

/** How runs are carried out. */
export type ExecuteOptions = {
  /** Receives what each run exercised (xvc coverage). */
  readonly onFact?: (fact: Fact) => void;
  readonly adapter?: AdapterFactory;
  /** Whether the adapter is the reference adapter. */
  readonly reference: boolean;
  readonly expectations?: Expectations;
  /** Keep each run's step log and the sub-ops it exercised (for the reports). */
  readonly log?: boolean;
};

/** Runs one planned run and marks it when the expectations file lists it. */
export function executeRun(run: PlannedRun, options: ExecuteOptions): ScenarioResult {
  const exercised = new Set<string>();
  const onFact = options.onFact || options.log ? (f: Fact): void => {
    options.onFact?.(f);
    if (options.log && f.kind === 'xen') exercised.add(`${f.hypercall} ${f.subop || '-'}`);
    else if (options.log && f.kind === 'viridian-call') exercised.add(`viridian ${f.call}`);
  } : undefined;
  const result =
    (run.loaded.scenario.world ?? 'xen') === 'viridian'
      ? runViridianScenario(run.loaded, run.profile, undefined, onFact, options.log === true)
      : runXenScenario(run.loaded, { profile: run.profile, reference: options.reference, ...(options.adapter ? { adapter: options.adapter } : {}), ...(onFact ? { onFact } : {}), ...(options.log ? { log: true } : {}) });
  return markKnown(options.log ? { ...result, exercised: [...exercised].sort() } : result, options.expectations);
}

/** Totals of a run. */
export type Totals = {
  readonly runs: number;
  readonly passed: number;
  readonly failed: number;
  readonly errors: number;
  /** Failures the expectations file lists. */
  readonly knownFailures: number;
  /** Scenarios the expectations file lists that passed. */
  readonly unexpectedPasses: number;
};

/** Counts results. */
export function totalsOf(results: readonly ScenarioResult[]): Totals {
  let passed = 0;
  let failed = 0;
  let errors = 0;
  let knownFailures = 0;
  let unexpectedPasses = 0;
  for (const r of results) {
    if (r.status === 'passed') {
      passed++;
      if (r.known !== undefined) unexpectedPasses++;
    } else if (r.status === 'error') errors++; // never hidden by an expectations entry: the adapter crashed or hung
    else if (r.known !== undefined) knownFailures++;
    else failed++;
  }
  return { runs: results.length, passed, failed, errors, knownFailures, unexpectedPasses };
}
