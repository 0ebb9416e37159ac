import fc from 'fast-check';
import type { AdapterFactory, ViridianOptions, ViridianProfileName } from '../sut/index';
import { hvCallName, type Fact } from '../coverage/facts';
import { caseArbitrary, type FuzzCase } from './arbitraries/case';
import { runCase, type CaseOutcome } from './runCase';
import { viridianCaseArbitrary, type ViridianFuzzCase } from './viridian/arbitrary';
import { runViridianCase, type ViridianCaseOutcome } from './viridian/properties';

/** What a campaign fuzzes: Xen-level sequences in both worlds, or raw hypercalls against the Viridian model. */
export type FuzzTarget = 'xen' | 'viridian';
export const FUZZ_TARGETS: readonly FuzzTarget[] = ['xen', 'viridian'];

/** What the properties of a campaign are built from; a replay must be given the same. */
export type TargetOptions = {
  readonly profiles: readonly ViridianProfileName[];
  readonly adapter?: AdapterFactory;
  readonly reference: boolean;
  /** At most this many chunks per Xen-level case (default 24). */
  readonly maxChunks?: number;
  /** Overrides of the Viridian model's behaviour, only to show in xvc's own tests that the Viridian-level properties catch a broken model. */
  readonly viridianQuirks?: ViridianOptions['quirks'];
};

/** Called for every case a property runs. */
export type CaseObserver = {
  readonly onFact?: (fact: Fact) => void;
  readonly onXenCase?: (c: FuzzCase, outcome: CaseOutcome) => void;
  readonly onViridianCase?: (c: ViridianFuzzCase, outcome: ViridianCaseOutcome) => void;
};

/** The Xen-level property: every generated case passes (no contract difference, no ill-formed call, no error). */
export function xenProperty(options: TargetOptions, observer: CaseObserver = {}): fc.IPropertyWithHooks<[FuzzCase]> {
  return fc.property(caseArbitrary({ profiles: options.profiles, ...(options.maxChunks !== undefined ? { maxChunks: options.maxChunks } : {}) }), (c) => {
    const outcome = runCase(c, { reference: options.reference, ...(options.adapter ? { adapter: options.adapter } : {}), ...(observer.onFact ? { onFact: observer.onFact } : {}) });
    observer.onXenCase?.(c, outcome);
    return outcome.result.status === 'passed';
  });
}

/** The Viridian-level property: every generated case keeps the TLFS properties (harness/fuzz/viridian/properties.ts). */
export function viridianProperty(options: TargetOptions, observer: CaseObserver = {}): fc.IPropertyWithHooks<[ViridianFuzzCase]> {
  return fc.property(viridianCaseArbitrary(options.profiles), (c) => {
    const outcome = runViridianCase(c, options.viridianQuirks);
    observer.onViridianCase?.(c, outcome);
    if (observer.onFact) for (const s of outcome.statuses) observer.onFact({ kind: 'viridian-call', call: hvCallName(s.call), status: s.status });
    return outcome.violation === undefined;
  });
}
