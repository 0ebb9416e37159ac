import { EVTCHNOP, VIRQ } from '../abi/event_channel';
import { HVMOP, HVM_PARAM } from '../abi/hvm_op';
import { SCHEDOP, SHUTDOWN } from '../abi/sched';
import { DOMID } from '../abi/xen';
import { RUNSTATE, VCPUOP } from '../abi/vcpu';
import {
  evtchn_alloc_unbound,
  evtchn_bind_ipi,
  evtchn_bind_virq,
  evtchn_port_arg,
  sched_poll,
  sched_remote_shutdown,
  sched_shutdown,
  sched_watchdog,
  vcpu_runstate_info,
  xen_hvm_param,
} from '../abi/layouts';
import type { Gfn } from '../../machine/units';
import type { XenOutcome } from '../outcome';
import { E, XenTestGuest } from '../xenTestkit';

const SC = 'xen/common/sched/core.c';
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: passes __addr_ok, copy faults
const NON_CANONICAL = 0x8000_0000_0000n; // between 2^47 and HYPERVISOR_VIRT_END: array_access_ok fails
const MS = 1_000_000n;
const S = 1_000_000_000n;
const BLOCKED: XenOutcome = { kind: 'blocked' };

/** A PV guest without the 100 Hz ticker, so that only what a test arms can fire. */
const quiet = (vcpus = 2) => new XenTestGuest({ vcpus, xen: { initialPeriodNs: 0n } });

const schedOp = (g: XenTestGuest, cmd: number | bigint, arg: bigint = 0n) => g.ret('sched_op', cmd, arg);

/** An IPI port notifying `vcpu`. */
function ipi(g: XenTestGuest, vcpu: number): number {
  const at = g.put(evtchn_bind_ipi, { vcpu });
  expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_ipi, at)).toBe(0n);
  return g.get(evtchn_bind_ipi, at).port;
}

/** VIRQ_TIMER bound on `vcpu`. */
function timerVirq(g: XenTestGuest, vcpu: number): number {
  const at = g.put(evtchn_bind_virq, { virq: VIRQ.VIRQ_TIMER, vcpu });
  expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_virq, at)).toBe(0n);
  return g.get(evtchn_bind_virq, at).port;
}

/** EVTCHNOP_send issued by vCPU `from`. */
function send(g: XenTestGuest, port: number, from = 1): void {
  expect(g.retOn(from, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, g.put(evtchn_port_arg, { port }))).toBe(0n);
}

/** SCHEDOP_poll on `vcpu` with the ports in guest memory. */
function poll(g: XenTestGuest, ports: readonly number[], timeout = 0n, vcpu = 0, nr = ports.length): XenOutcome {
  const at = g.put(sched_poll, { ports: g.putU32s(ports), nr_ports: nr, timeout });
  return g.callOn(vcpu, 'sched_op', SCHEDOP.SCHEDOP_poll, at);
}

const pollRaw = (g: XenTestGuest, ports: bigint, nr: number, timeout = 0n) =>
  g.call('sched_op', SCHEDOP.SCHEDOP_poll, g.put(sched_poll, { ports, nr_ports: nr, timeout }));

const shutdownArg = (g: XenTestGuest, reason: number) => g.put(sched_shutdown, { reason });
const watchdog = (g: XenTestGuest, id: number, timeout: number) =>
  schedOp(g, SCHEDOP.SCHEDOP_watchdog, g.put(sched_watchdog, { id, timeout }));
const remoteShutdown = (g: XenTestGuest, domain_id: number, reason: number) =>
  schedOp(g, SCHEDOP.SCHEDOP_remote_shutdown, g.put(sched_remote_shutdown, { domain_id, reason }));

describe(`SCHEDOP_yield (${SC} vcpu_yield)`, () => {
  test('returns 0 and leaves the vCPU running; the argument is not read', () => {
    const g = quiet();
    expect(schedOp(g, SCHEDOP.SCHEDOP_yield, BAD_PTR)).toBe(0n);
    expect(g.machine.vcpus[0]?.state).toBe('running');
    expect(g.eventLog()).toEqual([]);
  });
});

