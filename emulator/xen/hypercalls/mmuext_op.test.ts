import { MMUEXT } from '../abi/mmuext';
import { DOMID } from '../abi/xen';
import { mmuext_op as mmuext_op_layout } from '../abi/layouts';
import { encodeStruct } from '../../abi/struct';
import type { TlbEntry } from '../../machine/tlb';
import type { Vcpu } from '../../machine/vcpu';
import type { Gfn } from '../../machine/units';
import { E, XenTestGuest, type TestGuestOptions } from '../xenTestkit';

const MM = 'xen/arch/x86/mm.c';
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: passes __addr_ok, the copy faults
const NON_CANONICAL = 0x8000_0000_0000n; // 2^47: neither canonical nor __addr_ok
const RO_M2P = 0xffff_8000_0000_0000n; // HYPERVISOR_VIRT_START: canonical, inside Xen's area, guest-readable (RO_MPT)
const ABOVE_XEN = 0xffff_8800_0000_0000n; // HYPERVISOR_VIRT_END: canonical and __addr_ok
const PREEMPTED = 0x8000_0000; // MMU_UPDATE_PREEMPTED
const SIZE = BigInt(mmuext_op_layout.size);

type Op = { readonly cmd: number; readonly arg1?: bigint; readonly arg2?: bigint };

/** The machine vCPU `i` (its TLB and current address space). */
function hw(g: XenTestGuest, i: number): Vcpu {
  const v = g.machine.vcpus[i];
  if (!v) throw new Error(`no vCPU ${i}`);
  return v;
}

const ng = (space: bigint, va: bigint): TlbEntry => ({ space, va, global: false });
const gl = (va: bigint): TlbEntry => ({ space: 0n, va, global: true });

/** Fills a vCPU's TLB with the given entries. */
function fill(g: XenTestGuest, vcpu: number, entries: readonly TlbEntry[]): void {
  for (const e of entries) hw(g, vcpu).tlb.fill(e.space, e.va, e.global);
}

const tlb = (g: XenTestGuest, vcpu: number): TlbEntry[] => hw(g, vcpu).tlb.snapshot();

/** Writes an array of mmuext_op structs at `at`. */
function writeOps(g: XenTestGuest, at: bigint, ops: readonly Op[]): bigint {
  ops.forEach((op, i) => g.write(at + SIZE * BigInt(i), encodeStruct(mmuext_op_layout, { cmd: op.cmd, arg1: op.arg1 ?? 0n, arg2: op.arg2 ?? 0n })));
  return at;
}

/** An array of mmuext_op structs in guest RAM. */
const putOps = (g: XenTestGuest, ops: readonly Op[]): bigint => writeOps(g, g.alloc(mmuext_op_layout.size * Math.max(ops.length, 1)), ops);

/** A pdone word holding `initial`. */
const putDone = (g: XenTestGuest, initial = 0xdead): bigint => g.putU32s([initial]);
const readDone = (g: XenTestGuest, at: bigint): number => g.machine.memory.read32(Number(at)) as number;

/** HYPERVISOR_mmuext_op(uops, count, pdone, foreigndom) from vCPU `vcpu`. */
function mmuext(g: XenTestGuest, uops: bigint, count: number, pdone: bigint = 0n, foreigndom: number = DOMID.DOMID_SELF, vcpu = 0): bigint {
  return g.retOn(vcpu, 'mmuext_op', uops, count, pdone, foreigndom);
}

/** Runs `ops` with DOMID_SELF and a pdone word; returns the return value and *pdone. */
function batch(g: XenTestGuest, ops: readonly Op[], vcpu = 0): { rc: bigint; done: number } {
  const done = putDone(g);
  const rc = mmuext(g, putOps(g, ops), ops.length, done, DOMID.DOMID_SELF, vcpu);
  return { rc, done: readDone(g, done) };
}

/** A vCPU bitmap of 64-bit words in guest RAM. */
const mask = (g: XenTestGuest, ...words: bigint[]): bigint => g.putU64s(words);

