/*
 * The scenario format as the runner reads it, after the schema and the semantic checks passed
 * (docs/scenarios.md). Scalars stay as written (number or string) and are evaluated when the
 * step runs, against the values saved so far.
 */

/** A number, or a string with a literal, constant, -CONSTANT, A|B, $saved or $saved+N. */
export type Scalar = number | string;

/** Something placed in guest memory; its address is the argument (or a raw pointer). */
export type BufferSpec = {
  readonly struct?: string;
  readonly as?: string;
  readonly u32s?: readonly Scalar[];
  readonly u64s?: readonly Scalar[];
  readonly bytes?: string;
  readonly zeros?: number;
  readonly ptr?: Scalar;
  /** Place the buffer at this address instead of the scratch area. */
  readonly at?: Scalar;
  /** Struct field values. */
  readonly [field: string]: unknown;
};

/** A hypercall argument. */
export type Argument = Scalar | BufferSpec;

/** What must hold after a step. */
export type Expect = {
  readonly return?: Scalar;
  readonly status?: Scalar;
  readonly reps?: number;
  readonly fault?: 'UD' | 'GP' | 'intercept' | 'none';
  readonly value?: Scalar;
  readonly result?: unknown;
  readonly ports?: readonly Scalar[];
  readonly events?: readonly { readonly upcall?: number; readonly resumed?: number; readonly value?: Scalar; readonly at?: Scalar }[];
  readonly states?: Readonly<Record<string, 'running' | 'blocked' | 'down'>>;
  readonly pending?: readonly Scalar[];
  readonly notPending?: readonly Scalar[];
  readonly masked?: readonly Scalar[];
  readonly upcallPending?: Readonly<Record<string, 0 | 1>>;
  readonly console?: string;
  readonly shutdown?: Scalar;
  readonly tlb?: { readonly vcpu: number; readonly has?: readonly Scalar[]; readonly lacks?: readonly Scalar[] };
  readonly reference?: { readonly includes?: readonly string[]; readonly excludes?: readonly string[] };
  readonly interrupts?: readonly (readonly [number, Scalar])[];
  /** `out` (the first struct argument) or a buffer named with `as`: field values. */
  readonly [buffer: string]: unknown;
};

/** The actions a step can take; exactly one per step. */
export const XEN_ACTIONS = ['call', 'store', 'mask', 'unmask', 'clearPending', 'upcallMask', 'handleUpcall', 'touch', 'setSpace', 'advance', 'advanceTo', 'peer', 'peerSend'] as const;
export const VIRIDIAN_ACTIONS = ['hv', 'rdmsr', 'wrmsr', 'cpuid', 'root', 'halt', 'icr', 'eoi', 'deliver', 'store', 'touch', 'setSpace', 'advance', 'advanceTo'] as const;
export type Action = (typeof XEN_ACTIONS)[number] | (typeof VIRIDIAN_ACTIONS)[number];
export const ALL_ACTIONS: readonly Action[] = [...new Set<Action>([...XEN_ACTIONS, ...VIRIDIAN_ACTIONS])];

/** One step. */
export type Step = {
  readonly name?: string;
  readonly vcpu?: number;
  readonly call?: string | number;
  readonly args?: readonly Argument[];
  readonly store?: { readonly at: Scalar; readonly u8?: Scalar; readonly u16?: Scalar; readonly u32?: Scalar; readonly u64?: Scalar; readonly bytes?: string };
  readonly mask?: Scalar;
  readonly unmask?: Scalar;
  readonly clearPending?: Scalar;
  readonly upcallMask?: 0 | 1;
  readonly handleUpcall?: boolean;
  readonly touch?: { readonly space?: Scalar; readonly va: Scalar; readonly global?: boolean };
  readonly setSpace?: Scalar;
  readonly advance?: Scalar;
  readonly advanceTo?: Scalar;
  readonly peer?: { readonly op: string; readonly [arg: string]: unknown };
  readonly peerSend?: Scalar;
  readonly hv?: {
    readonly call: string | number;
    readonly fast?: boolean;
    readonly repCount?: number;
    readonly repStart?: number;
    readonly varHeadSize?: number;
    readonly reserved?: Scalar;
    readonly nested?: boolean;
    readonly input?: BufferSpec;
    readonly rdx?: Scalar;
    readonly r8?: Scalar;
    readonly xmm?: readonly Scalar[];
    readonly outputBytes?: number;
    /** Leave the input and output pages as the previous call left them (a restart of a rep call). */
    readonly keep?: boolean;
  };
  readonly rdmsr?: Scalar;
  readonly wrmsr?: { readonly msr: Scalar; readonly value: Scalar };
  readonly cpuid?: Scalar;
  readonly root?: { readonly op: string; readonly [arg: string]: unknown };
  readonly halt?: boolean;
  readonly icr?: Scalar;
  readonly eoi?: boolean;
  readonly deliver?: boolean;
  readonly expect?: Expect;
  readonly save?: Readonly<Record<string, string>>;
};

/** A scenario file's content. */
export type Scenario = {
  readonly id: string;
  readonly title: string;
  readonly refs: readonly string[];
  readonly tags?: readonly string[];
  readonly world?: 'xen' | 'viridian';
  readonly profiles?: 'all' | readonly ('minimal' | 'ws2008' | 'modern')[];
  readonly xen?: { readonly profile?: 'xen-4.22' | 'xen-4.18' | 'xen-4.17'; readonly guestType?: 'pv' | 'pvhvm'; readonly build?: 'debug' | 'release'; readonly domid?: number; readonly maxEvtchnPort?: number; readonly maxPages?: number; readonly maxGrantFrames?: number };
  readonly viridian?: { readonly compat?: 'tlfs' | 'kvm' | 'xen'; readonly repsPerCall?: number; readonly tscPageValid?: boolean };
  readonly setup?: { readonly vcpus?: number; readonly online?: readonly number[]; readonly ramPages?: number; readonly hypercalls?: boolean };
  readonly steps: readonly Step[];
  /** Where a regression scenario came from (xvc fuzz). */
  readonly provenance?: { readonly seed?: string; readonly path?: string; readonly profile?: string; readonly adapter?: string; readonly date?: string; readonly firstDifference?: string; readonly command?: string };
};

/** The action of a step (validation guarantees exactly one). */
export function actionOf(step: Step): Action {
  const found = ALL_ACTIONS.find((a) => (step as Record<string, unknown>)[a] !== undefined);
  if (!found) throw new Error('[spec] a validated step has no action');
  return found;
}
