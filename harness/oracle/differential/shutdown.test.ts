import { xenAbi, type GuestType, type TraceEntry, type ViridianProfileName, type XenProfileName } from '../../sut/index';
import { PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

/*
 * How the domain ends, in both worlds: SCHEDOP_shutdown (xen/common/sched/core.c do_sched_op,
 * xen/common/domain.c domain_shutdown), VCPUOP_down of the last vCPU (xen/common/domain.c), the
 * watchdog. The contract (harness/oracle/compare.ts compareShutdown): with the crash MSRs
 * (modern) the reason must be equal; without them (ws2008, minimal) power-off and reboot must be
 * equal and any other reason may end as power-off. The trace shows the Viridian path taken
 * (emulator/adapter/platform/shimCore.ts ShimCore.shutDown).
 */

const { SCHEDOP, SHUTDOWN, VCPUOP, DOMID, XEN_ERRNO, sched_shutdown, sched_remote_shutdown, sched_watchdog } = xenAbi;
const E = (name: keyof typeof XEN_ERRNO): bigint => -BigInt(XEN_ERRNO[name]);
const GUESTS: readonly GuestType[] = ['pv', 'pvhvm'];
const SCHED = 'xen/common/sched/core.c do_sched_op; xen/common/domain.c domain_shutdown';
const BAD_PTR = 0x7fff_f000_0000n;
const CRASH_NOTIFY = '0x8000000000000000';

type Opts = { readonly guestType?: GuestType; readonly profile?: XenProfileName; readonly build?: 'debug' | 'release'; readonly vcpus?: number };
const pair = (vp: ViridianProfileName, o: Opts = {}) =>
  new PairGuest({ vcpus: o.vcpus ?? 2, viridian: { profile: vp }, xen: { guestType: o.guestType ?? 'pv', profile: o.profile ?? 'xen-4.22', build: o.build ?? 'debug' } });
const schedOp = (g: PairGuest, cmd: number, reason: number, vcpu = 0) => g.callOn(vcpu, 'sched_op', cmd, g.put(sched_shutdown, { reason }));

/** The adapter's writes to the reset and crash MSRs in a step's trace. */
const endMsrs = (trace: readonly TraceEntry[]) =>
  trace.flatMap((e) => (e.kind === 'wrmsr' && ['HV_X64_MSR_RESET', 'HV_X64_MSR_CRASH_P0', 'HV_X64_MSR_CRASH_CTL'].includes(e.msr) ? [`${e.msr}=${e.value}`] : []));

/** What the translated world must show after the guest ended with Xen reason `reason`. */
function expectTranslatedEnd(g: PairGuest, vp: ViridianProfileName, reason: number, time: bigint, trace: readonly TraceEntry[]): void {
  const t = g.pair.translated;
  if (vp === 'modern') {
    // HV_X64_MSR_RESET for reboot, the platform's power-off for power-off, the crash MSRs with the reason in P0 for the rest.
    const viaCrash = reason > 1;
    expect(endMsrs(trace)).toEqual(reason === 0 ? [] : reason === 1 ? ['HV_X64_MSR_RESET=0x1'] : [`HV_X64_MSR_CRASH_P0=0x${reason.toString(16)}`, `HV_X64_MSR_CRASH_CTL=${CRASH_NOTIFY}`]);
    expect(t.machine.shutdown).toEqual({ reason: viaCrash ? SHUTDOWN.SHUTDOWN_crash : reason, time });
    expect(t.viridian.crash?.params[0]).toBe(viaCrash ? BigInt(reason) : undefined);
  } else {
    // No reset MSR, no crash MSRs: the platform's reset for reboot, power-off for every other reason.
    expect(endMsrs(trace)).toEqual([]);
    expect(t.machine.shutdown).toEqual({ reason: reason === 1 ? 1 : 0, time });
    expect(t.viridian.crash).toBeUndefined();
  }
}

const REASONS = [
  ['SHUTDOWN_poweroff', SHUTDOWN.SHUTDOWN_poweroff, 0],
  ['SHUTDOWN_reboot', SHUTDOWN.SHUTDOWN_reboot, 1],
  ['SHUTDOWN_suspend', SHUTDOWN.SHUTDOWN_suspend, 2],
  ['SHUTDOWN_crash', SHUTDOWN.SHUTDOWN_crash, 3],
  ['SHUTDOWN_watchdog', SHUTDOWN.SHUTDOWN_watchdog, 4],
  ['SHUTDOWN_soft_reset', SHUTDOWN.SHUTDOWN_soft_reset, 5],
  ['7 (beyond SHUTDOWN_MAX, not range-checked)', 7, 7],
  ['255', 0xff, 0xff],
  ['0x107 (passed on as a u8: 7)', 0x107, 7],
  ['0xffffffff (as a u8: 255)', 0xffff_ffff, 0xff],
] as const;

describe.each(PAIR_PROFILES)('SCHEDOP_shutdown agrees (Viridian %s)', (vp) => {
  test.each(REASONS)(`%s from vCPU 0 at 1234 ns ends the domain with that reason, for PV and PVHVM (${SCHED})`, (_name, raw, reason) => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType });
      g.advance(1234);
      const step = schedOp(g, SCHEDOP.SCHEDOP_shutdown, raw);
      expect(step.xen).toEqual({ kind: 'returned', value: 0n });
      expect(g.pair.xen.machine.shutdown).toEqual({ reason, time: 1234n });
      expectTranslatedEnd(g, vp, reason, 1234n, step.trace);
    }
  });

  test.each(['xen-4.22', 'xen-4.18', 'xen-4.17'] as const)(`%s, debug and release builds: reboot and crash end alike (${SCHED})`, (profile) => {
    for (const build of ['debug', 'release'] as const) {
      for (const reason of [SHUTDOWN.SHUTDOWN_reboot, SHUTDOWN.SHUTDOWN_crash]) {
        const g = pair(vp, { profile, build, guestType: 'pvhvm' });
        const step = schedOp(g, SCHEDOP.SCHEDOP_shutdown, reason);
        expect(g.pair.xen.machine.shutdown).toEqual({ reason, time: 0n });
        expectTranslatedEnd(g, vp, reason, 0n, step.trace);
      }
    }
  });

  test(`from vCPU 1 of a PVHVM guest with no Xen timer armed (${SCHED})`, () => {
    for (const reason of [0, 1, 3]) {
      const g = pair(vp, { guestType: 'pvhvm' });
      const step = schedOp(g, SCHEDOP.SCHEDOP_shutdown, reason, 1);
      expect(g.pair.xen.machine.shutdown).toEqual({ reason, time: 0n });
      expectTranslatedEnd(g, vp, reason, 0n, step.trace);
    }
  });

  // BUG (adapter): stopping the 100 Hz ticker posts a timer IPI to VP 0 that ShimCore.leave() sends after the power-off.
  test(`from vCPU 1 of a PV guest (its 100 Hz ticker armed): power-off, reboot and crash (${SCHED})`, () => {
    for (const reason of [0, 1, 3]) {
      const g = pair(vp);
      const step = schedOp(g, SCHEDOP.SCHEDOP_shutdown, reason, 1);
      expect(g.pair.xen.machine.shutdown).toEqual({ reason, time: 0n });
      expectTranslatedEnd(g, vp, reason, 0n, step.trace);
    }
  });

  test(`a single-vCPU guest ends alike (${SCHED})`, () => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType, vcpus: 1 });
      const step = schedOp(g, SCHEDOP.SCHEDOP_shutdown, SHUTDOWN.SHUTDOWN_watchdog);
      expect(g.pair.xen.machine.shutdown).toEqual({ reason: 4, time: 0n });
      expectTranslatedEnd(g, vp, 4, 0n, step.trace);
    }
  });

  test(`SCHEDOP_shutdown_code latches the first code (as a u8) and a later shutdown reports it; -EFAULT latches nothing (${SCHED})`, () => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType });
      expect(g.ret('sched_op', SCHEDOP.SCHEDOP_shutdown_code, BAD_PTR)).toBe(E('XEN_EFAULT'));
      expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown_code, 0x2_03).xen).toEqual({ kind: 'returned', value: 0n });
      expect(schedOp(g, SCHEDOP.SCHEDOP_shutdown_code, SHUTDOWN.SHUTDOWN_reboot).xen).toEqual({ kind: 'returned', value: 0n });
      expect([g.pair.xen.machine.shutdown, g.pair.translated.machine.shutdown]).toEqual([null, null]);
      g.advance(500);
      const step = schedOp(g, SCHEDOP.SCHEDOP_shutdown, SHUTDOWN.SHUTDOWN_poweroff);
      expect(g.pair.xen.machine.shutdown).toEqual({ reason: SHUTDOWN.SHUTDOWN_crash, time: 500n });
      expectTranslatedEnd(g, vp, SHUTDOWN.SHUTDOWN_crash, 500n, step.trace);
    }
  });

  test(`an unreadable sched_shutdown is -EFAULT and the domain keeps running (${SCHED})`, () => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType });
      expect(g.ret('sched_op', SCHEDOP.SCHEDOP_shutdown, BAD_PTR)).toBe(E('XEN_EFAULT'));
      expect([g.pair.xen.machine.shutdown, g.pair.translated.machine.shutdown]).toEqual([null, null]);
      expect(g.ret('xen_version', 0)).toBe(0x4_0016n);
    }
  });

  test(`SCHEDOP_remote_shutdown from a domU: -ESRCH for no such domain (DOMID_SELF included), -EPERM otherwise (xsm_schedop_shutdown) (${SCHED})`, () => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType });
      const remote = (domain_id: number) => g.ret('sched_op', SCHEDOP.SCHEDOP_remote_shutdown, g.put(sched_remote_shutdown, { domain_id, reason: 0 }));
      expect([remote(9), remote(DOMID.DOMID_SELF), remote(0), remote(1)]).toEqual([E('XEN_ESRCH'), E('XEN_ESRCH'), E('XEN_EPERM'), E('XEN_EPERM')]);
      expect(g.ret('sched_op', SCHEDOP.SCHEDOP_remote_shutdown, BAD_PTR)).toBe(E('XEN_EFAULT'));
      expect([g.pair.xen.machine.shutdown, g.pair.translated.machine.shutdown]).toEqual([null, null]);
    }
  });

  test(`SCHEDOP_watchdog: an expired watchdog ends the domain with SHUTDOWN_watchdog at its deadline (xen/common/sched/core.c domain_watchdog_timeout)`, () => {
    const g = pair(vp);
    expect(g.ret('sched_op', SCHEDOP.SCHEDOP_watchdog, g.put(sched_watchdog, { id: 0, timeout: 1 }))).toBe(1n);
    const step = g.pair.advanceTo(2_000_000_000n);
    expect(step.differences).toEqual([]);
    expect(g.pair.xen.machine.shutdown).toEqual({ reason: SHUTDOWN.SHUTDOWN_watchdog, time: 1_000_000_000n });
    expectTranslatedEnd(g, vp, SHUTDOWN.SHUTDOWN_watchdog, 1_000_000_000n, step.trace);
  });
});