/** A RAM page followed by a hole (the next frame depopulated); returns the address of the hole. */
function holeAfterPage(g: XenTestGuest): bigint {
  const page = g.alloc(2 * 4096, 4096);
  const hole = page + 4096n;
  expect(g.machine.memory.depopulate(Number(hole / 4096n) as Gfn)).toBe(true);
  return hole;
}

/** A guest whose every vCPU has some non-global entries in two address spaces and one global entry. */
function filled(options: TestGuestOptions = {}): XenTestGuest {
  const g = new XenTestGuest(options);
  g.machine.vcpus.forEach((v, i) => {
    v.space = 0x1000n;
    fill(g, i, [ng(0x1000n, 0x40_0000n), ng(0x2000n, 0x40_0000n), ng(0x1000n, 0x50_0000n), gl(0x60_0000n)]);
  });
  return g;
}
const FULL: readonly TlbEntry[] = [gl(0x60_0000n), ng(0x1000n, 0x40_0000n), ng(0x1000n, 0x50_0000n), ng(0x2000n, 0x40_0000n)];
const GLOBAL_ONLY: readonly TlbEntry[] = [gl(0x60_0000n)];

describe(`MMUEXT_TLB_FLUSH_LOCAL (${MM} do_mmuext_op, flush_tlb_local)`, () => {
  test('drops every non-global entry of the calling vCPU, in every address space, and keeps its global entries', () => {
    const g = filled();
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }])).toEqual({ rc: 0n, done: 1 });
    expect(tlb(g, 0)).toEqual(GLOBAL_ONLY);
  });

  test('leaves the other vCPUs alone: issued from vCPU 1 it flushes vCPU 1 only', () => {
    const g = filled({ vcpus: 3 });
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }], 1).rc).toBe(0n);
    expect([tlb(g, 0), tlb(g, 1), tlb(g, 2)]).toEqual([FULL, GLOBAL_ONLY, FULL]);
  });
});

describe(`MMUEXT_INVLPG_LOCAL (${MM} do_mmuext_op, paging_invlpg)`, () => {
  test('drops the page in the current address space and its global entry; other spaces, pages and vCPUs keep theirs', () => {
    const g = new XenTestGuest();
    hw(g, 0).space = 0x1000n;
    const entries = [ng(0x1000n, 0x40_0000n), ng(0x2000n, 0x40_0000n), gl(0x40_0000n), ng(0x1000n, 0x40_1000n), gl(0x3f_f000n)];
    fill(g, 0, entries);
    fill(g, 1, entries);
    // Any address inside the page names the page.
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: 0x40_0abcn }])).toEqual({ rc: 0n, done: 1 });
    expect(tlb(g, 0)).toEqual([gl(0x3f_f000n), ng(0x1000n, 0x40_1000n), ng(0x2000n, 0x40_0000n)]);
    expect(tlb(g, 1)).toHaveLength(5);
  });

  test('follows the current address space of the calling vCPU', () => {
    const g = new XenTestGuest();
    fill(g, 0, [ng(0x1000n, 0x40_0000n), ng(0x2000n, 0x40_0000n)]);
    hw(g, 0).space = 0x2000n;
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: 0x40_0000n }]).rc).toBe(0n);
    expect(tlb(g, 0)).toEqual([ng(0x1000n, 0x40_0000n)]);
  });

  test('a non-canonical address is a silent no-op that still counts as done', () => {
    const g = new XenTestGuest();
    fill(g, 0, [ng(0n, NON_CANONICAL), gl(NON_CANONICAL), ng(0n, 0n)]);
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: NON_CANONICAL }])).toEqual({ rc: 0n, done: 1 });
    expect(tlb(g, 0)).toHaveLength(3);
  });

  test("a canonical address in Xen's area is flushed: paging_invlpg checks is_canonical_address only (the RO M2P is guest-readable)", () => {
    const g = new XenTestGuest();
    fill(g, 0, [ng(0n, RO_M2P), ng(0n, 0x1000n)]);
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: RO_M2P }]).rc).toBe(0n);
    expect(tlb(g, 0)).toEqual([ng(0n, 0x1000n)]);
  });

  test('an address above Xen\'s area (the upper guest half) is flushed', () => {
    const g = new XenTestGuest();
    fill(g, 0, [gl(ABOVE_XEN), gl(ABOVE_XEN + 0x1000n)]);
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: ABOVE_XEN }]).rc).toBe(0n);
    expect(tlb(g, 0)).toEqual([gl(ABOVE_XEN + 0x1000n)]);
  });
});

