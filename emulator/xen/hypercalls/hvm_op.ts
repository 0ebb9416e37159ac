import { HVMOP, HVM_PARAM } from '../abi/hvm_op';
import { SHUTDOWN } from '../abi/sched';
import { xen_hvm_evtchn_upcall_vector, xen_hvm_get_time, xen_hvm_param } from '../abi/layouts';
import type { XenErrnoName } from '../abi/errno';
import { xsmTarget } from '../evtchn/operations';
import { arg, copyBackStruct, copyFromGuest, copyInStruct, copyToGuest, isNullHandle } from '../guestAccess';
import { OK, errno, unimplemented, type XenOutcome } from '../outcome';
import type { XenDomain } from '../domain';
import type { XenVcpu } from '../xenVcpu';
import { defineHypercall, type HypercallContext } from './types';

const P = HVM_PARAM;

/** Parameters a guest may set on itself (hvm_allow_set_param). */
const GUEST_SETTABLE = new Set<number>([
  P.HVM_PARAM_CALLBACK_IRQ,
  P.HVM_PARAM_VM86_TSS,
  P.HVM_PARAM_VM86_TSS_SIZED,
  P.HVM_PARAM_ACPI_IOPORTS_LOCATION,
  P.HVM_PARAM_VM_GENERATION_ID_ADDR,
  P.HVM_PARAM_STORE_EVTCHN,
  P.HVM_PARAM_CONSOLE_EVTCHN,
  P.HVM_PARAM_X87_FIP_WIDTH,
]);
/** Parameters a guest may read on itself (hvm_allow_get_param). */
const GUEST_READABLE = new Set<number>([...GUEST_SETTABLE, P.HVM_PARAM_STORE_PFN, P.HVM_PARAM_CONSOLE_PFN, P.HVM_PARAM_ALTP2M]);
/** Deprecated parameters: -EINVAL. */
const DEPRECATED = new Set<number>([
  P.HVM_PARAM_PAE_ENABLED,
  P.HVM_PARAM_DM_DOMAIN,
  P.HVM_PARAM_MEMORY_EVENT_CR0,
  P.HVM_PARAM_MEMORY_EVENT_CR3,
  P.HVM_PARAM_MEMORY_EVENT_CR4,
  P.HVM_PARAM_MEMORY_EVENT_INT3,
  P.HVM_PARAM_NESTEDHVM,
  P.HVM_PARAM_MEMORY_EVENT_SINGLE_STEP,
  P.HVM_PARAM_BUFIOREQ_EVTCHN,
  P.HVM_PARAM_MEMORY_EVENT_MSR,
]);
/** sizeof(struct tss32), the smallest VM86 TSS. */
const TSS32_SIZE = 104n;
/** The cap on a VM86 TSS size: struct tss32, the interrupt redirection bitmap, the I/O bitmap and a padding byte. */
const VM86_TSS_MAX = TSS32_SIZE + 0x100n / 8n + 0x10000n / 8n + 1n;
/** VM86_TSS_UPDATED, bit 63 of the stored HVM_PARAM_VM86_TSS_SIZED. */
const VM86_TSS_UPDATED = 1n << 63n;
/** HVM_PARAM_CALLBACK_TYPE_VECTOR in bits 63:56 of HVM_PARAM_CALLBACK_IRQ. */
const CALLBACK_TYPE_VECTOR = 2n;

/**
 * hvm_assert_evtchn_irq (xen/arch/x86/hvm/irq.c) for one vCPU, as hvm_set_callback_via and
 * hvmop_set_evtchn_upcall_vector call it:
 * - with a per-vCPU upcall vector, vlapic_set_irq() makes the vector pending at the vCPU's local
 *   APIC whether or not an event is pending, and vcpu_kick() wakes the vCPU: the guest's callback
 *   runs once on it;
 * - else, when the domain uses the callback vector (is_hvm_pv_evtchn_domain: CALLBACK_IRQ of the
 *   vector type, or a per-vCPU vector on vCPU 0), vcpu_kick() wakes the vCPU and the vector is
 *   injected only if evtchn_upcall_pending is set;
 * - else vCPU 0's GSI / INTx level follows its evtchn_upcall_pending, and an asserted line
 *   interrupts (so wakes) vCPU 0.
 */