describe(`SCHEDOP_block (${SC} vcpu_block_enable_events, vcpu_block)`, () => {
  test('clears evtchn_upcall_mask of the calling vCPU only, and the argument is not read', () => {
    const g = quiet();
    expect(g.vcpuInfo(0).mask).toBe(1);
    expect(g.call('sched_op', SCHEDOP.SCHEDOP_block, BAD_PTR)).toEqual(BLOCKED);
    expect(g.vcpuInfo(0).mask).toBe(0);
    expect(g.vcpuInfo(1).mask).toBe(1);
  });

  test('an event that arrived while masked is deliverable once block unmasks: returns 0 at once, then the upcall', () => {
    const g = quiet();
    const port = ipi(g, 0);
    g.advance(500);
    send(g, port, 0);
    expect(g.vcpuInfo(0)).toMatchObject({ pending: 1, mask: 1 });
    expect(g.eventLog()).toEqual([]);
    expect(g.call('sched_op', SCHEDOP.SCHEDOP_block)).toEqual({ kind: 'returned', value: 0n });
    expect(g.machine.vcpus[0]?.state).toBe('running');
    expect(g.eventLog()).toEqual(['upcall v0 @500']);
  });

  test('with nothing pending the vCPU blocks (outcome blocked, run state blocked at the call time)', () => {
    const g = quiet();
    g.advance(1000);
    expect(g.call('sched_op', SCHEDOP.SCHEDOP_block)).toEqual(BLOCKED);
    expect(g.machine.vcpus[0]?.state).toBe('blocked');
    expect(g.eventLog()).toEqual(['v0 running->blocked @1000']);
  });

  test('an event for the blocked vCPU wakes it at the event time: the call resumes with 0, then the upcall is entered', () => {
    const g = quiet();
    const port = ipi(g, 0);
    g.advance(1000);
    g.call('sched_op', SCHEDOP.SCHEDOP_block);
    g.events();
    g.advance(5000);
    expect(g.machine.vcpus[0]?.state).toBe('blocked');
    send(g, port, 1);
    expect(g.eventLog()).toEqual(['v0 blocked->running @6000', 'v0 resumed 0 @6000', 'upcall v0 @6000']);
    expect(g.handleUpcall(0)).toEqual([port]);
  });

  test('an event pending only on another vCPU does not stop the block', () => {
    const g = quiet();
    const port = ipi(g, 1);
    send(g, port, 1);
    expect(g.vcpuInfo(1).pending).toBe(1);
    expect(g.call('sched_op', SCHEDOP.SCHEDOP_block)).toEqual(BLOCKED);
  });

  test('upcall_pending already set but nothing in the bitmaps still counts: the check is on vcpu_info only', () => {
    const g = quiet();
    const port = ipi(g, 0);
    send(g, port, 0);
    g.clearPendingBit(port); // the guest took the port but left upcall_pending set
    expect(g.call('sched_op', SCHEDOP.SCHEDOP_block)).toEqual({ kind: 'returned', value: 0n });
  });

  test('an event on a masked port does not wake the vCPU; unmasking it later does (evtchn_2l_unmask)', () => {
    const g = quiet();
    const port = ipi(g, 0);
    g.setMask(port, true);
    g.call('sched_op', SCHEDOP.SCHEDOP_block);
    g.events();
    g.advance(10);
    send(g, port, 1);
    expect(g.pending(port)).toBe(true);
    expect(g.machine.vcpus[0]?.state).toBe('blocked');
    expect(g.eventLog()).toEqual([]);
    g.advance(10);
    expect(g.retOn(1, 'event_channel_op', EVTCHNOP.EVTCHNOP_unmask, g.put(evtchn_port_arg, { port }))).toBe(0n);
    expect(g.eventLog()).toEqual(['v0 blocked->running @20', 'v0 resumed 0 @20', 'upcall v0 @20']);
  });

  test('the one-shot timer wakes a blocked vCPU at its deadline (set_timer_op, then block)', () => {
    const g = quiet();
    const port = timerVirq(g, 0);
    expect(g.ret('set_timer_op', 5n * MS)).toBe(0n);
    g.call('sched_op', SCHEDOP.SCHEDOP_block);
    g.events();
    g.advance(5n * MS - 1n);
    expect(g.eventLog()).toEqual([]);
    g.advance(1);
    expect(g.eventLog()).toEqual(['v0 blocked->running @5000000', 'v0 resumed 0 @5000000', 'upcall v0 @5000000']);
    expect(g.pending(port)).toBe(true);
  });

  test('the time spent blocked is accounted as RUNSTATE_blocked (VCPUOP_get_runstate_info)', () => {
    const g = quiet();
    const port = ipi(g, 0);
    g.advance(100);
    g.call('sched_op', SCHEDOP.SCHEDOP_block);
    g.advance(400);
    send(g, port, 1);
    g.advance(30);
    const at = g.alloc(vcpu_runstate_info.size);
    expect(g.ret('vcpu_op', VCPUOP.VCPUOP_get_runstate_info, 0, at)).toBe(0n);
    expect(g.get(vcpu_runstate_info, at)).toEqual({
      state: RUNSTATE.RUNSTATE_running,
      state_entry_time: 500n,
      time_running: 130n,
      time_runnable: 0n,
      time_blocked: 400n,
      time_offline: 0n,
    });
  });
});

