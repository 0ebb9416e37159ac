import { EVTCHNOP, EVTCHNSTAT, VIRQ } from '../abi/event_channel';
import { DOMID } from '../abi/xen';
import {
  evtchn_alloc_unbound,
  evtchn_bind_interdomain,
  evtchn_bind_ipi,
  evtchn_bind_pirq,
  evtchn_bind_vcpu,
  evtchn_bind_virq,
  evtchn_expand_array,
  evtchn_init_control,
  evtchn_port_arg,
  evtchn_reset,
  evtchn_set_priority,
  evtchn_status,
} from '../abi/layouts';
import { encodeStruct, type StructLayout } from '../../abi/struct';
import { GNTMAP, GNTST, GNTTABOP } from '../abi/grant_table';
import { gnttab_map_grant_ref } from '../abi/layouts';
import { E, XenTestGuest } from '../xenTestkit';

const EC = 'xen/common/event_channel.c';
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: copy_from_guest faults

/** Issues an event_channel_op with a struct argument; returns the return value and the struct after the call. */
function evtchnOp<L extends StructLayout>(g: XenTestGuest, cmd: number, layout: L, value: Partial<Record<keyof L['fields'], number | bigint>>) {
  const at = g.put(layout, value);
  const rc = g.ret('event_channel_op', cmd, at);
  return { rc, out: g.get(layout, at) };
}

const alloc = (g: XenTestGuest, dom: number = DOMID.DOMID_SELF, remote = 0) =>
  evtchnOp(g, EVTCHNOP.EVTCHNOP_alloc_unbound, evtchn_alloc_unbound, { dom, remote_dom: remote });
const bindIpi = (g: XenTestGuest, vcpu = 0) => evtchnOp(g, EVTCHNOP.EVTCHNOP_bind_ipi, evtchn_bind_ipi, { vcpu });
const bindVirq = (g: XenTestGuest, virq: number, vcpu = 0) => evtchnOp(g, EVTCHNOP.EVTCHNOP_bind_virq, evtchn_bind_virq, { virq, vcpu });
const portOp = (g: XenTestGuest, cmd: number, port: number) => evtchnOp(g, cmd, evtchn_port_arg, { port }).rc;
const status = (g: XenTestGuest, port: number, dom: number = DOMID.DOMID_SELF) => evtchnOp(g, EVTCHNOP.EVTCHNOP_status, evtchn_status, { dom, port });