describe(`MMUEXT_TLB_FLUSH_MULTI (${MM} do_mmuext_op, vcpumask_to_pcpumask)`, () => {
  const multi = (g: XenTestGuest, bitmap: bigint, vcpu = 0) => batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_MULTI, arg2: bitmap }], vcpu);

  test('flushes the non-global entries of exactly the vCPUs whose bits are set', () => {
    const g = filled({ vcpus: 4 });
    expect(multi(g, mask(g, 0b1010n))).toEqual({ rc: 0n, done: 1 });
    expect([0, 1, 2, 3].map((i) => tlb(g, i))).toEqual([FULL, GLOBAL_ONLY, FULL, GLOBAL_ONLY]);
  });

  test('the caller need not be in the mask; an empty mask flushes nothing and succeeds', () => {
    const g = filled({ vcpus: 2 });
    expect(multi(g, mask(g, 0b10n)).rc).toBe(0n);
    expect([tlb(g, 0), tlb(g, 1)]).toEqual([FULL, GLOBAL_ONLY]);
    const h = filled({ vcpus: 2 });
    expect(multi(h, mask(h, 0n))).toEqual({ rc: 0n, done: 1 });
    expect([tlb(h, 0), tlb(h, 1)]).toEqual([FULL, FULL]);
  });

  test('bits at or beyond the vCPU count are ignored', () => {
    const g = filled({ vcpus: 2 });
    expect(multi(g, mask(g, (1n << 63n) | 0xfff0n | 0b01n))).toEqual({ rc: 0n, done: 1 });
    expect([tlb(g, 0), tlb(g, 1)]).toEqual([GLOBAL_ONLY, FULL]);
  });

  test('only the words that cover the vCPUs are read: one word for 64 vCPUs, so an unreadable second word does not matter', () => {
    const g = filled({ vcpus: 64 });
    const hole = holeAfterPage(g);
    g.write(hole - 8n, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x80])); // bit 63: vCPU 63
    expect(multi(g, hole - 8n)).toEqual({ rc: 0n, done: 1 });
    expect([tlb(g, 62), tlb(g, 63)]).toEqual([FULL, GLOBAL_ONLY]);
  });

  test('a guest with more than 64 vCPUs has its bitmap read as a second unsigned long', () => {
    const g = filled({ vcpus: 66 });
    // vCPU 1 in word 0; vCPUs 64 and 65 in word 1; bit 66 of the bitmap is beyond the vCPU count.
    expect(multi(g, mask(g, 0b10n, 0b111n))).toEqual({ rc: 0n, done: 1 });
    const flushed = g.machine.vcpus.map((_, i) => i).filter((i) => tlb(g, i).length === 1);
    expect(flushed).toEqual([1, 64, 65]);
  });

  test('with 65 vCPUs an unreadable second word is -EINVAL and no vCPU is flushed, even those named in the first word', () => {
    const g = filled({ vcpus: 65 });
    const hole = holeAfterPage(g);
    g.write(hole - 8n, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0])); // vCPU 0
    expect(multi(g, hole - 8n)).toEqual({ rc: E('XEN_EINVAL'), done: 0 });
    expect(tlb(g, 0)).toEqual(FULL);
  });

  test('an unreadable bitmap is -EINVAL (not -EFAULT), the op is not counted and the batch stops', () => {
    const g = filled();
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_MULTI, arg2: BAD_PTR }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]);
    expect(r).toEqual({ rc: E('XEN_EINVAL'), done: 0 });
    expect(tlb(g, 0)).toEqual(FULL);
  });

  test('a bitmap straddling into unpopulated memory is unreadable: -EINVAL', () => {
    const g = filled({ vcpus: 2 });
    const hole = holeAfterPage(g);
    g.write(hole - 4n, new Uint8Array([3, 0, 0, 0]));
    expect(multi(g, hole - 4n)).toEqual({ rc: E('XEN_EINVAL'), done: 0 });
    expect([tlb(g, 0), tlb(g, 1)]).toEqual([FULL, FULL]);
  });
});

