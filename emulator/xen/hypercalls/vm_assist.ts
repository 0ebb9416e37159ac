import { VMASST } from '../abi/mmuext';
import { arg } from '../guestAccess';
import { OK, errno } from '../outcome';
import { defineHypercall } from './types';

/** VM-assist types a guest may set (xen/arch/x86/include/asm/domain.h arch_vm_assist_valid_mask). */
const PV64_VM_ASSIST_MASK =
  (1 << VMASST.VMASST_TYPE_4gb_segments) |
  (1 << VMASST.VMASST_TYPE_4gb_segments_notify) |
  (1 << VMASST.VMASST_TYPE_writable_pagetables) |
  (1 << VMASST.VMASST_TYPE_pae_extended_cr3) |
  (1 << VMASST.VMASST_TYPE_architectural_iopl) |
  (1 << VMASST.VMASST_TYPE_runstate_update_flag);
/** VMASST_TYPE_m2p_strict is bit 32: tracked separately so the mask stays a 32-bit number. */
const M2P_STRICT = VMASST.VMASST_TYPE_m2p_strict;
const HVM_VM_ASSIST_MASK = 1 << VMASST.VMASST_TYPE_runstate_update_flag;

/** HYPERVISOR_vm_assist(unsigned cmd, unsigned type): xen/common/domain.c do_vm_assist. */
export const vm_assist = defineHypercall({
  name: 'vm_assist',
  guests: ['pv', 'pvhvm'],
  source: 'xen/common/domain.c do_vm_assist',
  handler(ctx, args) {
    const { d } = ctx;
    const cmd = arg.uint(args[0]);
    const type = arg.uint(args[1]);
    const valid = type < 32 ? ((d.isHvm ? HVM_VM_ASSIST_MASK : PV64_VM_ASSIST_MASK) >>> type) & 1 : type === M2P_STRICT && !d.isHvm ? 1 : 0;
    if (type >= 64 || valid === 0) return errno('XEN_EINVAL');
    switch (cmd) {
      case VMASST.VMASST_CMD_enable:
        if (type < 32) d.vmAssist = (d.vmAssist | (1 << type)) >>> 0;
        else d.vmAssistM2pStrict = true;
        return OK;
      case VMASST.VMASST_CMD_disable:
        if (type < 32) d.vmAssist = (d.vmAssist & ~(1 << type)) >>> 0;
        else d.vmAssistM2pStrict = false;
        return OK;
      default:
        return errno('XEN_ENOSYS');
    }
  },
});