describe(`EVTCHNOP_alloc_unbound (${EC} evtchn_alloc_unbound)`, () => {
  test('allocates the lowest free port, starting at 1 because port 0 is reserved (evtchn_init)', () => {
    const g = new XenTestGuest();
    expect(alloc(g)).toMatchObject({ rc: 0n, out: { port: 1 } });
    expect(alloc(g)).toMatchObject({ rc: 0n, out: { port: 2 } });
    expect(portOp(g, EVTCHNOP.EVTCHNOP_close, 1)).toBe(0n);
    expect(alloc(g).out.port).toBe(1); // a freed port is reused at once (get_free_port scans from 0)
  });

  test('remote_dom DOMID_SELF is stored as the caller id; remote_dom is not checked for existence', () => {
    const g = new XenTestGuest();
    const a = alloc(g, DOMID.DOMID_SELF, DOMID.DOMID_SELF);
    expect(status(g, a.out.port).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_unbound, u_dom: 1 });
    expect(alloc(g, DOMID.DOMID_SELF, 77).rc).toBe(0n);
  });

  test('the own numeric domid is accepted like DOMID_SELF (rcu_lock_domain_by_any_id)', () => {
    expect(alloc(new XenTestGuest(), 1).rc).toBe(0n);
  });

  test('a domain that does not exist is -ESRCH', () => {
    expect(alloc(new XenTestGuest(), 9).rc).toBe(E('XEN_ESRCH'));
  });

  test('allocating in another domain is -EPERM (xsm_evtchn_unbound, XSM_TARGET) and leaves no port behind', () => {
    const g = new XenTestGuest();
    expect(alloc(g, 0).rc).toBe(E('XEN_EPERM'));
    expect(g.xen.peer.evtchn.activeCount).toBe(0);
  });

  test('no free port below max_evtchn_port is -ENOSPC', () => {
    const g = new XenTestGuest({ xen: { maxEvtchnPort: 3 } });
    expect([alloc(g).rc, alloc(g).rc, alloc(g).rc, alloc(g).rc]).toEqual([0n, 0n, 0n, E('XEN_ENOSPC')]);
  });

  test('an unreadable argument is -EFAULT (copy_from_guest in do_event_channel_op)', () => {
    expect(new XenTestGuest().ret('event_channel_op', EVTCHNOP.EVTCHNOP_alloc_unbound, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test('the port is copied back with the rest of the struct untouched', () => {
    const g = new XenTestGuest();
    const at = g.put(evtchn_alloc_unbound, { dom: DOMID.DOMID_SELF, remote_dom: 0, port: 0xdead });
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_alloc_unbound, at)).toBe(0n);
    expect(g.get(evtchn_alloc_unbound, at)).toEqual({ dom: DOMID.DOMID_SELF, remote_dom: 0, port: 1 });
  });
});

describe(`EVTCHNOP_bind_interdomain (${EC} evtchn_bind_interdomain)`, () => {
  const bind = (g: XenTestGuest, remoteDom: number, remotePort: number) =>
    evtchnOp(g, EVTCHNOP.EVTCHNOP_bind_interdomain, evtchn_bind_interdomain, { remote_dom: remoteDom, remote_port: remotePort });

  test('binds to a peer port left unbound for the guest, and always marks the new local port pending', () => {
    const g = new XenTestGuest();
    const peerPort = g.xen.peerActions.allocUnbound() as number;
    const r = bind(g, 0, peerPort);
    expect(r).toMatchObject({ rc: 0n, out: { local_port: 1 } });
    expect(g.pending(1)).toBe(true);
    expect(status(g, 1).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_interdomain, u_dom: 0, u_port: peerPort });
  });

  test('a remote domain that does not exist is -ESRCH', () => {
    expect(bind(new XenTestGuest(), 5, 1).rc).toBe(E('XEN_ESRCH'));
  });

  test('a remote port beyond the valid range is -EINVAL, and the local port is not leaked', () => {
    const g = new XenTestGuest();
    expect(bind(g, 0, 5000).rc).toBe(E('XEN_EINVAL'));
    expect(g.xen.guest.evtchn.activeCount).toBe(0);
  });

  test('a remote port that is not unbound is -EINVAL', () => {
    const g = new XenTestGuest();
    expect(bind(g, 0, 3).rc).toBe(E('XEN_EINVAL')); // valid but free
  });

  test('a remote port unbound for another domain is -EINVAL', () => {
    const g = new XenTestGuest();
    const peerPort = g.xen.peerActions.allocUnbound(7) as number;
    expect(bind(g, 0, peerPort).rc).toBe(E('XEN_EINVAL'));
  });

  test('no free local port is -ENOSPC (the local port is allocated before the remote port is checked)', () => {
    const g = new XenTestGuest({ xen: { maxEvtchnPort: 1 } });
    alloc(g);
    expect(bind(g, 0, 9999).rc).toBe(E('XEN_ENOSPC'));
  });

  test('loopback: DOMID_SELF binds to one of the guest own unbound ports', () => {
    const g = new XenTestGuest();
    const a = alloc(g, DOMID.DOMID_SELF, DOMID.DOMID_SELF);
    const r = bind(g, DOMID.DOMID_SELF, a.out.port);
    expect(r).toMatchObject({ rc: 0n, out: { local_port: 2 } });
    expect(g.handleUpcall(0)).toEqual([2]);
    expect(portOp(g, EVTCHNOP.EVTCHNOP_send, 2)).toBe(0n);
    expect(g.handleUpcall(0)).toEqual([1]);
  });
});

