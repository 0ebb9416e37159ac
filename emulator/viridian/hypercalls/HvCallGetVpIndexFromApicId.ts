import { isFault } from '../../machine/memory';
import { HV_CALL_INPUT } from '../abi/calls';
import { HV_START_VIRTUAL_PROCESSOR } from '../profiles';
import { defineCall, status } from './types';

/**
 * HvCallGetVpIndexFromApicId (0x009A, rep): the VP index of each APIC id (TLFS
 * hypercalls/HvCallGetVpIndexFromApicId.md), the companion of HvCallStartVirtualProcessor.
 * Header: PartitionId (8), TargetVtl (1), padding (7); input element: the APIC id (4) and
 * padding (4); output element: the VP index (4) and padding (4). The model's APIC ids are the VP
 * indices. An id no VP has is HV_STATUS_INVALID_PARAMETER, after the elements before it; a
 * non-zero TargetVtl is HV_STATUS_INVALID_PARAMETER too (docs/decisions.md V27).
 */
export const HvCallGetVpIndexFromApicId = defineCall({
  name: 'HVCALL_GET_VP_ID_FROM_APIC_ID',
  shape: { rep: true, varHead: false, fast: false, inputHeader: 16, inputElement: 8, outputHeader: 0, outputElement: 8 },
  access: { kind: 'privilege', register: 'ebx', bit: HV_START_VIRTUAL_PROCESSOR },
  source: 'TLFS hypercalls/HvCallGetVpIndexFromApicId.md',
  handler: (ctx) => {
    const partition = ctx.input.u64(0);
    const vtl = ctx.input.u64(8);
    if (isFault(partition)) return { kind: 'intercept', fault: partition };
    if (isFault(vtl)) return { kind: 'intercept', fault: vtl };
    // The order of the TLFS Return Values table (docs/decisions.md V16 step 9): INVALID_PARAMETER, then INVALID_PARTITION_ID.
    if (vtl !== 0n) return status('HV_STATUS_INVALID_PARAMETER', ctx.reps.start);
    if (partition !== HV_CALL_INPUT.HV_PARTITION_ID_SELF) return status('HV_STATUS_INVALID_PARTITION_ID', ctx.reps.start);
    for (let rep = ctx.reps.start; rep < ctx.reps.end; rep++) {
      const apicId = ctx.input.u32(16 + 8 * rep);
      if (isFault(apicId)) return { kind: 'intercept', fault: apicId };
      if (apicId >= ctx.model.vps.length) return status('HV_STATUS_INVALID_PARAMETER', rep);
      const out = new Uint8Array(8);
      new DataView(out.buffer).setUint32(0, apicId, true);
      const fault = ctx.output?.write(8 * rep, out);
      if (fault) return { kind: 'intercept', fault };
    }
    return status('HV_STATUS_SUCCESS', ctx.reps.end);
  },
});
