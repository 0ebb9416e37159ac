import { EVTCHNOP } from '../abi/event_channel';
import { GNTMAP, GNTST, GNTTABOP } from '../abi/grant_table';
import { XenHypercall } from '../abi/hypercalls';
import { MMUEXT } from '../abi/mmuext';
import { SCHEDOP } from '../abi/sched';
import { XENVER } from '../abi/version';
import { DOMID } from '../abi/xen';
import { evtchn_alloc_unbound, evtchn_bind_ipi, evtchn_port_arg, gnttab_map_grant_ref, mmuext_op as mmuext_op_layout, multicall_entry } from '../abi/layouts';
import { encodeStruct, type StructValue } from '../../abi/struct';
import type { Gfn } from '../../machine/units';
import { isFault } from '../../machine/memory';
import type { XenOutcome } from '../outcome';
import type { XenProfileName } from '../profiles';
import { E, XenTestGuest, type TestGuestOptions } from '../xenTestkit';

const MC = 'xen/common/multicall.c';
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: passes guest_handle_okay, the copy faults
const NON_CANONICAL = 0x8000_0000_0000n; // fails guest_handle_okay for PV
const ENTRY = BigInt(multicall_entry.size);
const SENTINEL = 0x5a5a_5a5a_5a5a_5a5an; // what `result` holds before the call
const AA = 0xaaaa_aaaa_aaaa_aaaan;
const BLOCKED: XenOutcome = { kind: 'blocked' };

type Call = { readonly op: number | bigint; readonly args?: readonly (number | bigint)[] };
type Entry = StructValue<typeof multicall_entry>;

/** The bytes of one multicall entry, `result` set to the sentinel. */
function entryBytes(call: Call): Uint8Array {
  const a = call.args ?? [];
  return encodeStruct(multicall_entry, {
    op: BigInt(call.op),
    result: SENTINEL,
    arg0: BigInt(a[0] ?? 0),
    arg1: BigInt(a[1] ?? 0),
    arg2: BigInt(a[2] ?? 0),
    arg3: BigInt(a[3] ?? 0),
    arg4: BigInt(a[4] ?? 0),
    arg5: BigInt(a[5] ?? 0),
  });
}

/** Writes entries at `at`. */
function writeList(g: XenTestGuest, at: bigint, calls: readonly Call[]): bigint {
  calls.forEach((c, i) => g.write(at + ENTRY * BigInt(i), entryBytes(c)));
  return at;
}

/** A multicall list in guest RAM. */
const putList = (g: XenTestGuest, calls: readonly Call[]): bigint => writeList(g, g.alloc(multicall_entry.size * Math.max(calls.length, 1)), calls);

const entries = (g: XenTestGuest, at: bigint, n: number): Entry[] => Array.from({ length: n }, (_, i) => g.get(multicall_entry, at, i));
const results = (g: XenTestGuest, at: bigint, n: number): bigint[] => entries(g, at, n).map((e) => e.result);

/** The 64-bit register image of -errno, as `result` holds it. */
const U = (name: Parameters<typeof E>[0]): bigint => BigInt.asUintN(64, E(name));

// Entries the tests use.
const allocUnbound = (g: XenTestGuest) => {
  const at = g.put(evtchn_alloc_unbound, { dom: DOMID.DOMID_SELF, remote_dom: 0 });
  return { at, call: { op: XenHypercall.event_channel_op, args: [EVTCHNOP.EVTCHNOP_alloc_unbound, at] } satisfies Call };
};
const portOf = (g: XenTestGuest, at: bigint): number => g.get(evtchn_alloc_unbound, at).port;
const close = (g: XenTestGuest, port: number): Call => ({ op: XenHypercall.event_channel_op, args: [EVTCHNOP.EVTCHNOP_close, g.put(evtchn_port_arg, { port })] });
const version: Call = { op: XenHypercall.xen_version, args: [XENVER.XENVER_version, 0] };
const block: Call = { op: XenHypercall.sched_op, args: [SCHEDOP.SCHEDOP_block, 0] };
const VERSION_4_22 = (4n << 16n) | 22n;

