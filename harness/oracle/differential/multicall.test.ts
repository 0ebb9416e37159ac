import { decodeStruct, encodeStruct, xenAbi, type MachineEvent, type StructValue, type TraceEntry, type WorldOptions } from '../../sut/index';
import { PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

const { XenHypercall: H, EVTCHNOP, SCHEDOP, MMUEXT, XENMEM, GNTTABOP, GNTMAP, VCPUOP, VIRQ, DOMID, XEN_ERRNO } = xenAbi;
const { multicall_entry, mmuext_op, evtchn_alloc_unbound, evtchn_bind_ipi, evtchn_bind_virq, evtchn_port_arg, xen_memory_reservation, xen_memory_domain, gnttab_map_grant_ref, sched_poll } = xenAbi;

/* multicall in both worlds (xen/common/multicall.c do_multicall): each entry as if issued directly. */

const MC = 'xen/common/multicall.c do_multicall';
const E = (name: keyof typeof XEN_ERRNO): bigint => -BigInt(XEN_ERRNO[name]);
const U = (name: keyof typeof XEN_ERRNO): bigint => BigInt.asUintN(64, E(name));
const BAD_PTR = 0x7fff_f000_0000n;
const NON_CANONICAL = 0x8000_0000_0000n;
const SENTINEL = 0x5a5a_5a5a_5a5a_5a5an;
const AA = 0xaaaa_aaaa_aaaa_aaaan;
const ENTRY = BigInt(multicall_entry.size);
const VERSION = (4n << 16n) | 22n;
const SELF = DOMID.DOMID_SELF;

type Profile = (typeof PAIR_PROFILES)[number];
type Call = { readonly op: number | bigint; readonly args?: readonly (number | bigint)[] };
type Entry = StructValue<typeof multicall_entry>;

/** A PV guest without the 100 Hz ticker, so that only the test's own timers fire. */
const guest = (profile: Profile, options: WorldOptions = {}): PairGuest => new PairGuest({ vcpus: 2, ...options, viridian: { profile }, xen: { initialPeriodNs: 0n, ...options.xen } });

function entryBytes(call: Call): Uint8Array {
  const a = call.args ?? [];
  const v = (i: number): bigint => BigInt.asUintN(64, BigInt(a[i] ?? 0));
  return encodeStruct(multicall_entry, { op: BigInt(call.op), result: SENTINEL, arg0: v(0), arg1: v(1), arg2: v(2), arg3: v(3), arg4: v(4), arg5: v(5) });
}
const concat = (parts: readonly Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
function putList(g: PairGuest, calls: readonly Call[]): bigint {
  const at = g.alloc(multicall_entry.size * Math.max(calls.length, 1));
  g.write(at, concat(calls.map(entryBytes)));
  return at;
}
const entries = (g: PairGuest, at: bigint, n: number): Entry[] => Array.from({ length: n }, (_, i) => decodeStruct(g.read(at + ENTRY * BigInt(i), multicall_entry.size), multicall_entry));
const results = (g: PairGuest, at: bigint, n: number): bigint[] => entries(g, at, n).map((e) => e.result);
const u32 = (g: PairGuest, at: bigint): number => new DataView(g.read(at, 4).buffer).getUint32(0, true);

/** HYPERVISOR_multicall(list, n) from vCPU `vcpu`: the Xen world's outcome (equal in both). */
function multicall(g: PairGuest, list: bigint, n: number | bigint, vcpu = 0): { kind: string; value?: bigint; trace: readonly TraceEntry[] } {
  const step = g.callOn(vcpu, 'multicall', list, n);
  return { ...step.xen, trace: step.trace };
}

// Entries.
const version: Call = { op: H.xen_version, args: [0, 0] };
const block: Call = { op: H.sched_op, args: [SCHEDOP.SCHEDOP_block, 0] };
const allocUnbound = (g: PairGuest) => {
  const at = g.put(evtchn_alloc_unbound, { dom: SELF, remote_dom: 0 });
  return { port: () => u32(g, at + 4n), call: { op: H.event_channel_op, args: [EVTCHNOP.EVTCHNOP_alloc_unbound, at] } satisfies Call };
};
const close = (g: PairGuest, port: number): Call => ({ op: H.event_channel_op, args: [EVTCHNOP.EVTCHNOP_close, g.put(evtchn_port_arg, { port })] });
const mmuext = (g: PairGuest, cmd: number, arg2 = 0n): Call => ({ op: H.mmuext_op, args: [g.put(mmuext_op, { cmd, arg2 }), 1, 0, SELF] });

/** An IPI port notifying `vcpu`, bound from `from`, and a send on it. */
function ipi(g: PairGuest, vcpu: number, from: number): number {
  const at = g.put(evtchn_bind_ipi, { vcpu });
  expect(g.retOn(from, 'event_channel_op', EVTCHNOP.EVTCHNOP_bind_ipi, at)).toBe(0n);
  return u32(g, at + 4n);
}
/** EVTCHNOP_send from `from`; the argument is placed first, so that the send itself stores nothing (vCPU 0 may be blocked). */
const sender = (g: PairGuest, port: number, from: number): (() => void) => {
  const arg = g.put(evtchn_port_arg, { port });
  return () => expect(g.retOn(from, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, arg)).toBe(0n);
};
const send = (g: PairGuest, port: number, from: number): void => sender(g, port, from)();
const state = (g: PairGuest, vcpu: number): string => g.pair.xen.machine.vcpus[vcpu]?.state ?? 'none';

/** Keeps a copy of the Xen world's guest events as the pair drains them (it compares them with the translated world's). */
function eventLog(g: PairGuest): string[] {
  const log: string[] = [];
  const m = g.pair.xen.machine;
  const take = m.takeEvents.bind(m);
  const text = (e: MachineEvent): string[] => (e.kind === 'upcall' ? [`upcall v${e.vcpu} @${e.time}`] : e.kind === 'resumed' ? [`v${e.vcpu} resumed ${e.value} @${e.time}`] : []);
  m.takeEvents = () => {
    const events = take();
    log.push(...events.flatMap(text));
    return events;
  };
  return log;
}

/** dom0 grants its frame 9 read-only, holding `bytes`, and the guest maps it at `gfn`; returns its address. */
function readOnlyPage(g: PairGuest, gfn: number, bytes: Uint8Array): bigint {
  for (let off = 0; off < bytes.length; off += 64) {
    const data = Array.from(bytes.subarray(off, off + 64), (b) => b.toString(16).padStart(2, '0')).join('');
    expect(g.pair.peer({ op: 'writePage', frame: 9, offset: off, data }).differences).toEqual([]);
  }
  expect(g.pair.peer({ op: 'grantAccess', ref: 10, frame: 9, readonly: true, domid: 1 }).xen).toBe(true);
  const map = g.put(gnttab_map_grant_ref, { host_addr: BigInt(gfn) << 12n, flags: GNTMAP.GNTMAP_host_map | GNTMAP.GNTMAP_readonly, ref: 10, dom: 0 });
  expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, map, 1)).toBe(0n);
  return BigInt(gfn) << 12n;
}

