import { decodeStruct, encodeStruct, xenAbi, type MachineEvent, type StructLayout, type WorldOptions } from '../../sut/index';
import { PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

const { VCPUOP, RUNSTATE, EVTCHNOP, VIRQ, SCHEDOP, XEN_ERRNO, SHUTDOWN, VCPU_GUEST_CONTEXT_SIZE } = xenAbi;
const { vcpu_register_vcpu_info, vcpu_runstate_info, vcpu_set_periodic_timer, vcpu_set_singleshot_timer, evtchn_bind_ipi, evtchn_bind_virq, evtchn_port_arg, multicall_entry } = xenAbi;

const DOM = 'xen/common/domain.c common_vcpu_op';
const X86 = 'xen/arch/x86/domain.c do_vcpu_op';
const BAD_PTR = 0x7fff_f000_0000n;
const MS = 1_000_000n;
const ALL = (1n << 64n) - 1n;
const E = (name: keyof typeof XEN_ERRNO): bigint => -BigInt(XEN_ERRNO[name]);
type Profile = (typeof PAIR_PROFILES)[number];

/** A pair (PV vCPUs without the 100 Hz ticker) whose Xen-world events are logged in the Xen model tests' notation. */
function guest(profile: Profile, opts: WorldOptions = {}): { g: PairGuest; log: () => string[] } {
  const g = new PairGuest({ ...opts, xen: { initialPeriodNs: 0n, ...opts.xen }, viridian: { profile } });
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

/** A struct stored by the vCPU that will pass it. */
function put<L extends StructLayout>(g: PairGuest, layout: L, value: Partial<Record<keyof L['fields'], number | bigint>>, vcpu = 0): bigint {
  const at = g.alloc(layout.size);
  g.write(at, encodeStruct(layout, value), vcpu);
  return at;
}
const vcpuOp = (g: PairGuest, cmd: number, vcpu: number | bigint, arg: bigint = 0n, caller = 0) => g.retOn(caller, 'vcpu_op', cmd, vcpu, arg);
const ctx = (g: PairGuest, hvm = false) => g.alloc(hvm ? 128 : VCPU_GUEST_CONTEXT_SIZE);
const state = (g: PairGuest, v: number) => g.pair.xen.machine.vcpus[v]?.state;
const u32At = (g: PairGuest, at: bigint) => new DataView(g.read(at, 4).buffer).getUint32(0, true);
function ipi(g: PairGuest, vcpu: number, caller = 0): number {
  const at = put(g, evtchn_bind_ipi, { vcpu }, caller);
  expect(g.retOn(caller, 'event_channel_op', EVTCHNOP.EVTCHNOP_bind_ipi, at)).toBe(0n);
  return u32At(g, at + 4n);
}
function timerVirq(g: PairGuest, vcpu: number): number {
  const at = g.put(evtchn_bind_virq, { virq: VIRQ.VIRQ_TIMER, vcpu });
  expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_virq, at)).toBe(0n);
  return u32At(g, at + 8n);
}
const send = (g: PairGuest, port: number, from = 0) => expect(g.retOn(from, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, put(g, evtchn_port_arg, { port }, from))).toBe(0n);
const register = (g: PairGuest, vcpu: number, mfn: bigint, offset: number, caller = 0) => vcpuOp(g, VCPUOP.VCPUOP_register_vcpu_info, vcpu, put(g, vcpu_register_vcpu_info, { mfn, offset }, caller), caller);
const runstate = (g: PairGuest, vcpu: number) => {
  const at = g.alloc(vcpu_runstate_info.size);
  expect(vcpuOp(g, VCPUOP.VCPUOP_get_runstate_info, vcpu, at)).toBe(0n);
  return decodeStruct(g.read(at, vcpu_runstate_info.size), vcpu_runstate_info);
};
/** A vcpu_info anywhere in guest memory: upcall_pending, upcall_mask, pending_sel. */
function info(g: PairGuest, gpa: number): { pending: number; mask: number; sel: bigint } {
  const b = g.read(gpa, 16);
  return { pending: b[0] ?? 0, mask: b[1] ?? 0, sel: new DataView(b.buffer, b.byteOffset).getBigUint64(8, true) };
}
/** The upcall handler for a vcpu_info at `gpa`: clear upcall_pending and the selector (and unmask), as the vCPU itself. */
const ack = (g: PairGuest, vcpu: number, gpa: number) => g.write(gpa, new Uint8Array(16), vcpu);
const sharedInfo = (g: PairGuest): number => g.pair.xen.xen.memoryMap.sharedInfoGfn * 4096;
const pending = (g: PairGuest, port: number) => (((g.read(sharedInfo(g) + xenAbi.SHARED_INFO.evtchn_pending + (port >> 3), 1)[0] ?? 0) >> (port & 7)) & 1) === 1;
/** Clears vCPU `v`'s upcall mask in shared_info, stored by a running vCPU `by`. */
const unmaskFrom = (g: PairGuest, v: number, by: number) => g.write(sharedInfo(g) + 64 * v + 1, Uint8Array.of(0), by);

