import { decodeStruct, xenAbi, type MachineEvent, type PeerRequest, type PeerResult, type StructLayout, type StructValue, type WorldOptions } from '../../sut/index';
import { Disagreement, PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

const { EVTCHNOP, EVTCHNSTAT, VIRQ, DOMID, XEN_ERRNO, SHARED_INFO, HVMOP, HVM_PARAM, SCHEDOP } = xenAbi;
const { evtchn_alloc_unbound, evtchn_bind_interdomain, evtchn_bind_virq, evtchn_bind_ipi, evtchn_port_arg, evtchn_status, evtchn_bind_vcpu } = xenAbi;
const { evtchn_reset, evtchn_set_priority, evtchn_init_control, evtchn_expand_array, evtchn_bind_pirq, xen_hvm_param } = xenAbi;

const EC = 'xen/common/event_channel.c';
const BAD_PTR = 0x7fff_f000_0000n; // beyond guest memory: copy_from_guest faults
const E = (name: keyof typeof XEN_ERRNO): bigint => -BigInt(XEN_ERRNO[name]);
const EBUSY = E('XEN_EBUSY'), EEXIST = E('XEN_EEXIST'), EFAULT = E('XEN_EFAULT'), EINVAL = E('XEN_EINVAL'), ENOENT = E('XEN_ENOENT'), ENOSPC = E('XEN_ENOSPC'), ENOSYS = E('XEN_ENOSYS'), EOPNOTSUPP = E('XEN_EOPNOTSUPP'), EPERM = E('XEN_EPERM'), ESRCH = E('XEN_ESRCH');
const { EVTCHNOP_send: SEND, EVTCHNOP_close: CLOSE, EVTCHNOP_unmask: UNMASK } = EVTCHNOP;
/** A pair, and the Xen world's guest-visible events in the Xen model tests' notation ("upcall v0 @5"). */
function guest(profile: (typeof PAIR_PROFILES)[number], opts: WorldOptions = {}): { g: PairGuest; log: () => string[] } {
  const g = new PairGuest({ ...opts, viridian: { profile } });
  const m = g.pair.xen.machine;
  const take = m.takeEvents.bind(m);
  const log: string[] = [];
  const text = (e: MachineEvent): string =>
    e.kind === 'upcall' ? `upcall v${e.vcpu} @${e.time}` : e.kind === 'resumed' ? `v${e.vcpu} resumed ${e.value} @${e.time}` : e.kind === 'shutdown' ? `shutdown ${e.reason} @${e.time}` : `v${e.vcpu} ${e.from}->${e.to} @${e.time}`;
  m.takeEvents = () => {
    const out = take();
    log.push(...out.map(text));
    return out;
  };
  return { g, log: () => log.splice(0) };
}

/** An event_channel_op in both worlds: the return value and the struct after the call. */
function op<L extends StructLayout>(g: PairGuest, cmd: number, layout: L, value: Partial<Record<keyof L['fields'], number | bigint>>, vcpu = 0): { rc: bigint; out: StructValue<L> } {
  const at = g.put(layout, value);
  const rc = g.retOn(vcpu, 'event_channel_op', cmd, at);
  return { rc, out: decodeStruct(g.read(at, layout.size), layout) };
}
const alloc = (g: PairGuest, dom: number = DOMID.DOMID_SELF, remote = 0) => op(g, EVTCHNOP.EVTCHNOP_alloc_unbound, evtchn_alloc_unbound, { dom, remote_dom: remote });
const bindIpi = (g: PairGuest, vcpu: number) => op(g, EVTCHNOP.EVTCHNOP_bind_ipi, evtchn_bind_ipi, { vcpu });
const bindVirq = (g: PairGuest, virq: number, vcpu = 0) => op(g, EVTCHNOP.EVTCHNOP_bind_virq, evtchn_bind_virq, { virq, vcpu });
const bindInter = (g: PairGuest, dom: number, port: number) => op(g, EVTCHNOP.EVTCHNOP_bind_interdomain, evtchn_bind_interdomain, { remote_dom: dom, remote_port: port });
const portOp = (g: PairGuest, cmd: number, port: number, vcpu = 0) => op(g, cmd, evtchn_port_arg, { port }, vcpu).rc;
const status = (g: PairGuest, port: number, dom: number = DOMID.DOMID_SELF) => op(g, EVTCHNOP.EVTCHNOP_status, evtchn_status, { dom, port });
const bindVcpu = (g: PairGuest, port: number, vcpu: number) => op(g, EVTCHNOP.EVTCHNOP_bind_vcpu, evtchn_bind_vcpu, { port, vcpu }).rc;

/** A peer action in both worlds; throws when they disagree. */
function peer(g: PairGuest, request: PeerRequest | { op: 'send'; port: number }): PeerResult {
  const step = request.op === 'send' ? g.pair.peerSend(request.port) : g.pair.peer(request);
  if (step.differences.length > 0) throw new Disagreement(`peer ${request.op}`, step.differences);
  return step.xen;
}

const sharedInfo = (g: PairGuest): number => g.pair.xen.xen.memoryMap.sharedInfoGfn * 4096;
const bit = (g: PairGuest, array: number, port: number): boolean => (((g.read(sharedInfo(g) + array + (port >> 3), 1)[0] ?? 0) >> (port & 7)) & 1) === 1;
const pending = (g: PairGuest, port: number) => bit(g, SHARED_INFO.evtchn_pending, port);
const masked = (g: PairGuest, port: number) => bit(g, SHARED_INFO.evtchn_mask, port);
function vcpuInfo(g: PairGuest, v: number): { pending: number; mask: number; sel: bigint } {
  const b = g.read(sharedInfo(g) + 64 * v, 16);
  return { pending: b[0] ?? 0, mask: b[1] ?? 0, sel: new DataView(b.buffer, b.byteOffset).getBigUint64(8, true) };
}

describe.each(PAIR_PROFILES)('event_channel_op agrees (Viridian %s)', (profile) => {
  test(`alloc_unbound takes the lowest free port from 1 and reuses a closed one (${EC} get_free_port)`, () => {
    const { g } = guest(profile);
    expect(alloc(g)).toMatchObject({ rc: 0n, out: { port: 1 } });
    expect(alloc(g)).toMatchObject({ rc: 0n, out: { port: 2 } });
    expect(alloc(g, 1).out.port).toBe(3); // the own numeric domid works like DOMID_SELF
    expect(portOp(g, CLOSE, 2)).toBe(0n);
    expect(alloc(g).out.port).toBe(2);
    const at = g.put(evtchn_alloc_unbound, { dom: DOMID.DOMID_SELF, remote_dom: DOMID.DOMID_SELF, port: 0xdead });
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_alloc_unbound, at)).toBe(0n);
    expect(decodeStruct(g.read(at, 8), evtchn_alloc_unbound)).toEqual({ dom: DOMID.DOMID_SELF, remote_dom: DOMID.DOMID_SELF, port: 4 });
    expect(status(g, 4).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_unbound, u_dom: 1 });
  });

  test(`alloc_unbound errors: -ESRCH, -EPERM (XSM_TARGET, no port leaked); remote_dom unchecked (${EC} evtchn_alloc_unbound)`, () => {
    const { g } = guest(profile);
    expect([alloc(g, 9).rc, alloc(g, 0).rc]).toEqual([ESRCH, EPERM]);
    expect(alloc(g, DOMID.DOMID_SELF, 77)).toMatchObject({ rc: 0n, out: { port: 1 } });
    expect(g.pair.xen.xen.peer.evtchn.activeCount).toBe(0);
  });

  test(`the port limit: max_evtchn_port ports, then -ENOSPC for every kind of bind (${EC} get_free_port)`, () => {
    const { g } = guest(profile, { xen: { maxEvtchnPort: 130 } });
    const offered = peer(g, { op: 'allocUnbound', remoteDom: 1 }) as number;
    for (let p = 1; p <= 129; p++) expect(alloc(g).out.port).toBe(p);
    expect(bindIpi(g, 1)).toMatchObject({ rc: 0n, out: { port: 130 } });
    expect([alloc(g).rc, bindIpi(g, 0).rc, bindVirq(g, VIRQ.VIRQ_TIMER).rc, bindInter(g, 0, offered).rc]).toEqual([ENOSPC, ENOSPC, ENOSPC, ENOSPC]);
    expect(status(g, 128).out.status).toBe(EVTCHNSTAT.EVTCHNSTAT_unbound);
    // A port in selector word 2 delivers to vCPU 1 through its own selector bit.
    g.setUpcallMask(1, 0);
    expect(portOp(g, SEND, 130)).toBe(0n);
    expect(vcpuInfo(g, 1)).toEqual({ pending: 1, mask: 0, sel: 4n });
    expect(g.handleUpcall(1)).toEqual([130]);
    expect(portOp(g, CLOSE, 64)).toBe(0n);
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 1)).toMatchObject({ rc: 0n, out: { port: 64 } });
  });

  test(`the default limit of 1023 ports (libxl event_channels): port 1023 is the last, then -ENOSPC`, () => {
    const { g } = guest(profile);
    let last = 0;
    for (let i = 0; i < 1023; i++) last = alloc(g).out.port;
    expect(last).toBe(1023);
    expect(alloc(g).rc).toBe(ENOSPC);
  });

  test(`bind_interdomain to a peer offer: the local port is pending at once, the upcall follows (${EC} evtchn_bind_interdomain)`, () => {
    const { g, log } = guest(profile);
    g.setUpcallMask(0, 0);
    log();
    const offered = peer(g, { op: 'allocUnbound', remoteDom: 1 }) as number;
    expect(bindInter(g, 0, offered)).toMatchObject({ rc: 0n, out: { local_port: 1 } });
    expect(pending(g, 1)).toBe(true);
    expect(log()).toEqual(['upcall v0 @0']);
    expect(status(g, 1).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_interdomain, u_dom: 0, u_port: offered });
    expect(g.handleUpcall(0)).toEqual([1]);
  });

  test(`bind_interdomain errors: -ESRCH, -EINVAL for bad, free, foreign and bound remote ports, no local port leaked (${EC} evtchn_bind_interdomain)`, () => {
    const { g } = guest(profile);
    const other = peer(g, { op: 'allocUnbound', remoteDom: 7 }) as number;
    expect([bindInter(g, 5, 1).rc, bindInter(g, 0, 5000).rc, bindInter(g, 0, 30).rc, bindInter(g, 0, other).rc]).toEqual([ESRCH, EINVAL, EINVAL, EINVAL]);
    const offered = peer(g, { op: 'allocUnbound', remoteDom: 1 }) as number;
    expect(bindInter(g, 0, offered).rc).toBe(0n);
    expect(bindInter(g, 0, offered).rc).toBe(EINVAL);
    expect(g.pair.xen.xen.guest.evtchn.activeCount).toBe(1);
  });

  test(`loopback: bind_interdomain DOMID_SELF to an own unbound port, then sends both ways (${EC} evtchn_bind_interdomain)`, () => {
    const { g } = guest(profile);
    g.setUpcallMask(0, 0);
    const a = alloc(g, DOMID.DOMID_SELF, DOMID.DOMID_SELF).out.port;
    expect(bindInter(g, DOMID.DOMID_SELF, a)).toMatchObject({ rc: 0n, out: { local_port: 2 } });
    expect(g.handleUpcall(0)).toEqual([2]);
    expect(portOp(g, SEND, 2)).toBe(0n);
    expect(g.handleUpcall(0)).toEqual([1]);
    expect(portOp(g, SEND, 1)).toBe(0n);
    expect(g.handleUpcall(0)).toEqual([2]);
  });

  test(`bind_virq: per-vCPU, per-domain and global VIRQs and each error (${EC} evtchn_bind_virq)`, () => {
    const { g } = guest(profile);
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 1)).toMatchObject({ rc: 0n, out: { port: 1 } });
    expect(status(g, 1).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_virq, vcpu: 1, u_word: VIRQ.VIRQ_TIMER });
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 1).rc).toBe(EEXIST);
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 0)).toMatchObject({ rc: 0n, out: { port: 2 } });
    const rc = (virq: number, vcpu = 0) => bindVirq(g, virq, vcpu).rc;
    // >= NR_VIRQS, negative as an int, per-domain / global on vCPU 1, no vCPU 2, global (the hardware domain's), unassigned (global).
    const errors = [rc(VIRQ.NR_VIRQS), rc(0x8000_0000), rc(VIRQ.VIRQ_ARGO, 1), rc(VIRQ.VIRQ_CONSOLE, 1), rc(VIRQ.VIRQ_TIMER, 2), rc(VIRQ.VIRQ_DOM_EXC), rc(5)];
    expect(errors).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, ENOENT, EBUSY, EBUSY]);
    expect(bindVirq(g, VIRQ.VIRQ_ARGO, 0)).toMatchObject({ rc: 0n, out: { port: 3 } });
    expect(bindVirq(g, VIRQ.VIRQ_DEBUG, 1).rc).toBe(0n);
  });

  test(`bind_ipi notifies the given vCPU only; -ENOENT for a missing vCPU (${EC} evtchn_bind_ipi)`, () => {
    const { g, log } = guest(profile);
    g.setUpcallMask(1, 0);
    log();
    expect(bindIpi(g, 1)).toMatchObject({ rc: 0n, out: { port: 1 } });
    expect(bindIpi(g, 2).rc).toBe(ENOENT);
    expect(portOp(g, SEND, 1)).toBe(0n);
    expect(vcpuInfo(g, 1)).toEqual({ pending: 1, mask: 0, sel: 1n });
    expect(vcpuInfo(g, 0)).toMatchObject({ pending: 0, sel: 0n });
    expect(log()).toEqual(['upcall v1 @0']);
    expect(status(g, 1).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_ipi, vcpu: 1 });
  });

  test(`close in each state: unbound, IPI (pending cleared, mask kept), VIRQ, interdomain; free, reserved and invalid ports are -EINVAL (${EC} evtchn_close)`, () => {
    const { g } = guest(profile);
    const offered = peer(g, { op: 'allocUnbound', remoteDom: 1 }) as number;
    expect(alloc(g).out.port).toBe(1);
    expect(bindIpi(g, 0).out.port).toBe(2);
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 1).out.port).toBe(3);
    expect(bindInter(g, 0, offered).out.local_port).toBe(4);
    g.setMask(2, true);
    expect(portOp(g, SEND, 2)).toBe(0n);
    expect(pending(g, 2)).toBe(true);
    for (const p of [1, 2, 3, 4]) expect(portOp(g, CLOSE, p)).toBe(0n);
    expect([pending(g, 2), masked(g, 2), pending(g, 4)]).toEqual([false, true, false]);
    expect(status(g, 2).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_closed });
    expect(bindVirq(g, VIRQ.VIRQ_TIMER, 1).rc).toBe(0n); // the VIRQ was unbound
    expect(bindInter(g, 0, offered).rc).toBe(0n); // the peer end went back to unbound for us
    for (const p of [5, 0, 64, 0xffff_ffff]) expect(portOp(g, CLOSE, p)).toBe(EINVAL);
    expect(portOp(g, CLOSE, 1)).toBe(0n);
    expect(portOp(g, CLOSE, 1)).toBe(EINVAL);
  });

  test(`send: interdomain both ways, unbound dropped, VIRQ/free/reserved/invalid -EINVAL (${EC} evtchn_send)`, () => {
    const { g, log } = guest(profile);
    g.setUpcallMask(0, 0);
    const local = alloc(g).out.port;
    const peerPort = peer(g, { op: 'bindInterdomain', remotePort: local, remoteDom: 1 }) as number;
    expect(peerPort).toBe(1);
    g.handleUpcall(0);
    log();
    expect(portOp(g, SEND, local)).toBe(0n);
    expect(peer(g, { op: 'takeEvents' })).toEqual([peerPort]);
    expect(peer(g, { op: 'takeEvents' })).toEqual([]);
    g.advance(1000);
    expect(peer(g, { op: 'send', port: peerPort })).toBe(0);
    expect(log()).toEqual(['upcall v0 @1000']);
    expect(g.handleUpcall(0)).toEqual([local]);
    // The peer closes its end: the guest's port is unbound, and a send on it is dropped.
    expect(peer(g, { op: 'close', port: peerPort })).toBe(0);
    expect(status(g, local).out).toMatchObject({ status: EVTCHNSTAT.EVTCHNSTAT_unbound, u_dom: 0 });
    expect(portOp(g, SEND, local)).toBe(0n);
    expect(pending(g, local)).toBe(false);
    expect(peer(g, { op: 'takeEvents' })).toEqual([]);
    const virq = bindVirq(g, VIRQ.VIRQ_TIMER).out.port;
    for (const p of [virq, virq + 1, 0, 4096]) expect(portOp(g, SEND, p)).toBe(EINVAL);
    expect(log()).toEqual([]);
  });

  test(`status: -ESRCH before the port, -EINVAL beyond the bucket, closed inside it, -EPERM for dom0, union untouched for IPI (${EC} evtchn_status)`, () => {
    const { g } = guest(profile);
    expect([status(g, 99999, 3).rc, status(g, 64).rc, status(g, 1, 0).rc, status(g, 100, 0).rc]).toEqual([ESRCH, EINVAL, EPERM, EINVAL]);
    expect(status(g, 63)).toMatchObject({ rc: 0n, out: { status: EVTCHNSTAT.EVTCHNSTAT_closed, vcpu: 0 } });
    expect(status(g, 0).out.status).toBe(EVTCHNSTAT.EVTCHNSTAT_closed);
    bindIpi(g, 1);
    const r = op(g, EVTCHNOP.EVTCHNOP_status, evtchn_status, { dom: DOMID.DOMID_SELF, port: 1, u_dom: 0xabcd, u_port: 0x1234 });
    expect(r).toMatchObject({ rc: 0n, out: { status: EVTCHNSTAT.EVTCHNSTAT_ipi, vcpu: 1, u_dom: 0xabcd, u_port: 0x1234 } });
  });

  test(`bind_vcpu moves interdomain and per-domain VIRQ ports, only for future events; -ENOENT, -EINVAL otherwise (${EC} evtchn_bind_vcpu)`, () => {
    const { g, log } = guest(profile);
    g.setUpcallMask(1, 0);
    const offered = peer(g, { op: 'allocUnbound', remoteDom: 1 }) as number;
    const local = bindInter(g, 0, offered).out.local_port;
    expect(vcpuInfo(g, 0).sel).toBe(1n);
    expect(bindVcpu(g, local, 1)).toBe(0n);
    expect(vcpuInfo(g, 1).sel).toBe(0n); // the pending bit did not move
    expect(status(g, local).out.vcpu).toBe(1);
    g.handleUpcall(0);
    log();
    expect(peer(g, { op: 'send', port: offered })).toBe(0);
    expect(log()).toEqual(['upcall v1 @0']);
    expect(g.handleUpcall(1)).toEqual([local]);
    const timer = bindVirq(g, VIRQ.VIRQ_TIMER).out.port;
    const ipi = bindIpi(g, 0).out.port;
    const argo = bindVirq(g, VIRQ.VIRQ_ARGO, 0).out.port;
    expect(bindVcpu(g, argo, 1)).toBe(0n);
    for (const p of [timer, ipi, 40, 9999]) expect(bindVcpu(g, p, 1)).toBe(EINVAL);
    expect(bindVcpu(g, 9999, 2)).toBe(ENOENT);
  });

  test(`unmask re-raises an event that arrived while masked; free and reserved ports answer 0, invalid -EINVAL (${EC} evtchn_unmask, event_2l.c evtchn_2l_unmask)`, () => {
    const { g, log } = guest(profile);
    const p = bindIpi(g, 1).out.port;
    g.setUpcallMask(1, 0);
    g.setMask(p, true);
    log();
    g.advance(250);
    expect(portOp(g, SEND, p)).toBe(0n);
    expect(vcpuInfo(g, 1)).toMatchObject({ pending: 0, sel: 0n });
    expect(log()).toEqual([]);
    expect(portOp(g, UNMASK, p)).toBe(0n);
    expect(masked(g, p)).toBe(false);
    expect(vcpuInfo(g, 1)).toEqual({ pending: 1, mask: 0, sel: 1n });
    expect(log()).toEqual(['upcall v1 @250']);
    g.setMask(7, true);
    expect([portOp(g, UNMASK, 7), masked(g, 7), portOp(g, UNMASK, 0), portOp(g, UNMASK, 64)]).toEqual([0n, true, 0n, EINVAL]);
  });

  test(`reset closes every port and frees the peer end; -ESRCH, -EPERM; reset_cont -EBUSY (${EC} evtchn_reset)`, () => {
    const { g } = guest(profile);
    const offered = peer(g, { op: 'allocUnbound', remoteDom: 1 }) as number;
    bindInter(g, 0, offered);
    bindIpi(g, 1);
    bindVirq(g, VIRQ.VIRQ_TIMER);
    const reset = (dom: number, cmd: number = EVTCHNOP.EVTCHNOP_reset) => op(g, cmd, evtchn_reset, { dom }).rc;
    expect([reset(4), reset(0), reset(DOMID.DOMID_SELF)]).toEqual([ESRCH, EPERM, 0n]);
    expect([g.pair.xen.xen.guest.evtchn.activeCount, pending(g, 1)]).toEqual([0, false]);
    expect(reset(DOMID.DOMID_SELF, EVTCHNOP.EVTCHNOP_reset_cont)).toBe(EBUSY);
    expect(bindVirq(g, VIRQ.VIRQ_TIMER)).toMatchObject({ rc: 0n, out: { port: 1 } });
    expect(bindInter(g, 0, offered)).toMatchObject({ rc: 0n, out: { local_port: 2 } });
  });

  test(`set_priority: -EINVAL for an invalid port, -ENOSYS under the 2-level ABI (${EC} evtchn_set_priority)`, () => {
    const { g } = guest(profile);
    expect([999, 1].map((port) => op(g, EVTCHNOP.EVTCHNOP_set_priority, evtchn_set_priority, { port, priority: 0 }).rc)).toEqual([EINVAL, ENOSYS]);
  });

  test('FIFO ABI: expand_array without a control block is -EOPNOTSUPP (event_fifo.c evtchn_fifo_expand_array); init_control and bind_pirq are not modelled in either world', () => {
    const { g } = guest(profile);
    expect(op(g, EVTCHNOP.EVTCHNOP_expand_array, evtchn_expand_array, { array_gfn: 5n }).rc).toBe(EOPNOTSUPP);
    for (const [cmd, layout] of [[EVTCHNOP.EVTCHNOP_init_control, evtchn_init_control], [EVTCHNOP.EVTCHNOP_bind_pirq, evtchn_bind_pirq]] as const) {
      const step = g.callOn(0, 'event_channel_op', cmd, g.put(layout, {}));
      expect([step.xen.kind, step.translated.kind]).toEqual(['unimplemented', 'unimplemented']);
    }
    // 2-level still works afterwards.
    expect(alloc(g)).toMatchObject({ rc: 0n, out: { port: 1 } });
  });

  test.each(Object.entries(EVTCHNOP))(`%s with an unreadable argument is -EFAULT, before anything else (${EC} do_event_channel_op)`, (_n, cmd) => {
    expect(guest(profile).g.ret('event_channel_op', cmd, BAD_PTR)).toBe(EFAULT);
  });

  test(`an unknown cmd is -ENOSYS; cmd is an int, its upper 32 bits ignored (${EC} do_event_channel_op)`, () => {
    const { g } = guest(profile);
    expect([15, 0x7fff_ffff].map((cmd) => g.ret('event_channel_op', cmd, g.alloc(64)))).toEqual([ENOSYS, ENOSYS]);
    expect(g.ret('event_channel_op', 0x1_0000_0006n, g.put(evtchn_alloc_unbound, { dom: DOMID.DOMID_SELF }))).toBe(0n);
  });

  test('upcalls follow evtchn_upcall_mask: none while masked, one when the guest clears the mask (xen/arch/x86 check_for_events)', () => {
    const { g, log } = guest(profile);
    const p = bindIpi(g, 1).out.port;
    log();
    expect(portOp(g, SEND, p)).toBe(0n);
    expect(vcpuInfo(g, 1)).toEqual({ pending: 1, mask: 1, sel: 1n });
    g.advance(700);
    expect(log()).toEqual([]);
    g.setUpcallMask(1, 0);
    expect(log()).toEqual(['upcall v1 @700']);
    expect(portOp(g, SEND, p)).toBe(0n); // still pending: no second upcall
    expect(log()).toEqual([]);
    expect(g.handleUpcall(1)).toEqual([p]);
  });

  test('an event to a blocked vCPU wakes it: the block returns 0, then the upcall; a masked port does not wake it until unmasked (xen/common/sched/core.c vcpu_unblock)', () => {
    const { g, log } = guest(profile, { xen: { initialPeriodNs: 0n } });
    const a = bindIpi(g, 1).out.port;
    const b = bindIpi(g, 1).out.port;
    g.setMask(b, true);
    expect(g.callOn(1, 'sched_op', SCHEDOP.SCHEDOP_block, 0).xen.kind).toBe('blocked');
    log();
    g.advance(3000);
    expect(portOp(g, SEND, b)).toBe(0n);
    expect(g.pair.xen.machine.vcpus[1]?.state).toBe('blocked');
    expect(portOp(g, UNMASK, b)).toBe(0n);
    expect(log()).toEqual(['v1 blocked->running @3000', 'v1 resumed 0 @3000', 'upcall v1 @3000']);
    expect(g.handleUpcall(1)).toEqual([b]);
    expect(g.callOn(1, 'sched_op', SCHEDOP.SCHEDOP_block, 0).xen.kind).toBe('blocked');
    g.advance(5000);
    log();
    expect(portOp(g, SEND, a)).toBe(0n);
    expect(log()).toEqual(['v1 blocked->running @8000', 'v1 resumed 0 @8000', 'upcall v1 @8000']);
    expect(g.handleUpcall(1)).toEqual([a]);
  });

  describe.each([
    ['pv', 'xen-4.22'],
    ['pvhvm', 'xen-4.22'],
    ['pv', 'xen-4.18'],
    ['pvhvm', 'xen-4.17'],
  ] as const)('%s guest, %s', (guestType, xenProfile) => {
    test('IPIs and interdomain events reach a running and a blocked vCPU (hvm: through HVM_PARAM_CALLBACK_IRQ)', () => {
      const { g, log } = guest(profile, { vcpus: 3, xen: { guestType, profile: xenProfile, initialPeriodNs: 0n } });
      if (guestType === 'pvhvm') {
        const param = g.put(xen_hvm_param, { domid: DOMID.DOMID_SELF, index: HVM_PARAM.HVM_PARAM_CALLBACK_IRQ, value: (2n << 56n) | 0xf3n });
        expect(g.ret('hvm_op', HVMOP.HVMOP_set_param, param)).toBe(0n);
      }
      for (const v of [0, 1, 2]) g.setUpcallMask(v, 0);
      const ipi2 = bindIpi(g, 2).out.port;
      const local = alloc(g).out.port;
      expect(bindVcpu(g, local, 1)).toBe(0n);
      const peerPort = peer(g, { op: 'bindInterdomain', remotePort: local, remoteDom: 1 }) as number;
      expect(pending(g, local)).toBe(false); // only the binding side's port is marked pending
      log();
      expect(g.callOn(2, 'sched_op', SCHEDOP.SCHEDOP_block, 0).xen.kind).toBe('blocked');
      g.advance(1234);
      expect(portOp(g, SEND, ipi2, 1)).toBe(0n);
      expect(peer(g, { op: 'send', port: peerPort })).toBe(0);
      expect(log()).toEqual(['v2 running->blocked @0', 'v2 blocked->running @1234', 'v2 resumed 0 @1234', 'upcall v2 @1234', 'upcall v1 @1234']);
      expect(g.handleUpcall(2)).toEqual([ipi2, local]); // the handler takes every pending port of the word
      expect(vcpuInfo(g, 1)).toMatchObject({ pending: 1, sel: 1n });
      expect(portOp(g, SEND, local, 2)).toBe(0n);
      expect(peer(g, { op: 'takeEvents' })).toEqual([peerPort]);
    });
  });
});
