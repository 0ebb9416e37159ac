import { encodeStruct } from '../../abi/struct';
import { EVTCHNOP, VIRQ } from '../abi/event_channel';
import { XenHypercall } from '../abi/hypercalls';
import { SCHEDOP } from '../abi/sched';
import { VCPUOP, VCPU_SSHOTTMR } from '../abi/vcpu';
import {
  VCPU_GUEST_CONTEXT_SIZE,
  evtchn_bind_ipi,
  evtchn_bind_virq,
  evtchn_port_arg,
  multicall_entry,
  sched_poll,
  vcpu_set_periodic_timer,
  vcpu_set_singleshot_timer,
} from '../abi/layouts';
import type { XenProfileName } from '../profiles';
import { E, XenTestGuest, type TestGuestOptions } from '../xenTestkit';

const SC = 'xen/common/sched/core.c';
const DOM = 'xen/common/domain.c common_vcpu_op';
const BAD_PTR = 0x7fff_f000_0000n;
const MS = 1_000_000n;
const FUTURE = VCPU_SSHOTTMR.VCPU_SSHOTTMR_future;

type Xen = NonNullable<TestGuestOptions['xen']>;

/** A guest whose vCPUs have no periodic timer unless a test sets one. */
const quiet = (xen: Xen = {}, vcpus = 2, online?: readonly number[]) =>
  new XenTestGuest({ vcpus, ...(online ? { online } : {}), xen: { initialPeriodNs: 0n, ...xen } });

/** VIRQ_TIMER bound on `vcpu`; returns the port. */
function timerVirq(g: XenTestGuest, vcpu = 0): number {
  const at = g.put(evtchn_bind_virq, { virq: VIRQ.VIRQ_TIMER, vcpu });
  expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_virq, at)).toBe(0n);
  return g.get(evtchn_bind_virq, at).port;
}

function ipi(g: XenTestGuest, vcpu: number): number {
  const at = g.put(evtchn_bind_ipi, { vcpu });
  expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_ipi, at)).toBe(0n);
  return g.get(evtchn_bind_ipi, at).port;
}

const vcpuOp = (g: XenTestGuest, cmd: number, vcpu: number, arg: bigint = 0n, caller = 0) => g.retOn(caller, 'vcpu_op', cmd, vcpu, arg);
const singleshot = (g: XenTestGuest, timeout: bigint, flags = 0, vcpu = 0, caller = vcpu) =>
  vcpuOp(g, VCPUOP.VCPUOP_set_singleshot_timer, vcpu, g.put(vcpu_set_singleshot_timer, { timeout_abs_ns: timeout, flags }), caller);
const periodic = (g: XenTestGuest, period: bigint, vcpu = 0, caller = 0) =>
  vcpuOp(g, VCPUOP.VCPUOP_set_periodic_timer, vcpu, g.put(vcpu_set_periodic_timer, { period_ns: period }), caller);

/**
 * Runs the clock to `until`, stopping at every timer deadline, and returns the times at which
 * `port` became pending. Each time the guest takes the event (as its upcall handler would) so
 * that the next one can be seen.
 */
function firings(g: XenTestGuest, port: number, until: bigint): bigint[] {
  const seen: bigint[] = [];
  const take = (): void => {
    if (!g.pending(port)) return;
    seen.push(g.xen.now);
    g.clearPendingBit(port);
    for (let v = 0; v < g.machine.vcpus.length; v++) g.handleUpcall(v);
  };
  take();
  for (;;) {
    const next = g.machine.clock.nextDeadline();
    if (next === undefined || next > until) break;
    g.xen.advanceTo(next > g.xen.now ? next : g.xen.now);
    take();
  }
  if (until > g.xen.now) g.xen.advanceTo(until);
  take();
  return seen;
}

