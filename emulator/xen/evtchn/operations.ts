import { EVTCHNSTAT, VIRQ } from '../abi/event_channel';
import { DOMID } from '../abi/xen';
import type { XenErrnoName } from '../abi/errno';
import type { XenDomain } from '../domain';
import type { AnyXenModel } from '../xenModel';
import { isUsable } from './channelTable';

/*
 * The event channel operations of xen/common/event_channel.c, on model domains. Each returns a
 * non-negative result or the name of the error Xen returns; the checks run in Xen's order.
 */

/** A result: a port number / status, or the errno Xen answers with. */
export type EvtResult = number | XenErrnoName;

/** Whether a result is an error. */
export function isErr(r: EvtResult): r is XenErrnoName {
  return typeof r === 'string';
}

/** Whether the dummy XSM policy grants XSM_TARGET from `src` on `target` (xen/include/xsm/dummy.h). */
export function xsmTarget(src: XenDomain, target: XenDomain): boolean {
  return src === target || src.domid === 0; // dom0 is the control domain
}

/** get_virq_type(): VIRQ_VCPU, VIRQ_DOMAIN or VIRQ_GLOBAL. */
export function virqType(virq: number): 'vcpu' | 'domain' | 'global' {
  switch (virq) {
    case VIRQ.VIRQ_TIMER:
    case VIRQ.VIRQ_DEBUG:
    case VIRQ.VIRQ_XENOPROF:
    case VIRQ.VIRQ_XENPMU:
      return 'vcpu';
    case VIRQ.VIRQ_ARGO:
      return 'domain';
    default:
      // VIRQ_ARCH_0..7 are global on x86 (arch_get_virq_type); unassigned numbers count as global.
      return 'global';
  }
}

/** EVTCHNOP_alloc_unbound (evtchn_alloc_unbound). */
export function allocUnbound(xen: AnyXenModel, caller: XenDomain, dom: number, remoteDom: number): EvtResult {
  const d = xen.domainByAnyId(dom, caller);
  if (!d) return 'XEN_ESRCH';
  const port = d.evtchn.allocate();
  if (port === 'ENOSPC') return 'XEN_ENOSPC';
  if (!xsmTarget(caller, d)) {
    d.evtchn.release(port);
    return 'XEN_EPERM';
  }
  const chn = d.evtchn.get(port);
  if (!chn) throw new Error(`[xen] allocated port ${port} is not valid`);
  // remote_dom is stored as given; DOMID_SELF becomes the caller's own id. It is not checked.
  chn.state = { kind: 'unbound', remoteDomid: remoteDom === DOMID.DOMID_SELF ? caller.domid : remoteDom };
  return port;
}

/** EVTCHNOP_bind_interdomain (evtchn_bind_interdomain). */
export function bindInterdomain(xen: AnyXenModel, ld: XenDomain, remoteDom: number, remotePort: number): EvtResult {
  const rd = xen.domainByAnyId(remoteDom, ld);
  if (!rd) return 'XEN_ESRCH';
  const lport = ld.evtchn.allocate();
  if (lport === 'ENOSPC') return 'XEN_ENOSPC';
  const rchn = rd.evtchn.get(remotePort);
  if (!rchn || rchn.state.kind !== 'unbound' || rchn.state.remoteDomid !== ld.domid) {
    ld.evtchn.release(lport);
    return 'XEN_EINVAL';
  }
  const lchn = ld.evtchn.get(lport);
  if (!lchn) throw new Error(`[xen] allocated port ${lport} is not valid`);
  lchn.state = { kind: 'interdomain', remoteDomid: rd.domid, remotePort };
  rchn.state = { kind: 'interdomain', remoteDomid: ld.domid, remotePort: lport };
  // Notifications sent while the remote end was unbound may have been lost: always mark the new
  // local port pending.
  ld.setPending(lchn.notifyVcpu, lport);
  return lport;
}

