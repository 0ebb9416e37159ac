import { isFault } from '../../machine/memory';
import { HV_CALL_INPUT } from '../abi/calls';
import { HV_RECOMMENDATIONS_EAX as REC } from '../abi/cpuid';
import type { ViridianVp } from '../vp';
import { maskVps, readVpSet } from '../vpSet';
import { defineCall, status, SUCCESS, type CallContext, type CallResult } from './types';

/*
 * HvCallSendSyntheticClusterIpi (0x000B) and HvCallSendSyntheticClusterIpiEx (0x0015): TLFS
 * hypercalls/HvCallSendSyntheticClusterIpi*.md; TLFS v6.0b 10.5.2. Input: Vector (4 bytes),
 * TargetVtl (1 byte), 3 reserved bytes, then ProcessorMask (8 bytes; the Markdown page's size
 * of 1 is a typo, docs/decisions.md V15) or an HV_VP_SET.
 */

/**
 * The checks both forms share: the vector must be in HV_IPI_LOW_VECTOR..HV_IPI_HIGH_VECTOR
 * (status per compat, V4), and TargetVtl and the reserved bytes must be zero ("reserved bits
 * ... are set": HV_STATUS_INVALID_PARAMETER).
 */
function checkVector(ctx: CallContext): number | CallResult {
  const vector = ctx.input.u32(0);
  if (isFault(vector)) return { kind: 'intercept', fault: vector };
  if (vector < HV_CALL_INPUT.HV_IPI_LOW_VECTOR || vector > HV_CALL_INPUT.HV_IPI_HIGH_VECTOR) return status(ctx.model.quirks.ipiBadVector);
  const rest = ctx.input.u32(4);
  if (isFault(rest)) return { kind: 'intercept', fault: rest };
  if (rest !== 0) return status('HV_STATUS_INVALID_PARAMETER');
  return vector;
}

/**
 * Sends a fixed interrupt to each target: VP indices the partition does not have are skipped
 * (KVM and Xen do the same; the TLFS is silent), and a VP that was never started ignores it as a
 * processor in wait-for-SIPI does.
 */
function send(ctx: CallContext, vector: number, vps: readonly number[] | 'all'): CallResult {
  const targets: readonly (ViridianVp | undefined)[] = vps === 'all' ? ctx.model.vps : vps.map((i) => ctx.model.vps[i]);
  for (const vp of targets) if (vp && vp.run !== 'not-started') ctx.model.raiseInterrupt(vp, vector);
  return SUCCESS;
}

export const HvCallSendSyntheticClusterIpi = defineCall({
  name: 'HVCALL_SEND_IPI',
  shape: { rep: false, varHead: false, fast: true, inputHeader: 16, inputElement: 0, outputHeader: 0, outputElement: 0 },
  access: { kind: 'recommendation', bits: REC.HV_X64_CLUSTER_IPI_RECOMMENDED },
  source: 'TLFS hypercalls/HvCallSendSyntheticClusterIpi.md',
  handler: (ctx) => {
    const vector = checkVector(ctx);
    if (typeof vector !== 'number') return vector;
    const mask = ctx.input.u64(8);
    if (isFault(mask)) return { kind: 'intercept', fault: mask };
    return send(ctx, vector, maskVps(mask));
  },
});

export const HvCallSendSyntheticClusterIpiEx = defineCall({
  name: 'HVCALL_SEND_IPI_EX',
  shape: { rep: false, varHead: true, fast: true, inputHeader: 24, inputElement: 0, outputHeader: 0, outputElement: 0 },
  access: { kind: 'recommendation', bits: REC.HV_X64_CLUSTER_IPI_RECOMMENDED | REC.HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED },
  source: 'TLFS hypercalls/HvCallSendSyntheticClusterIpiEx.md; datatypes/hv_vp_set.md',
  handler: (ctx) => {
    const vector = checkVector(ctx);
    if (typeof vector !== 'number') return vector;
    const set = readVpSet(ctx.input, 8, ctx.control.varHeadSize);
    if (isFault(set)) return { kind: 'intercept', fault: set };
    if (set.kind === 'bad-format') return status('HV_STATUS_INVALID_PARAMETER');
    if (set.kind === 'bank-count-mismatch') return status('HV_STATUS_INVALID_HYPERCALL_INPUT');
    return send(ctx, vector, set.kind === 'all' ? 'all' : set.vps);
  },
});
