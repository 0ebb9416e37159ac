import { encodeStruct } from '../../abi/struct';
import { HV_PRIVILEGES_EBX as EBX } from '../abi/cpuid';
import { hv_ext_query_capabilities_output } from '../abi/layouts';
import { defineCall, simple, SUCCESS } from './types';

/**
 * HvExtCallQueryCapabilities (0x8001): which extended hypercalls the hypervisor offers, as a
 * bit mask (TLFS hypercall-interface.md "Extended Hypercall Interface"). The model offers none
 * beyond this query, so the mask is 0. No input; an 8-byte output.
 */
export const HvExtCallQueryCapabilities = defineCall({
  name: 'HV_EXT_CALL_QUERY_CAPABILITIES',
  shape: simple(0, { outputHeader: 8 }),
  access: { kind: 'privilege', register: 'ebx', bit: EBX.HV_ENABLE_EXTENDED_HYPERCALLS },
  source: 'TLFS hypercall-interface.md "Extended Hypercall Interface"; KVM hyperv_features stages 19-20',
  handler: (ctx) => {
    const fault = ctx.output?.write(0, encodeStruct(hv_ext_query_capabilities_output, { capabilities: 0n }));
    return fault ? { kind: 'intercept', fault } : SUCCESS;
  },
});
