import { EVTCHNOP } from '../abi/event_channel';
import {
  evtchn_alloc_unbound,
  evtchn_bind_interdomain,
  evtchn_bind_ipi,
  evtchn_bind_pirq,
  evtchn_bind_vcpu,
  evtchn_init_control,
  evtchn_expand_array,
  evtchn_port_arg,
  evtchn_reset,
  evtchn_set_priority,
  evtchn_status,
  evtchn_bind_virq,
} from '../abi/layouts';
import * as ops from '../evtchn/operations';
import type { StructLayout } from '../../abi/struct';
import { arg, copyBackStruct, copyFromGuest, copyInStruct, type CopiedStruct } from '../guestAccess';
import { errno, returned, unimplemented, type XenOutcome } from '../outcome';
import { defineHypercall, type HypercallContext } from './types';

/** A result of the operations module as an outcome. */
function outcomeOf(r: ops.EvtResult): XenOutcome {
  return ops.isErr(r) ? errno(r) : returned(0);
}

/**
 * Copies the struct back with the new port after a successful bind. Xen copies the whole struct
 * and answers -EFAULT when that fails, without undoing the bind ("Cleaning up here would be a mess!").
 */
function bindAndCopyBack<L extends StructLayout>(ctx: HypercallContext, ptr: bigint, layout: L, copied: CopiedStruct<L>, outField: keyof L['fields'] & string, r: ops.EvtResult): XenOutcome {
  if (ops.isErr(r)) return errno(r);
  const patch = { [outField]: r } as Partial<Record<keyof L['fields'], number>>;
  return copyBackStruct(ctx.d, ptr, layout, copied, patch) ? returned(0) : errno('XEN_EFAULT');
}

/** HYPERVISOR_event_channel_op(int cmd, void *arg): xen/common/event_channel.c do_event_channel_op. */
export const event_channel_op = defineHypercall({
  name: 'event_channel_op',
  guests: ['pv', 'pvhvm'],
  source: 'xen/common/event_channel.c do_event_channel_op',
  handler(ctx, args) {
    const cmd = arg.int(args[0]);
    const ptr = args[1];
    const { xen, d } = ctx;
    switch (cmd) {
      case EVTCHNOP.EVTCHNOP_alloc_unbound: {
        const a = copyInStruct(d, ptr, evtchn_alloc_unbound);
        if (!a) return errno('XEN_EFAULT');
        return bindAndCopyBack(ctx, ptr, evtchn_alloc_unbound, a, 'port', ops.allocUnbound(xen, d, a.value.dom, a.value.remote_dom));
      }
      case EVTCHNOP.EVTCHNOP_bind_interdomain: {
        const a = copyInStruct(d, ptr, evtchn_bind_interdomain);
        if (!a) return errno('XEN_EFAULT');
        return bindAndCopyBack(ctx, ptr, evtchn_bind_interdomain, a, 'local_port', ops.bindInterdomain(xen, d, a.value.remote_dom, a.value.remote_port));
      }
      case EVTCHNOP.EVTCHNOP_bind_virq: {
        const a = copyInStruct(d, ptr, evtchn_bind_virq);
        if (!a) return errno('XEN_EFAULT');
        // virq and vcpu are read into C ints: values of 2^31 and above are negative.
        return bindAndCopyBack(ctx, ptr, evtchn_bind_virq, a, 'port', ops.bindVirq(xen, d, a.value.virq | 0, a.value.vcpu | 0));
      }
      case EVTCHNOP.EVTCHNOP_bind_ipi: {
        const a = copyInStruct(d, ptr, evtchn_bind_ipi);
        if (!a) return errno('XEN_EFAULT');
        return bindAndCopyBack(ctx, ptr, evtchn_bind_ipi, a, 'port', ops.bindIpi(d, a.value.vcpu));
      }
      case EVTCHNOP.EVTCHNOP_bind_pirq: {
        if (!copyFromGuest(d, ptr, evtchn_bind_pirq)) return errno('XEN_EFAULT');
        return unimplemented('EVTCHNOP_bind_pirq: the outcome depends on the host IO-APIC pin count (nr_static_irqs); PIRQs are not modelled');
      }
      case EVTCHNOP.EVTCHNOP_close: {
        const a = copyFromGuest(d, ptr, evtchn_port_arg);
        if (!a) return errno('XEN_EFAULT');
        return outcomeOf(ops.close(xen, d, a.port));
      }
      case EVTCHNOP.EVTCHNOP_send: {
        const a = copyFromGuest(d, ptr, evtchn_port_arg);
        if (!a) return errno('XEN_EFAULT');
        return outcomeOf(ops.send(xen, d, a.port));
      }
      case EVTCHNOP.EVTCHNOP_status: {
        const a = copyInStruct(d, ptr, evtchn_status);
        if (!a) return errno('XEN_EFAULT');
        const st = ops.status(xen, d, a.value.dom, a.value.port);
        if (typeof st === 'string') return errno(st);
        // Only the members of `u` that the state defines are assigned; the rest keep the caller's bytes.
        const patch: Partial<Record<keyof typeof evtchn_status.fields, number>> = { status: st.status, vcpu: st.vcpu };
        if (st.uWord !== undefined) patch.u_word = st.uWord;
        if (st.uDom !== undefined) patch.u_dom = st.uDom;
        if (st.uPort !== undefined) patch.u_port = st.uPort;
        return copyBackStruct(d, ptr, evtchn_status, a, patch) ? returned(0) : errno('XEN_EFAULT');
      }
      case EVTCHNOP.EVTCHNOP_bind_vcpu: {
        const a = copyFromGuest(d, ptr, evtchn_bind_vcpu);
        if (!a) return errno('XEN_EFAULT');
        return outcomeOf(ops.bindVcpu(d, a.port, a.vcpu));
      }
      case EVTCHNOP.EVTCHNOP_unmask: {
        const a = copyFromGuest(d, ptr, evtchn_port_arg);
        if (!a) return errno('XEN_EFAULT');
        return outcomeOf(ops.unmask(d, a.port));
      }
      case EVTCHNOP.EVTCHNOP_reset:
      case EVTCHNOP.EVTCHNOP_reset_cont: {
        const a = copyFromGuest(d, ptr, evtchn_reset);
        if (!a) return errno('XEN_EFAULT');
        return outcomeOf(ops.reset(xen, d, a.dom, cmd === EVTCHNOP.EVTCHNOP_reset_cont));
      }
      case EVTCHNOP.EVTCHNOP_init_control: {
        if (!copyFromGuest(d, ptr, evtchn_init_control)) return errno('XEN_EFAULT');
        return unimplemented('EVTCHNOP_init_control: the FIFO event channel ABI is not modelled (2-level only)');
      }
      case EVTCHNOP.EVTCHNOP_expand_array: {
        if (!copyFromGuest(d, ptr, evtchn_expand_array)) return errno('XEN_EFAULT');
        // evtchn_fifo_expand_array: no FIFO control block yet -> -EOPNOTSUPP.
        return errno('XEN_EOPNOTSUPP');
      }
      case EVTCHNOP.EVTCHNOP_set_priority: {
        const a = copyFromGuest(d, ptr, evtchn_set_priority);
        if (!a) return errno('XEN_EFAULT');
        return outcomeOf(ops.setPriority(d, a.port));
      }
      default:
        return errno('XEN_ENOSYS');
    }
  },
});