describe(`set_timer_op (${SC} do_set_timer_op)`, () => {
  test('fires VIRQ_TIMER exactly at the absolute deadline and returns 0', () => {
    const g = quiet();
    const port = timerVirq(g);
    g.setUpcallMask(0, 0);
    g.advance(1000);
    expect(g.ret('set_timer_op', 5n * MS)).toBe(0n);
    g.advance(5n * MS - 1000n - 1n);
    expect(g.pending(port)).toBe(false);
    expect(g.eventLog()).toEqual([]);
    g.advance(1);
    expect(g.pending(port)).toBe(true);
    expect(g.eventLog()).toEqual(['upcall v0 @5000000']);
  });

  test('the timer is per vCPU: it sends the VIRQ_TIMER port of the vCPU that armed it', () => {
    const g = quiet();
    const p0 = timerVirq(g, 0);
    const p1 = timerVirq(g, 1);
    expect(g.retOn(1, 'set_timer_op', 2n * MS)).toBe(0n);
    g.advance(2n * MS);
    expect([g.pending(p0), g.pending(p1)]).toEqual([false, true]);
    expect(g.vcpuInfo(1)).toMatchObject({ pending: 1, sel: 1n });
    expect(g.vcpuInfo(0)).toMatchObject({ pending: 0, sel: 0n });
  });

  test('it is a one-shot timer: it fires once', () => {
    const g = quiet();
    const port = timerVirq(g);
    g.ret('set_timer_op', 3n * MS);
    expect(firings(g, port, 1000n * MS)).toEqual([3n * MS]);
  });

  test('timeout 0 stops the timer', () => {
    const g = quiet();
    const port = timerVirq(g);
    g.ret('set_timer_op', 5n * MS);
    expect(g.ret('set_timer_op', 0)).toBe(0n);
    expect(firings(g, port, 100n * MS)).toEqual([]);
  });

  test.each([
    ['-1', -1n],
    ['bit 63 alone', 0x8000_0000_0000_0000n],
  ])('a negative timeout (%s) becomes NOW() + 100 ms', (_name, timeout) => {
    const g = quiet();
    const port = timerVirq(g);
    g.advance(3n * MS);
    expect(g.ret('set_timer_op', timeout)).toBe(0n);
    expect(firings(g, port, 1000n * MS)).toEqual([103n * MS]);
  });

  test('a deadline 2^50 ns or more ahead ((u32)(offset >> 50) != 0) becomes NOW() + 100 ms', () => {
    const g = quiet();
    const port = timerVirq(g);
    g.advance(3n * MS);
    expect(g.ret('set_timer_op', 3n * MS + (1n << 50n))).toBe(0n);
    expect(firings(g, port, 1000n * MS)).toEqual([103n * MS]);
    g.ret('set_timer_op', 0x7fff_ffff_ffff_ffffn);
    expect(firings(g, port, 2000n * MS)).toEqual([1100n * MS]);
  });

  test('a deadline just under 2^50 ns ahead is kept as it is', () => {
    const g = quiet();
    const port = timerVirq(g);
    g.advance(3n * MS);
    const deadline = 3n * MS + (1n << 50n) - 1n;
    g.ret('set_timer_op', deadline);
    expect(firings(g, port, deadline)).toEqual([deadline]);
  });

  test('a deadline in the past, or now, fires at once', () => {
    const g = quiet();
    const port = timerVirq(g);
    g.setUpcallMask(0, 0);
    g.advance(10n * MS);
    g.ret('set_timer_op', 1n);
    expect(g.pending(port)).toBe(true);
    expect(g.eventLog()).toEqual(['upcall v0 @10000000']);
    g.handleUpcall(0);
    g.ret('set_timer_op', 10n * MS);
    expect(g.pending(port)).toBe(true);
  });

  test('re-arming replaces the previous deadline, later or earlier', () => {
    const g = quiet();
    const port = timerVirq(g);
    g.ret('set_timer_op', 5n * MS);
    g.ret('set_timer_op', 8n * MS);
    expect(firings(g, port, 20n * MS)).toEqual([8n * MS]);
    g.ret('set_timer_op', 40n * MS);
    g.ret('set_timer_op', 30n * MS);
    expect(firings(g, port, 100n * MS)).toEqual([30n * MS]);
  });

  test('with no VIRQ_TIMER bound nothing is delivered, and binding later brings no missed event', () => {
    const g = quiet();
    g.setUpcallMask(0, 0);
    expect(g.ret('set_timer_op', MS)).toBe(0n);
    g.advance(2n * MS);
    expect(g.vcpuInfo(0)).toMatchObject({ pending: 0, sel: 0n });
    expect(g.eventLog()).toEqual([]);
    const port = timerVirq(g);
    expect(g.pending(port)).toBe(false);
  });

  test('VIRQ_TIMER bound on another vCPU does not receive this vCPU\'s timer', () => {
    const g = quiet();
    const p1 = timerVirq(g, 1);
    g.ret('set_timer_op', MS);
    g.advance(2n * MS);
    expect(g.pending(p1)).toBe(false);
  });

  test('it is the same timer as VCPUOP_set_singleshot_timer: each op stops or replaces the other\'s deadline', () => {
    const g = quiet();
    const port = timerVirq(g);
    g.ret('set_timer_op', 5n * MS);
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_singleshot_timer, 0)).toBe(0n);
    expect(firings(g, port, 10n * MS)).toEqual([]);
    expect(singleshot(g, 20n * MS)).toBe(0n);
    g.ret('set_timer_op', 0);
    expect(firings(g, port, 30n * MS)).toEqual([]);
    singleshot(g, 50n * MS);
    g.ret('set_timer_op', 40n * MS);
    expect(firings(g, port, 60n * MS)).toEqual([40n * MS]);
  });

  test('the one-shot timer keeps running while its vCPU is down (only the periodic timer is stopped)', () => {
    const g = quiet();
    const p1 = timerVirq(g, 1);
    expect(g.retOn(1, 'set_timer_op', 5n * MS)).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 1)).toBe(0n);
    g.advance(5n * MS);
    expect(g.pending(p1)).toBe(true);
    expect(g.machine.vcpus[1]?.state).toBe('down');
  });
});