/** A PV guest without the 100 Hz ticker. */
const quiet = (options: TestGuestOptions = {}) => new XenTestGuest({ ...options, xen: { initialPeriodNs: 0n, ...options.xen } });

/** An IPI port notifying `vcpu`, bound from vCPU `from`. */
function ipi(g: XenTestGuest, vcpu: number, from: number): number {
  const at = g.put(evtchn_bind_ipi, { vcpu });
  expect(g.retOn(from, 'event_channel_op', EVTCHNOP.EVTCHNOP_bind_ipi, at)).toBe(0n);
  return g.get(evtchn_bind_ipi, at).port;
}
const send = (g: XenTestGuest, port: number, from: number) => expect(g.retOn(from, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, g.put(evtchn_port_arg, { port }))).toBe(0n);

/** A RAM page followed by a hole (the next frame depopulated); returns the address of the hole. */
function holeAfterPage(g: XenTestGuest): bigint {
  const page = g.alloc(2 * 4096, 4096);
  const hole = page + 4096n;
  expect(g.machine.memory.depopulate(Number(hole / 4096n) as Gfn)).toBe(true);
  return hole;
}

/**
 * Maps a page of the peer read-only at guest frame `hostGfn` (as in the last event_channel_op
 * test) after the peer wrote `bytes` at its start. The guest can read it but not write it.
 */