describe.each(PAIR_PROFILES)('vcpu_op agrees (Viridian %s)', (profile) => {
  test(`dispatch: -ENOENT before the cmd, vcpuid is unsigned int, unknown cmd -ENOSYS, send_nmi, get_physid, unmodelled areas (${X86})`, () => {
    const { g } = guest(profile);
    expect([vcpuOp(g, VCPUOP.VCPUOP_is_up, 2), vcpuOp(g, 99, 2), vcpuOp(g, VCPUOP.VCPUOP_is_up, 0xffff_ffff)]).toEqual([E('XEN_ENOENT'), E('XEN_ENOENT'), E('XEN_ENOENT')]);
    expect(vcpuOp(g, VCPUOP.VCPUOP_is_up, 0x1_0000_0001n)).toBe(1n);
    expect(vcpuOp(g, 16, 0)).toBe(E('XEN_ENOSYS'));
    expect(vcpuOp(g, VCPUOP.VCPUOP_send_nmi, 1, 0x1000n)).toBe(E('XEN_EINVAL'));
    expect(vcpuOp(g, VCPUOP.VCPUOP_get_physid, 0, 0x1000n)).toBe(E('XEN_EINVAL'));
    for (const cmd of [VCPUOP.VCPUOP_send_nmi, VCPUOP.VCPUOP_register_runstate_memory_area, VCPUOP.VCPUOP_register_vcpu_time_memory_area, VCPUOP.VCPUOP_register_runstate_phys_area, VCPUOP.VCPUOP_register_vcpu_time_phys_area]) {
      const step = g.callOn(0, 'vcpu_op', cmd, cmd === VCPUOP.VCPUOP_send_nmi ? 1 : 0, cmd === VCPUOP.VCPUOP_send_nmi ? 0 : g.alloc(16));
      expect([step.xen.kind, step.translated.kind]).toEqual(['unimplemented', 'unimplemented']);
    }
  });

  test.each(['pv', 'pvhvm'] as const)(`%s: initialise then up brings a vCPU that starts down online; up without initialise -EINVAL; -EEXIST, -EFAULT (${DOM})`, (guestType) => {
    const hvm = guestType === 'pvhvm';
    const { g, log } = guest(profile, { vcpus: 4, online: [0, 1], xen: { guestType } });
    expect([0, 1, 2, 3].map((v) => vcpuOp(g, VCPUOP.VCPUOP_is_up, v))).toEqual([1n, 1n, 0n, 0n]);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 2)).toBe(E('XEN_EINVAL'));
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 2, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 1, ctx(g, hvm))).toBe(E('XEN_EEXIST'));
    g.advance(700);
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 2, ctx(g, hvm))).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 2, ctx(g, hvm))).toBe(E('XEN_EEXIST'));
    expect(state(g, 2)).toBe('down');
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 2, 0n, 1)).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 2)).toBe(0n); // already up
    expect([state(g, 2), log()]).toEqual(['running', ['v2 down->running @700']]);
    // The new vCPU takes IPIs and makes calls.
    g.setUpcallMask(2, 0);
    expect(g.retOn(2, 'sched_op', SCHEDOP.SCHEDOP_yield, 0)).toBe(0n);
    send(g, ipi(g, 2), 0);
    expect(log()).toEqual(hvm ? [] : ['upcall v2 @700']); // a PVHVM guest without a callback gets no upcall
  });

  test.each(['pv', 'pvhvm'] as const)(`%s: vCPUs 32 and 66 start down; PV needs a vcpu_info first (-EINVAL), then up, IPI, down and up again (${DOM})`, (guestType) => {
    const hvm = guestType === 'pvhvm';
    const { g, log } = guest(profile, { vcpus: 70, online: [...Array(32).keys()], xen: { guestType } });
    for (const v of [32, 66]) {
      expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, v, ctx(g, hvm))).toBe(hvm ? 0n : E('XEN_EINVAL'));
      if (!hvm) {
        expect(register(g, v, 0x300n, 64 * (v - 32))).toBe(0n); // 4.18+: for another vCPU
        expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, v, ctx(g))).toBe(0n);
      }
      expect(vcpuOp(g, VCPUOP.VCPUOP_up, v)).toBe(0n);
    }
    expect(log()).toEqual(['v32 down->running @0', 'v66 down->running @0']);
    const port = ipi(g, 66);
    for (const round of [1, 2]) {
      g.advance(100);
      if (!hvm) ack(g, 66, 0x300 * 4096 + 64 * 34);
      send(g, port, 0);
      expect(log()).toEqual(hvm ? [] : [`upcall v66 @${100 * round}`]);
      g.write(sharedInfo(g) + xenAbi.SHARED_INFO.evtchn_pending, new Uint8Array(8));
      expect(vcpuOp(g, VCPUOP.VCPUOP_down, 66, 0n, 66)).toBe(0n);
      expect(vcpuOp(g, VCPUOP.VCPUOP_up, 66, 0n, 32)).toBe(0n); // the second time by INIT and start-up IPI
      expect(log()).toEqual([`v66 running->down @${100 * round}`, `v66 down->running @${100 * round}`]);
    }
  });

  test(`down and is_up: down, already down, a vCPU downs itself, down again then up again; events reach it afterwards (${DOM})`, () => {
    const { g, log } = guest(profile, { vcpus: 3 });
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 2)).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 2)).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 1, 0n, 1)).toBe(0n);
    expect([0, 1, 2].map((v) => vcpuOp(g, VCPUOP.VCPUOP_is_up, v))).toEqual([1n, 0n, 0n]);
    expect(log()).toEqual(['v2 running->down @0', 'v1 running->down @0']);
    const p1 = ipi(g, 1);
    unmaskFrom(g, 1, 0);
    send(g, p1);
    expect(log()).toEqual([]); // pending while down
    g.advance(300);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 1)).toBe(0n);
    expect(log()).toEqual(['v1 down->running @300', 'upcall v1 @300']);
    expect(g.handleUpcall(1)).toEqual([p1]);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 2)).toBe(0n);
    send(g, ipi(g, 2), 1);
    g.setUpcallMask(2, 0);
    expect(log()).toEqual(['v2 down->running @300', 'upcall v2 @300']);
  });

  test(`down of the last vCPU that is up powers the domain off (${DOM}: domain_shutdown(SHUTDOWN_poweroff))`, () => {
    const { g, log } = guest(profile, { vcpus: 3, online: [0, 2] });
    g.advance(1000);
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 0, 0n, 2)).toBe(0n);
    expect(g.pair.xen.machine.shutdown).toBeNull();
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 2, 0n, 2)).toBe(0n);
    expect(g.pair.xen.machine.shutdown).toEqual({ reason: SHUTDOWN.SHUTDOWN_poweroff, time: 1000n });
    expect(log()).toEqual(['v0 running->down @1000', 'shutdown 0 @1000']);
  });

  test(`a one-shot timer keeps running while its vCPU is down, also when that vCPU carried the adapter's clock (xen/common/sched/core.c)`, () => {
    const { g, log } = guest(profile, { vcpus: 3 });
    const p0 = timerVirq(g, 0);
    const p2 = timerVirq(g, 2);
    expect(g.retOn(0, 'set_timer_op', 5n * MS)).toBe(0n);
    expect(g.retOn(2, 'set_timer_op', 7n * MS + 50n)).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 0, 0n, 1)).toBe(0n);
    g.setUpcallMask(2, 0);
    g.advance(6n * MS);
    expect([pending(g, p0), pending(g, p2)]).toEqual([true, false]); // fired for the down vCPU 0
    expect(log()).toEqual(['v0 running->down @0']);
    g.advance(2n * MS);
    expect(log()).toEqual(['upcall v2 @7000050']);
    expect(g.handleUpcall(2)).toEqual([p0, p2]);
  });

  // Regression: the peer SINT used to be on VP 0 only, which a down vCPU 0 halts with interrupts off; the peer went unanswered.
  test(`dom0 binds, sends and takes events while the guest's vCPU 0 is down (dom0's event_channel_op does not depend on the guest's vCPUs)`, () => {
    const { g, log } = guest(profile);
    const a = put(g, xenAbi.evtchn_alloc_unbound, { dom: xenAbi.DOMID.DOMID_SELF, remote_dom: 0 });
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_alloc_unbound, a)).toBe(0n);
    const local = u32At(g, a + 4n);
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_vcpu, put(g, xenAbi.evtchn_bind_vcpu, { port: local, vcpu: 1 }))).toBe(0n);
    g.setUpcallMask(1, 0);
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 0, 0n, 1)).toBe(0n);
    const peer = (step: ReturnType<PairGuest['pair']['peer']>) => {
      expect(step.differences).toEqual([]);
      return step.xen;
    };
    expect(peer(g.pair.peer({ op: 'bindInterdomain', remotePort: local, remoteDom: 1 }))).toBe(1);
    send(g, local, 1);
    expect(peer(g.pair.peer({ op: 'takeEvents' }))).toEqual([1]);
    g.advance(100);
    expect(peer(g.pair.peerSend(1))).toBe(0);
    expect(log()).toEqual(['v0 running->down @0', 'upcall v1 @100']);
    expect(peer(g.pair.peer({ op: 'allocUnbound', remoteDom: 1 }))).toBe(2);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 0, 0n, 1)).toBe(0n);
  });

  test(`get_runstate_info: state, entry time and time per state, including the current one (${DOM}; vcpu_runstate_get)`, () => {
    const { g } = guest(profile, { vcpus: 3, online: [0, 2] });
    g.advance(1000);
    expect(runstate(g, 1)).toEqual({ state: RUNSTATE.RUNSTATE_offline, state_entry_time: 0n, time_running: 0n, time_runnable: 0n, time_blocked: 0n, time_offline: 1000n });
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 1, ctx(g))).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 1)).toBe(0n);
    expect(g.callOn(2, 'sched_op', SCHEDOP.SCHEDOP_block, 0).xen.kind).toBe('blocked');
    g.advance(500);
    expect(runstate(g, 1)).toMatchObject({ state: RUNSTATE.RUNSTATE_running, state_entry_time: 1000n, time_running: 500n, time_offline: 1000n });
    expect(runstate(g, 2)).toMatchObject({ state: RUNSTATE.RUNSTATE_blocked, state_entry_time: 1000n, time_running: 1000n, time_blocked: 500n });
    expect(vcpuOp(g, VCPUOP.VCPUOP_get_runstate_info, 0, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test(`set_periodic_timer on another vCPU, also a down one; stop_periodic on another vCPU; singleshot ops on another vCPU -EINVAL (${DOM})`, () => {
    const { g, log } = guest(profile, { vcpus: 3, online: [0, 1], xen: { guestType: 'pvhvm' } });
    const p2 = timerVirq(g, 2);
    g.advance(15n * MS);
    expect(vcpuOp(g, VCPUOP.VCPUOP_set_periodic_timer, 2, put(g, vcpu_set_periodic_timer, { period_ns: 10n * MS }))).toBe(0n);
    expect(pending(g, p2)).toBe(true); // a period since the last event: one at once
    g.write(sharedInfo(g) + xenAbi.SHARED_INFO.evtchn_pending, new Uint8Array(8));
    g.advance(10n * MS);
    expect([state(g, 2), pending(g, p2)]).toEqual(['down', true]);
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_periodic_timer, 2, 0n, 1)).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_periodic_timer, 3)).toBe(E('XEN_ENOENT'));
    expect(vcpuOp(g, VCPUOP.VCPUOP_set_singleshot_timer, 1, put(g, vcpu_set_singleshot_timer, { timeout_abs_ns: 50n * MS }))).toBe(E('XEN_EINVAL'));
    expect(vcpuOp(g, VCPUOP.VCPUOP_stop_singleshot_timer, 1)).toBe(E('XEN_EINVAL'));
    g.write(sharedInfo(g) + xenAbi.SHARED_INFO.evtchn_pending, new Uint8Array(8));
    g.advance(30n * MS);
    expect([pending(g, p2), log()]).toEqual([false, []]);
  });

  test(`a PV vCPU that starts down has the 10 ms period: brought up, it ticks at once and every 10 ms (xen/arch/x86/pv/domain.c)`, () => {
    const g = new PairGuest({ vcpus: 2, online: [0], viridian: { profile } });
    timerVirq(g, 1);
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 1, ctx(g))).toBe(0n);
    g.advance(25n * MS);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 1)).toBe(0n);
    g.setUpcallMask(1, 0);
    expect(g.handleUpcall(1)).toEqual([1]);
    g.advance(10n * MS);
    expect(g.handleUpcall(1)).toEqual([1]);
  });

  describe.each(['xen-4.22', 'xen-4.18'] as const)('%s register_vcpu_info (map_guest_area)', (xenProfile) => {
    test(`moves vcpu_info: old contents copied, every selector bit and the upcall set; events follow it; -EBUSY, -ENXIO, -EINVAL, -EFAULT (${DOM})`, () => {
      const { g, log } = guest(profile, { xen: { profile: xenProfile } });
      g.setUpcallMask(1, 0);
      log();
      const gpa = 0x300 * 4096 + 0x40;
      expect(register(g, 1, 0x300n, 0x40)).toBe(0n); // another running vCPU may be the target
      expect(info(g, gpa)).toEqual({ pending: 1, mask: 0, sel: ALL });
      expect(log()).toEqual(['upcall v1 @0']);
      ack(g, 1, gpa);
      send(g, ipi(g, 1));
      expect(info(g, gpa)).toEqual({ pending: 1, mask: 0, sel: 1n });
      expect(info(g, sharedInfo(g) + 64).sel).toBe(0n);
      expect(log()).toEqual(['upcall v1 @0']);
      expect(register(g, 1, 0x301n, 0)).toBe(E('XEN_EBUSY'));
      expect([register(g, 0, 0x302n, 4096 - 32), register(g, 0, 0x302n, 4)]).toEqual([E('XEN_ENXIO'), E('XEN_ENXIO')]);
      expect([register(g, 0, 3000n, 0), register(g, 0, 1n << 60n, 0)]).toEqual([E('XEN_EINVAL'), E('XEN_EINVAL')]);
      expect(vcpuOp(g, VCPUOP.VCPUOP_register_vcpu_info, 0, BAD_PTR)).toBe(E('XEN_EFAULT'));
    });
  });

  test(`xen-4.17 register_vcpu_info (map_vcpu_info): -ENXIO first, -EINVAL twice or for another running vCPU, a down one is fine (${DOM})`, () => {
    const { g, log } = guest(profile, { vcpus: 3, online: [0, 1], xen: { profile: 'xen-4.17' } });
    expect([register(g, 0, 0x300n, 4096 - 56), register(g, 0, 0x300n, 12)]).toEqual([E('XEN_ENXIO'), E('XEN_ENXIO')]);
    expect(register(g, 1, 0x300n, 0)).toBe(E('XEN_EINVAL'));
    expect(register(g, 0, 3000n, 0)).toBe(E('XEN_EINVAL'));
    expect(register(g, 2, 0x301n, 0)).toBe(0n);
    expect(info(g, 0x301 * 4096)).toEqual({ pending: 1, mask: 1, sel: ALL });
    expect(register(g, 1, 0x300n, 0x40, 1)).toBe(0n);
    expect(register(g, 1, 0x302n, 0, 1)).toBe(E('XEN_EINVAL'));
    expect(log()).toEqual([]);
  });

  test(`70 vCPUs: IPIs, an interdomain event and timers for vCPUs at 64 and above, from vCPU 0, one target or several at once (${DOM}; xen/common/multicall.c)`, () => {
    const { g, log } = guest(profile, { vcpus: 70, xen: { profile: 'xen-4.17' } });
    const vs = [2, 63, 64, 65, 69];
    const at = (v: number) => 0x300 * 4096 + ((64 * v) % 4096);
    for (const v of vs) expect(register(g, v, 0x300n, (64 * v) % 4096, v)).toBe(0n); // 4.17: only the vCPU itself
    for (const v of vs) {
      expect(info(g, at(v))).toEqual({ pending: 1, mask: 1, sel: ALL }); // shared_info's (masked) copy, or a fresh masked one
      ack(g, v, at(v));
    }
    const clear = () => {
      for (const v of vs) ack(g, v, at(v));
      g.write(sharedInfo(g) + xenAbi.SHARED_INFO.evtchn_pending, new Uint8Array(8)); // the handlers took the ports
      log();
    };
    const ports = vs.map((v) => ipi(g, v));
    expect(ports).toEqual([1, 2, 3, 4, 5]);
    g.advance(100);
    expect(log()).toEqual([]);
    send(g, ports[3] as number, 0);
    expect(log()).toEqual(['upcall v65 @100']);
    expect(info(g, at(65))).toEqual({ pending: 1, mask: 0, sel: 1n });
    clear();
    // One multicall sends to every port: the adapter signals VPs below and above 64 together.
    const list = g.alloc(vs.length * multicall_entry.size);
    ports.forEach((p, i) => g.write(list + BigInt(i * multicall_entry.size), encodeStruct(multicall_entry, { op: xenAbi.XenHypercall.event_channel_op, arg0: EVTCHNOP.EVTCHNOP_send, arg1: put(g, evtchn_port_arg, { port: p }) })));
    expect(g.ret('multicall', list, vs.length)).toBe(0n);
    expect(log().sort()).toEqual(vs.map((v) => `upcall v${v} @100`).sort());
    clear();
    expect(g.callOn(65, 'sched_op', SCHEDOP.SCHEDOP_block, 0).xen.kind).toBe('blocked');
    g.advance(900);
    send(g, ports[3] as number, 0);
    expect(log()).toEqual(['v65 running->blocked @100', 'v65 blocked->running @1000', 'v65 resumed 0 @1000', 'upcall v65 @1000']);
    clear();
    const offered = g.pair.peer({ op: 'allocUnbound', remoteDom: 1 });
    const bind = put(g, xenAbi.evtchn_bind_interdomain, { remote_dom: 0, remote_port: Number(offered.xen) });
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_interdomain, bind)).toBe(0n);
    const local = u32At(g, bind + 8n);
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_vcpu, put(g, xenAbi.evtchn_bind_vcpu, { port: local, vcpu: 64 }))).toBe(0n);
    clear();
    expect(g.pair.peerSend(Number(offered.xen)).differences).toEqual([]);
    expect(log()).toEqual(['upcall v64 @1000']);
    clear();
    // Periodic timers on vCPUs 2, 65 and 69 expire together: one timer interrupt, three wake-ups.
    for (const v of [2, 65, 69]) {
      expect(vcpuOp(g, VCPUOP.VCPUOP_set_periodic_timer, v, put(g, vcpu_set_periodic_timer, { period_ns: MS }))).toBe(0n);
      timerVirq(g, v);
    }
    g.advance(MS + 500n);
    expect(log().sort()).toEqual(['upcall v2 @1000000', 'upcall v65 @1000000', 'upcall v69 @1000000']);
  });
});