describe(`SCHEDOP_poll (${SC} do_poll; xen/include/xen/event.h evtchn_port_poll)`, () => {
  test('nr_ports above 128 is -EINVAL, before the ports handle is looked at', () => {
    const g = quiet();
    expect(pollRaw(g, NON_CANONICAL, 129)).toEqual({ kind: 'returned', value: E('XEN_EINVAL') });
    expect(pollRaw(g, 0xffff_ffffn, 0xffff_ffff)).toEqual({ kind: 'returned', value: E('XEN_EINVAL') });
  });

  test('128 ports are accepted: an unreadable array of 128 is -EFAULT, not -EINVAL', () => {
    expect(pollRaw(quiet(), BAD_PTR, 128)).toEqual({ kind: 'returned', value: E('XEN_EFAULT') });
  });

  test('a PV ports handle outside the guest range is -EFAULT (guest_handle_okay), even when events need delivery', () => {
    const g = quiet();
    const port = ipi(g, 0);
    g.setUpcallMask(0, 0);
    send(g, port, 0);
    g.events();
    expect(pollRaw(g, NON_CANONICAL, 1)).toEqual({ kind: 'returned', value: E('XEN_EFAULT') });
  });

  test('an unreadable ports array is -EFAULT when read, and read only after the events-need-delivery check', () => {
    const g = quiet();
    expect(pollRaw(g, BAD_PTR, 1)).toEqual({ kind: 'returned', value: E('XEN_EFAULT') });
    expect(g.machine.vcpus[0]?.state).toBe('running');
    const port = ipi(g, 0);
    g.setUpcallMask(0, 0);
    send(g, port, 0);
    expect(pollRaw(g, BAD_PTR, 1)).toEqual({ kind: 'returned', value: 0n });
  });

  test('with events pending but masked in vcpu_info, the ports are still checked', () => {
    const g = quiet();
    const port = ipi(g, 0);
    send(g, port, 0); // upcall_pending set, upcall_mask still 1
    expect(pollRaw(g, BAD_PTR, 1)).toEqual({ kind: 'returned', value: E('XEN_EFAULT') });
  });

  test('an HVM guest has no range check on the handle: with a deliverable event it returns 0 before reading', () => {
    const g = new XenTestGuest({ xen: { guestType: 'pvhvm' } });
    expect(g.ret('hvm_op', HVMOP.HVMOP_set_param, g.put(xen_hvm_param, { domid: DOMID.DOMID_SELF, index: HVM_PARAM.HVM_PARAM_CALLBACK_IRQ, value: (2n << 56n) | 0xf3n }))).toBe(0n);
    expect(pollRaw(g, NON_CANONICAL, 1)).toEqual({ kind: 'returned', value: E('XEN_EFAULT') });
    send(g, ipi(g, 0), 0);
    expect(pollRaw(g, NON_CANONICAL, 1)).toEqual({ kind: 'returned', value: 0n });
  });

  test('a ports array that faults part way is -EFAULT at the faulting element, after the earlier ports were checked', () => {
    const g = quiet();
    const a = ipi(g, 0);
    const gfn = 0x200;
    const at = BigInt(gfn * 4096 + 4096 - 8); // two ports fit before the hole
    g.machine.memory.write32(Number(at), a);
    g.machine.memory.write32(Number(at) + 4, a);
    expect(g.machine.memory.depopulate((gfn + 1) as Gfn)).toBe(true);
    expect(pollRaw(g, at, 3)).toEqual({ kind: 'returned', value: E('XEN_EFAULT') });
    g.setMask(a, true);
    send(g, a, 1);
    expect(pollRaw(g, at, 3)).toEqual({ kind: 'returned', value: 0n }); // port a pending: returns before the fault
  });

  test('a port beyond the valid ports, a free port and reserved port 0 are each -EINVAL', () => {
    const g = quiet();
    const a = ipi(g, 0);
    expect(poll(g, [64])).toEqual({ kind: 'returned', value: E('XEN_EINVAL') });
    expect(poll(g, [a + 1])).toEqual({ kind: 'returned', value: E('XEN_EINVAL') });
    expect(poll(g, [0])).toEqual({ kind: 'returned', value: E('XEN_EINVAL') });
    expect(poll(g, [a, 0xffff_ffff])).toEqual({ kind: 'returned', value: E('XEN_EINVAL') });
    expect(g.machine.vcpus[0]?.state).toBe('running');
  });

  test('ports are checked in order: a pending port before a bad one returns 0, a bad one before it is -EINVAL', () => {
    const g = quiet();
    const a = ipi(g, 0);
    g.setMask(a, true);
    send(g, a, 1);
    expect(poll(g, [a, 999])).toEqual({ kind: 'returned', value: 0n });
    expect(poll(g, [999, a])).toEqual({ kind: 'returned', value: E('XEN_EINVAL') });
  });

  test('a pending port returns 0 at once, whether or not it is masked, and leaves the bits alone', () => {
    const g = quiet();
    const a = ipi(g, 0);
    const b = ipi(g, 1);
    g.setMask(b, true);
    send(g, a, 1);
    send(g, b, 1);
    expect(poll(g, [a])).toEqual({ kind: 'returned', value: 0n });
    expect(poll(g, [b])).toEqual({ kind: 'returned', value: 0n });
    expect(g.pending(a) && g.pending(b)).toBe(true);
    expect(g.eventLog()).toEqual([]);
  });

  test('an unbound port and a VIRQ port are usable (evtchn_usable) and may be polled', () => {
    const g = quiet();
    const at = g.put(evtchn_alloc_unbound, { dom: DOMID.DOMID_SELF, remote_dom: 0 });
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_alloc_unbound, at)).toBe(0n);
    const unbound = g.get(evtchn_alloc_unbound, at).port;
    const virq = timerVirq(g, 0);
    expect(poll(g, [unbound, virq])).toEqual(BLOCKED);
  });

  test('with nothing pending the vCPU blocks and evtchn_upcall_mask is left as it is', () => {
    const g = quiet();
    const a = ipi(g, 0);
    g.advance(7);
    expect(poll(g, [a])).toEqual(BLOCKED);
    expect(g.vcpuInfo(0).mask).toBe(1);
    expect(g.eventLog()).toEqual(['v0 running->blocked @7']);
  });

  test('a send to the polled port wakes the vCPU at the send time with 0', () => {
    const g = quiet();
    const a = ipi(g, 0);
    poll(g, [a]);
    g.events();
    g.advance(250);
    send(g, a, 1);
    expect(g.eventLog()).toEqual(['v0 blocked->running @250', 'v0 resumed 0 @250']);
  });

  test('a masked port still wakes its poller (evtchn_check_pollers runs whatever the mask)', () => {
    const g = quiet();
    const a = ipi(g, 0);
    g.setMask(a, true);
    poll(g, [a]);
    g.events();
    g.advance(3);
    send(g, a, 1);
    expect(g.vcpuInfo(0)).toMatchObject({ pending: 0, sel: 0n });
    expect(g.eventLog()).toEqual(['v0 blocked->running @3', 'v0 resumed 0 @3']);
  });

  test('with nr_ports == 1 only that port wakes the vCPU; another masked port does not', () => {
    const g = quiet();
    const a = ipi(g, 0);
    const b = ipi(g, 0);
    g.setMask(a, true);
    g.setMask(b, true);
    poll(g, [a]);
    g.events();
    send(g, b, 1);
    expect(g.machine.vcpus[0]?.state).toBe('blocked');
    expect(g.eventLog()).toEqual([]);
    g.advance(9);
    send(g, a, 1);
    expect(g.eventLog()).toEqual(['v0 blocked->running @9', 'v0 resumed 0 @9']);
  });

  test('with more than one port, an event on any port of the domain wakes the vCPU, even one not polled', () => {
    const g = quiet();
    const a = ipi(g, 0);
    const b = ipi(g, 0);
    const c = ipi(g, 1);
    for (const p of [a, b, c]) g.setMask(p, true);
    poll(g, [a, b]);
    g.events();
    g.advance(4);
    send(g, c, 1);
    expect(g.eventLog()).toEqual(['v0 blocked->running @4', 'v0 resumed 0 @4']);
  });

  test('a send to a polled port wakes only the vCPUs polling it', () => {
    const g = quiet(3);
    const a = ipi(g, 0);
    const b = ipi(g, 0);
    g.setMask(a, true);
    g.setMask(b, true);
    poll(g, [a], 0n, 0);
    poll(g, [b], 0n, 1);
    g.events();
    send(g, b, 2);
    expect(g.machine.vcpus.map((v) => v.state)).toEqual(['blocked', 'running', 'running']);
    expect(g.eventLog()).toEqual(['v1 blocked->running @0', 'v1 resumed 0 @0']);
  });

  test('an unmasked event raising upcall_pending on the poller wakes it (vcpu_kick), even for an unpolled port', () => {
    const g = quiet();
    const a = ipi(g, 0);
    const b = ipi(g, 0);
    g.setMask(a, true);
    poll(g, [a]);
    g.events();
    g.advance(11);
    send(g, b, 1);
    expect(g.vcpuInfo(0)).toMatchObject({ pending: 1, mask: 1 });
    expect(g.eventLog()).toEqual(['v0 blocked->running @11', 'v0 resumed 0 @11']);
  });

  test('an event raising upcall_pending on another vCPU does not wake a single-port poller', () => {
    const g = quiet();
    const a = ipi(g, 0);
    const b = ipi(g, 1);
    g.setMask(a, true);
    poll(g, [a]);
    send(g, b, 1);
    expect(g.machine.vcpus[0]?.state).toBe('blocked');
  });

  test('nr_ports 0 with a timeout blocks until the timeout', () => {
    const g = quiet();
    g.advance(MS);
    expect(poll(g, [], 4n * MS)).toEqual(BLOCKED);
    g.events();
    g.advance(3n * MS - 1n);
    expect(g.eventLog()).toEqual([]);
    g.advance(1);
    expect(g.eventLog()).toEqual(['v0 blocked->running @4000000', 'v0 resumed 0 @4000000']);
  });

  test('nr_ports 0 is woken by an event on any port', () => {
    const g = quiet();
    const a = ipi(g, 1);
    g.setMask(a, true);
    poll(g, []);
    g.events();
    send(g, a, 1);
    expect(g.eventLog()).toEqual(['v0 blocked->running @0', 'v0 resumed 0 @0']);
  });

  test('the timeout is absolute system time: the poll wakes exactly then, with 0', () => {
    const g = quiet();
    const a = ipi(g, 0);
    g.advance(2n * MS);
    poll(g, [a], 9n * MS);
    g.events();
    g.advance(7n * MS - 1n);
    expect(g.machine.vcpus[0]?.state).toBe('blocked');
    g.advance(1);
    expect(g.eventLog()).toEqual(['v0 blocked->running @9000000', 'v0 resumed 0 @9000000']);
  });

  test('timeout 0 means no timeout', () => {
    const g = quiet();
    poll(g, [ipi(g, 0)], 0n);
    g.advance(1000n * S);
    expect(g.machine.vcpus[0]?.state).toBe('blocked');
  });

  test('a timeout already in the past wakes the vCPU at once, after it blocked', () => {
    const g = quiet();
    const a = ipi(g, 0);
    g.advance(5n * MS);
    expect(poll(g, [a], 1n)).toEqual(BLOCKED);
    expect(g.eventLog()).toEqual(['v0 running->blocked @5000000', 'v0 blocked->running @5000000', 'v0 resumed 0 @5000000']);
  });

  test('a timeout with bit 63 set is a negative s_time_t for set_timer: in the past, it wakes at once', () => {
    const g = quiet();
    const a = ipi(g, 0);
    g.advance(5n * MS);
    expect(poll(g, [a], 0x8000_0000_0000_0000n)).toEqual(BLOCKED);
    expect(g.eventLog()).toEqual(['v0 running->blocked @5000000', 'v0 blocked->running @5000000', 'v0 resumed 0 @5000000']);
  });

  test('a poll woken by an event before its timeout does not wake again when the timeout passes', () => {
    const g = quiet();
    const a = ipi(g, 0);
    g.setMask(a, true);
    poll(g, [a], 10n * MS);
    g.advance(2n * MS);
    send(g, a, 1);
    g.events();
    g.advance(20n * MS);
    expect(g.eventLog()).toEqual([]);
    expect(g.machine.vcpus[0]?.state).toBe('running');
  });

  test('the poll timer is not stopped when a poll ends early: it still wakes a later poll that has no timeout', () => {
    // poll_timer_fn wakes whatever vCPU is in d->poll_mask; neither vcpu_unblock nor a poll with
    // timeout 0 stops v->poll_timer.
    const g = quiet();
    const a = ipi(g, 0);
    g.setMask(a, true);
    poll(g, [a], 10n * MS);
    g.advance(2n * MS);
    send(g, a, 1);
    g.clearPendingBit(a);
    g.advance(1n * MS);
    expect(poll(g, [a], 0n)).toEqual(BLOCKED);
    g.events();
    g.advance(7n * MS);
    expect(g.eventLog()).toEqual(['v0 blocked->running @10000000', 'v0 resumed 0 @10000000']);
  });

  test('a new poll timeout replaces the previous one (set_timer re-arms v->poll_timer)', () => {
    const g = quiet();
    const a = ipi(g, 0);
    g.setMask(a, true);
    poll(g, [a], 10n * MS);
    send(g, a, 1);
    g.clearPendingBit(a);
    poll(g, [a], 20n * MS);
    g.events();
    g.advance(19n * MS);
    expect(g.eventLog()).toEqual([]);
    g.advance(1n * MS);
    expect(g.eventLog()).toEqual(['v0 blocked->running @20000000', 'v0 resumed 0 @20000000']);
  });

  test('an unreadable sched_poll argument is -EFAULT', () => {
    expect(schedOp(quiet(), SCHEDOP.SCHEDOP_poll, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe(`SCHEDOP_shutdown (${SC} do_sched_op; xen/common/domain.c domain_shutdown)`, () => {
  test('shuts the domain down with the reason at the current time: machine state, event and shutdown_code', () => {
    const g = quiet();
    g.advance(7);
    expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown, shutdownArg(g, SHUTDOWN.SHUTDOWN_reboot))).toBe(0n);
    expect(g.machine.shutdown).toEqual({ reason: 1, time: 7n });
    expect(g.eventLog()).toEqual(['shutdown 1 @7']);
    expect(g.xen.guest.shutdownCode).toBe(1);
    expect(g.xen.guest.shuttingDown).toBe(true);
  });

  test('the reason is passed as a u8 and not range-checked', () => {
    const g = quiet();
    expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown, shutdownArg(g, 0x1_07))).toBe(0n);
    expect(g.machine.shutdown).toEqual({ reason: 7, time: 0n });
    const h = quiet();
    expect(schedOp(h, SCHEDOP.SCHEDOP_shutdown, shutdownArg(h, 0xffff_ffff))).toBe(0n);
    expect(h.eventLog()).toEqual(['shutdown 255 @0']);
  });

  test('a reason latched earlier by SCHEDOP_shutdown_code wins', () => {
    const g = quiet();
    expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown_code, shutdownArg(g, SHUTDOWN.SHUTDOWN_crash))).toBe(0n);
    expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown, shutdownArg(g, SHUTDOWN.SHUTDOWN_poweroff))).toBe(0n);
    expect(g.machine.shutdown?.reason).toBe(SHUTDOWN.SHUTDOWN_crash);
    expect(g.eventLog()).toEqual(['shutdown 3 @0']);
  });

  test('an unreadable argument is -EFAULT and nothing shuts down', () => {
    const g = quiet();
    expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(g.machine.shutdown).toBeNull();
  });
});