describe(`MMUEXT_INVLPG_MULTI (${MM} do_mmuext_op, vcpumask_to_pcpumask, flush_tlb_one_mask)`, () => {
  const invlpgMulti = (g: XenTestGuest, va: bigint, bitmap: bigint) => batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_MULTI, arg1: va, arg2: bitmap }]);

  test('drops the page on each selected vCPU in that vCPU current address space, with its global entry', () => {
    const g = new XenTestGuest({ vcpus: 3 });
    const entries = [ng(0x1000n, 0x40_0000n), ng(0x2000n, 0x40_0000n), gl(0x40_0000n), ng(0x1000n, 0x41_0000n)];
    [0, 1, 2].forEach((i) => fill(g, i, entries));
    hw(g, 0).space = 0x1000n;
    hw(g, 1).space = 0x2000n;
    expect(invlpgMulti(g, 0x40_0008n, mask(g, 0b011n))).toEqual({ rc: 0n, done: 1 });
    expect(tlb(g, 0)).toEqual([ng(0x1000n, 0x41_0000n), ng(0x2000n, 0x40_0000n)]);
    expect(tlb(g, 1)).toEqual([ng(0x1000n, 0x40_0000n), ng(0x1000n, 0x41_0000n)]);
    expect(tlb(g, 2)).toHaveLength(4);
  });

  test.each([
    ['non-canonical', NON_CANONICAL],
    ["inside Xen's area (__addr_ok fails)", RO_M2P],
  ])('an address %s is a silent no-op that still counts as done', (_what, va) => {
    const g = new XenTestGuest();
    fill(g, 0, [ng(0n, va), gl(va)]);
    expect(invlpgMulti(g, va, mask(g, 0b11n))).toEqual({ rc: 0n, done: 1 });
    expect(tlb(g, 0)).toHaveLength(2);
  });

  test('the bitmap is read before the address is looked at: an unreadable bitmap is -EINVAL even for a no-op address', () => {
    expect(invlpgMulti(new XenTestGuest(), NON_CANONICAL, BAD_PTR).rc).toBe(E('XEN_EINVAL'));
  });
});

describe(`MMUEXT_TLB_FLUSH_ALL and MMUEXT_INVLPG_ALL (${MM} do_mmuext_op)`, () => {
  test('TLB_FLUSH_ALL flushes the non-global entries of every vCPU of the domain', () => {
    const g = filled({ vcpus: 3 });
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL }], 2)).toEqual({ rc: 0n, done: 1 });
    expect([tlb(g, 0), tlb(g, 1), tlb(g, 2)]).toEqual([GLOBAL_ONLY, GLOBAL_ONLY, GLOBAL_ONLY]);
  });

  test('INVLPG_ALL drops the page on every vCPU in its current address space, with the global entry', () => {
    const g = new XenTestGuest({ vcpus: 2 });
    const entries = [ng(0x1000n, 0x40_0000n), ng(0x2000n, 0x40_0000n), gl(0x40_0000n), gl(0x41_0000n)];
    fill(g, 0, entries);
    fill(g, 1, entries);
    hw(g, 0).space = 0x1000n;
    hw(g, 1).space = 0x2000n;
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_ALL, arg1: 0x40_0fffn }])).toEqual({ rc: 0n, done: 1 });
    expect(tlb(g, 0)).toEqual([gl(0x41_0000n), ng(0x2000n, 0x40_0000n)]);
    expect(tlb(g, 1)).toEqual([gl(0x41_0000n), ng(0x1000n, 0x40_0000n)]);
  });

  test.each([
    ['non-canonical', NON_CANONICAL],
    ["inside Xen's area (__addr_ok fails)", RO_M2P],
  ])('INVLPG_ALL with an address %s is a silent no-op that still counts as done', (_what, va) => {
    const g = new XenTestGuest();
    fill(g, 0, [ng(0n, va), gl(va)]);
    fill(g, 1, [ng(0n, va), gl(va)]);
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_ALL, arg1: va }])).toEqual({ rc: 0n, done: 1 });
    expect([tlb(g, 0).length, tlb(g, 1).length]).toEqual([2, 2]);
  });

  test('INVLPG_ALL above Xen\'s area is flushed', () => {
    const g = new XenTestGuest();
    fill(g, 1, [gl(ABOVE_XEN)]);
    expect(batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_ALL, arg1: ABOVE_XEN }]).rc).toBe(0n);
    expect(tlb(g, 1)).toEqual([]);
  });
});