describe(`EVTCHNOP_bind_virq (${EC} evtchn_bind_virq)`, () => {
  test('binds VIRQ_TIMER on a vCPU; the port notifies that vCPU', () => {
    const g = new XenTestGuest();
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 1)).toMatchObject({ rc: 0n, out: { port: 1 } });
    expect(status(g, 1).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_virq, vcpu: 1, u_word: VIRQ.VIRQ_TIMER });
  });

  test('virq >= NR_VIRQS is -EINVAL', () => {
    expect(bindVirq(new XenTestGuest(), VIRQ.NR_VIRQS).rc).toBe(E('XEN_EINVAL'));
  });

  test('a virq read as a negative int is -EINVAL', () => {
    expect(bindVirq(new XenTestGuest(), 0x8000_0000).rc).toBe(E('XEN_EINVAL'));
  });

  test('a per-domain or global VIRQ on a vCPU other than 0 is -EINVAL', () => {
    expect(bindVirq(new XenTestGuest(), VIRQ.VIRQ_ARGO, 1).rc).toBe(E('XEN_EINVAL'));
    expect(bindVirq(new XenTestGuest(), VIRQ.VIRQ_CONSOLE, 1).rc).toBe(E('XEN_EINVAL'));
  });

  test('a vCPU that does not exist is -ENOENT', () => {
    expect(bindVirq(new XenTestGuest({ vcpus: 2 }), VIRQ.VIRQ_TIMER, 2).rc).toBe(E('XEN_ENOENT'));
  });

  test('a global VIRQ is -EBUSY for a domU: the hardware domain is its handler (get_global_virq_handler)', () => {
    expect(bindVirq(new XenTestGuest(), VIRQ.VIRQ_DOM_EXC).rc).toBe(E('XEN_EBUSY'));
    expect(bindVirq(new XenTestGuest(), 5).rc).toBe(E('XEN_EBUSY')); // unassigned numbers count as global
  });

  test('a per-domain VIRQ (VIRQ_ARGO) binds on vCPU 0', () => {
    expect(bindVirq(new XenTestGuest(), VIRQ.VIRQ_ARGO, 0).rc).toBe(0n);
  });

  test('the same VIRQ twice on one vCPU is -EEXIST; on another vCPU it is fine', () => {
    const g = new XenTestGuest();
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 0).rc).toBe(0n);
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 0).rc).toBe(E('XEN_EEXIST'));
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 1).rc).toBe(0n);
  });

  test('no free port is -ENOSPC', () => {
    const g = new XenTestGuest({ xen: { maxEvtchnPort: 1 } });
    alloc(g);
    expect(bindVirq(g, VIRQ.VIRQ_TIMER).rc).toBe(E('XEN_ENOSPC'));
  });
});

describe(`EVTCHNOP_bind_ipi (${EC} evtchn_bind_ipi)`, () => {
  test('binds an IPI port notifying the given vCPU; send sets it pending there', () => {
    const g = new XenTestGuest();
    const r = bindIpi(g, 1);
    expect(r).toMatchObject({ rc: 0n, out: { port: 1 } });
    g.setUpcallMask(1, 0);
    expect(portOp(g, EVTCHNOP.EVTCHNOP_send, 1)).toBe(0n);
    expect(g.vcpuInfo(1)).toMatchObject({ pending: 1, sel: 1n });
    expect(g.vcpuInfo(0)).toMatchObject({ pending: 0, sel: 0n });
  });

  test('a vCPU that does not exist is -ENOENT', () => {
    expect(bindIpi(new XenTestGuest({ vcpus: 1 }), 1).rc).toBe(E('XEN_ENOENT'));
  });

  test('no free port is -ENOSPC', () => {
    const g = new XenTestGuest({ xen: { maxEvtchnPort: 1 } });
    bindIpi(g);
    expect(bindIpi(g).rc).toBe(E('XEN_ENOSPC'));
  });
});

