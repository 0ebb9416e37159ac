import { xenAbi, type StructLayout } from '../../sut/index';
import { PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

const { EVTCHNOP, VIRQ, DOMID, SCHEDOP, evtchn_alloc_unbound, evtchn_bind_ipi, evtchn_bind_virq, evtchn_port_arg, evtchn_bind_interdomain, evtchn_status, evtchn_bind_vcpu, sched_poll } = xenAbi;

function op<L extends StructLayout>(g: PairGuest, cmd: number, layout: L, value: Partial<Record<keyof L['fields'], number | bigint>>, vcpu = 0): bigint {
  const at = g.put(layout, value);
  return g.retOn(vcpu, 'event_channel_op', cmd, at);
}
const portOf = (g: PairGuest, cmd: number, layout: StructLayout, value: Record<string, number | bigint>, vcpu = 0): number => {
  const at = g.put(layout, value);
  g.retOn(vcpu, 'event_channel_op', cmd, at);
  const field = (layout.fields as Record<string, { offset: number }>)['port'] ?? (layout.fields as Record<string, { offset: number }>)['local_port'];
  return new DataView(g.read(at + BigInt(field?.offset ?? 0), 4).buffer).getUint32(0, true);
};

describe.each(PAIR_PROFILES)('event channels agree (%s)', (profile) => {
  test('IPI ports between vCPUs: send, upcall, mask, unmask, close', () => {
    const g = new PairGuest({ vcpus: 2, viridian: { profile } });
    g.setUpcallMask(0, 0);
    g.setUpcallMask(1, 0);
    const p1 = portOf(g, EVTCHNOP.EVTCHNOP_bind_ipi, evtchn_bind_ipi, { vcpu: 1 });
    expect(p1).toBe(1);
    expect(op(g, EVTCHNOP.EVTCHNOP_send, evtchn_port_arg, { port: p1 })).toBe(0n);
    expect(g.handleUpcall(1)).toEqual([1]);
    g.setMask(p1, true);
    op(g, EVTCHNOP.EVTCHNOP_send, evtchn_port_arg, { port: p1 });
    g.setMask(p1, false);
    expect(op(g, EVTCHNOP.EVTCHNOP_unmask, evtchn_port_arg, { port: p1 })).toBe(0n);
    expect(op(g, EVTCHNOP.EVTCHNOP_close, evtchn_port_arg, { port: p1 })).toBe(0n);
    expect(op(g, EVTCHNOP.EVTCHNOP_send, evtchn_port_arg, { port: p1 })).toBe(-22n);
  });

  test('VIRQ_TIMER with set_timer_op, block woken by the timer', () => {
    const g = new PairGuest({ vcpus: 2, viridian: { profile } });
    g.setUpcallMask(1, 0);
    portOf(g, EVTCHNOP.EVTCHNOP_bind_virq, evtchn_bind_virq, { virq: VIRQ.VIRQ_TIMER, vcpu: 1 }, 1);
    g.retOn(1, 'set_timer_op', g.pair.now + 1_234_567n);
    const step = g.callOn(1, 'sched_op', SCHEDOP.SCHEDOP_block, 0);
    expect(step.xen.kind).toBe('blocked');
    g.advance(5_000_000n);
    g.handleUpcall(1);
    g.advance(30_000_000n);
  });

  test('interdomain channels with the peer, both directions', () => {
    const g = new PairGuest({ vcpus: 2, viridian: { profile } });
    g.setUpcallMask(0, 0);
    const local = portOf(g, EVTCHNOP.EVTCHNOP_alloc_unbound, evtchn_alloc_unbound, { dom: DOMID.DOMID_SELF, remote_dom: 0 });
    const peerPort = g.pair.peer({ op: 'bindInterdomain', remotePort: local, remoteDom: 1 });
    expect(peerPort.xen).toBe(1);
    expect(peerPort.differences).toEqual([]);
    expect(g.pair.peerSend(1).differences).toEqual([]);
    expect(g.handleUpcall(0)).toEqual([local]);
    op(g, EVTCHNOP.EVTCHNOP_send, evtchn_port_arg, { port: local });
    const taken = g.pair.peer({ op: 'takeEvents' });
    expect(taken.xen).toEqual([1]);
    expect(taken.differences).toEqual([]);
    // The guest binds to a port the peer offers.
    const offered = g.pair.peer({ op: 'allocUnbound', remoteDom: 1 });
    const bound = portOf(g, EVTCHNOP.EVTCHNOP_bind_interdomain, evtchn_bind_interdomain, { remote_dom: 0, remote_port: Number(offered.xen) });
    expect(bound).toBeGreaterThan(0);
    op(g, EVTCHNOP.EVTCHNOP_status, evtchn_status, { dom: DOMID.DOMID_SELF, port: bound });
    expect(g.pair.peer({ op: 'close', port: Number(offered.xen) }).differences).toEqual([]);
    op(g, EVTCHNOP.EVTCHNOP_close, evtchn_port_arg, { port: local });
  });

  test('poll with a timeout, and bind_vcpu', () => {
    const g = new PairGuest({ vcpus: 2, viridian: { profile } });
    const p = portOf(g, EVTCHNOP.EVTCHNOP_alloc_unbound, evtchn_alloc_unbound, { dom: DOMID.DOMID_SELF, remote_dom: 0 });
    op(g, EVTCHNOP.EVTCHNOP_bind_vcpu, evtchn_bind_vcpu, { port: p, vcpu: 1 });
    const ports = g.putU32s([p]);
    const poll = g.put(sched_poll, { ports, nr_ports: 1, timeout: g.pair.now + 777_777n });
    expect(g.callOn(0, 'sched_op', SCHEDOP.SCHEDOP_poll, poll).xen.kind).toBe('blocked');
    g.advance(1_000_000n);
  });
});
