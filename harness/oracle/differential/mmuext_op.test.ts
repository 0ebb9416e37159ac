import { encodeStruct, xenAbi, type TlbEntry, type TraceEntry, type WorldOptions } from '../../sut/index';
import { PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

const { MMUEXT, DOMID, XEN_ERRNO, VCPUOP, SCHEDOP, XENMEM, mmuext_op, xen_memory_reservation } = xenAbi;

/*
 * MMUEXT_* in both worlds (xen/arch/x86/mm.c do_mmuext_op). The Xen world's TLBs are the
 * expected ones; the pair checks that the translated world's are a subset after every call.
 */

const MM = 'xen/arch/x86/mm.c do_mmuext_op';
const E = (name: keyof typeof XEN_ERRNO): bigint => -BigInt(XEN_ERRNO[name]);
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: passes __addr_ok, the copy faults
const NON_CANONICAL = 0x8000_0000_0000n;
const RO_M2P = 0xffff_8000_0000_0000n; // canonical, inside Xen's area (__addr_ok fails)
const ABOVE_XEN = 0xffff_8800_0000_0000n; // HYPERVISOR_VIRT_END: canonical and __addr_ok
const PREEMPTED = 0x8000_0000; // MMU_UPDATE_PREEMPTED
const SELF = DOMID.DOMID_SELF;

type Profile = (typeof PAIR_PROFILES)[number];
type Op = { readonly cmd: number; readonly arg1?: bigint; readonly arg2?: bigint };

const ng = (space: bigint, va: bigint): TlbEntry => ({ space, va, global: false });
const gl = (va: bigint): TlbEntry => ({ space: 0n, va, global: true });
/** What `filled` gives every vCPU, in snapshot order. */
const FULL: readonly TlbEntry[] = [gl(0x60_0000n), ng(0x1000n, 0x40_0000n), ng(0x1000n, 0x50_0000n), ng(0x2000n, 0x40_0000n)];
const GLOBAL_ONLY: readonly TlbEntry[] = [gl(0x60_0000n)];

const guest = (profile: Profile, options: WorldOptions = {}): PairGuest => new PairGuest({ vcpus: 2, ...options, viridian: { profile } });

/** Sets a vCPU's current address space (CR3) in both worlds. */
function setSpace(g: PairGuest, vcpu: number, space: bigint): void {
  for (const m of [g.pair.xen.machine, g.pair.translated.machine]) {
    const v = m.vcpus[vcpu];
    if (!v) throw new Error(`no vCPU ${vcpu}`);
    v.space = space;
  }
}

const fill = (g: PairGuest, vcpu: number, entries: readonly TlbEntry[]): void => entries.forEach((e) => g.pair.touch(vcpu, e.space, e.va, e.global));

/** Every vCPU in space 0x1000 with FULL cached. */
function filled(profile: Profile, options: WorldOptions = {}): PairGuest {
  const g = guest(profile, options);
  g.pair.xen.machine.vcpus.forEach((_, i) => {
    setSpace(g, i, 0x1000n);
    fill(g, i, FULL);
  });
  return g;
}

/** The Xen world's TLB of a vCPU (the translated world's is a subset of it, or the step threw). */
const tlb = (g: PairGuest, vcpu: number): TlbEntry[] => g.pair.xen.machine.vcpus[vcpu]?.tlb.snapshot() ?? [];
const tlbT = (g: PairGuest, vcpu: number): TlbEntry[] => g.pair.translated.machine.vcpus[vcpu]?.tlb.snapshot() ?? [];
/** vCPUs whose Xen-world TLB is down to its global entry. */
const flushedVcpus = (g: PairGuest, tlbOf = tlb): number[] => g.pair.xen.machine.vcpus.map((_, i) => i).filter((i) => tlbOf(g, i).length === 1);

function putOps(g: PairGuest, ops: readonly Op[]): bigint {
  const bytes = new Uint8Array(mmuext_op.size * Math.max(ops.length, 1));
  ops.forEach((op, i) => bytes.set(encodeStruct(mmuext_op, { cmd: op.cmd, arg1: op.arg1 ?? 0n, arg2: op.arg2 ?? 0n }), i * mmuext_op.size));
  const at = g.alloc(bytes.length);
  g.write(at, bytes);
  return at;
}

const readDone = (g: PairGuest, at: bigint): number => new DataView(g.read(at, 4).buffer).getUint32(0, true);

/** HYPERVISOR_mmuext_op(uops, count, pdone, foreigndom) in both worlds; must return. */
function mmuext(g: PairGuest, uops: bigint, count: number, pdone = 0n, foreigndom: number = SELF, vcpu = 0): { rc: bigint; trace: readonly TraceEntry[] } {
  const step = g.callOn(vcpu, 'mmuext_op', uops, count, pdone, foreigndom);
  if (step.xen.kind !== 'returned') throw new Error(`mmuext_op did not return: ${step.xen.kind}`);
  return { rc: step.xen.value, trace: step.trace };
}

/** A batch with DOMID_SELF and a pdone word holding 0xdead. */
function batch(g: PairGuest, ops: readonly Op[], vcpu = 0): { rc: bigint; done: number; trace: readonly TraceEntry[] } {
  const done = g.putU32s([0xdead]);
  const r = mmuext(g, putOps(g, ops), ops.length, done, SELF, vcpu);
  return { ...r, done: readDone(g, done) };
}

/** The flush hypercalls the adapter made. */
const flushCalls = (trace: readonly TraceEntry[]): string[] => trace.flatMap((e) => (e.kind === 'hypercall' && e.call.startsWith('HVCALL_FLUSH_VIRTUAL_ADDRESS') ? [e.call] : []));
/** The TLB instructions the adapter executed, as "kind@vp". */
const instructions = (trace: readonly TraceEntry[]): string[] => trace.flatMap((e) => (e.kind === 'invlpg' || e.kind === 'cr3' || e.kind === 'flush-global' ? [`${e.kind}@${e.vp}`] : []));

/** Flush hypercalls where the profile recommends them (ws2008, modern); none in 'minimal', which flushes with instructions. */
function expectFlushPath(profile: Profile, trace: readonly TraceEntry[], recommended: readonly string[], minimalInstructions: readonly string[]): void {
  if (profile === 'minimal') {
    expect(flushCalls(trace)).toEqual([]);
    expect(instructions(trace)).toEqual(minimalInstructions);
  } else {
    expect(flushCalls(trace)).toEqual(recommended);
    expect(instructions(trace)).toEqual([]);
  }
}

/** The guest gives the frame after a fresh RAM page back (decrease_reservation); returns the hole's address. */
function holeAfterPage(g: PairGuest): bigint {
  const page = g.alloc(2 * 4096, 4096);
  const hole = page + 4096n;
  const r = g.put(xen_memory_reservation, { extent_start: g.putU64s([hole / 4096n]), nr_extents: 1, domid: SELF });
  expect(g.ret('memory_op', XENMEM.XENMEM_decrease_reservation, r)).toBe(1n);
  return hole;
}

describe.each(PAIR_PROFILES)('mmuext_op agrees (%s)', (profile) => {
  const SPACE = 'HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE';
  const LIST = 'HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST';

  test(`TLB_FLUSH_LOCAL from vCPU 1 drops its non-global entries of every space and keeps the global one (${MM}, flush_tlb_local)`, () => {
    const g = filled(profile, { vcpus: 3 });
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }], 1);
    expect([r.rc, r.done]).toEqual([0n, 1]);
    expect([tlb(g, 0), tlb(g, 1), tlb(g, 2)]).toEqual([FULL, GLOBAL_ONLY, FULL]);
    expectFlushPath(profile, r.trace, [SPACE], ['cr3@1']);
  });

  test(`INVLPG_LOCAL drops the page in the current space and its global entry (${MM}, paging_invlpg)`, () => {
    const g = guest(profile);
    setSpace(g, 0, 0x1000n);
    const entries = [ng(0x1000n, 0x40_0000n), ng(0x2000n, 0x40_0000n), gl(0x40_0000n), ng(0x1000n, 0x40_1000n), gl(0x3f_f000n)];
    fill(g, 0, entries);
    fill(g, 1, entries);
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: 0x40_0abcn }]);
    expect([r.rc, r.done]).toEqual([0n, 1]);
    expect(tlb(g, 0)).toEqual([gl(0x3f_f000n), ng(0x1000n, 0x40_1000n), ng(0x2000n, 0x40_0000n)]);
    expect(tlb(g, 1)).toHaveLength(5);
    expectFlushPath(profile, r.trace, [LIST], ['invlpg@0']);
  });

  test.each([
    ['non-canonical (no-op)', NON_CANONICAL, 3],
    ["RO M2P, canonical in Xen's area (flushed: is_canonical_address only)", RO_M2P, 1],
    ["above Xen's area (flushed)", ABOVE_XEN, 1],
  ])(`INVLPG_LOCAL at an address %s (${MM})`, (_what, va, left) => {
    const g = guest(profile);
    fill(g, 0, [ng(0n, va), gl(va), ng(0n, 0x1000n)]);
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: va }]);
    expect([r.rc, r.done, tlb(g, 0).length]).toEqual([0n, 1, left]);
    expect(flushCalls(r.trace)).toEqual(left === 3 || profile === 'minimal' ? [] : [LIST]);
  });

  test(`TLB_FLUSH_MULTI flushes the vCPUs in the mask; bits at or beyond the vCPU count are ignored (${MM}, vcpumask_to_pcpumask)`, () => {
    const g = filled(profile, { vcpus: 4 });
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_MULTI, arg2: g.putU64s([(1n << 63n) | 0xfff0n | 0b1010n]) }]);
    expect([r.rc, r.done]).toEqual([0n, 1]);
    expect([0, 1, 2, 3].map((i) => tlb(g, i))).toEqual([FULL, GLOBAL_ONLY, FULL, GLOBAL_ONLY]);
    expect(flushedVcpus(g, tlbT)).toEqual([1, 3]);
    expectFlushPath(profile, r.trace, [SPACE], ['cr3@1', 'cr3@3']);
    // An empty mask flushes nothing and asks nothing of the hypervisor.
    const empty = batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_MULTI, arg2: g.putU64s([0n]) }]);
    expect([empty.rc, empty.done, flushCalls(empty.trace), instructions(empty.trace)]).toEqual([0n, 1, [], []]);
  });

  test(`INVLPG_MULTI drops the page on each selected vCPU in that vCPU's space, with its global entry (${MM})`, () => {
    const g = guest(profile, { vcpus: 3 });
    const entries = [ng(0x1000n, 0x40_0000n), ng(0x2000n, 0x40_0000n), gl(0x40_0000n), ng(0x1000n, 0x41_0000n)];
    [0, 1, 2].forEach((i) => fill(g, i, entries));
    setSpace(g, 0, 0x1000n);
    setSpace(g, 1, 0x2000n);
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_MULTI, arg1: 0x40_0008n, arg2: g.putU64s([0b011n]) }]);
    expect([r.rc, r.done]).toEqual([0n, 1]);
    expect(tlb(g, 0)).toEqual([ng(0x1000n, 0x41_0000n), ng(0x2000n, 0x40_0000n)]);
    expect(tlb(g, 1)).toEqual([ng(0x1000n, 0x40_0000n), ng(0x1000n, 0x41_0000n)]);
    expect(tlb(g, 2)).toHaveLength(4);
    expectFlushPath(profile, r.trace, [LIST], ['invlpg@0', 'invlpg@1']);
    // __addr_ok fails in Xen's area: a silent no-op that still counts, and the mask is read first.
    const noop = batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_MULTI, arg1: RO_M2P, arg2: g.putU64s([0b111n]) }]);
    expect([noop.rc, noop.done, flushCalls(noop.trace)]).toEqual([0n, 1, []]);
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_MULTI, arg1: NON_CANONICAL, arg2: BAD_PTR }]).rc).toBe(E('XEN_EINVAL'));
  });

  test(`TLB_FLUSH_ALL and INVLPG_ALL reach every vCPU of the domain (${MM})`, () => {
    const g = filled(profile, { vcpus: 3 });
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL }], 2);
    expect([r.rc, r.done, flushedVcpus(g)]).toEqual([0n, 1, [0, 1, 2]]);
    expectFlushPath(profile, r.trace, [SPACE], ['cr3@2', 'cr3@0', 'cr3@1']);
    fill(g, 0, [gl(0x70_0000n), ng(0x1000n, 0x70_0000n), ng(0x2000n, 0x70_0000n)]);
    fill(g, 1, [ng(0x1000n, 0x70_0000n)]);
    setSpace(g, 1, 0x2000n);
    const p = batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_ALL, arg1: 0x70_0fffn }]);
    expect([p.rc, p.done]).toEqual([0n, 1]);
    expect([tlb(g, 0), tlb(g, 1)]).toEqual([[...GLOBAL_ONLY, ng(0x2000n, 0x70_0000n)], [...GLOBAL_ONLY, ng(0x1000n, 0x70_0000n)]]);
    expectFlushPath(profile, p.trace, [LIST], ['invlpg@0', 'invlpg@1', 'invlpg@2']);
    expect(flushCalls(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_ALL, arg1: NON_CANONICAL }]).trace)).toEqual([]);
  });

  test(`vCPUs that are down or blocked are flushed too in the Xen world; a down vCPU comes back up agreeing (${MM}; VCPUOP_down/up)`, () => {
    const g = filled(profile, { vcpus: 4 });
    g.setUpcallMask(3, 0);
    expect(g.ret('vcpu_op', VCPUOP.VCPUOP_down, 2, 0)).toBe(0n);
    expect(g.callOn(3, 'sched_op', SCHEDOP.SCHEDOP_block, 0).xen.kind).toBe('blocked');
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_MULTI, arg2: g.putU64s([0b1110n]) }, { cmd: MMUEXT.MMUEXT_INVLPG_ALL, arg1: 0x60_0000n }]);
    expect([r.rc, r.done]).toEqual([0n, 2]);
    expect([tlb(g, 0), tlb(g, 1), tlb(g, 2), tlb(g, 3)]).toEqual([FULL.filter((e) => !e.global), [], [], []]);
    expect(g.pair.xen.machine.vcpus.map((v) => v.state)).toEqual(['running', 'running', 'down', 'blocked']);
    expect(g.ret('vcpu_op', VCPUOP.VCPUOP_up, 2, 0)).toBe(0n);
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }], 2).rc).toBe(0n);
  });

  test.each([70, 130])(`%i vCPUs: targets at 64 and above (Ex sets in modern, HV_FLUSH_ALL_PROCESSORS in ws2008, IPIs in minimal) (${MM})`, (n) => {
    const g = filled(profile, { vcpus: n });
    const words = n > 128 ? [0b10n, 0b1n | (1n << 5n), 1n] : [0b10n, 0b1n | (1n << 5n) | (1n << 63n)];
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_MULTI, arg2: g.putU64s(words) }]);
    const targets = n > 128 ? [1, 64, 69, 128] : [1, 64, 69];
    expect([r.rc, r.done, flushedVcpus(g)]).toEqual([0n, 1, targets]);
    const exact = profile !== 'ws2008';
    // ws2008 cannot name VP 64: it flushes every processor, more than Xen (allowed: a subset remains).
    expect(flushedVcpus(g, tlbT)).toEqual(exact ? targets : g.pair.xen.machine.vcpus.map((_, i) => i));
    expectFlushPath(profile, r.trace, [profile === 'modern' ? `${SPACE}_EX` : SPACE], targets.map((t) => `cr3@${t}`));
    // A page on one vCPU above 64: the Ex list in modern.
    fill(g, n - 1, [ng(0x1000n, 0x80_0000n)]);
    const last = [...Array<bigint>(Math.ceil(n / 64)).fill(0n)];
    last[last.length - 1] = 1n << BigInt((n - 1) % 64);
    const p = batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_MULTI, arg1: 0x80_0000n, arg2: g.putU64s(last) }]);
    expect([p.rc, tlb(g, n - 1)]).toEqual([0n, n > 128 ? FULL : GLOBAL_ONLY]);
    expectFlushPath(profile, p.trace, [profile === 'modern' ? `${LIST}_EX` : LIST], [`invlpg@${n - 1}`]);
    // Targets below 64 on a wide machine keep the plain forms.
    const low = batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_MULTI, arg2: g.putU64s([0b100n, 0n, 0n]) }]);
    expectFlushPath(profile, low.trace, [SPACE], ['cr3@2']);
  });

  test(`a failing op ends the batch: earlier ops took effect, *pdone counts them, later ops do not run (${MM})`, () => {
    const g = filled(profile);
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: 0x50_0000n }, { cmd: MMUEXT.MMUEXT_MARK_SUPER }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL }]);
    expect([r.rc, r.done]).toEqual([E('XEN_EOPNOTSUPP'), 1]);
    expect([tlb(g, 0), tlb(g, 1)]).toEqual([[gl(0x60_0000n), ng(0x1000n, 0x40_0000n), ng(0x2000n, 0x40_0000n)], FULL]);
    expectFlushPath(profile, r.trace, [LIST], ['invlpg@0']);
    const m = batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_MULTI, arg2: BAD_PTR }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL }]);
    expect([m.rc, m.done, flushedVcpus(g)]).toEqual([E('XEN_EINVAL'), 1, [0]]);
  });

  test(`an unreadable op in the middle is -EFAULT with the ops before it done and counted (${MM})`, () => {
    const g = guest(profile);
    fill(g, 0, [ng(0n, 0x40_0000n), ng(0n, 0x41_0000n), ng(0n, 0x42_0000n)]);
    const hole = holeAfterPage(g);
    const uops = hole - 2n * BigInt(mmuext_op.size);
    const ops = [0x40_0000n, 0x41_0000n].map((va) => encodeStruct(mmuext_op, { cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: va }));
    g.write(uops, Uint8Array.from([...(ops[0] ?? []), ...(ops[1] ?? [])]));
    const done = g.putU32s([0xdead]);
    expect(mmuext(g, uops, 3, done).rc).toBe(E('XEN_EFAULT'));
    expect([readDone(g, done), tlb(g, 0)]).toEqual([2, [ng(0n, 0x42_0000n)]]);
  });

  test(`continuations: MMU_UPDATE_PREEMPTED adds to *pdone; with NULL uops it returns foreigndom (${MM})`, () => {
    const g = filled(profile);
    const uops = putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL }, { cmd: MMUEXT.MMUEXT_MARK_SUPER }]);
    const done = g.putU32s([5]);
    expect(mmuext(g, uops, PREEMPTED | 2, done).rc).toBe(0n);
    expect([readDone(g, done), flushedVcpus(g)]).toEqual([7, [0, 1]]);
    const again = g.putU32s([5]);
    expect(mmuext(g, uops, PREEMPTED | 3, again).rc).toBe(E('XEN_EOPNOTSUPP'));
    expect(readDone(g, again)).toBe(7);
    expect([mmuext(g, 0n, PREEMPTED, 0n, 0xffff_ffea).rc, mmuext(g, 0n, PREEMPTED, 0n, 0).rc]).toEqual([-22n, 0n]);
  });

  test(`count 0, NULL and unwritable pdone, bad uops (${MM}, guest_handle_okay)`, () => {
    const g = filled(profile);
    const done = g.putU32s([0xdead]);
    expect(mmuext(g, 0n, 0, done).rc).toBe(0n);
    expect(readDone(g, done)).toBe(0);
    expect(mmuext(g, putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]), 1, BAD_PTR).rc).toBe(0n);
    expect(tlb(g, 0)).toEqual(GLOBAL_ONLY);
    const untouched = g.putU32s([0xdead]);
    expect(mmuext(g, NON_CANONICAL, 1, untouched).rc).toBe(E('XEN_EFAULT'));
    expect(readDone(g, untouched)).toBe(0xdead);
    expect(mmuext(g, ABOVE_XEN, 1, untouched).rc).toBe(E('XEN_EFAULT'));
    expect(readDone(g, untouched)).toBe(0);
  });

  test.each([
    ['DOMID_SELF | 0x10000 (only domid_t counts)', 0x1_0000 | SELF, 0n],
    ["the caller's own id", 1, E('XEN_ESRCH')],
    ['dom0 (XSM_TARGET)', 0, E('XEN_EPERM')],
    ['a domain that does not exist', 9, E('XEN_ESRCH')],
    ['DOMID_IO', DOMID.DOMID_IO, E('XEN_EPERM')],
    ['DOMID_XEN', DOMID.DOMID_XEN, E('XEN_EPERM')],
    ['DOMID_INVALID', DOMID.DOMID_INVALID, E('XEN_ESRCH')],
  ])(`foreigndom %s (${MM}; get_pg_owner)`, (_what, foreigndom, rc) => {
    const g = filled(profile);
    const done = g.putU32s([0xdead]);
    const r = mmuext(g, putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]), 1, done, foreigndom);
    expect([r.rc, readDone(g, done), tlb(g, 0)]).toEqual(rc === 0n ? [0n, 1, GLOBAL_ONLY] : [rc, 0xdead, FULL]);
  });

  test.each([
    ['MARK_SUPER', MMUEXT.MMUEXT_MARK_SUPER, 'xen-4.22', E('XEN_EOPNOTSUPP')],
    ['UNMARK_SUPER', MMUEXT.MMUEXT_UNMARK_SUPER, 'xen-4.22', E('XEN_EOPNOTSUPP')],
    ['FLUSH_CACHE', MMUEXT.MMUEXT_FLUSH_CACHE, 'xen-4.22', E('XEN_EACCES')],
    ['FLUSH_CACHE_GLOBAL on 4.22', MMUEXT.MMUEXT_FLUSH_CACHE_GLOBAL, 'xen-4.22', E('XEN_EACCES')],
    ['FLUSH_CACHE_GLOBAL on 4.17', MMUEXT.MMUEXT_FLUSH_CACHE_GLOBAL, 'xen-4.17', E('XEN_EINVAL')],
    ['unknown 14', 14, 'xen-4.22', E('XEN_ENOSYS')],
    ['unknown 0xffffffff', 0xffff_ffff, 'xen-4.22', E('XEN_ENOSYS')],
  ] as const)(`%s fails with nothing done (${MM})`, (_name, cmd, xenProfile, rc) => {
    const g = filled(profile, { xen: { profile: xenProfile } });
    const r = batch(g, [{ cmd, arg1: 0x10n }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL }]);
    expect([r.rc, r.done, flushCalls(r.trace), instructions(r.trace), tlb(g, 1)]).toEqual([rc, 0, [], [], FULL]);
  });

  test(`PV page-table ops (PIN_L1_TABLE, NEW_BASEPTR, ...) are not modelled in either world (${MM})`, () => {
    const g = guest(profile);
    for (const cmd of [MMUEXT.MMUEXT_PIN_L1_TABLE, MMUEXT.MMUEXT_NEW_BASEPTR, MMUEXT.MMUEXT_SET_LDT, MMUEXT.MMUEXT_COPY_PAGE]) {
      const step = g.callOn(0, 'mmuext_op', putOps(g, [{ cmd, arg1: 0x10n }]), 1, 0n, SELF);
      expect([step.xen.kind, step.translated.kind]).toEqual(['unimplemented', 'unimplemented']);
    }
  });

  describe('a PVHVM caller: the page owner must be a PV domain', () => {
    test.each([
      ['TLB_FLUSH_LOCAL', MMUEXT.MMUEXT_TLB_FLUSH_LOCAL],
      ['TLB_FLUSH_ALL', MMUEXT.MMUEXT_TLB_FLUSH_ALL],
      ['INVLPG_MULTI', MMUEXT.MMUEXT_INVLPG_MULTI],
      ['PIN_L1_TABLE', MMUEXT.MMUEXT_PIN_L1_TABLE],
      ['unknown 14', 14],
    ])(`%s with DOMID_SELF is -EINVAL: nothing runs, *pdone untouched, no flush (${MM})`, (_name, cmd) => {
      const g = filled(profile, { xen: { guestType: 'pvhvm' } });
      const r = batch(g, [{ cmd, arg1: 0x40_0000n, arg2: g.putU64s([3n]) }]);
      expect([r.rc, r.done, flushCalls(r.trace), instructions(r.trace), tlb(g, 0), tlb(g, 1)]).toEqual([E('XEN_EINVAL'), 0xdead, [], [], FULL, FULL]);
    });

    test(`count 0, non-canonical uops (guest_handle_okay passes for HVM), own id and dom0 (${MM})`, () => {
      const g = filled(profile, { xen: { guestType: 'pvhvm' } });
      const uops = putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]);
      expect([mmuext(g, 0n, 0).rc, mmuext(g, NON_CANONICAL, 1).rc, mmuext(g, uops, 1, 0n, 1).rc, mmuext(g, uops, 1, 0n, 0).rc]).toEqual([
        E('XEN_EINVAL'),
        E('XEN_EINVAL'),
        E('XEN_ESRCH'),
        E('XEN_EPERM'),
      ]);
    });
  });
});
