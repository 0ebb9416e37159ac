import type { MemoryFault } from '../../machine/memory';
import type { HVCALL } from '../abi/hypercalls';
import type { HypercallInput } from '../control';
import type { HvStatusName } from '../profiles';
import type { CallInput, CallOutput } from '../callInput';
import type { ViridianModel } from '../viridianModel';
import type { ViridianVp } from '../vp';

/** A call code's name in the Linux spelling. */
export type HvCallName = keyof typeof HVCALL;

/**
 * The input and output layout of a call, which the generic checks use before the handler runs:
 * whether it is a rep call, takes a variable header or has a fast form, and the sizes of its
 * fixed input header, rep input element, output header and rep output element (TLFS
 * hypercall-interface.md "Hypercall Classes", "Variable Sized Hypercall Input Headers").
 */
export type CallShape = {
  readonly rep: boolean;
  readonly varHead: boolean;
  readonly fast: boolean;
  readonly inputHeader: number;
  readonly inputElement: number;
  readonly outputHeader: number;
  readonly outputElement: number;
};

/**
 * What a partition must have to make a call (TLFS HV_PARTITION_PRIVILEGE_MASK; the
 * recommendation gates are KVM's hv_check_hypercall_access, docs/decisions.md V18).
 */
export type CallAccess =
  | { readonly kind: 'any' }
  | { readonly kind: 'privilege'; readonly register: 'eax' | 'ebx'; readonly bit: number }
  | { readonly kind: 'recommendation'; readonly bits: number }
  | { readonly kind: 'spin-wait' };

/** What a handler gets: the model, the calling VP, the decoded input value and its parameters. */
export type CallContext = {
  readonly model: ViridianModel;
  readonly vp: ViridianVp;
  readonly control: HypercallInput;
  readonly input: CallInput;
  /** The output area (memory-form calls with output only). */
  readonly output: CallOutput | undefined;
  /** The rep elements this invocation processes: [start, end). */
  readonly reps: { readonly start: number; readonly end: number };
};

/**
 * What a handler gives back: a status (for rep calls with the absolute number of reps completed),
 * a memory intercept when a GPA it follows has no page behind it, or a path the model does not
 * implement.
 */
export type CallResult =
  | { readonly kind: 'status'; readonly status: HvStatusName; readonly repsCompleted?: number }
  | { readonly kind: 'intercept'; readonly fault: MemoryFault }
  | { readonly kind: 'unimplemented'; readonly reason: string };

/** One call of the Viridian model. */
export type ViridianCallDefinition = {
  readonly name: HvCallName;
  readonly shape: CallShape;
  readonly access: CallAccess;
  /** Where the behaviour comes from (TLFS page or section). */
  readonly source: string;
  readonly handler: (ctx: CallContext) => CallResult;
};

/** A finished call with this status. */
export function status(name: HvStatusName, repsCompleted?: number): CallResult {
  return repsCompleted === undefined ? { kind: 'status', status: name } : { kind: 'status', status: name, repsCompleted };
}

/** HV_STATUS_SUCCESS without reps. */
export const SUCCESS: CallResult = Object.freeze({ kind: 'status', status: 'HV_STATUS_SUCCESS' });

/** A simple call's shape: a fixed input header and nothing else. */
export function simple(inputHeader: number, extra: Partial<CallShape> = {}): CallShape {
  return { rep: false, varHead: false, fast: false, inputHeader, inputElement: 0, outputHeader: 0, outputElement: 0, ...extra };
}

/** Declares a call definition (an identity function for typing). */
export function defineCall(definition: ViridianCallDefinition): ViridianCallDefinition {
  return Object.freeze(definition);
}