describe(`EVTCHNOP_close (${EC} evtchn_close)`, () => {
  test('a port beyond the valid buckets is -EINVAL', () => {
    expect(portOp(new XenTestGuest(), EVTCHNOP.EVTCHNOP_close, 64)).toBe(E('XEN_EINVAL'));
  });

  test('closing a free port (already closed) is -EINVAL', () => {
    expect(portOp(new XenTestGuest(), EVTCHNOP.EVTCHNOP_close, 5)).toBe(E('XEN_EINVAL'));
  });

  test('closing reserved port 0 is -EINVAL', () => {
    expect(portOp(new XenTestGuest(), EVTCHNOP.EVTCHNOP_close, 0)).toBe(E('XEN_EINVAL'));
  });

  test('closing clears the pending bit but leaves the mask bit (evtchn_free)', () => {
    const g = new XenTestGuest();
    bindIpi(g);
    g.setMask(1, true);
    portOp(g, EVTCHNOP.EVTCHNOP_send, 1);
    expect(g.pending(1)).toBe(true);
    expect(portOp(g, EVTCHNOP.EVTCHNOP_close, 1)).toBe(0n);
    expect(g.pending(1)).toBe(false);
    expect(g.masked(1)).toBe(true);
    expect(status(g, 1).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_closed, vcpu: 0 });
  });

  test('closing a VIRQ port unbinds the VIRQ, so it can be bound again', () => {
    const g = new XenTestGuest();
    bindVirq(g, VIRQ.VIRQ_TIMER, 1);
    expect(portOp(g, EVTCHNOP.EVTCHNOP_close, 1)).toBe(0n);
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 1).rc).toBe(0n);
  });

  test('closing an interdomain port returns the remote end to unbound, accepting the closing domain', () => {
    const g = new XenTestGuest();
    const peerPort = g.xen.peerActions.allocUnbound() as number;
    evtchnOp(g, EVTCHNOP.EVTCHNOP_bind_interdomain, evtchn_bind_interdomain, { remote_dom: 0, remote_port: peerPort });
    expect(portOp(g, EVTCHNOP.EVTCHNOP_close, 1)).toBe(0n);
    expect(g.xen.peer.evtchn.get(peerPort)?.state).toEqual({ kind: 'unbound', remoteDomid: 1 });
    // ... so the guest can bind to it again.
    expect(evtchnOp(g, EVTCHNOP.EVTCHNOP_bind_interdomain, evtchn_bind_interdomain, { remote_dom: 0, remote_port: peerPort }).rc).toBe(0n);
  });
});

describe(`EVTCHNOP_send (${EC} evtchn_send)`, () => {
  test('an interdomain send sets the remote port pending', () => {
    const g = new XenTestGuest();
    const peerPort = g.xen.peerActions.allocUnbound() as number;
    evtchnOp(g, EVTCHNOP.EVTCHNOP_bind_interdomain, evtchn_bind_interdomain, { remote_dom: 0, remote_port: peerPort });
    expect(portOp(g, EVTCHNOP.EVTCHNOP_send, 1)).toBe(0n);
    expect(g.xen.peerActions.takeEvents()).toEqual([peerPort]);
  });

  test('a send on an unbound port is silently dropped and returns 0', () => {
    const g = new XenTestGuest();
    alloc(g);
    expect(portOp(g, EVTCHNOP.EVTCHNOP_send, 1)).toBe(0n);
    expect(g.pending(1)).toBe(false);
  });

  test('a send on a VIRQ, free or reserved port is -EINVAL', () => {
    const g = new XenTestGuest();
    bindVirq(g, VIRQ.VIRQ_TIMER);
    expect(portOp(g, EVTCHNOP.EVTCHNOP_send, 1)).toBe(E('XEN_EINVAL'));
    expect(portOp(g, EVTCHNOP.EVTCHNOP_send, 2)).toBe(E('XEN_EINVAL'));
    expect(portOp(g, EVTCHNOP.EVTCHNOP_send, 0)).toBe(E('XEN_EINVAL'));
  });

  test('a send on an invalid port is -EINVAL', () => {
    expect(portOp(new XenTestGuest(), EVTCHNOP.EVTCHNOP_send, 4096)).toBe(E('XEN_EINVAL'));
  });
});