describe(`SCHEDOP_shutdown_code (${SC} do_sched_op)`, () => {
  test('latches the code without shutting down; returns 0', () => {
    const g = quiet();
    expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown_code, shutdownArg(g, SHUTDOWN.SHUTDOWN_suspend))).toBe(0n);
    expect(g.xen.guest.shutdownCode).toBe(2);
    expect(g.machine.shutdown).toBeNull();
    expect(g.eventLog()).toEqual([]);
  });

  test('only the first code is latched; a later shutdown reports it', () => {
    const g = quiet();
    schedOp(g, SCHEDOP.SCHEDOP_shutdown_code, shutdownArg(g, SHUTDOWN.SHUTDOWN_crash));
    expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown_code, shutdownArg(g, SHUTDOWN.SHUTDOWN_reboot))).toBe(0n);
    expect(g.xen.guest.shutdownCode).toBe(3);
    schedOp(g, SCHEDOP.SCHEDOP_shutdown, shutdownArg(g, SHUTDOWN.SHUTDOWN_poweroff));
    expect(g.machine.shutdown?.reason).toBe(3);
  });

  test('the code is truncated to a u8', () => {
    const g = quiet();
    schedOp(g, SCHEDOP.SCHEDOP_shutdown_code, shutdownArg(g, 0x2_05));
    expect(g.xen.guest.shutdownCode).toBe(5);
  });

  test('an unreadable argument is -EFAULT and latches nothing', () => {
    const g = quiet();
    expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown_code, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(g.xen.guest.shutdownCode).toBeUndefined();
  });
});