function readOnlyPage(g: XenTestGuest, hostGfn: number, bytes: Uint8Array): bigint {
  const peerFrame = 9;
  expect(g.xen.peerActions.writePage(peerFrame, 0, bytes)).toBe(true);
  g.xen.peerActions.grantAccess(10, peerFrame, true);
  const map = g.put(gnttab_map_grant_ref, { host_addr: BigInt(hostGfn) << 12n, flags: GNTMAP.GNTMAP_host_map | GNTMAP.GNTMAP_readonly, ref: 10, dom: 0 });
  expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, map, 1)).toBe(0n);
  expect(g.get(gnttab_map_grant_ref, map).status).toBe(GNTST.GNTST_okay);
  return BigInt(hostGfn) << 12n;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe(`multicall: running the entries (${MC} do_multicall)`, () => {
  test('entries run in order, each result is written, and the multicall returns 0', () => {
    const g = new XenTestGuest();
    const a = allocUnbound(g);
    const b = allocUnbound(g);
    const list = putList(g, [a.call, b.call, version]);
    expect(g.ret('multicall', list, 3)).toBe(0n);
    expect(results(g, list, 3)).toEqual([0n, 0n, VERSION_4_22]);
    expect([portOf(g, a.at), portOf(g, b.at)]).toEqual([1, 2]);
  });

  test('a failing entry does not stop the batch; its result is the full 64-bit sign-extended -errno', () => {
    const g = new XenTestGuest();
    const a = allocUnbound(g);
    const list = putList(g, [close(g, 5), a.call, close(g, 0)]);
    expect(g.ret('multicall', list, 3)).toBe(0n);
    expect(results(g, list, 3)).toEqual([0xffff_ffff_ffff_ffean, 0n, 0xffff_ffff_ffff_ffean]);
    expect(portOf(g, a.at)).toBe(1);
  });

  test('each entry runs as the hypercall would: args[0..4] are passed, args[5] is unused', () => {
    const g = new XenTestGuest();
    const done = g.putU32s([0xdead]);
    const uops = g.put(mmuext_op_layout, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL });
    const list = putList(g, [{ op: XenHypercall.mmuext_op, args: [uops, 1, done, DOMID.DOMID_SELF, 0, 0xffff_ffffn] }]);
    expect(g.ret('multicall', list, 1)).toBe(0n);
    expect(results(g, list, 1)).toEqual([0n]);
    expect(g.machine.memory.read32(Number(done))).toBe(1);
  });

  test.each([
    ['11 (unassigned)', 11n],
    ['38 (tmem_op, absent from every table)', 38n],
    ['63 (the last slot)', 63n],
    ['64 (NR_hypercalls)', 64n],
    ['2^32 + 17 (op is a full xen_ulong_t, not truncated)', (1n << 32n) + 17n],
    ['2^64 - 1', (1n << 64n) - 1n],
  ])('op %s is -ENOSYS in result for a PV guest', (_name, op) => {
    const g = new XenTestGuest();
    const list = putList(g, [{ op, args: [0, 0] }, version]);
    expect(g.ret('multicall', list, 2)).toBe(0n);
    expect(results(g, list, 2)).toEqual([U('XEN_ENOSYS'), VERSION_4_22]);
  });

  test('an HVM guest goes through its own table: PV-only ops are -ENOSYS in result, mmuext_op keeps its HVM rule', () => {
    const g = new XenTestGuest({ xen: { guestType: 'pvhvm' } });
    const list = putList(g, [
      { op: XenHypercall.mmu_update, args: [0, 0, 0, DOMID.DOMID_SELF] },
      { op: XenHypercall.iret },
      { op: XenHypercall.update_va_mapping },
      { op: XenHypercall.mmuext_op, args: [0, 0, 0, DOMID.DOMID_SELF] },
      version,
    ]);
    expect(g.ret('multicall', list, 5)).toBe(0n);
    expect(results(g, list, 5)).toEqual([U('XEN_ENOSYS'), U('XEN_ENOSYS'), U('XEN_ENOSYS'), U('XEN_EINVAL'), VERSION_4_22]);
  });

  test('a nested multicall entry gets -EINVAL in its result without running its list; the outer multicall continues', () => {
    const g = new XenTestGuest();
    const inner = allocUnbound(g);
    const innerList = putList(g, [inner.call]);
    const after = allocUnbound(g);
    const list = putList(g, [{ op: XenHypercall.multicall, args: [innerList, 1] }, after.call]);
    expect(g.ret('multicall', list, 2)).toBe(0n);
    expect(results(g, list, 2)).toEqual([U('XEN_EINVAL'), 0n]);
    expect(results(g, innerList, 1)).toEqual([SENTINEL]);
    expect([portOf(g, inner.at), portOf(g, after.at)]).toEqual([0, 1]);
  });

  test('the in-multicall flag is cleared on return: the next multicall (and its inner list) runs', () => {
    const g = new XenTestGuest();
    const nested = putList(g, [{ op: XenHypercall.multicall, args: [putList(g, [version]), 1] }]);
    expect(g.ret('multicall', nested, 1)).toBe(0n);
    const list = putList(g, [version]);
    expect(g.ret('multicall', list, 1)).toBe(0n);
    expect(results(g, list, 1)).toEqual([VERSION_4_22]);
  });

  test('nr_calls 0 returns 0 and reads nothing, even from a NULL or unmapped list', () => {
    const g = new XenTestGuest();
    expect(g.ret('multicall', 0n, 0)).toBe(0n);
    expect(g.ret('multicall', BAD_PTR, 0)).toBe(0n);
  });

  test('only nr_calls entries run', () => {
    const g = new XenTestGuest();
    const a = allocUnbound(g);
    const list = putList(g, [version, a.call]);
    expect(g.ret('multicall', list, 1)).toBe(0n);
    expect(entries(g, list, 2)[1]).toEqual(g.get(multicall_entry, writeList(g, g.alloc(64), [a.call])));
    expect(portOf(g, a.at)).toBe(0);
  });

  test('an entry the model does not implement makes the multicall answer unimplemented', () => {
    const g = new XenTestGuest();
    expect(g.call('multicall', putList(g, [version, { op: XenHypercall.set_trap_table }]), 2)).toMatchObject({ kind: 'unimplemented' });
  });
});