describe(`EVTCHNOP_status (${EC} evtchn_status)`, () => {
  test('a domain that does not exist is -ESRCH, checked before the port', () => {
    expect(status(new XenTestGuest(), 99999, 3).rc).toBe(E('XEN_ESRCH'));
  });

  test('an invalid port is -EINVAL; a never-allocated port inside the first bucket is closed', () => {
    const g = new XenTestGuest();
    expect(status(g, 64).rc).toBe(E('XEN_EINVAL'));
    expect(status(g, 63)).toMatchObject({ rc: 0n, out: { status: EVTCHNSTAT.EVTCHNSTAT_closed, vcpu: 0 } });
  });

  test('port 0 (reserved) reports closed', () => {
    expect(status(new XenTestGuest(), 0).out.status).toBe(EVTCHNSTAT.EVTCHNSTAT_closed);
  });

  test('querying another domain is -EPERM (xsm_evtchn_status, XSM_TARGET), after the port check', () => {
    const g = new XenTestGuest();
    expect(status(g, 1, 0).rc).toBe(E('XEN_EPERM'));
    expect(status(g, 100, 0).rc).toBe(E('XEN_EINVAL'));
  });

  test('an IPI port reports its notify vCPU and leaves the union untouched', () => {
    const g = new XenTestGuest();
    bindIpi(g, 1);
    const at = g.put(evtchn_status, { dom: DOMID.DOMID_SELF, port: 1, u_dom: 0xabcd, u_port: 0x1234 });
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_status, at)).toBe(0n);
    expect(g.get(evtchn_status, at)).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_ipi, vcpu: 1, u_dom: 0xabcd, u_port: 0x1234 });
  });
});

describe(`EVTCHNOP_bind_vcpu (${EC} evtchn_bind_vcpu)`, () => {
  const bindVcpu = (g: XenTestGuest, port: number, vcpu: number) => evtchnOp(g, EVTCHNOP.EVTCHNOP_bind_vcpu, evtchn_bind_vcpu, { port, vcpu }).rc;

  test('a vCPU that does not exist is -ENOENT, checked before the port', () => {
    expect(bindVcpu(new XenTestGuest({ vcpus: 2 }), 9999, 2)).toBe(E('XEN_ENOENT'));
  });

  test('an invalid port is -EINVAL', () => {
    expect(bindVcpu(new XenTestGuest(), 9999, 1)).toBe(E('XEN_EINVAL'));
  });

  test('per-vCPU VIRQs, IPIs and free ports cannot be moved: -EINVAL', () => {
    const g = new XenTestGuest();
    bindVirq(g, VIRQ.VIRQ_TIMER);
    bindIpi(g);
    expect(bindVcpu(g, 1, 1)).toBe(E('XEN_EINVAL'));
    expect(bindVcpu(g, 2, 1)).toBe(E('XEN_EINVAL'));
    expect(bindVcpu(g, 3, 1)).toBe(E('XEN_EINVAL'));
  });

  test('an interdomain port moves; only future notifications go to the new vCPU', () => {
    const g = new XenTestGuest();
    const peerPort = g.xen.peerActions.allocUnbound() as number;
    evtchnOp(g, EVTCHNOP.EVTCHNOP_bind_interdomain, evtchn_bind_interdomain, { remote_dom: 0, remote_port: peerPort });
    expect(g.vcpuInfo(0).sel).toBe(1n); // the bind marked it pending on vCPU 0
    expect(bindVcpu(g, 1, 1)).toBe(0n);
    expect(g.vcpuInfo(1).sel).toBe(0n); // the pending bit did not move
    g.clearPendingBit(1);
    g.xen.peerActions.send(peerPort);
    expect(g.vcpuInfo(1).sel).toBe(1n);
  });

  test('a per-domain VIRQ may be moved', () => {
    const g = new XenTestGuest();
    bindVirq(g, VIRQ.VIRQ_ARGO, 0);
    expect(bindVcpu(g, 1, 1)).toBe(0n);
  });
});