/** EVTCHNOP_bind_virq (evtchn_bind_virq). */
export function bindVirq(xen: AnyXenModel, d: XenDomain, virq: number, vcpu: number): EvtResult {
  if (virq < 0 || virq >= VIRQ.NR_VIRQS) return 'XEN_EINVAL';
  const type = virqType(virq);
  if (type !== 'vcpu' && vcpu !== 0) return 'XEN_EINVAL';
  const v = d.vcpu(vcpu);
  if (!v) return 'XEN_ENOENT';
  if (type === 'global' && xen.globalVirqHandler(virq) !== d) return 'XEN_EBUSY';
  if ((v.virqToEvtchn[virq] ?? 0) !== 0) return 'XEN_EEXIST';
  const port = d.evtchn.allocate();
  if (port === 'ENOSPC') return 'XEN_ENOSPC';
  const chn = d.evtchn.get(port);
  if (!chn) throw new Error(`[xen] allocated port ${port} is not valid`);
  chn.state = { kind: 'virq', virq };
  chn.notifyVcpu = vcpu;
  v.virqToEvtchn[virq] = port;
  return port;
}

/** EVTCHNOP_bind_ipi (evtchn_bind_ipi). */
export function bindIpi(d: XenDomain, vcpu: number): EvtResult {
  if (!d.vcpu(vcpu)) return 'XEN_ENOENT';
  const port = d.evtchn.allocate();
  if (port === 'ENOSPC') return 'XEN_ENOSPC';
  const chn = d.evtchn.get(port);
  if (!chn) throw new Error(`[xen] allocated port ${port} is not valid`);
  chn.state = { kind: 'ipi' };
  chn.notifyVcpu = vcpu;
  return port;
}

/** Frees a port: clears its pending bit, then evtchn_free (the mask bit is left alone). */
function freePort(d: XenDomain, port: number): void {
  d.clearPending(port);
  d.evtchn.free(port);
}

/** EVTCHNOP_close (evtchn_close). */
export function close(xen: AnyXenModel, d: XenDomain, port: number): EvtResult {
  const chn = d.evtchn.get(port);
  if (!chn) return 'XEN_EINVAL';
  const state = chn.state;
  switch (state.kind) {
    case 'free':
    case 'reserved':
      return 'XEN_EINVAL';
    case 'unbound':
    case 'ipi':
      break;
    case 'virq': {
      const owner = d.vcpu(virqType(state.virq) !== 'vcpu' ? 0 : chn.notifyVcpu);
      if (owner) owner.virqToEvtchn[state.virq] = 0;
      break;
    }
    case 'interdomain': {
      const rd = xen.domainById(state.remoteDomid);
      const rchn = rd?.evtchn.get(state.remotePort);
      freePort(d, port);
      if (rchn) rchn.state = { kind: 'unbound', remoteDomid: d.domid };
      return 0;
    }
    default:
      return state satisfies never;
  }
  freePort(d, port);
  return 0;
}

/** EVTCHNOP_send (evtchn_send). */
export function send(xen: AnyXenModel, d: XenDomain, port: number): EvtResult {
  const chn = d.evtchn.get(port);
  if (!chn) return 'XEN_EINVAL';
  const state = chn.state;
  switch (state.kind) {
    case 'interdomain': {
      const rd = xen.domainById(state.remoteDomid);
      const rchn = rd?.evtchn.get(state.remotePort);
      if (rd && rchn) rd.setPending(rchn.notifyVcpu, state.remotePort);
      return 0;
    }
    case 'ipi':
      d.setPending(chn.notifyVcpu, port);
      return 0;
    case 'unbound':
      return 0; // silently dropped
    case 'free':
    case 'reserved':
    case 'virq':
      return 'XEN_EINVAL';
    default:
      return state satisfies never;
  }
}

/** What EVTCHNOP_status reports. */
export type ChannelStatus = { status: number; vcpu: number; uDom?: number; uPort?: number; uWord?: number };