function assertEvtchnIrq(d: XenDomain, v: XenVcpu): void {
  if (v.hw.state === 'down') return;
  if (v.upcallVector !== 0) {
    const pending = d.upcallPending(v) !== 0;
    // The one injection below stands for the callback entry deliverUpcall would make on resume.
    v.upcallDelivered = true;
    d.unblock(v);
    if (v.hw.running && !d.shuttingDown) v.hw.upcall();
    v.upcallDelivered = pending;
    return;
  }
  const via = d.hvmParams[P.HVM_PARAM_CALLBACK_IRQ] ?? 0n;
  if (via >> 56n === CALLBACK_TYPE_VECTOR || (d.vcpus[0]?.upcallVector ?? 0) !== 0) d.unblock(v);
  else if (v.id === 0 && d.eventsNeedDelivery(v)) d.unblock(v);
  d.deliverUpcall(v);
}

/** The checks both set_param and get_param make before the per-parameter rules (hvmop_set_param / hvmop_get_param). */
function lookupTarget(ctx: HypercallContext, a: { domid: number; index: number }): XenDomain | XenErrnoName {
  if (a.index >= P.HVM_NR_PARAMS) return 'XEN_EINVAL';
  const target = ctx.xen.domainByAnyId(a.domid, ctx.d);
  if (!target) return 'XEN_ESRCH';
  // is_hvm_domain() of the *target* comes before the XSM check.
  if (!target.isHvm) return 'XEN_EINVAL';
  if (!xsmTarget(ctx.d, target)) return 'XEN_EPERM';
  return target;
}

/** hvm_allow_set_param + hvm_set_param value rules for a guest setting its own parameter. */
function setParam(ctx: HypercallContext, d: XenDomain, index: number, value: bigint): XenOutcome {
  if (index === P.HVM_PARAM_ALTP2M) return errno(ctx.xen.profile.altp2mSet);
  if (DEPRECATED.has(index)) return errno('XEN_EINVAL');
  if (!GUEST_SETTABLE.has(index)) return errno('XEN_EPERM');
  let stored = value;
  switch (index) {
    case P.HVM_PARAM_X87_FIP_WIDTH:
      if (value !== 0n && value !== 4n && value !== 8n) return errno('XEN_EINVAL');
      break;
    case P.HVM_PARAM_VM86_TSS:
      // Only 32 bits are meaningful; a wider value crashes the domain that set it.
      if (value >> 32n !== 0n) {
        d.shutdown(SHUTDOWN.SHUTDOWN_crash);
        return errno('XEN_EINVAL');
      }
      d.hvmParams[P.HVM_PARAM_VM86_TSS_SIZED] = value === 0n ? 0n : value | (128n << 32n) | VM86_TSS_UPDATED;
      return OK;
    case P.HVM_PARAM_VM86_TSS_SIZED: {
      // hvm_set_param compares the whole of value >> 32, bit 63 (VM86_TSS_UPDATED) included: a
      // value with bit 63 set is never too small and is always capped to the maximum size.
      const size = value >> 32n;
      if (size < TSS32_SIZE) {
        d.shutdown(SHUTDOWN.SHUTDOWN_crash);
        return errno('XEN_EINVAL');
      }
      const capped = size > VM86_TSS_MAX ? VM86_TSS_MAX : size;
      stored = (value & 0xffff_ffffn) | (capped << 32n) | VM86_TSS_UPDATED;
      break;
    }
    case P.HVM_PARAM_ACPI_IOPORTS_LOCATION: {
      // pmtimer_change_ioport: only a switch between the two known locations 0 and 1.
      const old = d.hvmParams[index] ?? 0n;
      if (value !== old && !((old === 0n && value === 1n) || (old === 1n && value === 0n))) return errno('XEN_EINVAL');
      break;
    }
    default:
      break;
  }
  d.hvmParams[index] = stored;
  // hvm_set_callback_via: hvm_assert_evtchn_irq on every online vCPU.
  if (index === P.HVM_PARAM_CALLBACK_IRQ) for (const v of d.vcpus) assertEvtchnIrq(d, v);
  return OK;
}