describe(`EVTCHNOP_unmask (${EC} evtchn_unmask; xen/common/event_2l.c evtchn_2l_unmask)`, () => {
  test('an invalid port is -EINVAL; any valid port, free or reserved, is 0', () => {
    const g = new XenTestGuest();
    expect(portOp(g, EVTCHNOP.EVTCHNOP_unmask, 64)).toBe(E('XEN_EINVAL'));
    expect(portOp(g, EVTCHNOP.EVTCHNOP_unmask, 0)).toBe(0n);
    expect(portOp(g, EVTCHNOP.EVTCHNOP_unmask, 7)).toBe(0n);
  });

  test('unmasking a free port leaves its mask bit alone', () => {
    const g = new XenTestGuest();
    g.setMask(7, true);
    portOp(g, EVTCHNOP.EVTCHNOP_unmask, 7);
    expect(g.masked(7)).toBe(true);
  });

  test('an event that arrived while masked is re-raised on unmask: selector bit and upcall on the notify vCPU', () => {
    const g = new XenTestGuest();
    bindIpi(g, 0);
    g.setUpcallMask(0, 0);
    g.setMask(1, true);
    portOp(g, EVTCHNOP.EVTCHNOP_send, 1);
    expect(g.vcpuInfo(0)).toMatchObject({ pending: 0, sel: 0n });
    g.events();
    expect(portOp(g, EVTCHNOP.EVTCHNOP_unmask, 1)).toBe(0n);
    expect(g.masked(1)).toBe(false);
    expect(g.vcpuInfo(0)).toMatchObject({ pending: 1, sel: 1n });
    expect(g.eventLog()).toEqual(['upcall v0 @0']);
  });
});

describe(`EVTCHNOP_reset (${EC} evtchn_reset)`, () => {
  test('closes every port; interdomain remote ends become unbound', () => {
    const g = new XenTestGuest();
    const peerPort = g.xen.peerActions.allocUnbound() as number;
    evtchnOp(g, EVTCHNOP.EVTCHNOP_bind_interdomain, evtchn_bind_interdomain, { remote_dom: 0, remote_port: peerPort });
    bindIpi(g);
    bindVirq(g, VIRQ.VIRQ_TIMER);
    expect(evtchnOp(g, EVTCHNOP.EVTCHNOP_reset, evtchn_reset, { dom: DOMID.DOMID_SELF }).rc).toBe(0n);
    expect(g.xen.guest.evtchn.activeCount).toBe(0);
    expect(g.xen.peer.evtchn.get(peerPort)?.state.kind).toBe('unbound');
    expect(bindVirq(g, VIRQ.VIRQ_TIMER).rc).toBe(0n);
  });

  test('a domain that does not exist is -ESRCH; another domain is -EPERM (XSM_TARGET)', () => {
    const g = new XenTestGuest();
    expect(evtchnOp(g, EVTCHNOP.EVTCHNOP_reset, evtchn_reset, { dom: 4 }).rc).toBe(E('XEN_ESRCH'));
    expect(evtchnOp(g, EVTCHNOP.EVTCHNOP_reset, evtchn_reset, { dom: 0 }).rc).toBe(E('XEN_EPERM'));
  });

  test('EVTCHNOP_reset_cont (14) with no reset in progress is -EBUSY', () => {
    const g = new XenTestGuest();
    expect(evtchnOp(g, EVTCHNOP.EVTCHNOP_reset_cont, evtchn_reset, { dom: DOMID.DOMID_SELF }).rc).toBe(E('XEN_EBUSY'));
  });
});

