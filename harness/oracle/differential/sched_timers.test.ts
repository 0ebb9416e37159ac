import { encodeStruct, xenAbi, type MachineEvent, type StructLayout, type WorldOptions } from '../../sut/index';
import { PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

const { EVTCHNOP, VIRQ, DOMID, XEN_ERRNO, SCHEDOP, SHUTDOWN, VCPUOP, VCPU_SSHOTTMR, HVMOP, HVM_PARAM, SHARED_INFO } = xenAbi;
const { evtchn_bind_virq, evtchn_bind_ipi, evtchn_port_arg, sched_poll, sched_shutdown, sched_watchdog, sched_remote_shutdown } = xenAbi;
const { vcpu_set_singleshot_timer, vcpu_set_periodic_timer, xen_hvm_param } = xenAbi;

const SC = 'xen/common/sched/core.c';
const { SCHEDOP_yield: YIELD, SCHEDOP_block: BLOCK, SCHEDOP_poll: POLL, SCHEDOP_shutdown: SHUTDOWN_OP, SCHEDOP_shutdown_code: CODE, SCHEDOP_watchdog: WATCHDOG } = SCHEDOP;
const BAD_PTR = 0x7fff_f000_0000n;
const NON_CANONICAL = 0x8000_0000_0000n;
const MS = 1_000_000n;
const S = 1_000_000_000n;
const FUTURE = VCPU_SSHOTTMR.VCPU_SSHOTTMR_future;
const E = (name: keyof typeof XEN_ERRNO): bigint => -BigInt(XEN_ERRNO[name]);
const EFAULT = E('XEN_EFAULT'), EINVAL = E('XEN_EINVAL'), ENOENT = E('XEN_ENOENT'), ENOSPC = E('XEN_ENOSPC'), ENOSYS = E('XEN_ENOSYS'), EPERM = E('XEN_EPERM'), ESRCH = E('XEN_ESRCH'), ETIME = E('XEN_ETIME');
type Profile = (typeof PAIR_PROFILES)[number];

/** A pair whose Xen-world events are logged in the Xen model tests' notation; PV vCPUs have no 100 Hz ticker unless asked. */
function guest(profile: Profile, opts: WorldOptions = {}, quiet = true): { g: PairGuest; log: () => string[] } {
  const g = new PairGuest({ ...opts, xen: quiet ? { initialPeriodNs: 0n, ...opts.xen } : { ...opts.xen }, viridian: { profile } });
  const m = g.pair.xen.machine;
  const take = m.takeEvents.bind(m);
  const log: string[] = [];
  const text = (e: MachineEvent): string =>
    `${e.kind === 'upcall' ? `upcall v${e.vcpu}` : e.kind === 'resumed' ? `v${e.vcpu} resumed ${e.value}` : e.kind === 'shutdown' ? `shutdown ${e.reason}` : `v${e.vcpu} ${e.from}->${e.to}`} @${e.time}`;
  m.takeEvents = () => {
    const out = take();
    log.push(...out.map(text));
    return out;
  };
  return { g, log: () => log.splice(0) };
}

/** Arguments are stored by the vCPU that makes the call (a blocked vCPU stores nothing). */
function put<L extends StructLayout>(g: PairGuest, layout: L, value: Partial<Record<keyof L['fields'], number | bigint>>, vcpu = 0): bigint {
  const at = g.alloc(layout.size);
  g.write(at, encodeStruct(layout, value), vcpu);
  return at;
}
function u32s(g: PairGuest, values: readonly number[], vcpu: number): bigint {
  const at = g.alloc(4 * Math.max(values.length, 1));
  const bytes = new Uint8Array(4 * values.length);
  values.forEach((v, i) => new DataView(bytes.buffer).setUint32(4 * i, v >>> 0, true));
  g.write(at, bytes, vcpu);
  return at;
}
/** PVHVM upcalls need a callback: HVM_PARAM_CALLBACK_IRQ of type vector (xen/arch/x86/hvm/irq.c). */
const hvmCallback = (g: PairGuest) =>
  expect(g.ret('hvm_op', HVMOP.HVMOP_set_param, g.put(xen_hvm_param, { domid: DOMID.DOMID_SELF, index: HVM_PARAM.HVM_PARAM_CALLBACK_IRQ, value: (2n << 56n) | 0xf3n }))).toBe(0n);
/** A quiet guest with VIRQ_TIMER bound and upcalls unmasked on `vcpus`. */
function ticking(profile: Profile, opts: WorldOptions = {}, vcpus: readonly number[] = [0]): { g: PairGuest; log: () => string[] } {
  const r = guest(profile, opts);
  for (const v of vcpus) {
    timerVirq(r.g, v);
    r.g.setUpcallMask(v, 0);
  }
  return r;
}
const evt = (g: PairGuest, cmd: number, at: bigint, vcpu = 0) => g.retOn(vcpu, 'event_channel_op', cmd, at);
const timerVirq = (g: PairGuest, vcpu = 0): number => {
  const at = g.put(evtchn_bind_virq, { virq: VIRQ.VIRQ_TIMER, vcpu });
  expect(evt(g, EVTCHNOP.EVTCHNOP_bind_virq, at)).toBe(0n);
  return new DataView(g.read(at + 8n, 4).buffer).getUint32(0, true);
};
const ipi = (g: PairGuest, vcpu: number): number => {
  const at = g.put(evtchn_bind_ipi, { vcpu });
  expect(evt(g, EVTCHNOP.EVTCHNOP_bind_ipi, at)).toBe(0n);
  return new DataView(g.read(at + 4n, 4).buffer).getUint32(0, true);
};
const send = (g: PairGuest, port: number, from = 1) => expect(evt(g, EVTCHNOP.EVTCHNOP_send, put(g, evtchn_port_arg, { port }, from), from)).toBe(0n);
const sched = (g: PairGuest, cmd: number | bigint, arg: bigint = 0n, vcpu = 0) => g.callOn(vcpu, 'sched_op', cmd, arg).xen;
const schedRet = (g: PairGuest, cmd: number | bigint, arg: bigint = 0n) => g.ret('sched_op', cmd, arg);
const pollRaw = (g: PairGuest, ports: bigint, nr: number, timeout = 0n, vcpu = 0) => sched(g, POLL, put(g, sched_poll, { ports, nr_ports: nr, timeout }, vcpu), vcpu);
const poll = (g: PairGuest, ports: readonly number[], timeout = 0n, vcpu = 0) => pollRaw(g, u32s(g, ports, vcpu), ports.length, timeout, vcpu);
const watchdog = (g: PairGuest, id: number, timeout: number) => schedRet(g, WATCHDOG, g.put(sched_watchdog, { id, timeout }));
const reason = (g: PairGuest, r: number) => g.put(sched_shutdown, { reason: r });
const vcpuOp = (g: PairGuest, cmd: number, vcpu: number, arg: bigint = 0n, caller = 0) => g.retOn(caller, 'vcpu_op', cmd, vcpu, arg);
const singleshot = (g: PairGuest, timeout: bigint, flags = 0, vcpu = 0, caller = vcpu) =>
  vcpuOp(g, VCPUOP.VCPUOP_set_singleshot_timer, vcpu, g.put(vcpu_set_singleshot_timer, { timeout_abs_ns: timeout, flags }), caller);
const periodic = (g: PairGuest, period: bigint, vcpu = 0, caller = 0) => vcpuOp(g, VCPUOP.VCPUOP_set_periodic_timer, vcpu, g.put(vcpu_set_periodic_timer, { period_ns: period }), caller);
const BLOCKED = { kind: 'blocked' };
const RET = (value: bigint) => ({ kind: 'returned', value });
const RET0 = RET(0n);
const state = (g: PairGuest, v: number) => g.pair.xen.machine.vcpus[v]?.state;
const si = (g: PairGuest): number => g.pair.xen.xen.memoryMap.sharedInfoGfn * 4096;
const down = (g: PairGuest) => g.pair.xen.machine.shutdown;

/**
 * Runs both worlds to `until`, stopping at every Xen timer deadline, and returns the times of
 * the upcalls on `vcpu` (whose upcall mask must be clear); the guest takes each event as it comes.
 */
function firings(g: PairGuest, log: () => string[], vcpu: number, until: bigint): bigint[] {
  const seen: bigint[] = [];
  const take = (): void => {
    for (const e of log()) {
      const m = /^upcall v(\d+) @(\d+)$/.exec(e);
      if (m && Number(m[1]) === vcpu) seen.push(BigInt(m[2] as string));
    }
    g.handleUpcall(vcpu);
  };
  take();
  for (;;) {
    const next = g.pair.xen.machine.clock.nextDeadline();
    if (next === undefined || next > until) break;
    g.advance(next > g.pair.now ? next - g.pair.now : 1n);
    take();
  }
  if (until > g.pair.now) g.advance(until - g.pair.now);
  take();
  return seen;
}

describe.each(PAIR_PROFILES)('sched_op and timers agree (Viridian %s)', (profile) => {
  test(`yield returns 0 without reading its argument; the vCPU keeps running (${SC} vcpu_yield)`, () => {
    const { g, log } = guest(profile);
    expect(sched(g, YIELD, BAD_PTR)).toEqual(RET0);
    expect(sched(g, YIELD, 0n, 1)).toEqual(RET0);
    expect([state(g, 0), state(g, 1), log()]).toEqual(['running', 'running', []]);
  });

  test(`block clears the caller's upcall mask and blocks until an event (at the send time), or returns 0 with one pending (${SC} vcpu_block_enable_events)`, () => {
    const { g, log } = guest(profile);
    const port = ipi(g, 0);
    g.advance(1000);
    expect(sched(g, BLOCK, BAD_PTR)).toEqual(BLOCKED);
    expect([g.read(si(g) + 1, 1)[0], g.read(si(g) + 65, 1)[0]]).toEqual([0, 1]); // evtchn_upcall_mask of vCPU 0 cleared, of vCPU 1 untouched
    g.advance(5000);
    expect(state(g, 0)).toBe('blocked');
    send(g, port, 1);
    expect(log()).toEqual(['v0 running->blocked @1000', 'v0 blocked->running @6000', 'v0 resumed 0 @6000', 'upcall v0 @6000']);
    expect(g.handleUpcall(0)).toEqual([port]);
    // Already pending (while masked): block returns 0 at once, then the upcall. Pending on another vCPU does not count.
    g.setUpcallMask(0, 1);
    send(g, ipi(g, 1), 1);
    send(g, port, 0);
    expect(log()).toEqual([]);
    expect(sched(g, BLOCK)).toEqual(RET0);
    expect(log()).toEqual(['upcall v0 @6000']);
    g.handleUpcall(0);
    expect(sched(g, BLOCK)).toEqual(BLOCKED);
  });

  test.each([1_234_567n, 5_000_042n, 7n * MS])(`block is woken by the one-shot timer at %d ns (set_timer_op, ${SC} do_set_timer_op)`, (deadline) => {
    const { g, log } = guest(profile);
    const port = timerVirq(g, 1);
    expect(g.retOn(1, 'set_timer_op', deadline)).toBe(0n);
    expect(sched(g, BLOCK, 0n, 1)).toEqual(BLOCKED);
    log();
    g.advance(deadline - 1n);
    expect(log()).toEqual([]);
    g.advance(10n * MS);
    expect(log()).toEqual([`v1 blocked->running @${deadline}`, `v1 resumed 0 @${deadline}`, `upcall v1 @${deadline}`]);
    expect(g.handleUpcall(1)).toEqual([port]);
  });

  test(`poll errors: nr_ports > 128 -EINVAL, unreadable ports -EFAULT, non-canonical handle -EFAULT, bad ports -EINVAL in order (${SC} do_poll)`, () => {
    const { g } = guest(profile);
    // nr_ports is checked before the handle; 128 ports are accepted; a PV handle must be canonical (guest_handle_okay).
    expect([pollRaw(g, NON_CANONICAL, 129), pollRaw(g, 0xffff_ffffn, 0xffff_ffff), pollRaw(g, BAD_PTR, 128), pollRaw(g, NON_CANONICAL, 1)]).toEqual([RET(EINVAL), RET(EINVAL), RET(EFAULT), RET(EFAULT)]);
    expect(schedRet(g, POLL, BAD_PTR)).toBe(EFAULT);
    const a = ipi(g, 0);
    for (const ports of [[64], [a + 1], [0], [a, 0xffff_ffff], [999, a]]) expect(poll(g, ports)).toEqual(RET(EINVAL));
    g.setMask(a, true);
    send(g, a);
    expect(poll(g, [a, 999])).toEqual(RET0); // a pending port before the bad one
    expect(state(g, 0)).toBe('running');
  });

  test(`poll on one port: an already pending port returns 0; the port wakes it even masked, another port does not (${SC} do_poll, evtchn_check_pollers)`, () => {
    const { g, log } = guest(profile);
    const a = ipi(g, 0);
    const b = ipi(g, 0);
    g.setMask(a, true);
    g.setMask(b, true);
    send(g, b);
    expect(poll(g, [b])).toEqual(RET0);
    expect(poll(g, [a])).toEqual(BLOCKED);
    log();
    g.advance(9);
    send(g, b);
    expect(state(g, 0)).toBe('blocked');
    g.advance(250);
    send(g, a);
    expect(log()).toEqual(['v0 blocked->running @259', 'v0 resumed 0 @259']);
    expect(g.read(si(g), 1)[0]).toBe(0); // no upcall_pending
  });

  test(`poll on several ports (and on none): any event of the domain wakes it (${SC} do_poll: poll_evtchn -1)`, () => {
    const { g, log } = guest(profile, { vcpus: 3 });
    const [a, b, c] = [ipi(g, 0), ipi(g, 0), ipi(g, 2)];
    for (const p of [a, b, c]) g.setMask(p, true);
    expect(poll(g, [a, b])).toEqual(BLOCKED);
    expect(poll(g, [], 0n, 1)).toEqual(BLOCKED);
    log();
    g.advance(4);
    send(g, c, 2);
    expect(log()).toEqual(['v0 blocked->running @4', 'v0 resumed 0 @4', 'v1 blocked->running @4', 'v1 resumed 0 @4']);
  });

  test(`poll timeouts are absolute: wake exactly then; 0 means none; past and bit 63 wake at once; a new timeout replaces the old (${SC} do_poll, poll_timer_fn)`, () => {
    const { g, log } = guest(profile);
    const a = ipi(g, 0);
    g.setMask(a, true);
    g.advance(2n * MS);
    expect(poll(g, [a], 9n * MS + 37n)).toEqual(BLOCKED);
    log();
    g.advance(7n * MS);
    expect([state(g, 0), log()]).toEqual(['blocked', []]);
    g.advance(1n * MS);
    expect(log()).toEqual(['v0 blocked->running @9000037', 'v0 resumed 0 @9000037']);
    for (const t of [1n, 0x8000_0000_0000_0000n]) {
      expect(poll(g, [a], t)).toEqual(BLOCKED);
      expect(log()).toEqual([`v0 running->blocked @${g.pair.now}`, `v0 blocked->running @${g.pair.now}`, `v0 resumed 0 @${g.pair.now}`]);
    }
    const t0 = g.pair.now;
    expect(poll(g, [], t0 + 20n * MS)).toEqual(BLOCKED);
    send(g, a);
    g.write(si(g) + SHARED_INFO.evtchn_pending, new Uint8Array(8)); // the guest takes the event
    expect(poll(g, [a], t0 + 30n * MS)).toEqual(BLOCKED);
    log();
    g.advance(25n * MS);
    expect(log()).toEqual([]);
    g.advance(5n * MS);
    expect(log()).toEqual([`v0 blocked->running @${t0 + 30n * MS}`, `v0 resumed 0 @${t0 + 30n * MS}`]);
    expect(poll(g, [a], 0n)).toEqual(BLOCKED);
    g.advance(1000n * S);
    expect(state(g, 0)).toBe('blocked');
  });

  test.each([0, 1, 2, 3, 4, 5, 0x1_07])(`shutdown with reason %d ends the domain at once (${SC} do_sched_op; xen/common/domain.c domain_shutdown)`, (r) => {
    const { g, log } = guest(profile);
    g.advance(7);
    expect(schedRet(g, SHUTDOWN_OP, reason(g, r))).toBe(0n);
    expect(down(g)).toEqual({ reason: r & 0xff, time: 7n });
    expect(log()).toEqual([`shutdown ${r & 0xff} @7`]);
    // Where the reason is not expressible (no crash MSRs: minimal, ws2008) the contract lets the translated world power off.
    const crash = g.pair.translated.viridian.crash;
    expect(crash ? Number(crash.params[0]) : g.pair.translated.machine.shutdown?.reason).toBe(profile === 'modern' || (r & 0xff) <= 1 ? r & 0xff : 0);
  });

  test(`shutdown_code latches the first code only, truncated to u8; a later shutdown reports it (${SC} do_sched_op)`, () => {
    const { g, log } = guest(profile);
    const rcs = [schedRet(g, CODE, BAD_PTR), schedRet(g, CODE, reason(g, 0x2_03)), schedRet(g, CODE, reason(g, SHUTDOWN.SHUTDOWN_reboot)), schedRet(g, SHUTDOWN_OP, BAD_PTR)];
    expect([...rcs, g.pair.xen.xen.guest.shutdownCode, down(g), log()]).toEqual([EFAULT, 0n, 0n, EFAULT, 3, null, []]);
    g.advance(S);
    expect(schedRet(g, SHUTDOWN_OP, reason(g, SHUTDOWN.SHUTDOWN_poweroff))).toBe(0n);
    expect(log()).toEqual([`shutdown 3 @${S}`]);
  });

  test(`watchdog: ids 1 and 2, then -ENOSPC; -EINVAL for ids above 2 or not in use; re-arm moves the expiry, timeout 0 destroys (${SC} domain_watchdog)`, () => {
    const { g, log } = guest(profile);
    expect(watchdog(g, 1, 30)).toBe(EINVAL);
    g.advance(MS);
    const created = [watchdog(g, 0, 10), watchdog(g, 0, 3), watchdog(g, 0, 30), watchdog(g, 3, 30), watchdog(g, 0xffff_ffff, 0), schedRet(g, WATCHDOG, BAD_PTR)];
    expect(created).toEqual([1n, 2n, ENOSPC, EINVAL, EINVAL, EFAULT]);
    expect([watchdog(g, 2, 0), watchdog(g, 2, 5)]).toEqual([0n, EINVAL]); // destroyed, then no longer in use
    g.advance(4n * S);
    expect(watchdog(g, 1, 5)).toBe(0n); // re-armed: now + 5 s
    g.advance(5n * S - 1n);
    expect(down(g)).toBeNull();
    expect(watchdog(g, 1, 0)).toBe(0n);
    g.advance(20n * S);
    expect([down(g), log()]).toEqual([null, []]);
  });

  // Regression: the adapter used to keep issuing EOI / timer WRMSRs after a timer-driven shutdown (fixed in 0dce43c).
  test(`watchdog expiry (or timeout 0) shuts the domain down with SHUTDOWN_watchdog, or the latched code, at the exact time (${SC} domain_watchdog_timeout)`, () => {
    const { g, log } = guest(profile);
    g.advance(MS);
    expect(watchdog(g, 0, 10)).toBe(1n);
    expect(watchdog(g, 0, 3)).toBe(2n);
    g.advance(3n * S - 1n);
    expect(down(g)).toBeNull();
    g.advance(1);
    expect(log()).toEqual(['shutdown 4 @3001000000']);
    g.advance(10n * S);
    const h = guest(profile);
    expect(schedRet(h.g, CODE, reason(h.g, SHUTDOWN.SHUTDOWN_reboot))).toBe(0n);
    expect(watchdog(h.g, 0, 1)).toBe(1n);
    h.g.advance(S);
    expect(h.log()).toEqual([`shutdown 1 @${S}`]);
    // Created with timeout 0, it fires at once, after the call returned its id (the timer runs in the adapter's settle()).
    const z = guest(profile);
    z.g.advance(42);
    expect(watchdog(z.g, 0, 0)).toBe(1n);
    expect(down(z.g)).toEqual({ reason: SHUTDOWN.SHUTDOWN_watchdog, time: 42n });
  });

  test(`remote_shutdown -ESRCH / -EPERM (XSM_DM_PRIV) / -EFAULT; pin_override -EPERM; unknown cmd -ENOSYS; cmd is an int (${SC} do_sched_op)`, () => {
    const { g } = guest(profile);
    const remote = (domain_id: number) => schedRet(g, SCHEDOP.SCHEDOP_remote_shutdown, g.put(sched_remote_shutdown, { domain_id, reason: 0 }));
    expect([remote(9), remote(DOMID.DOMID_SELF), remote(0), remote(1)]).toEqual([ESRCH, ESRCH, EPERM, EPERM]);
    expect(schedRet(g, SCHEDOP.SCHEDOP_remote_shutdown, BAD_PTR)).toBe(EFAULT);
    expect(schedRet(g, SCHEDOP.SCHEDOP_pin_override, BAD_PTR)).toBe(EPERM);
    expect([schedRet(g, 8, g.alloc(8)), schedRet(g, -1, g.alloc(8))]).toEqual([ENOSYS, ENOSYS]);
    expect(schedRet(g, 0x1_0000_0000 + YIELD)).toBe(0n);
    expect(schedRet(g, 0xffff_ffff_0000_0005n, reason(g, 3))).toBe(0n);
    expect([g.pair.xen.xen.guest.shutdownCode, down(g)]).toEqual([3, null]);
  });

  test(`set_timer_op: exact deadline, one-shot, re-armed later or earlier, 0 stops, past fires at once (${SC} do_set_timer_op)`, () => {
    const { g, log } = ticking(profile);
    g.advance(1000);
    expect(g.ret('set_timer_op', 5n * MS + 1n)).toBe(0n);
    expect(firings(g, log, 0, 20n * MS)).toEqual([5n * MS + 1n]);
    [40n * MS, 30n * MS].forEach((t) => g.ret('set_timer_op', t));
    expect(firings(g, log, 0, 50n * MS)).toEqual([30n * MS]);
    expect([55n * MS, 60n * MS, 0n].map((t) => g.ret('set_timer_op', t))).toEqual([0n, 0n, 0n]);
    expect(firings(g, log, 0, 100n * MS)).toEqual([]);
    g.ret('set_timer_op', 1n);
    expect(log()).toEqual([`upcall v0 @${100n * MS}`]);
  });

  test.each([
    ['-1', -1n],
    ['bit 63 alone', 0x8000_0000_0000_0000n],
    ['2^50 ns ahead', 3n * MS + (1n << 50n)],
    ['the largest s_time_t', 0x7fff_ffff_ffff_ffffn],
  ])(`set_timer_op with a timeout of %s becomes NOW() + 100 ms (${SC} do_set_timer_op)`, (_n, timeout) => {
    const { g, log } = ticking(profile);
    g.advance(3n * MS);
    expect(g.ret('set_timer_op', timeout)).toBe(0n);
    expect(firings(g, log, 0, 1000n * MS)).toEqual([103n * MS]);
  });

  test(`set_timer_op just under 2^50 ns ahead is kept as it is (${SC} do_set_timer_op)`, () => {
    const { g, log } = ticking(profile);
    const deadline = 3n * MS + (1n << 50n) - 1n;
    g.advance(3n * MS);
    g.ret('set_timer_op', deadline);
    expect(firings(g, log, 0, deadline + S)).toEqual([deadline]);
  });

  test('timers on several vCPUs fire on their own vCPU, deadlines 1 ns apart and 1 ns away (xen/common/timer.c)', () => {
    const { g, log } = ticking(profile, { vcpus: 4 }, [0, 1, 2, 3]);
    g.advance(1000);
    for (const [v, d] of [[0, 1001n], [1, 1002n], [2, 2000n], [3, 1001n]] as const) expect(g.retOn(v, 'set_timer_op', d)).toBe(0n);
    g.advance(1);
    expect(log().sort()).toEqual(['upcall v0 @1001', 'upcall v1 @1002', 'upcall v3 @1001']);
    g.advance(2000);
    expect(log()).toEqual(['upcall v2 @2000']);
  });

  test('time advances of every size (1 ns to 1 s) run a 1 ms periodic timer at every period (xen/common/sched/core.c vcpu_periodic_timer_work)', () => {
    const { g, log } = guest(profile, { xen: { guestType: 'pvhvm' } });
    hvmCallback(g);
    timerVirq(g);
    expect(periodic(g, MS)).toBe(0n);
    for (const step of [1n, 99n, 100n, 101n, 999_699n, 3n * MS, 1n, S]) {
      g.advance(step);
      g.handleUpcall(0);
    }
    // 3 ms at once: ticks at 2, 3 and 4 ms, one upcall (the port stays pending until the handler runs).
    expect(log()).toEqual(['upcall v0 @1000000', 'upcall v0 @2000000', 'upcall v0 @5000000']);
  });

  test('VCPUOP_set_periodic_timer: below 1 ms or above STIME_DELTA_MAX -EINVAL; 1 ms ticks; stop; another vCPU (xen/common/domain.c common_vcpu_op)', () => {
    const { g, log } = ticking(profile, {}, [0, 1]);
    expect([999_999n, 0n, 1n << 62n, 0x8000_0000_0000_0000n].map((p) => periodic(g, p))).toEqual([EINVAL, EINVAL, EINVAL, EINVAL]);
    expect(vcpuOp(g, VCPUOP.VCPUOP_set_periodic_timer, 0, BAD_PTR)).toBe(EFAULT);
    expect(periodic(g, MS)).toBe(0n);
    expect(firings(g, log, 0, 3n * MS + 500n)).toEqual([MS, 2n * MS, 3n * MS]);
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_periodic_timer, 0)).toBe(0n);
    expect(periodic(g, 5n * MS, 1, 0)).toBe(0n);
    expect(firings(g, log, 1, 21n * MS)).toEqual([5n * MS, 10n * MS, 15n * MS, 20n * MS]);
    expect(firings(g, log, 0, 22n * MS)).toEqual([]);
  });

  test('the PV 100 Hz ticker runs from boot on every vCPU; a PVHVM vCPU has none (xen/arch/x86/pv/domain.c)', () => {
    const pv = guest(profile, {}, false);
    timerVirq(pv.g, 1);
    pv.g.setUpcallMask(1, 0);
    expect(firings(pv.g, pv.log, 1, 35n * MS)).toEqual([10n * MS, 20n * MS, 30n * MS]);
    const hvm = guest(profile, { xen: { guestType: 'pvhvm' } }, false);
    hvmCallback(hvm.g);
    timerVirq(hvm.g, 0);
    hvm.g.setUpcallMask(0, 0);
    expect(firings(hvm.g, hvm.log, 0, 100n * MS)).toEqual([]);
  });

  test('a blocked vCPU\'s periodic timer stops; woken, it catches up with one event, then every period (sched_context_switch)', () => {
    const { g, log } = guest(profile);
    timerVirq(g, 0);
    const kick = ipi(g, 0);
    g.setUpcallMask(0, 0);
    periodic(g, 10n * MS);
    expect(firings(g, log, 0, 12n * MS)).toEqual([10n * MS]);
    expect(sched(g, BLOCK)).toEqual(BLOCKED);
    g.advance(33n * MS);
    expect(log()).toEqual(['v0 running->blocked @12000000']);
    send(g, kick, 1);
    expect(log()).toEqual(['v0 blocked->running @45000000', 'v0 resumed 0 @45000000', 'upcall v0 @45000000']);
    expect(firings(g, log, 0, 70n * MS)).toEqual([55n * MS, 65n * MS]);
  });

  describe.each(['xen-4.22', 'xen-4.18', 'xen-4.17'] as const)('%s', (xenProfile) => {
    test.each([0, FUTURE])('VCPUOP_set_singleshot_timer in the past, flags %d: 4.18+ inject VIRQ_TIMER, 4.17 -ETIME with VCPU_SSHOTTMR_future (commit 19c6cbd909)', (flags) => {
      const { g, log } = ticking(profile, { xen: { profile: xenProfile } });
      expect(singleshot(g, 50n * MS)).toBe(0n);
      g.advance(10n * MS);
      const etime = xenProfile === 'xen-4.17' && flags === FUTURE;
      expect(singleshot(g, 4n * MS, flags)).toBe(etime ? ETIME : 0n);
      // -ETIME leaves the 50 ms timer armed; otherwise VIRQ_TIMER is sent now and the 50 ms timer is gone.
      expect(firings(g, log, 0, 100n * MS)).toEqual(etime ? [50n * MS] : [10n * MS]);
    });

    test('VCPUOP_set_singleshot_timer: future deadline, NOW(), bit 63; -EINVAL for another vCPU, -ENOENT, -EFAULT; stop_singleshot (common_vcpu_op)', () => {
      const { g, log } = ticking(profile, { xen: { profile: xenProfile } });
      g.advance(MS);
      expect(singleshot(g, 7n * MS + 3n, FUTURE)).toBe(0n);
      expect(firings(g, log, 0, 20n * MS)).toEqual([7n * MS + 3n]);
      expect(singleshot(g, 20n * MS, FUTURE)).toBe(0n);
      expect(log()).toEqual(['upcall v0 @20000000']);
      g.handleUpcall(0);
      expect(singleshot(g, 0x8000_0000_0000_0000n, FUTURE)).toBe(0n);
      expect(firings(g, log, 0, 30n * MS)).toEqual([20n * MS]);
      // Another vCPU (checked before the argument is read), no such vCPU, an unreadable argument.
      expect([1, 2, 0].map((v) => vcpuOp(g, VCPUOP.VCPUOP_set_singleshot_timer, v, BAD_PTR))).toEqual([EINVAL, ENOENT, EFAULT]);
      expect(singleshot(g, 40n * MS)).toBe(0n);
      expect([1, 0].map((v) => vcpuOp(g, VCPUOP.VCPUOP_stop_singleshot_timer, v))).toEqual([EINVAL, 0n]);
      expect(firings(g, log, 0, 50n * MS)).toEqual([]);
    });
  });

  test('an HVM guest has no range check on the poll handle: with a deliverable event it returns 0 before reading (do_poll guest_handle_okay)', () => {
    const { g } = guest(profile, { xen: { guestType: 'pvhvm' } });
    hvmCallback(g);
    expect(pollRaw(g, NON_CANONICAL, 1)).toEqual(RET(EFAULT));
    send(g, ipi(g, 0), 0);
    expect(pollRaw(g, NON_CANONICAL, 1)).toEqual(RET0);
  });
});