describe(`multicall: the entries after the call (${MC} do_multicall, !NDEBUG corruption)`, () => {
  test('a debug build (the default) fills each processed entry with 0xAA, then writes result', () => {
    const g = new XenTestGuest();
    const list = putList(g, [{ ...version, args: [XENVER.XENVER_version, 0, 3, 4, 5, 6] }, close(g, 5)]);
    expect(g.ret('multicall', list, 2)).toBe(0n);
    expect(entries(g, list, 2)).toEqual([
      { op: AA, result: VERSION_4_22, arg0: AA, arg1: AA, arg2: AA, arg3: AA, arg4: AA, arg5: AA },
      { op: AA, result: U('XEN_EINVAL'), arg0: AA, arg1: AA, arg2: AA, arg3: AA, arg4: AA, arg5: AA },
    ]);
  });

  test('a release build leaves the entries intact except result', () => {
    const g = new XenTestGuest({ xen: { build: 'release' } });
    const calls = [{ ...version, args: [XENVER.XENVER_version, 0, 3, 4, 5, 6] }, close(g, 5)];
    const list = putList(g, calls);
    expect(g.ret('multicall', list, 2)).toBe(0n);
    const expected = calls.map((c) => g.get(multicall_entry, writeList(g, g.alloc(64), [c])));
    expect(entries(g, list, 2)).toEqual([
      { ...expected[0], result: VERSION_4_22 },
      { ...expected[1], result: U('XEN_EINVAL') },
    ]);
  });

  test('entries beyond nr_calls are not touched in a debug build', () => {
    const g = new XenTestGuest();
    const list = putList(g, [version, version]);
    expect(g.ret('multicall', list, 1)).toBe(0n);
    expect(entries(g, list, 2)[1]).toMatchObject({ op: BigInt(XenHypercall.xen_version), result: SENTINEL });
  });
});

describe(`multicall: faults (${MC} do_multicall)`, () => {
  test('an unwritable result is -EFAULT: the entry ran, earlier entries are done, later ones do not run', () => {
    const g = new XenTestGuest();
    const hostGfn = 0x300;
    const a = allocUnbound(g);
    const b = allocUnbound(g);
    const c = allocUnbound(g);
    // Entry 0 in the last slot of an ordinary RAM page, entries 1 and 2 in a page mapped read-only.
    const list = (BigInt(hostGfn) << 12n) - ENTRY;
    writeList(g, list, [a.call]);
    readOnlyPage(g, hostGfn, concat(entryBytes(b.call), entryBytes(c.call)));
    expect(g.ret('multicall', list, 3)).toBe(E('XEN_EFAULT'));
    expect(results(g, list, 1)).toEqual([0n]);
    expect([portOf(g, a.at), portOf(g, b.at), portOf(g, c.at)]).toEqual([1, 2, 0]); // entry 1's side effects stay
    // The read-only entries were neither corrupted nor given a result.
    expect(entries(g, list + ENTRY, 2).map((e) => [e.op, e.result])).toEqual([
      [BigInt(XenHypercall.event_channel_op), SENTINEL],
      [BigInt(XenHypercall.event_channel_op), SENTINEL],
    ]);
  });

  test('a list crossing into unpopulated memory is -EFAULT at the first unreadable entry; earlier entries are done', () => {
    const g = new XenTestGuest();
    const a = allocUnbound(g);
    const b = allocUnbound(g);
    const hole = holeAfterPage(g);
    const list = writeList(g, hole - 2n * ENTRY, [a.call, b.call]);
    expect(g.ret('multicall', list, 3)).toBe(E('XEN_EFAULT'));
    expect(results(g, list, 2)).toEqual([0n, 0n]);
    expect([portOf(g, a.at), portOf(g, b.at)]).toEqual([1, 2]);
  });

  test('an entry straddling into unpopulated memory is unreadable: -EFAULT and it does not run', () => {
    const g = new XenTestGuest();
    const a = allocUnbound(g);
    const hole = holeAfterPage(g);
    const list = hole - 32n;
    g.write(list, entryBytes(a.call).subarray(0, 32));
    expect(g.ret('multicall', list, 1)).toBe(E('XEN_EFAULT'));
    expect(portOf(g, a.at)).toBe(0);
  });

  test('an unreadable first entry is -EFAULT', () => {
    expect(new XenTestGuest().ret('multicall', BAD_PTR, 1)).toBe(E('XEN_EFAULT'));
    expect(new XenTestGuest({ xen: { guestType: 'pvhvm' } }).ret('multicall', BAD_PTR, 1)).toBe(E('XEN_EFAULT'));
  });

  test('PV: a list failing guest_handle_okay is -EFAULT and no entry runs', () => {
    const g = new XenTestGuest();
    expect(g.ret('multicall', NON_CANONICAL, 1)).toBe(E('XEN_EFAULT'));
    // nr_calls at or above ~0UL / 64 fails too, though the list itself is fine.
    const a = allocUnbound(g);
    const list = putList(g, [a.call]);
    expect(g.ret('multicall', list, 1n << 58n)).toBe(E('XEN_EFAULT'));
    expect(g.ret('multicall', list, (1n << 58n) - 1n)).toBe(E('XEN_EFAULT'));
    expect(portOf(g, a.at)).toBe(0);
    expect(results(g, list, 1)).toEqual([SENTINEL]);
  });

  test('after -EFAULT the in-multicall flag is cleared', () => {
    const g = new XenTestGuest();
    expect(g.ret('multicall', NON_CANONICAL, 1)).toBe(E('XEN_EFAULT'));
    expect(g.ret('multicall', BAD_PTR, 1)).toBe(E('XEN_EFAULT'));
    const list = putList(g, [version]);
    expect(g.ret('multicall', list, 1)).toBe(0n);
    expect(results(g, list, 1)).toEqual([VERSION_4_22]);
  });
});