describe(`VCPUOP_set_singleshot_timer (${DOM})`, () => {
  test('arms the calling vCPU\'s one-shot timer at the absolute deadline; returns 0', () => {
    const g = quiet();
    const port = timerVirq(g);
    g.advance(MS);
    expect(singleshot(g, 7n * MS, FUTURE)).toBe(0n);
    expect(firings(g, port, 100n * MS)).toEqual([7n * MS]);
  });

  test('a vcpuid other than the caller is -EINVAL, before the argument is read', () => {
    const g = quiet();
    timerVirq(g, 1);
    expect(vcpuOp(g, VCPUOP.VCPUOP_set_singleshot_timer, 1, BAD_PTR)).toBe(E('XEN_EINVAL'));
    expect(singleshot(g, 5n * MS, 0, 1, 0)).toBe(E('XEN_EINVAL'));
  });

  test('a vCPU that does not exist is -ENOENT (do_vcpu_op)', () => {
    expect(vcpuOp(quiet(), VCPUOP.VCPUOP_set_singleshot_timer, 2, BAD_PTR)).toBe(E('XEN_ENOENT'));
  });

  test('an unreadable argument is -EFAULT', () => {
    expect(vcpuOp(quiet(), VCPUOP.VCPUOP_set_singleshot_timer, 0, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  describe.each(['xen-4.22', 'xen-4.18'] as const)('%s (commit 19c6cbd909: VCPU_SSHOTTMR_future ignored)', (profile: XenProfileName) => {
    test.each([
      ['without', 0],
      ['with', FUTURE],
    ])('a past deadline %s VCPU_SSHOTTMR_future returns 0 and injects VIRQ_TIMER at once', (_w, flags) => {
      const g = quiet({ profile });
      const port = timerVirq(g);
      g.setUpcallMask(0, 0);
      g.advance(10n * MS);
      expect(singleshot(g, 4n * MS, flags)).toBe(0n);
      expect(g.pending(port)).toBe(true);
      expect(g.eventLog()).toEqual(['upcall v0 @10000000']);
    });

    test('a past deadline stops the timer armed before', () => {
      const g = quiet({ profile });
      const port = timerVirq(g);
      singleshot(g, 50n * MS);
      g.advance(10n * MS);
      expect(singleshot(g, 0n, FUTURE)).toBe(0n);
      expect(firings(g, port, 100n * MS)).toEqual([10n * MS]);
    });

    test('a deadline equal to NOW() is not in the past: it is armed and fires at once', () => {
      const g = quiet({ profile });
      const port = timerVirq(g);
      g.advance(10n * MS);
      expect(singleshot(g, 10n * MS, FUTURE)).toBe(0n);
      expect(g.pending(port)).toBe(true);
    });

    test('a deadline with bit 63 set returns 0 and fires at once', () => {
      const g = quiet({ profile });
      const port = timerVirq(g);
      g.advance(10n * MS);
      expect(singleshot(g, 0x8000_0000_0000_0000n, FUTURE)).toBe(0n);
      expect(firings(g, port, 100n * MS)).toEqual([10n * MS]);
    });
  });

  describe('xen-4.17 (RELEASE-4.17.0 common_vcpu_op)', () => {
    test('VCPU_SSHOTTMR_future with a past deadline is -ETIME: nothing fires and the armed timer is left alone', () => {
      const g = quiet({ profile: 'xen-4.17' });
      const port = timerVirq(g);
      singleshot(g, 50n * MS);
      g.advance(10n * MS);
      expect(singleshot(g, 4n * MS, FUTURE)).toBe(E('XEN_ETIME'));
      expect(g.pending(port)).toBe(false);
      expect(firings(g, port, 100n * MS)).toEqual([50n * MS]);
    });

    test('without the flag a past deadline is armed anyway and fires at once; returns 0', () => {
      const g = quiet({ profile: 'xen-4.17' });
      const port = timerVirq(g);
      g.setUpcallMask(0, 0);
      g.advance(10n * MS);
      expect(singleshot(g, 4n * MS, 0)).toBe(0n);
      expect(g.pending(port)).toBe(true);
      expect(g.eventLog()).toEqual(['upcall v0 @10000000']);
    });

    test('with the flag a future deadline, or NOW() itself, is accepted', () => {
      const g = quiet({ profile: 'xen-4.17' });
      const port = timerVirq(g);
      g.advance(10n * MS);
      expect(singleshot(g, 10n * MS, FUTURE)).toBe(0n);
      expect(g.pending(port)).toBe(true);
      g.clearPendingBit(port);
      expect(singleshot(g, 12n * MS, FUTURE)).toBe(0n);
      expect(firings(g, port, 100n * MS)).toEqual([12n * MS]);
    });

    test('only bit 0 of flags matters: other bits with a past deadline do not give -ETIME', () => {
      const g = quiet({ profile: 'xen-4.17' });
      const port = timerVirq(g);
      g.advance(10n * MS);
      expect(singleshot(g, 4n * MS, 0xffff_fffe)).toBe(0n);
      expect(g.pending(port)).toBe(true);
    });

    test('the past check compares the u64 deadline with NOW() unsigned: bit 63 set is not "past", so no -ETIME; the timer, armed at a negative s_time_t, fires at once', () => {
      const g = quiet({ profile: 'xen-4.17' });
      const port = timerVirq(g);
      g.advance(10n * MS);
      expect(singleshot(g, 0x8000_0000_0000_0000n, FUTURE)).toBe(0n);
      expect(firings(g, port, 100n * MS)).toEqual([10n * MS]);
    });
  });
});

describe(`VCPUOP_stop_singleshot_timer (${DOM})`, () => {
  test('stops the calling vCPU\'s one-shot timer; returns 0, also when none is armed', () => {
    const g = quiet();
    const port = timerVirq(g);
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_singleshot_timer, 0)).toBe(0n);
    singleshot(g, 5n * MS);
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_singleshot_timer, 0)).toBe(0n);
    expect(firings(g, port, 10n * MS)).toEqual([]);
  });

  test('another vCPU is -EINVAL and its timer keeps running', () => {
    const g = quiet();
    const p1 = timerVirq(g, 1);
    singleshot(g, 5n * MS, 0, 1);
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_singleshot_timer, 1, 0n, 0)).toBe(E('XEN_EINVAL'));
    expect(firings(g, p1, 10n * MS)).toEqual([5n * MS]);
  });
});

