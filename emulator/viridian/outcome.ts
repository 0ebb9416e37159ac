import { HV_STATUS } from './abi/status';
import { encodeResult } from './control';
import type { HvStatusName } from './profiles';

/**
 * What the hypercall instruction does, as the calling vCPU sees it.
 * - result: the hypervisor wrote the result value to RAX (status and reps completed).
 * - fault: the instruction raised an exception instead (#UD: no hypercall interface, or XMM
 *   fast input used where it is not offered).
 * - intercept: the hypervisor could not read the input (or write the output) because no page
 *   is behind a GPA inside the GPA space; a real hypervisor sends a memory intercept to the
 *   parent partition and the call does not complete (TLFS v6.0b 3.6). The guest is stuck there,
 *   which a test reports as the adapter's error.
 * - unimplemented: a path the model does not implement (never a guess at what Hyper-V does).
 */
export type HypercallOutcome =
  | { readonly kind: 'result'; readonly value: bigint; readonly status: number; readonly repsCompleted: number }
  | { readonly kind: 'fault'; readonly vector: 'UD' | 'GP' }
  | { readonly kind: 'intercept'; readonly gpa: number; readonly access: 'read' | 'write' }
  | { readonly kind: 'unimplemented'; readonly reason: string };

/** The outcome of a call that completed with `status` after `repsCompleted` reps. */
export function hvResult(status: number, repsCompleted = 0): HypercallOutcome {
  return { kind: 'result', value: encodeResult({ status, repsCompleted }), status, repsCompleted };
}

/** The outcome of a call that failed (or succeeded) with the named status. */
export function hvStatus(name: HvStatusName, repsCompleted = 0): HypercallOutcome {
  return hvResult(HV_STATUS[name], repsCompleted);
}

/** #UD raised by the hypercall instruction. */
export const UD: HypercallOutcome = Object.freeze({ kind: 'fault', vector: 'UD' });

/** What RDMSR gives: the value, or #GP. */
export type MsrRead = { readonly kind: 'ok'; readonly value: bigint } | { readonly kind: 'fault'; readonly vector: 'GP' };

/** What WRMSR gives: nothing, or #GP. */
export type MsrWrite = { readonly kind: 'ok' } | { readonly kind: 'fault'; readonly vector: 'GP' };

/** A successful MSR read. */
export function msrValue(value: bigint): MsrRead {
  return { kind: 'ok', value: BigInt.asUintN(64, value) };
}

/** #GP from RDMSR or WRMSR. */
export const GP: { readonly kind: 'fault'; readonly vector: 'GP' } = Object.freeze({ kind: 'fault', vector: 'GP' });

/** A successful MSR write. */
export const WRITTEN: MsrWrite = Object.freeze({ kind: 'ok' });

const NAME_BY_STATUS = new Map<number, HvStatusName>((Object.entries(HV_STATUS) as [HvStatusName, number][]).map(([name, value]) => [value, name]));

/** The HV_STATUS name of a status value ("HV_STATUS_INVALID_PARAMETER"), or its hex form. */
export function describeStatus(status: number): string {
  return NAME_BY_STATUS.get(status) ?? `0x${status.toString(16).padStart(4, '0')}`;
}
