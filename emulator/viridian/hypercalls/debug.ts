import { isFault } from '../../machine/memory';
import { PAGE_SIZE } from '../../machine/units';
import { encodeStruct } from '../../abi/struct';
import { HV_DEBUG } from '../abi/calls';
import { HV_FEATURES_EDX, HV_PRIVILEGES_EBX as EBX } from '../abi/cpuid';
import { hv_post_debug_data_output, hv_retrieve_debug_data_output } from '../abi/layouts';
import { defineCall, simple, status, SUCCESS, type CallContext, type CallResult } from './types';

/*
 * Guest debugging (TLFS v2.0A 20 "Guest Debugging Support"): HvPostDebugData (0x0069),
 * HvRetrieveDebugData (0x006A), HvResetDebugSession (0x006B). The "Return Values" tables of
 * 20.3.1-20.3.3 give the statuses; the model checks them in the order listed.
 */

/** FEATURE_UNAVAILABLE without guest debugging support; OPERATION_DENIED without a debug channel id. */
function sessionCheck(ctx: CallContext): CallResult | undefined {
  if ((ctx.model.profile.featuresEdx & HV_FEATURES_EDX.HV_X64_GUEST_DEBUGGING_AVAILABLE) === 0) return status('HV_STATUS_FEATURE_UNAVAILABLE');
  if (!ctx.model.profile.debugChannel) return status('HV_STATUS_OPERATION_DENIED');
  return undefined;
}

/** Whether [gpa, gpa + len) crosses a page boundary. */
function crossesPage(gpa: number, len: number): boolean {
  return len > 0 && Math.floor(gpa / PAGE_SIZE) !== Math.floor((gpa + len - 1) / PAGE_SIZE);
}

const DEBUGGING = { kind: 'privilege', register: 'ebx', bit: EBX.HV_DEBUGGING } as const;

export const HvPostDebugData = defineCall({
  name: 'HVCALL_POST_DEBUG_DATA',
  shape: simple(8, { outputHeader: 8 }),
  access: DEBUGGING,
  source: 'TLFS v2.0A 20.3.1 HvPostDebugData',
  handler: (ctx) => {
    const bad = sessionCheck(ctx);
    if (bad) return bad;
    const count = ctx.input.u32(0);
    const options = ctx.input.u32(4);
    if (isFault(count)) return { kind: 'intercept', fault: count };
    if (isFault(options)) return { kind: 'intercept', fault: options };
    if (count > HV_DEBUG.HV_DEBUG_MAXIMUM_DATA_SIZE || (options & ~HV_DEBUG.HV_DEBUG_POST_LOOP) !== 0) return status('HV_STATUS_INVALID_PARAMETER');
    if (crossesPage(ctx.input.gpa ?? 0, 8 + count)) return status('HV_STATUS_INVALID_PARAMETER');
    const data = ctx.input.bytes(8, count);
    if (isFault(data)) return { kind: 'intercept', fault: data };
    // HV_DEBUG_POST_LOOP only hints that the guest will retry; the model never suspends the VP.
    if (!ctx.model.debug.post(data)) return status('HV_STATUS_INSUFFICIENT_BUFFERS');
    const fault = ctx.output?.write(0, encodeStruct(hv_post_debug_data_output, { pending_count: ctx.model.debug.pendingOutgoing }));
    return fault ? { kind: 'intercept', fault } : SUCCESS;
  },
});

export const HvRetrieveDebugData = defineCall({
  name: 'HVCALL_RETRIEVE_DEBUG_DATA',
  shape: simple(16, { outputHeader: 8 }),
  access: DEBUGGING,
  source: 'TLFS v2.0A 20.3.2 HvRetrieveDebugData',
  handler: (ctx) => {
    const bad = sessionCheck(ctx);
    if (bad) return bad;
    const count = ctx.input.u32(0);
    const options = ctx.input.u32(4);
    if (isFault(count)) return { kind: 'intercept', fault: count };
    if (isFault(options)) return { kind: 'intercept', fault: options };
    const known = HV_DEBUG.HV_DEBUG_RETRIEVE_LOOP | HV_DEBUG.HV_DEBUG_RETRIEVE_TEST_ACTIVITY;
    if (count > HV_DEBUG.HV_DEBUG_MAXIMUM_DATA_SIZE || (options & ~known) !== 0) return status('HV_STATUS_INVALID_PARAMETER');
    if (crossesPage(ctx.output?.gpa ?? 0, 8 + count)) return status('HV_STATUS_INVALID_PARAMETER');
    const session = ctx.model.debug;
    if ((options & HV_DEBUG.HV_DEBUG_RETRIEVE_TEST_ACTIVITY) !== 0 && !session.activitySinceRetrieve) return status('HV_STATUS_INACTIVE');
    // HV_DEBUG_RETRIEVE_LOOP asks to wait up to Timeout for data; the model answers at once (docs/decisions.md).
    if (session.pendingIncoming === 0) {
      session.retrieve(0);
      return status('HV_STATUS_NO_DATA');
    }
    const data = session.retrieve(count);
    const head = encodeStruct(hv_retrieve_debug_data_output, { retrieved_count: data.length, remaining_count: session.pendingIncoming });
    const fault = ctx.output?.write(0, head) ?? ctx.output?.write(8, data);
    return fault ? { kind: 'intercept', fault } : SUCCESS;
  },
});

export const HvResetDebugSession = defineCall({
  name: 'HVCALL_RESET_DEBUG_SESSION',
  shape: simple(8, { fast: true }),
  access: DEBUGGING,
  source: 'TLFS v2.0A 20.3.3 HvResetDebugSession',
  handler: (ctx) => {
    const bad = sessionCheck(ctx);
    if (bad) return bad;
    const options = ctx.input.u32(0);
    if (isFault(options)) return { kind: 'intercept', fault: options };
    const known = HV_DEBUG.HV_DEBUG_PURGE_INCOMING_DATA | HV_DEBUG.HV_DEBUG_PURGE_OUTGOING_DATA;
    if (options === 0 || (options & ~known) !== 0) return status('HV_STATUS_INVALID_PARAMETER');
    const purged = ctx.model.debug.purge((options & HV_DEBUG.HV_DEBUG_PURGE_INCOMING_DATA) !== 0, (options & HV_DEBUG.HV_DEBUG_PURGE_OUTGOING_DATA) !== 0);
    return purged ? SUCCESS : status('HV_STATUS_NO_DATA');
  },
});