describe(`VCPUOP_set_periodic_timer (${DOM}; ${SC} vcpu_set_periodic_timer, vcpu_periodic_timer_work_locked)`, () => {
  test('a period below 1 ms is -EINVAL; exactly 1 ms is accepted and ticks every 1 ms', () => {
    const g = quiet({ guestType: 'pvhvm' });
    const port = timerVirq(g);
    expect(periodic(g, 999_999n)).toBe(E('XEN_EINVAL'));
    expect(periodic(g, 0n)).toBe(E('XEN_EINVAL'));
    expect(firings(g, port, 5n * MS)).toEqual([]);
    expect(periodic(g, MS)).toBe(0n);
    expect(firings(g, port, 9n * MS + 500n)).toEqual([5n * MS, 6n * MS, 7n * MS, 8n * MS, 9n * MS]);
  });

  test('a period above STIME_DELTA_MAX (2^62 - 1) is -EINVAL, including one with bit 63 set; 2^62 - 1 is accepted', () => {
    const g = quiet({ guestType: 'pvhvm' });
    expect(periodic(g, 1n << 62n)).toBe(E('XEN_EINVAL'));
    expect(periodic(g, 0x8000_0000_0000_0000n)).toBe(E('XEN_EINVAL'));
    expect(periodic(g, 0xffff_ffff_ffff_ffffn)).toBe(E('XEN_EINVAL'));
    expect(periodic(g, (1n << 62n) - 1n)).toBe(0n);
  });

  test('an unreadable argument is -EFAULT', () => {
    expect(vcpuOp(quiet(), VCPUOP.VCPUOP_set_periodic_timer, 0, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test('periodic_last_event starts at 0: set before one period has passed, the first event is at one period', () => {
    const g = quiet({ guestType: 'pvhvm' });
    const port = timerVirq(g);
    g.advance(3n * MS);
    expect(periodic(g, 10n * MS)).toBe(0n);
    expect(firings(g, port, 35n * MS)).toEqual([10n * MS, 20n * MS, 30n * MS]);
  });

  test('set once a period has passed since the last event, the first event is immediate, then every period', () => {
    const g = quiet({ guestType: 'pvhvm' });
    const port = timerVirq(g);
    g.advance(15n * MS);
    expect(periodic(g, 10n * MS)).toBe(0n);
    expect(g.pending(port)).toBe(true);
    expect(firings(g, port, 40n * MS)).toEqual([15n * MS, 25n * MS, 35n * MS]);
  });

  test('a new period counts from the last event', () => {
    const g = quiet({ guestType: 'pvhvm' });
    const port = timerVirq(g);
    periodic(g, 10n * MS);
    expect(firings(g, port, 23n * MS)).toEqual([10n * MS, 20n * MS]);
    expect(periodic(g, 4n * MS)).toBe(0n);
    expect(firings(g, port, 33n * MS)).toEqual([24n * MS, 28n * MS, 32n * MS]);
  });

  test('the target may be another vCPU: its VIRQ_TIMER port ticks', () => {
    const g = quiet({ guestType: 'pvhvm' });
    const p0 = timerVirq(g, 0);
    const p1 = timerVirq(g, 1);
    expect(periodic(g, 5n * MS, 1, 0)).toBe(0n);
    g.advance(5n * MS);
    expect([g.pending(p0), g.pending(p1)]).toEqual([false, true]);
  });

  test('a blocked vCPU\'s periodic timer is stopped; when it runs again it catches up with one event, then every period', () => {
    const g = quiet();
    const port = timerVirq(g, 0);
    const kick = ipi(g, 0);
    periodic(g, 10n * MS);
    expect(firings(g, port, 12n * MS)).toEqual([10n * MS]);
    expect(g.call('sched_op', SCHEDOP.SCHEDOP_block)).toEqual({ kind: 'blocked' });
    g.events();
    expect(firings(g, port, 45n * MS)).toEqual([]);
    expect(g.machine.vcpus[0]?.state).toBe('blocked');
    expect(g.retOn(1, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, g.put(evtchn_port_arg, { port: kick }))).toBe(0n);
    expect(g.eventLog()).toEqual(['v0 blocked->running @45000000', 'v0 resumed 0 @45000000', 'upcall v0 @45000000']);
    expect(firings(g, port, 70n * MS)).toEqual([45n * MS, 55n * MS, 65n * MS]);
  });

  test('a vCPU woken from a poll timeout catches up on its tick, and the call returns before that tick\'s upcall', () => {
    const g = quiet();
    const port = timerVirq(g, 0);
    const other = ipi(g, 0);
    g.setMask(other, true);
    g.setUpcallMask(0, 0);
    periodic(g, 10n * MS);
    expect(firings(g, port, 12n * MS)).toEqual([10n * MS]);
    g.events();
    const at = g.put(sched_poll, { ports: g.putU32s([other]), nr_ports: 1, timeout: 35n * MS });
    expect(g.call('sched_op', SCHEDOP.SCHEDOP_poll, at)).toEqual({ kind: 'blocked' });
    g.advance(35n * MS - g.xen.now);
    expect(g.pending(port)).toBe(true);
    expect(g.eventLog()).toEqual(['v0 running->blocked @12000000', 'v0 blocked->running @35000000', 'v0 resumed 0 @35000000', 'upcall v0 @35000000']);
  });

  test('a down vCPU\'s periodic timer is stopped; VCPUOP_up catches up with one event, then every period', () => {
    const g = quiet();
    const p1 = timerVirq(g, 1);
    periodic(g, 10n * MS, 1, 0);
    expect(firings(g, p1, 12n * MS)).toEqual([10n * MS]);
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 1)).toBe(0n);
    expect(firings(g, p1, 44n * MS)).toEqual([]);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 1)).toBe(0n);
    expect(firings(g, p1, 70n * MS)).toEqual([44n * MS, 54n * MS, 64n * MS]);
  });

  test('a period set on a down vCPU runs its timer anyway until the vCPU is next scheduled out', () => {
    const g = quiet({ guestType: 'pvhvm' }, 2, [0]);
    const p1 = timerVirq(g, 1);
    g.advance(15n * MS);
    expect(periodic(g, 10n * MS, 1, 0)).toBe(0n);
    expect(firings(g, p1, 40n * MS)).toEqual([15n * MS, 25n * MS, 35n * MS]);
    expect(g.machine.vcpus[1]?.state).toBe('down');
  });

  test('a period set on a blocked vCPU arms its timer, whose event wakes it', () => {
    const g = quiet();
    const port = timerVirq(g, 0);
    g.advance(MS);
    g.call('sched_op', SCHEDOP.SCHEDOP_block);
    g.advance(MS);
    expect(periodic(g, 10n * MS, 0, 1)).toBe(0n);
    g.events();
    g.advance(10n * MS - g.xen.now);
    expect(g.eventLog()).toEqual(['v0 blocked->running @10000000', 'v0 resumed 0 @10000000', 'upcall v0 @10000000']);
    expect(firings(g, port, 35n * MS)).toEqual([10n * MS, 20n * MS, 30n * MS]);
  });
  test('a vCPU woken by a tick that blocks again in the same multicall has its periodic timer stopped again', () => {
    const g = quiet();
    const port = timerVirq(g, 0);
    const other = ipi(g, 0);
    const pollArg = (p: number) => g.put(sched_poll, { ports: g.putU32s([p]), nr_ports: 1 });
    const list = g.alloc(2 * multicall_entry.size);
    [pollArg(port), pollArg(other)].forEach((a, i) => {
      g.write(list + BigInt(i * multicall_entry.size), encodeStruct(multicall_entry, { op: XenHypercall.sched_op, arg0: SCHEDOP.SCHEDOP_poll, arg1: a }));
    });
    g.advance(MS);
    expect(g.call('multicall', list, 2)).toEqual({ kind: 'blocked' });
    g.advance(MS);
    expect(periodic(g, 10n * MS, 0, 1)).toBe(0n); // armed although vCPU 0 is blocked
    g.events();
    g.advance(8n * MS);
    // The tick wakes the first poll; the second poll blocks at once.
    expect(g.eventLog()).toEqual(['v0 blocked->running @10000000', 'v0 running->blocked @10000000']);
    expect(g.pending(port)).toBe(true);
    g.clearPendingBit(port);
    expect(firings(g, port, 44n * MS)).toEqual([]);
    expect(g.retOn(1, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, g.put(evtchn_port_arg, { port: other }))).toBe(0n);
    expect(g.eventLog()).toEqual(['v0 blocked->running @44000000', 'v0 resumed 0 @44000000']);
    expect(firings(g, port, 60n * MS)).toEqual([44n * MS, 54n * MS]);
  });
});