describe(`multicall: nr_calls width by release (${MC} do_multicall; xen/include/hypercall-defs.c)`, () => {
  /** 2^32 + 1 calls over a one-entry list followed by a hole. */
  function wide(profile: XenProfileName) {
    const g = new XenTestGuest({ xen: { profile } });
    const a = allocUnbound(g);
    const hole = holeAfterPage(g);
    const list = writeList(g, hole - ENTRY, [a.call]);
    return { rc: g.ret('multicall', list, (1n << 32n) + 1n), port: portOf(g, a.at) };
  }

  test('xen-4.17 truncates nr_calls to 32 bits (uint32_t nr_calls): one entry runs and the call returns 0', () => {
    expect(wide('xen-4.17')).toEqual({ rc: 0n, port: 1 });
  });

  test('xen-4.22 takes the whole unsigned long: the second entry is read from the hole, -EFAULT', () => {
    expect(wide('xen-4.22')).toEqual({ rc: E('XEN_EFAULT'), port: 1 });
  });

  test('xen-4.18 still declared uint32_t nr_calls (unsigned long came with d2bbb0d455 in 4.20): truncated like 4.17', () => {
    expect(wide('xen-4.18')).toEqual({ rc: 0n, port: 1 });
  });

  test('xen-4.17 with nr_calls 2^32 runs nothing and returns 0', () => {
    const g = new XenTestGuest({ xen: { profile: 'xen-4.17' } });
    const a = allocUnbound(g);
    const list = putList(g, [a.call]);
    expect(g.ret('multicall', list, 1n << 32n)).toBe(0n);
    expect(portOf(g, a.at)).toBe(0);
  });
});