/** EVTCHNOP_status (evtchn_status). */
export function status(xen: AnyXenModel, caller: XenDomain, dom: number, port: number): ChannelStatus | XenErrnoName {
  const d = xen.domainByAnyId(dom, caller);
  if (!d) return 'XEN_ESRCH';
  const chn = d.evtchn.get(port);
  if (!chn) return 'XEN_EINVAL';
  if (!xsmTarget(caller, d)) return 'XEN_EPERM';
  const state = chn.state;
  const vcpu = chn.notifyVcpu;
  switch (state.kind) {
    case 'free':
    case 'reserved':
      return { status: EVTCHNSTAT.EVTCHNSTAT_closed, vcpu };
    case 'unbound':
      return { status: EVTCHNSTAT.EVTCHNSTAT_unbound, vcpu, uDom: state.remoteDomid };
    case 'interdomain':
      return { status: EVTCHNSTAT.EVTCHNSTAT_interdomain, vcpu, uDom: state.remoteDomid, uPort: state.remotePort };
    case 'virq':
      return { status: EVTCHNSTAT.EVTCHNSTAT_virq, vcpu, uWord: state.virq };
    case 'ipi':
      return { status: EVTCHNSTAT.EVTCHNSTAT_ipi, vcpu };
    default:
      return state satisfies never;
  }
}

/** EVTCHNOP_bind_vcpu (evtchn_bind_vcpu): only future notifications move. */
export function bindVcpu(d: XenDomain, port: number, vcpu: number): EvtResult {
  const v = d.vcpu(vcpu);
  if (!v) return 'XEN_ENOENT';
  const chn = d.evtchn.get(port);
  if (!chn) return 'XEN_EINVAL';
  const state = chn.state;
  switch (state.kind) {
    case 'virq':
      if (virqType(state.virq) === 'vcpu') return 'XEN_EINVAL';
      chn.notifyVcpu = v.id;
      return 0;
    case 'unbound':
    case 'interdomain':
      chn.notifyVcpu = v.id;
      return 0;
    case 'ipi':
    case 'free':
    case 'reserved':
      return 'XEN_EINVAL';
    default:
      return state satisfies never;
  }
}

/** EVTCHNOP_unmask (evtchn_unmask): 0 for every valid port, whatever its state. */
export function unmask(d: XenDomain, port: number): EvtResult {
  const chn = d.evtchn.get(port);
  if (!chn) return 'XEN_EINVAL';
  if (isUsable(chn)) d.unmask(port);
  return 0;
}

/**
 * EVTCHNOP_reset / EVTCHNOP_reset_cont (do_event_channel_op + evtchn_reset). The model never
 * preempts, so a reset is never in progress when a call starts: reset_cont answers -EBUSY.
 */
export function reset(xen: AnyXenModel, caller: XenDomain, dom: number, resuming: boolean): EvtResult {
  const d = xen.domainByAnyId(dom, caller);
  if (!d) return 'XEN_ESRCH';
  if (!xsmTarget(caller, d)) return 'XEN_EPERM';
  // The caller here is the domain itself or the control domain acting on a paused domain; the
  // model's peer never resets the guest, so the controller_pause_count check cannot fail.
  const start = resuming ? d.evtchn.nextEvtchn : d.evtchn.nextEvtchn === 0 ? 1 : 0;
  if (start === 0) return 'XEN_EBUSY';
  for (let port = start; d.evtchn.isValid(port) && d.evtchn.activeCount > 0; port++) close(xen, d, port);
  d.evtchn.nextEvtchn = 0;
  return 0;
}

/** EVTCHNOP_set_priority (evtchn_set_priority) under the 2-level ABI. */
export function setPriority(d: XenDomain, port: number): EvtResult {
  if (!d.evtchn.get(port)) return 'XEN_EINVAL';
  // evtchn_port_set_priority: the 2-level ABI has no set_priority hook -> -ENOSYS.
  return 'XEN_ENOSYS';
}