describe(`VCPUOP_stop_periodic_timer (${DOM}; ${SC} vcpu_set_periodic_timer)`, () => {
  test('stops the ticks and returns 0', () => {
    const g = quiet({ guestType: 'pvhvm' });
    const port = timerVirq(g);
    periodic(g, 10n * MS);
    expect(firings(g, port, 12n * MS)).toEqual([10n * MS]);
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_periodic_timer, 0)).toBe(0n);
    expect(firings(g, port, 100n * MS)).toEqual([]);
  });

  test('the time of the last event is kept: a period set again later fires at once if it has passed', () => {
    const g = quiet({ guestType: 'pvhvm' });
    const port = timerVirq(g);
    periodic(g, 10n * MS);
    firings(g, port, 12n * MS);
    vcpuOp(g, VCPUOP.VCPUOP_stop_periodic_timer, 0);
    g.advance(13n * MS);
    periodic(g, 10n * MS);
    expect(firings(g, port, 40n * MS)).toEqual([25n * MS, 35n * MS]);
  });

  test('another vCPU\'s periodic timer may be stopped', () => {
    const g = new XenTestGuest();
    const p1 = timerVirq(g, 1);
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_periodic_timer, 1)).toBe(0n);
    expect(firings(g, p1, 50n * MS)).toEqual([]);
  });

  test('a vCPU that does not exist is -ENOENT', () => {
    expect(vcpuOp(quiet(), VCPUOP.VCPUOP_stop_periodic_timer, 5)).toBe(E('XEN_ENOENT'));
  });
});

