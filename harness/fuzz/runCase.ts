import type { AdapterFactory } from '../sut/index';
import type { Fact } from '../coverage/facts';
import type { ScenarioResult } from '../run/result';
import { runXenScenario } from '../run/xenRun';
import type { Step } from '../spec/scenario';
import { caseScenario, stepsOf, type FuzzCase } from './arbitraries/case';

/** What one generated case did. */
export type CaseOutcome = {
  readonly result: ScenarioResult;
  /** The steps that ran, in order (steps on a vCPU that was not running, or after the domain ended, are left out). */
  readonly executed: readonly Step[];
};

/** How cases run. */
export type CaseRunOptions = {
  readonly adapter?: AdapterFactory;
  readonly reference: boolean;
  readonly onFact?: (fact: Fact) => void;
};

/**
 * Runs a generated case in both worlds, compared after every step under the contract and with
 * the adapter's Viridian calls checked for well-formedness (harness/run/xenRun.ts). A step that
 * cannot run is left out, as a guest could not have made it.
 */
export function runCase(c: FuzzCase, options: CaseRunOptions): CaseOutcome {
  const steps = stepsOf(c);
  const executed: Step[] = [];
  const scenario = caseScenario(c, steps, { id: 'fuzz.case', title: 'a generated case', refs: ['harness/fuzz'] });
  const result = runXenScenario(
    { file: '<fuzz>', scenario },
    {
      profile: c.config.profile,
      reference: options.reference,
      skipUnrunnable: true,
      onExecuted: (i) => executed.push(steps[i] as Step),
      ...(options.adapter ? { adapter: options.adapter } : {}),
      ...(options.onFact ? { onFact: options.onFact } : {}),
    },
  );
  return { result, executed };
}