describe(`the batch: order, errors and *pdone (${MM} do_mmuext_op)`, () => {
  test('the ops run in order; the first failing op ends the batch with its error and later ops do not run', () => {
    const g = filled();
    const r = batch(g, [
      { cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: 0x50_0000n },
      { cmd: MMUEXT.MMUEXT_MARK_SUPER },
      { cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL },
    ]);
    expect(r).toEqual({ rc: E('XEN_EOPNOTSUPP'), done: 1 });
    expect(tlb(g, 0)).toEqual([gl(0x60_0000n), ng(0x1000n, 0x40_0000n), ng(0x2000n, 0x40_0000n)]);
    expect(tlb(g, 1)).toEqual(FULL);
  });

  test('*pdone receives the number of ops completed when all succeed, replacing what it held', () => {
    const g = filled();
    const r = batch(g, [{ cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: 0x50_0000n }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL }]);
    expect(r).toEqual({ rc: 0n, done: 3 });
    expect([tlb(g, 0), tlb(g, 1)]).toEqual([GLOBAL_ONLY, GLOBAL_ONLY]);
  });

  test('only `count` ops are read', () => {
    const g = new XenTestGuest();
    const uops = putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }, { cmd: 14 }]);
    const done = putDone(g);
    expect(mmuext(g, uops, 1, done)).toBe(0n);
    expect(readDone(g, done)).toBe(1);
  });

  test('a count with bit 31 set (MMU_UPDATE_PREEMPTED) is a continuation: *pdone is added to', () => {
    const g = new XenTestGuest();
    const uops = putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL }, { cmd: MMUEXT.MMUEXT_MARK_SUPER }]);
    const done = putDone(g, 5);
    expect(mmuext(g, uops, PREEMPTED | 2, done)).toBe(0n);
    expect(readDone(g, done)).toBe(7);
    // ... and a failing op in a continuation adds only the ops before it.
    const again = putDone(g, 5);
    expect(mmuext(g, uops, PREEMPTED | 3, again)).toBe(E('XEN_EOPNOTSUPP'));
    expect(readDone(g, again)).toBe(7);
  });

  test('a continuation with pdone NULL runs the ops and writes nothing', () => {
    const g = filled();
    expect(mmuext(g, putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]), PREEMPTED | 1, 0n)).toBe(0n);
    expect(tlb(g, 0)).toEqual(GLOBAL_ONLY);
  });

  test('a count of exactly MMU_UPDATE_PREEMPTED with NULL uops returns foreigndom as an int (the final-return continuation)', () => {
    const g = new XenTestGuest();
    expect(mmuext(g, 0n, PREEMPTED, 0n, 0xffff_ffea)).toBe(-22n);
    expect(mmuext(g, 0n, PREEMPTED, 0n, 0)).toBe(0n);
    expect(mmuext(g, 0n, PREEMPTED, 0n, DOMID.DOMID_SELF)).toBe(BigInt(DOMID.DOMID_SELF));
  });

  test('pdone NULL is fine', () => {
    const g = filled();
    expect(mmuext(g, putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_ALL }]), 2, 0n)).toBe(0n);
    expect(tlb(g, 1)).toEqual(GLOBAL_ONLY);
  });

  test('an unwritable pdone is ignored: the ops still take effect and the call returns 0', () => {
    const g = filled();
    expect(mmuext(g, putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]), 1, BAD_PTR)).toBe(0n);
    expect(tlb(g, 0)).toEqual(GLOBAL_ONLY);
  });

  test('an unreadable op in the middle is -EFAULT; the ops before it are done and counted', () => {
    const g = new XenTestGuest();
    fill(g, 0, [ng(0n, 0x40_0000n), ng(0n, 0x41_0000n), ng(0n, 0x42_0000n)]);
    const hole = holeAfterPage(g);
    const uops = writeOps(g, hole - 2n * SIZE, [
      { cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: 0x40_0000n },
      { cmd: MMUEXT.MMUEXT_INVLPG_LOCAL, arg1: 0x41_0000n },
    ]);
    const done = putDone(g);
    expect(mmuext(g, uops, 3, done)).toBe(E('XEN_EFAULT'));
    expect(readDone(g, done)).toBe(2);
    expect(tlb(g, 0)).toEqual([ng(0n, 0x42_0000n)]);
  });

  test('an op straddling into unpopulated memory is unreadable: -EFAULT', () => {
    const g = new XenTestGuest();
    const hole = holeAfterPage(g);
    const uops = writeOps(g, hole - SIZE - 8n, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]);
    const done = putDone(g);
    expect(mmuext(g, uops, 2, done)).toBe(E('XEN_EFAULT'));
    expect(readDone(g, done)).toBe(1);
  });

  test('cmd is the low 32 bits of the first word; the padding after it is ignored', () => {
    const g = filled();
    const uops = putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]);
    g.write(uops + 4n, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect(mmuext(g, uops, 1)).toBe(0n);
    expect(tlb(g, 0)).toEqual(GLOBAL_ONLY);
  });

  test('count 0 returns 0, reads nothing (uops may be NULL) and writes 0 to *pdone', () => {
    const g = new XenTestGuest();
    const done = putDone(g);
    expect(mmuext(g, 0n, 0, done)).toBe(0n);
    expect(readDone(g, done)).toBe(0);
    expect(mmuext(g, BAD_PTR, 0, 0n)).toBe(0n);
  });

  test('uops failing guest_handle_okay (not below 2^47 nor above Xen) is -EFAULT before anything else; *pdone is untouched', () => {
    const g = filled();
    const done = putDone(g);
    expect(mmuext(g, NON_CANONICAL, 1, done)).toBe(E('XEN_EFAULT'));
    expect(mmuext(g, NON_CANONICAL, 1, done, 0)).toBe(E('XEN_EFAULT')); // before the foreigndom check
    expect(mmuext(g, RO_M2P, 1, done, 9)).toBe(E('XEN_EFAULT'));
    expect(readDone(g, done)).toBe(0xdead);
    expect(tlb(g, 0)).toEqual(FULL);
  });

  test('uops that pass guest_handle_okay but fault when copied is -EFAULT from the loop, with *pdone written', () => {
    const g = new XenTestGuest();
    const done = putDone(g);
    expect(mmuext(g, ABOVE_XEN, 1, done)).toBe(E('XEN_EFAULT'));
    expect(readDone(g, done)).toBe(0);
  });
});

