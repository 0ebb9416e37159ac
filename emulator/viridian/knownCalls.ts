import { HVCALL } from './abi/hypercalls';

/**
 * Which call codes the hypervisor's dispatcher recognises (docs/decisions.md V33; quirk
 * `knownCalls`). A code outside the set is an unknown code, HV_STATUS_INVALID_HYPERCALL_CODE,
 * whatever its fast, rep and variable-header bits and its GPAs:
 * - 'all' (TLFS): every code of the ABI table; those the model does not implement are refused by
 *   their privilege (V31);
 * - 'kvm': the cases of the code switch in KVM's kvm_hv_hypercall (arch/x86/kvm/hyperv.c); every
 *   other code falls to its `default:` case. hv_check_hypercall_access lets such a code through
 *   (its own `default:` returns true) and the reserved-bit check still comes first;
 * - 'xen': the cases of the code switch in Xen's viridian_hypercall
 *   (xen/arch/x86/hvm/viridian/viridian.c); every other code, HvExtCallQueryCapabilities among
 *   them, is -EOPNOTSUPP, which it reports as HV_STATUS_INVALID_HYPERCALL_CODE. Xen has no
 *   earlier check, so nothing of the input is looked at.
 */
export type ViridianKnownCalls = 'all' | 'kvm' | 'xen';

/** The remote flushes and cluster IPIs, which KVM and Xen both implement. */
const FLUSH_AND_IPI = [
  HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, // 0x0002
  HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, // 0x0003
  HVCALL.HVCALL_SEND_IPI, // 0x000B
  HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, // 0x0013
  HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, // 0x0014
  HVCALL.HVCALL_SEND_IPI_EX, // 0x0015
] as const;

/**
 * The codes each implementation's dispatcher has a case for (the model's codes only: a code the
 * ABI table does not name is unknown everywhere). Sources: KVM kvm_hv_hypercall as in the fact
 * sheet's [KVM] text (../shared/reference/hyperv-tlfs.md 10.1), Xen viridian_hypercall at the
 * fact sheet's [Xen] snapshot (10.4).
 */
export const KNOWN_CALL_CODES: Readonly<Record<Exclude<ViridianKnownCalls, 'all'>, ReadonlySet<number>>> = {
  kvm: new Set<number>([
    ...FLUSH_AND_IPI,
    HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT, // 0x0008: kvm_vcpu_on_spin
    HVCALL.HVCALL_POST_MESSAGE, // 0x005C: to userspace (QEMU)
    HVCALL.HVCALL_SIGNAL_EVENT, // 0x005D: in kernel, then userspace
    HVCALL.HVCALL_POST_DEBUG_DATA, // 0x0069..0x006B: to userspace when SynDBG is on
    HVCALL.HVCALL_RETRIEVE_DEBUG_DATA,
    HVCALL.HVCALL_RESET_DEBUG_SESSION,
    HVCALL.HV_EXT_CALL_QUERY_CAPABILITIES, // 0x8001 (case HV_EXT_CALL_QUERY_CAPABILITIES ... HV_EXT_CALL_MAX): to userspace
  ]),
  xen: new Set<number>([
    ...FLUSH_AND_IPI,
    HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT, // 0x0008: vcpu_yield, input never read
  ]),
};

/** Whether a dispatcher of the given kind recognises a call code the model defines. */
export function knowsCall(known: ViridianKnownCalls, code: number): boolean {
  return known === 'all' || KNOWN_CALL_CODES[known].has(code);
}