describe('the PV 100 Hz ticker (xen/arch/x86/pv/domain.c pv_vcpu_initialise: periodic_period = MILLISECS(10))', () => {
  test('a PV vCPU ticks every 10 ms from boot once VIRQ_TIMER is bound', () => {
    const g = new XenTestGuest();
    const port = timerVirq(g);
    expect(firings(g, port, 35n * MS)).toEqual([10n * MS, 20n * MS, 30n * MS]);
  });

  test('each online vCPU has its own ticker', () => {
    const g = new XenTestGuest();
    const p1 = timerVirq(g, 1);
    expect(firings(g, p1, 25n * MS)).toEqual([10n * MS, 20n * MS]);
  });

  test('a PVHVM vCPU has none', () => {
    const g = new XenTestGuest({ xen: { guestType: 'pvhvm' } });
    const port = timerVirq(g);
    expect(firings(g, port, 100n * MS)).toEqual([]);
  });

  test('initialPeriodNs sets the boot period (0: none)', () => {
    const g = new XenTestGuest({ xen: { initialPeriodNs: 4n * MS } });
    const port = timerVirq(g);
    expect(firings(g, port, 13n * MS)).toEqual([4n * MS, 8n * MS, 12n * MS]);
    const h = new XenTestGuest({ xen: { initialPeriodNs: 0n } });
    expect(firings(h, timerVirq(h), 100n * MS)).toEqual([]);
  });

  test('a PV vCPU that starts down has the 10 ms period too: brought up later, it ticks at once and every 10 ms', () => {
    const g = new XenTestGuest({ vcpus: 2, online: [0] });
    const p1 = timerVirq(g, 1);
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 1, g.alloc(VCPU_GUEST_CONTEXT_SIZE))).toBe(0n);
    g.advance(25n * MS);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 1)).toBe(0n);
    expect(firings(g, p1, 50n * MS)).toEqual([25n * MS, 35n * MS, 45n * MS]);
  });
});