const down = (g: PairGuest, target: number, from: number) => g.callOn(from, 'vcpu_op', VCPUOP.VCPUOP_down, target, 0);
const isUp = (g: PairGuest, target: number) => g.ret('vcpu_op', VCPUOP.VCPUOP_is_up, target, 0);

describe.each(PAIR_PROFILES)('VCPUOP_down of the last vCPU agrees (Viridian %s) (xen/common/domain.c common_vcpu_op: the last vCPU down powers the domain off)', (vp) => {
  test.each(GUESTS)('%s: vCPU 1 goes down itself, then vCPU 0: SHUTDOWN_poweroff, by the platform power-off (no reset or crash MSR)', (guestType) => {
    const g = pair(vp, { guestType });
    expect(down(g, 1, 1).xen).toEqual({ kind: 'returned', value: 0n });
    expect([g.pair.xen.machine.vcpus[1]?.state, isUp(g, 1), isUp(g, 0)]).toEqual(['down', 0n, 1n]);
    expect(down(g, 1, 0).xen).toEqual({ kind: 'returned', value: 0n }); // already down
    g.advance(3000);
    const step = down(g, 0, 0);
    expect(step.xen).toEqual({ kind: 'returned', value: 0n });
    expect(g.pair.xen.machine.shutdown).toEqual({ reason: SHUTDOWN.SHUTDOWN_poweroff, time: 3000n });
    expectTranslatedEnd(g, vp, SHUTDOWN.SHUTDOWN_poweroff, 3000n, step.trace);
  });

  test.each(GUESTS)('%s: vCPU 0 (the adapter timer VP) goes down first; then vCPU 1, the last, powers off', (guestType) => {
    const g = pair(vp, { guestType });
    expect(down(g, 0, 0).xen).toEqual({ kind: 'returned', value: 0n });
    g.advance(5000);
    expect(g.pair.xen.machine.shutdown).toBeNull();
    const step = down(g, 1, 1);
    expect(g.pair.xen.machine.shutdown).toEqual({ reason: SHUTDOWN.SHUTDOWN_poweroff, time: 5000n });
    expectTranslatedEnd(g, vp, SHUTDOWN.SHUTDOWN_poweroff, 5000n, step.trace);
  });

  test.each(GUESTS)('%s: vCPU 1 takes vCPU 0 down, then itself', (guestType) => {
    const g = pair(vp, { guestType });
    expect(down(g, 0, 1).xen).toEqual({ kind: 'returned', value: 0n });
    expect(g.pair.xen.machine.vcpus.map((v) => v.state)).toEqual(['down', 'running']);
    const step = down(g, 1, 1);
    expect(g.pair.xen.machine.shutdown).toEqual({ reason: SHUTDOWN.SHUTDOWN_poweroff, time: 0n });
    expectTranslatedEnd(g, vp, SHUTDOWN.SHUTDOWN_poweroff, 0n, step.trace);
  });

  test.each(GUESTS)('%s: the only vCPU of a one-vCPU guest goes down: power-off at once', (guestType) => {
    const g = pair(vp, { guestType, vcpus: 1 });
    g.advance(77);
    const step = down(g, 0, 0);
    expect(g.pair.xen.machine.shutdown).toEqual({ reason: SHUTDOWN.SHUTDOWN_poweroff, time: 77n });
    expectTranslatedEnd(g, vp, SHUTDOWN.SHUTDOWN_poweroff, 77n, step.trace);
  });
});