describe(`SCHEDOP_remote_shutdown (${SC} do_sched_op; xen/include/xsm/dummy.h xsm_schedop_shutdown)`, () => {
  test('a domain that does not exist is -ESRCH', () => {
    expect(remoteShutdown(quiet(), 9, SHUTDOWN.SHUTDOWN_poweroff)).toBe(E('XEN_ESRCH'));
  });

  test('DOMID_SELF is -ESRCH: rcu_lock_domain_by_id takes only real ids', () => {
    expect(remoteShutdown(quiet(), DOMID.DOMID_SELF, SHUTDOWN.SHUTDOWN_poweroff)).toBe(E('XEN_ESRCH'));
  });

  test('a domU is -EPERM (XSM_DM_PRIV), for the peer and for its own id alike; nothing shuts down', () => {
    const g = quiet();
    expect(remoteShutdown(g, 0, SHUTDOWN.SHUTDOWN_poweroff)).toBe(E('XEN_EPERM'));
    expect(remoteShutdown(g, 1, SHUTDOWN.SHUTDOWN_poweroff)).toBe(E('XEN_EPERM'));
    expect(g.machine.shutdown).toBeNull();
    expect(g.xen.peer.shuttingDown).toBe(false);
    expect(g.xen.guest.shutdownCode).toBeUndefined();
  });

  test('an unreadable argument is -EFAULT', () => {
    expect(schedOp(quiet(), SCHEDOP.SCHEDOP_remote_shutdown, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe(`SCHEDOP_watchdog (${SC} domain_watchdog, domain_watchdog_timeout)`, () => {
  test('id 0 creates a watchdog and returns its id: 1, then 2; a third is -ENOSPC', () => {
    const g = quiet();
    expect(watchdog(g, 0, 30)).toBe(1n);
    expect(watchdog(g, 0, 30)).toBe(2n);
    expect(watchdog(g, 0, 30)).toBe(E('XEN_ENOSPC'));
  });

  test('an id above NR_DOMAIN_WATCHDOG_TIMERS (2) is -EINVAL', () => {
    const g = quiet();
    watchdog(g, 0, 30);
    watchdog(g, 0, 30);
    expect(watchdog(g, 3, 30)).toBe(E('XEN_EINVAL'));
    expect(watchdog(g, 0xffff_ffff, 0)).toBe(E('XEN_EINVAL'));
  });

  test('an id not in use is -EINVAL, for re-arming and for destroying', () => {
    const g = quiet();
    expect(watchdog(g, 1, 30)).toBe(E('XEN_EINVAL'));
    expect(watchdog(g, 1, 0)).toBe(E('XEN_EINVAL'));
    expect(watchdog(g, 0, 30)).toBe(1n);
    expect(watchdog(g, 2, 30)).toBe(E('XEN_EINVAL'));
  });

  test('expiry after timeout seconds shuts the domain down with SHUTDOWN_watchdog (4), at that exact time', () => {
    const g = quiet();
    g.advance(MS);
    expect(watchdog(g, 0, 3)).toBe(1n);
    g.advance(3n * S - 1n);
    expect(g.machine.shutdown).toBeNull();
    g.advance(1);
    expect(g.machine.shutdown).toEqual({ reason: SHUTDOWN.SHUTDOWN_watchdog, time: 3_001_000_000n });
    expect(g.eventLog()).toEqual(['shutdown 4 @3001000000']);
  });

  test('timeout 0 destroys the watchdog: it never fires and its id is free again', () => {
    const g = quiet();
    expect(watchdog(g, 0, 5)).toBe(1n);
    expect(watchdog(g, 1, 0)).toBe(0n);
    g.advance(10n * S);
    expect(g.machine.shutdown).toBeNull();
    expect(watchdog(g, 1, 5)).toBe(E('XEN_EINVAL'));
    expect(watchdog(g, 0, 5)).toBe(1n);
  });

  test('re-arming moves the expiry to now + timeout, later or earlier', () => {
    const g = quiet();
    expect(watchdog(g, 0, 5)).toBe(1n);
    g.advance(4n * S);
    expect(watchdog(g, 1, 5)).toBe(0n);
    g.advance(5n * S - 1n);
    expect(g.machine.shutdown).toBeNull();
    expect(watchdog(g, 1, 1)).toBe(0n);
    g.advance(S - 1n);
    expect(g.machine.shutdown).toBeNull();
    g.advance(1);
    expect(g.machine.shutdown).toEqual({ reason: 4, time: 10n * S - 1n });
  });

  test('creating one with timeout 0 arms it for now: the domain shuts down at once after the call returns 1', () => {
    const g = quiet();
    g.advance(42);
    expect(watchdog(g, 0, 0)).toBe(1n);
    expect(g.machine.shutdown).toEqual({ reason: 4, time: 42n });
  });

  test('the first of two watchdogs to expire shuts the domain down; the second does nothing more', () => {
    const g = quiet();
    expect(watchdog(g, 0, 10)).toBe(1n);
    expect(watchdog(g, 0, 3)).toBe(2n);
    g.advance(20n * S);
    expect(g.eventLog()).toEqual(['shutdown 4 @3000000000']);
  });

  test('a shutdown code latched earlier wins over SHUTDOWN_watchdog', () => {
    const g = quiet();
    schedOp(g, SCHEDOP.SCHEDOP_shutdown_code, shutdownArg(g, SHUTDOWN.SHUTDOWN_reboot));
    watchdog(g, 0, 1);
    g.advance(S);
    expect(g.machine.shutdown).toEqual({ reason: 1, time: S });
  });

  test('a watchdog does not fire once the domain has shut down for another reason', () => {
    const g = quiet();
    watchdog(g, 0, 1);
    schedOp(g, SCHEDOP.SCHEDOP_shutdown, shutdownArg(g, SHUTDOWN.SHUTDOWN_poweroff));
    g.advance(2n * S);
    expect(g.eventLog()).toEqual(['shutdown 0 @0']);
  });

  test('the timeout is a u32 of seconds: 2^32 - 1 s is not truncated', () => {
    const g = quiet();
    expect(watchdog(g, 0, 0xffff_ffff)).toBe(1n);
    g.advance(0xffff_ffffn * S - 1n);
    expect(g.machine.shutdown).toBeNull();
    g.advance(1);
    expect(g.machine.shutdown?.reason).toBe(4);
  });

  test('an unreadable argument is -EFAULT and creates nothing', () => {
    const g = quiet();
    expect(schedOp(g, SCHEDOP.SCHEDOP_watchdog, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(watchdog(g, 0, 30)).toBe(1n);
  });
});

describe(`SCHEDOP_pin_override and unknown commands (${SC} do_sched_op)`, () => {
  test('SCHEDOP_pin_override is -EPERM for a domU, before the argument is read', () => {
    const g = quiet();
    expect(schedOp(g, SCHEDOP.SCHEDOP_pin_override, BAD_PTR)).toBe(E('XEN_EPERM'));
    expect(schedOp(g, SCHEDOP.SCHEDOP_pin_override, g.alloc(4))).toBe(E('XEN_EPERM'));
  });

  test('an unknown cmd is -ENOSYS', () => {
    const g = quiet();
    expect(schedOp(g, 8, g.alloc(8))).toBe(E('XEN_ENOSYS'));
    expect(schedOp(g, -1, g.alloc(8))).toBe(E('XEN_ENOSYS'));
  });

  test('cmd is an int: the upper 32 bits of the register are ignored', () => {
    const g = quiet();
    expect(schedOp(g, 0x1_0000_0000 + SCHEDOP.SCHEDOP_yield)).toBe(0n);
    expect(schedOp(g, 0xffff_ffff_0000_0005n, shutdownArg(g, 3))).toBe(0n);
    expect(g.xen.guest.shutdownCode).toBe(3);
  });

  test.each([
    ['shutdown', SCHEDOP.SCHEDOP_shutdown],
    ['poll', SCHEDOP.SCHEDOP_poll],
    ['remote_shutdown', SCHEDOP.SCHEDOP_remote_shutdown],
    ['shutdown_code', SCHEDOP.SCHEDOP_shutdown_code],
    ['watchdog', SCHEDOP.SCHEDOP_watchdog],
  ])('SCHEDOP_%s with an unreadable argument is -EFAULT', (_name, cmd) => {
    expect(schedOp(quiet(), cmd, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});