/** The value get_param reports (hvmop_get_param). */
function getParamValue(d: XenDomain, index: number): bigint {
  switch (index) {
    case P.HVM_PARAM_VM86_TSS:
      return (d.hvmParams[P.HVM_PARAM_VM86_TSS_SIZED] ?? 0n) & 0xffff_ffffn;
    case P.HVM_PARAM_VM86_TSS_SIZED:
      return (d.hvmParams[index] ?? 0n) & ~VM86_TSS_UPDATED;
    default:
      return d.hvmParams[index] ?? 0n;
  }
}

/** HYPERVISOR_hvm_op(unsigned long op, void *arg): xen/arch/x86/hvm/hvm.c do_hvm_op. */
export const hvm_op = defineHypercall({
  name: 'hvm_op',
  guests: ['pv', 'pvhvm'],
  source: 'xen/arch/x86/hvm/hvm.c do_hvm_op, hvmop_set_param, hvmop_get_param, hvm_allow_set_param, hvm_allow_get_param',
  handler(ctx, args) {
    const { d } = ctx;
    const op = arg.ulong(args[0]);
    const ptr = args[1];
    switch (op) {
      case BigInt(HVMOP.HVMOP_set_param): {
        const a = copyFromGuest(d, ptr, xen_hvm_param);
        if (!a) return errno('XEN_EFAULT');
        const target = lookupTarget(ctx, a);
        if (typeof target === 'string') return errno(target);
        return setParam(ctx, target, a.index, a.value);
      }
      case BigInt(HVMOP.HVMOP_get_param): {
        const a = copyInStruct(d, ptr, xen_hvm_param);
        if (!a) return errno('XEN_EFAULT');
        const target = lookupTarget(ctx, a.value);
        if (typeof target === 'string') return errno(target);
        if (DEPRECATED.has(a.value.index)) return errno('XEN_EINVAL');
        if (!GUEST_READABLE.has(a.value.index)) return errno('XEN_EPERM');
        return copyBackStruct(d, ptr, xen_hvm_param, a, { value: getParamValue(target, a.value.index) }) ? OK : errno('XEN_EFAULT');
      }
      case BigInt(HVMOP.HVMOP_flush_tlbs):
        if (!isNullHandle(ptr) || !d.isHvm) return errno('XEN_EINVAL');
        for (const v of d.vcpus) v.hw.tlb.flushAll();
        return OK;
      case BigInt(HVMOP.HVMOP_get_time):
        return copyToGuest(d, ptr, xen_hvm_get_time, { now: d.now }) ? OK : errno('XEN_EFAULT');
      case BigInt(HVMOP.HVMOP_set_evtchn_upcall_vector): {
        if (!d.isHvm) return errno('XEN_EINVAL');
        const a = copyFromGuest(d, ptr, xen_hvm_evtchn_upcall_vector);
        if (!a) return errno('XEN_EFAULT');
        if (a.vector < 0x10) return errno('XEN_EINVAL');
        const target = d.vcpu(a.vcpu);
        if (!target) return errno('XEN_ENOENT');
        target.upcallVector = a.vector;
        assertEvtchnIrq(d, target);
        return OK;
      }
      case BigInt(HVMOP.HVMOP_guest_request_vm_event):
        return isNullHandle(ptr) ? OK : errno('XEN_EINVAL');
      case BigInt(HVMOP.HVMOP_pagetable_dying):
      case BigInt(HVMOP.HVMOP_xentrace):
      case BigInt(HVMOP.HVMOP_get_mem_type):
      case BigInt(HVMOP.HVMOP_altp2m):
        return unimplemented(`hvm_op ${op}: not modelled`);
      default:
        return errno('XEN_ENOSYS');
    }
  },
});
