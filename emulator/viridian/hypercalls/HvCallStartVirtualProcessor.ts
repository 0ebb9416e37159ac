import { isFault } from '../../machine/memory';
import { HV_CALL_INPUT } from '../abi/calls';
import { hv_start_virtual_processor } from '../abi/layouts';
import { HV_START_VIRTUAL_PROCESSOR } from '../profiles';
import { defineCall, simple, status, SUCCESS } from './types';

/** Offsets in HV_INITIAL_VP_CONTEXT (TLFS datatypes/hv_initial_vp_context.md, x64): Rip 0, Rsp 8, ..., Cr3 at 16 + 24 + 8*16 + 2*16 + 16. */
const CONTEXT = 16;
const RIP = CONTEXT + 0;
const RSP = CONTEXT + 8;
/** Rip, Rsp, Rflags (24), eight HV_X64_SEGMENT_REGISTERs (16 each), two HV_X64_TABLE_REGISTERs (16 each), Efer, Cr0, then Cr3. */
const CR3 = CONTEXT + 24 + 8 * 16 + 2 * 16 + 16;

/** Whether a 64-bit address is canonical with 48-bit virtual addresses. */
function canonical(address: bigint): boolean {
  const top = BigInt.asUintN(64, address) >> 47n;
  return top === 0n || top === 0x1ffffn;
}

/**
 * HvCallStartVirtualProcessor (0x0099): starts a VP that has not started yet with the given
 * register state (TLFS hypercalls/HvCallStartVirtualProcessor.md). The model keeps RIP, RSP and
 * CR3 (the VP's address space for the TLB model). A non-zero TargetVtl targets a VTL the
 * partition has not enabled: the TLFS answers HV_STATUS_INVALID_VTL_STATE, a code no published
 * header numbers, so the model gives HV_STATUS_INVALID_PARAMETER (docs/decisions.md).
 */
export const HvCallStartVirtualProcessor = defineCall({
  name: 'HVCALL_START_VP',
  shape: simple(hv_start_virtual_processor.size),
  access: { kind: 'privilege', register: 'ebx', bit: HV_START_VIRTUAL_PROCESSOR },
  source: 'TLFS hypercalls/HvCallStartVirtualProcessor.md; TLFS v6.0b 7.10.3',
  handler: (ctx) => {
    const partition = ctx.input.u64(0);
    const index = ctx.input.u32(8);
    const vtl = ctx.input.u32(12);
    const rip = ctx.input.u64(RIP);
    const rsp = ctx.input.u64(RSP);
    const cr3 = ctx.input.u64(CR3);
    for (const v of [partition, index, vtl, rip, rsp, cr3]) if (isFault(v)) return { kind: 'intercept', fault: v };
    if (partition !== HV_CALL_INPUT.HV_PARTITION_ID_SELF) return status('HV_STATUS_INVALID_PARTITION_ID');
    const vp = ctx.model.vps[index as number];
    if (!vp) return status('HV_STATUS_INVALID_VP_INDEX');
    // The order of the TLFS Return Values table (docs/decisions.md V16 step 9): register value, VP state, VTL state.
    if (!canonical(rip as bigint) || !canonical(rsp as bigint)) return status('HV_STATUS_INVALID_REGISTER_VALUE');
    if (vp.run !== 'not-started') return status('HV_STATUS_INVALID_VP_STATE');
    if (vtl !== 0) return status('HV_STATUS_INVALID_PARAMETER');
    ctx.model.startVp(vp, { rip: rip as bigint, rsp: rsp as bigint, cr3: cr3 as bigint, via: 'HvCallStartVirtualProcessor' });
    return SUCCESS;
  },
});