/** The guest gives the frame after a fresh RAM page back; returns the hole's address. */
function holeAfterPage(g: PairGuest): bigint {
  const page = g.alloc(2 * 4096, 4096);
  const r = g.put(xen_memory_reservation, { extent_start: g.putU64s([page / 4096n + 1n]), nr_extents: 1, domid: SELF });
  expect(g.ret('memory_op', XENMEM.XENMEM_decrease_reservation, r)).toBe(1n);
  return page + 4096n;
}

describe.each(PAIR_PROFILES)('multicall agrees (%s)', (profile) => {
  test(`entries of every kind run in order, each result written; a debug build fills the rest of each entry with 0xAA (${MC})`, () => {
    const g = guest(profile);
    [0, 1].forEach((v) => g.pair.touch(v, 0n, 0x40_0000n, false));
    const a = allocUnbound(g);
    const list = putList(g, [
      a.call,
      mmuext(g, MMUEXT.MMUEXT_TLB_FLUSH_ALL),
      { op: H.memory_op, args: [XENMEM.XENMEM_increase_reservation, g.put(xen_memory_reservation, { extent_start: g.putU64s([0n]), nr_extents: 1, domid: SELF })] },
      { op: H.memory_op, args: [XENMEM.XENMEM_current_reservation, g.put(xen_memory_domain, { domid: SELF })] },
      { op: H.grant_table_op, args: [GNTTABOP.GNTTABOP_map_grant_ref, 0, 0] },
      { op: H.set_timer_op, args: [0] },
      { op: H.vcpu_op, args: [VCPUOP.VCPUOP_is_up, 1, 0] },
      { ...version, args: [0, 0, 3, 4, 5, 6] },
    ]);
    const r = multicall(g, list, 8);
    expect([r.kind, r.value, results(g, list, 8), a.port()]).toEqual(['returned', 0n, [0n, 0n, 1n, 1025n, 0n, 0n, 1n, VERSION], 1]);
    expect(entries(g, list, 8)[7]).toEqual({ op: AA, result: VERSION, arg0: AA, arg1: AA, arg2: AA, arg3: AA, arg4: AA, arg5: AA });
    expect(g.pair.xen.machine.vcpus.map((v) => v.tlb.size)).toEqual([0, 0]);
    const flushes = r.trace.filter((e) => e.kind === 'hypercall' && e.call.startsWith('HVCALL_FLUSH')).length;
    expect(flushes).toBe(profile === 'minimal' ? 0 : 1);
  });

  test(`a release build leaves the entries intact except result (${MC})`, () => {
    const g = guest(profile, { xen: { build: 'release' } });
    const calls = [{ ...version, args: [0, 0, 3, 4, 5, 6] }, close(g, 5)];
    const list = putList(g, calls);
    expect(multicall(g, list, 2).value).toBe(0n);
    const expected = calls.map((c) => decodeStruct(entryBytes(c), multicall_entry));
    expect(entries(g, list, 2)).toEqual([{ ...expected[0], result: VERSION }, { ...expected[1], result: U('XEN_EINVAL') }]);
  });

  test(`an entry failing in the middle does not stop the batch; results are 64-bit -errno; unknown ops are -ENOSYS (${MC})`, () => {
    const g = guest(profile);
    const a = allocUnbound(g);
    const b = allocUnbound(g);
    const list = putList(g, [
      a.call,
      close(g, 5),
      mmuext(g, MMUEXT.MMUEXT_MARK_SUPER),
      mmuext(g, MMUEXT.MMUEXT_TLB_FLUSH_MULTI, BAD_PTR),
      { op: H.memory_op, args: [XENMEM.XENMEM_maximum_gpfn, BAD_PTR] },
      { op: H.grant_table_op, args: [GNTTABOP.GNTTABOP_map_grant_ref, 0, 0x8000_0000] },
      { op: 11 },
      { op: 64 },
      { op: (1n << 64n) - 1n },
      b.call,
    ]);
    expect(multicall(g, list, 10).value).toBe(0n);
    const enosys = U('XEN_ENOSYS');
    expect(results(g, list, 10)).toEqual([0n, U('XEN_EINVAL'), U('XEN_EOPNOTSUPP'), U('XEN_EINVAL'), U('XEN_EFAULT'), U('XEN_EINVAL'), enosys, enosys, enosys, 0n]);
    expect([a.port(), b.port()]).toEqual([1, 2]);
  });

  test(`a nested multicall gets -EINVAL without running its list; the outer one goes on, and the flag is cleared afterwards (${MC})`, () => {
    const g = guest(profile);
    const inner = allocUnbound(g);
    const innerList = putList(g, [inner.call]);
    const after = allocUnbound(g);
    const list = putList(g, [{ op: H.multicall, args: [innerList, 1] }, after.call]);
    expect(multicall(g, list, 2).value).toBe(0n);
    expect([results(g, list, 2), results(g, innerList, 1), inner.port(), after.port()]).toEqual([[U('XEN_EINVAL'), 0n], [SENTINEL], 0, 1]);
    const again = putList(g, [version]);
    expect([multicall(g, again, 1).value, results(g, again, 1)]).toEqual([0n, [VERSION]]);
  });

  test(`SCHEDOP_block inside a multicall blocks it after flushing; the rest runs when an IPI wakes the vCPU (${MC}; xen/common/sched/core.c)`, () => {
    const g = guest(profile);
    const log = eventLog(g);
    g.pair.touch(1, 0n, 0x40_0000n, false);
    const a = allocUnbound(g);
    const b = allocUnbound(g);
    const wake = sender(g, ipi(g, 0, 1), 1);
    const list = putList(g, [a.call, mmuext(g, MMUEXT.MMUEXT_TLB_FLUSH_MULTI, g.putU64s([0b10n])), block, { op: H.multicall, args: [putList(g, [version]), 1] }, b.call, block, version]);
    expect(multicall(g, list, 7).kind).toBe('blocked');
    expect([results(g, list, 7), state(g, 0), g.pair.xen.machine.vcpus[1]?.tlb.size, a.port()]).toEqual([[0n, 0n, 0n, ...Array<bigint>(4).fill(SENTINEL)], 'blocked', 0, 2]);
    g.advance(1000);
    expect(state(g, 0)).toBe('blocked');
    wake();
    // After the wake: the nested multicall is still refused; the second block returns at once (an event is pending).
    expect([results(g, list, 7), b.port(), state(g, 0)]).toEqual([[0n, 0n, 0n, U('XEN_EINVAL'), 0n, 0n, VERSION], 3, 'running']);
    expect(log).toEqual(['v0 resumed 0 @1000', 'upcall v0 @1000']);
  });

  test(`with an event already deliverable SCHEDOP_block returns 0 at once and the multicall runs to its end (${MC})`, () => {
    const g = guest(profile);
    g.setUpcallMask(0, 0);
    const port = ipi(g, 0, 0);
    send(g, port, 1);
    expect(g.handleUpcall(0)).toEqual([port]);
    send(g, port, 1);
    const list = putList(g, [block, version]);
    expect([multicall(g, list, 2).value, results(g, list, 2)]).toEqual([0n, [0n, VERSION]]);
  });

  test(`a timer wakes a multicall blocked after set_timer_op; SCHEDOP_poll with a timeout resumes at the timeout (${MC}; xen/common/sched/core.c do_poll)`, () => {
    const g = guest(profile);
    const log = eventLog(g);
    g.setUpcallMask(0, 0);
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_virq, g.put(evtchn_bind_virq, { virq: VIRQ.VIRQ_TIMER, vcpu: 0 }))).toBe(0n);
    const list = putList(g, [{ op: H.set_timer_op, args: [g.pair.now + 1_000_050n] }, block, version]);
    expect(multicall(g, list, 3).kind).toBe('blocked');
    g.advance(999_000);
    expect([state(g, 0), results(g, list, 3)[2]]).toEqual(['blocked', SENTINEL]);
    g.advance(2_000);
    expect([state(g, 0), results(g, list, 3), log.splice(0)]).toEqual(['running', [0n, 0n, VERSION], ['v0 resumed 0 @1000050', 'upcall v0 @1000050']]);
    g.handleUpcall(0);
    const unbound = allocUnbound(g);
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_alloc_unbound, g.put(evtchn_alloc_unbound, { dom: SELF, remote_dom: 0 }))).toBe(0n);
    const poll = g.put(sched_poll, { ports: g.putU32s([2]), nr_ports: 1, timeout: g.pair.now + 500_000n });
    const polled = putList(g, [{ op: H.sched_op, args: [SCHEDOP.SCHEDOP_poll, poll] }, unbound.call]);
    expect(multicall(g, polled, 2).kind).toBe('blocked');
    g.advance(1_000_000);
    expect([state(g, 0), results(g, polled, 2), unbound.port(), log]).toEqual(['running', [0n, 0n], 3, ['v0 resumed 0 @1501000']]);
  });

  test(`on vCPU 1: a poll timeout resumes the multicall, which flushes and blocks again; an IPI finishes it (${MC}; xen/common/sched/core.c)`, () => {
    const g = guest(profile);
    const log = eventLog(g);
    const wake = sender(g, ipi(g, 1, 0), 0);
    expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_alloc_unbound, g.put(evtchn_alloc_unbound, { dom: SELF, remote_dom: 0 }))).toBe(0n);
    const poll = g.put(sched_poll, { ports: g.putU32s([2]), nr_ports: 1, timeout: 500_000n });
    const flushLocal = mmuext(g, MMUEXT.MMUEXT_TLB_FLUSH_LOCAL);
    const list = putList(g, [{ op: H.sched_op, args: [SCHEDOP.SCHEDOP_poll, poll] }, flushLocal, block, flushLocal, version]);
    g.pair.touch(1, 0n, 0x40_0000n, false);
    expect(multicall(g, list, 5, 1).kind).toBe('blocked');
    g.advance(1_000_000);
    expect([state(g, 1), results(g, list, 5), g.pair.xen.machine.vcpus[1]?.tlb.size, log]).toEqual(['blocked', [0n, 0n, 0n, SENTINEL, SENTINEL], 0, []]);
    wake();
    expect([state(g, 1), results(g, list, 5), log]).toEqual(['running', [0n, 0n, 0n, 0n, VERSION], ['v1 resumed 0 @1000000', 'upcall v1 @1000000']]);
  });

  test(`SCHEDOP_yield in a multicall asks the hypervisor for a long spin wait where the profile recommends it (${MC}; sched_op)`, () => {
    const g = guest(profile);
    const list = putList(g, [{ op: H.sched_op, args: [SCHEDOP.SCHEDOP_yield, 0] }, version]);
    const r = multicall(g, list, 2);
    expect([r.value, results(g, list, 2)]).toEqual([0n, [0n, VERSION]]);
    const calls = r.trace.flatMap((e) => (e.kind === 'hypercall' ? [e.call] : []));
    expect(calls.includes('HVCALL_NOTIFY_LONG_SPIN_WAIT')).toBe(profile !== 'minimal');
  });

  test(`faults: a list running into a hole, an unwritable result, an unreadable or out-of-range list (${MC})`, () => {
    const g = guest(profile);
    const a = allocUnbound(g);
    const b = allocUnbound(g);
    const hole = holeAfterPage(g);
    const list = hole - 2n * ENTRY;
    g.write(list, concat([entryBytes(a.call), entryBytes(b.call)]));
    expect(multicall(g, list, 3).value).toBe(E('XEN_EFAULT'));
    expect([results(g, list, 2), a.port(), b.port()]).toEqual([[0n, 0n], 1, 2]);
    const c = allocUnbound(g);
    const d = allocUnbound(g);
    const ro = readOnlyPage(g, 0x300, concat([entryBytes(c.call), entryBytes(d.call)]));
    expect(multicall(g, ro, 2).value).toBe(E('XEN_EFAULT'));
    expect([c.port(), d.port(), entries(g, ro, 2).map((e) => e.result)]).toEqual([3, 0, [SENTINEL, SENTINEL]]);
    expect([multicall(g, 0n, 0).value, multicall(g, BAD_PTR, 0).value, multicall(g, BAD_PTR, 1).value, multicall(g, NON_CANONICAL, 1).value]).toEqual([0n, 0n, E('XEN_EFAULT'), E('XEN_EFAULT')]);
    const e = allocUnbound(g);
    const one = putList(g, [e.call]);
    expect([multicall(g, one, 1n << 58n).value, e.port(), multicall(g, one, 1).value, e.port()]).toEqual([E('XEN_EFAULT'), 0, 0n, 4]);
  });

  test(`a blocking entry whose result cannot be written: the vCPU stays blocked and the call returns -EFAULT when woken (${MC})`, () => {
    const g = guest(profile);
    const log = eventLog(g);
    const wake = sender(g, ipi(g, 0, 1), 1);
    const c = allocUnbound(g);
    const list = readOnlyPage(g, 0x300, concat([entryBytes(block), entryBytes(c.call)]));
    expect(multicall(g, list, 2).kind).toBe('blocked');
    g.advance(7);
    wake();
    expect([state(g, 0), c.port(), log]).toEqual(['running', 0, [`v0 resumed ${E('XEN_EFAULT')} @7`, 'upcall v0 @7']]);
  });

  // BUG (oracle): PairGuest.put()/putU64s()/setMask() return to the guest on vCPU 0 even while vCPU 0 is blocked; the
  // reference adapter then HLTs the already halted VP 0 and the Viridian model throws (the Xen world just re-checks events).
  test(`the guest places an argument (on vCPU 1) while vCPU 0 is blocked in a multicall (${MC})`, () => {
    const g = guest(profile);
    const port = ipi(g, 0, 1);
    expect(multicall(g, putList(g, [block, version]), 2).kind).toBe('blocked');
    send(g, port, 1);
    expect(state(g, 0)).toBe('running');
  });

  test.each([
    ['xen-4.17', 0n],
    ['xen-4.18', 0n],
    ['xen-4.22', E('XEN_EFAULT')],
  ] as const)(`%s: nr_calls 2^32 + 1 is truncated to 32 bits before 4.20 (d2bbb0d455) (${MC})`, (xenProfile, rc) => {
    const g = guest(profile, { xen: { profile: xenProfile } });
    const a = allocUnbound(g);
    const list = holeAfterPage(g) - ENTRY;
    g.write(list, entryBytes(a.call));
    expect([multicall(g, list, (1n << 32n) + 1n).value, a.port()]).toEqual([rc, 1]);
  });

  test(`pvhvm: PV-only ops are -ENOSYS in result, mmuext_op is -EINVAL; a not-modelled entry is unimplemented in both worlds (${MC})`, () => {
    const g = guest(profile, { xen: { guestType: 'pvhvm' } });
    const list = putList(g, [{ op: H.mmu_update, args: [0, 0, 0, SELF] }, { op: H.iret }, { op: H.mmuext_op, args: [0, 0, 0, SELF] }, version]);
    expect(multicall(g, list, 4).value).toBe(0n);
    expect(results(g, list, 4)).toEqual([U('XEN_ENOSYS'), U('XEN_ENOSYS'), U('XEN_EINVAL'), VERSION]);
    const pv = guest(profile);
    const step = pv.callOn(0, 'multicall', putList(pv, [version, { op: H.set_trap_table }]), 2);
    expect([step.xen.kind, step.translated.kind]).toEqual(['unimplemented', 'unimplemented']);
  });
});