describe(`multicall: an entry that blocks (${MC} do_multicall preemption; xen/common/sched/core.c SCHEDOP_block)`, () => {
  test('SCHEDOP_block with no pending event blocks the multicall; the rest runs when the vCPU is woken and the call then returns 0', () => {
    const g = quiet();
    const a = allocUnbound(g);
    const b = allocUnbound(g);
    const list = putList(g, [a.call, block, b.call]);
    expect(g.call('multicall', list, 3)).toEqual(BLOCKED);
    expect(results(g, list, 3)).toEqual([0n, 0n, SENTINEL]);
    expect([portOf(g, a.at), portOf(g, b.at)]).toEqual([1, 0]);
    expect(g.eventLog()).toEqual(['v0 running->blocked @0']);

    const port = ipi(g, 0, 1); // port 2
    g.advance(1000);
    expect(g.eventLog()).toEqual([]);
    send(g, port, 1);
    expect(results(g, list, 3)).toEqual([0n, 0n, 0n]);
    expect(portOf(g, b.at)).toBe(3);
    expect(g.eventLog()).toEqual(['v0 blocked->running @1000', 'v0 resumed 0 @1000', 'upcall v0 @1000']);
  });

  test('with an event already deliverable SCHEDOP_block returns 0 at once and the multicall runs to the end', () => {
    const g = quiet();
    const port = ipi(g, 0, 0);
    g.setUpcallMask(0, 0);
    send(g, port, 1);
    g.handleUpcall(0);
    send(g, port, 1); // pending again, upcall mask clear
    g.events();
    const b = allocUnbound(g);
    const list = putList(g, [block, b.call]);
    expect(g.ret('multicall', list, 2)).toBe(0n);
    expect(results(g, list, 2)).toEqual([0n, 0n]);
    expect(g.eventLog()).toEqual([]);
  });

  test('a blocking last entry: the multicall resumes with 0 when woken', () => {
    const g = quiet();
    const port = ipi(g, 0, 1);
    const list = putList(g, [version, block]);
    expect(g.call('multicall', list, 2)).toEqual(BLOCKED);
    g.advance(50);
    send(g, port, 1);
    expect(results(g, list, 2)).toEqual([VERSION_4_22, 0n]);
    expect(g.eventLog()).toEqual(['v0 running->blocked @0', 'v0 blocked->running @50', 'v0 resumed 0 @50', 'upcall v0 @50']);
  });

  test('a fault in the entries run after the wake is what the multicall returns', () => {
    const g = quiet();
    const port = ipi(g, 0, 1);
    const hole = holeAfterPage(g);
    const list = writeList(g, hole - ENTRY, [block]);
    expect(g.call('multicall', list, 2)).toEqual(BLOCKED);
    send(g, port, 1);
    expect(g.eventLog()).toEqual(['v0 running->blocked @0', 'v0 blocked->running @0', `v0 resumed ${E('XEN_EFAULT')} @0`, 'upcall v0 @0']);
  });

  test('the continuation is still inside the multicall: a nested multicall after the wake gets -EINVAL', () => {
    const g = quiet();
    const port = ipi(g, 0, 1);
    const list = putList(g, [block, { op: XenHypercall.multicall, args: [putList(g, [version]), 1] }, version]);
    expect(g.call('multicall', list, 3)).toEqual(BLOCKED);
    send(g, port, 1);
    expect(results(g, list, 3)).toEqual([0n, U('XEN_EINVAL'), VERSION_4_22]);
  });

  test('a blocking entry whose result cannot be written: the vCPU stays blocked and the call returns -EFAULT when woken', () => {
    const g = quiet();
    const port = ipi(g, 0, 1);
    const c = allocUnbound(g);
    const list = readOnlyPage(g, 0x300, concat(entryBytes(block), entryBytes(c.call)));
    g.events();
    expect(g.call('multicall', list, 2)).toEqual(BLOCKED);
    expect(g.eventLog()).toEqual(['v0 running->blocked @0']);
    g.advance(7);
    send(g, port, 1);
    expect(g.eventLog()).toEqual(['v0 blocked->running @7', `v0 resumed ${E('XEN_EFAULT')} @7`, 'upcall v0 @7']);
    expect(portOf(g, c.at)).toBe(0);
    expect(isFault(g.machine.memory.write8(Number(list), 0))).toBe(true); // the page really is read-only
  });
});