describe(`EVTCHNOP_set_priority (${EC} evtchn_set_priority)`, () => {
  test('an invalid port is -EINVAL; under the 2-level ABI any valid port is -ENOSYS (no set_priority hook)', () => {
    const g = new XenTestGuest();
    expect(evtchnOp(g, EVTCHNOP.EVTCHNOP_set_priority, evtchn_set_priority, { port: 999, priority: 0 }).rc).toBe(E('XEN_EINVAL'));
    expect(evtchnOp(g, EVTCHNOP.EVTCHNOP_set_priority, evtchn_set_priority, { port: 1, priority: 0 }).rc).toBe(E('XEN_ENOSYS'));
  });
});

describe('sub-ops outside the model and unknown sub-ops', () => {
  test('EVTCHNOP_expand_array without a FIFO control block is -EOPNOTSUPP (evtchn_fifo_expand_array)', () => {
    expect(evtchnOp(new XenTestGuest(), EVTCHNOP.EVTCHNOP_expand_array, evtchn_expand_array, { array_gfn: 5n }).rc).toBe(E('XEN_EOPNOTSUPP'));
  });

  test('EVTCHNOP_init_control and EVTCHNOP_bind_pirq are reported as not modelled, with the reason', () => {
    const g = new XenTestGuest();
    expect(g.call('event_channel_op', EVTCHNOP.EVTCHNOP_init_control, g.put(evtchn_init_control, {}))).toMatchObject({ kind: 'unimplemented' });
    expect(g.call('event_channel_op', EVTCHNOP.EVTCHNOP_bind_pirq, g.put(evtchn_bind_pirq, {}))).toMatchObject({ kind: 'unimplemented' });
  });

  test('an unknown cmd is -ENOSYS; cmd is an int, so its upper 32 bits are ignored', () => {
    const g = new XenTestGuest();
    expect(g.ret('event_channel_op', 15, g.alloc(64))).toBe(E('XEN_ENOSYS'));
    expect(g.ret('event_channel_op', 0x1_0000_0006n, g.put(evtchn_alloc_unbound, { dom: DOMID.DOMID_SELF }))).toBe(0n);
  });

  test.each([
    ['bind_interdomain', EVTCHNOP.EVTCHNOP_bind_interdomain],
    ['bind_virq', EVTCHNOP.EVTCHNOP_bind_virq],
    ['bind_ipi', EVTCHNOP.EVTCHNOP_bind_ipi],
    ['close', EVTCHNOP.EVTCHNOP_close],
    ['send', EVTCHNOP.EVTCHNOP_send],
    ['status', EVTCHNOP.EVTCHNOP_status],
    ['bind_vcpu', EVTCHNOP.EVTCHNOP_bind_vcpu],
    ['unmask', EVTCHNOP.EVTCHNOP_unmask],
    ['reset', EVTCHNOP.EVTCHNOP_reset],
    ['set_priority', EVTCHNOP.EVTCHNOP_set_priority],
  ])('EVTCHNOP_%s with an unreadable argument is -EFAULT', (_name, cmd) => {
    expect(new XenTestGuest().ret('event_channel_op', cmd, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test('a bind whose copy-back faults is -EFAULT and is not undone ("Cleaning up here would be a mess!")', () => {
    const g = new XenTestGuest();
    // The argument sits in a page the guest maps read-only from the peer: copy-in works, copy-back faults.
    const peerFrame = 9;
    g.xen.peerActions.writePage(peerFrame, 0, encodeStruct(evtchn_alloc_unbound, { dom: DOMID.DOMID_SELF, remote_dom: 0 }));
    g.xen.peerActions.grantAccess(10, peerFrame, true);
    const hostGfn = 0x300;
    const map = g.put(gnttab_map_grant_ref, { host_addr: BigInt(hostGfn) << 12n, flags: GNTMAP.GNTMAP_host_map | GNTMAP.GNTMAP_readonly, ref: 10, dom: 0 });
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, map, 1)).toBe(0n);
    expect(g.get(gnttab_map_grant_ref, map).status).toBe(GNTST.GNTST_okay);
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_alloc_unbound, BigInt(hostGfn) << 12n)).toBe(E('XEN_EFAULT'));
    expect(status(g, 1).out.status).toBe(EVTCHNSTAT.EVTCHNSTAT_unbound);
  });
});