describe(`foreigndom (${MM} do_mmuext_op; xen/common/page_alloc.c get_pg_owner)`, () => {
  const run = (g: XenTestGuest, foreigndom: number) => {
    const done = putDone(g);
    const rc = mmuext(g, putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]), 1, done, foreigndom);
    return { rc, done: readDone(g, done), tlb: tlb(g, 0) };
  };

  test('DOMID_SELF names the caller', () => {
    expect(run(filled(), DOMID.DOMID_SELF)).toEqual({ rc: 0n, done: 1, tlb: GLOBAL_ONLY });
  });

  test('only the low 16 bits count (domid_t): 0x17ff0 is DOMID_SELF', () => {
    expect(run(filled(), 0x1_0000 | DOMID.DOMID_SELF).rc).toBe(0n);
  });

  test("the caller's own numeric id is refused (\"Cannot specify itself as foreign domain\"): -ESRCH, nothing runs, *pdone untouched", () => {
    expect(run(filled(), 1)).toEqual({ rc: E('XEN_ESRCH'), done: 0xdead, tlb: FULL });
    expect(run(filled({ xen: { domid: 7 } }), 7).rc).toBe(E('XEN_ESRCH'));
  });

  test('dom0 (a PV domain) is -EPERM (xsm_mmuext_op, XSM_TARGET), nothing runs', () => {
    expect(run(filled(), 0)).toEqual({ rc: E('XEN_EPERM'), done: 0xdead, tlb: FULL });
  });

  test('a domain that does not exist is -ESRCH', () => {
    expect(run(filled(), 9).rc).toBe(E('XEN_ESRCH'));
  });

  test('DOMID_COW, DOMID_INVALID and DOMID_IDLE are not looked up: -ESRCH', () => {
    for (const id of [DOMID.DOMID_COW, DOMID.DOMID_INVALID, DOMID.DOMID_IDLE]) expect(run(filled(), id).rc).toBe(E('XEN_ESRCH'));
  });

  test('DOMID_IO and DOMID_XEN are system PV domains, refused by XSM_TARGET: -EPERM', () => {
    expect(run(filled(), DOMID.DOMID_IO)).toEqual({ rc: E('XEN_EPERM'), done: 0xdead, tlb: FULL });
    expect(run(filled(), DOMID.DOMID_XEN).rc).toBe(E('XEN_EPERM'));
  });
});

describe(`per-op errors (${MM} do_mmuext_op)`, () => {
  test.each([
    ['MMUEXT_MARK_SUPER', MMUEXT.MMUEXT_MARK_SUPER],
    ['MMUEXT_UNMARK_SUPER', MMUEXT.MMUEXT_UNMARK_SUPER],
  ])('%s is -EOPNOTSUPP', (_name, cmd) => {
    expect(batch(new XenTestGuest(), [{ cmd, arg1: 0x10n }])).toEqual({ rc: E('XEN_EOPNOTSUPP'), done: 0 });
  });

  test('MMUEXT_FLUSH_CACHE without cache_flush_permitted (a domU without I/O resources) is -EACCES on every profile', () => {
    for (const profile of ['xen-4.22', 'xen-4.18', 'xen-4.17'] as const) {
      expect(batch(new XenTestGuest({ xen: { profile } }), [{ cmd: MMUEXT.MMUEXT_FLUSH_CACHE }]).rc).toBe(E('XEN_EACCES'));
    }
  });

  test('MMUEXT_FLUSH_CACHE_GLOBAL without permission is -EACCES since 4.21 (commit bbaea9878b) and -EINVAL before', () => {
    const rc = (profile: 'xen-4.22' | 'xen-4.18' | 'xen-4.17') => batch(new XenTestGuest({ xen: { profile } }), [{ cmd: MMUEXT.MMUEXT_FLUSH_CACHE_GLOBAL }]).rc;
    expect([rc('xen-4.22'), rc('xen-4.18'), rc('xen-4.17')]).toEqual([E('XEN_EACCES'), E('XEN_EINVAL'), E('XEN_EINVAL')]);
  });

  test.each([14, 21, 0x100, 0xffff_ffff])('unknown cmd %d is -ENOSYS', (cmd) => {
    expect(batch(new XenTestGuest(), [{ cmd }])).toEqual({ rc: E('XEN_ENOSYS'), done: 0 });
  });

  test.each([
    ['MMUEXT_PIN_L1_TABLE', MMUEXT.MMUEXT_PIN_L1_TABLE],
    ['MMUEXT_PIN_L2_TABLE', MMUEXT.MMUEXT_PIN_L2_TABLE],
    ['MMUEXT_PIN_L3_TABLE', MMUEXT.MMUEXT_PIN_L3_TABLE],
    ['MMUEXT_PIN_L4_TABLE', MMUEXT.MMUEXT_PIN_L4_TABLE],
    ['MMUEXT_UNPIN_TABLE', MMUEXT.MMUEXT_UNPIN_TABLE],
    ['MMUEXT_NEW_BASEPTR', MMUEXT.MMUEXT_NEW_BASEPTR],
    ['MMUEXT_NEW_USER_BASEPTR', MMUEXT.MMUEXT_NEW_USER_BASEPTR],
    ['MMUEXT_SET_LDT', MMUEXT.MMUEXT_SET_LDT],
    ['MMUEXT_CLEAR_PAGE', MMUEXT.MMUEXT_CLEAR_PAGE],
    ['MMUEXT_COPY_PAGE', MMUEXT.MMUEXT_COPY_PAGE],
  ])('%s (PV page-table and page-type management) is reported as not modelled', (_name, cmd) => {
    const g = new XenTestGuest();
    const done = putDone(g);
    expect(g.call('mmuext_op', putOps(g, [{ cmd, arg1: 0x10n }]), 1, done, DOMID.DOMID_SELF)).toMatchObject({ kind: 'unimplemented' });
  });

  test('a not-modelled op after a failing one is never reached: the batch ends at the failure', () => {
    const g = new XenTestGuest();
    expect(batch(g, [{ cmd: 14 }, { cmd: MMUEXT.MMUEXT_PIN_L1_TABLE, arg1: 0x10n }])).toEqual({ rc: E('XEN_ENOSYS'), done: 0 });
  });
});

describe(`an HVM caller (${MM} do_mmuext_op: the page owner must be a PV domain)`, () => {
  const hvm = () => {
    const g = filled({ xen: { guestType: 'pvhvm' } });
    return g;
  };

  test.each([
    ['TLB_FLUSH_LOCAL', MMUEXT.MMUEXT_TLB_FLUSH_LOCAL],
    ['TLB_FLUSH_ALL', MMUEXT.MMUEXT_TLB_FLUSH_ALL],
    ['INVLPG_LOCAL', MMUEXT.MMUEXT_INVLPG_LOCAL],
    ['PIN_L1_TABLE', MMUEXT.MMUEXT_PIN_L1_TABLE],
    ['MARK_SUPER', MMUEXT.MMUEXT_MARK_SUPER],
    ['unknown 14', 14],
  ])('%s with DOMID_SELF is -EINVAL: nothing runs and *pdone is untouched', (_name, cmd) => {
    const g = hvm();
    const done = putDone(g);
    expect(mmuext(g, putOps(g, [{ cmd, arg1: 0x40_0000n }]), 1, done)).toBe(E('XEN_EINVAL'));
    expect(readDone(g, done)).toBe(0xdead);
    expect([tlb(g, 0), tlb(g, 1)]).toEqual([FULL, FULL]);
  });

  test('count 0 with DOMID_SELF is -EINVAL too', () => {
    expect(mmuext(hvm(), 0n, 0)).toBe(E('XEN_EINVAL'));
  });

  test('guest_handle_okay always passes for HVM, so a non-canonical uops is -EINVAL, not -EFAULT', () => {
    expect(mmuext(hvm(), NON_CANONICAL, 1)).toBe(E('XEN_EINVAL'));
  });

  test('its own numeric id is -ESRCH and dom0 is -EPERM, as for PV', () => {
    const g = hvm();
    const uops = putOps(g, [{ cmd: MMUEXT.MMUEXT_TLB_FLUSH_LOCAL }]);
    expect([mmuext(g, uops, 1, 0n, 1), mmuext(g, uops, 1, 0n, 0)]).toEqual([E('XEN_ESRCH'), E('XEN_EPERM')]);
  });
});
