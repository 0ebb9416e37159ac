import { DOMID } from '../abi/xen';
import { XENMAPSPACE, XENMEM, XENMEMF } from '../abi/memory';
import { SHARED_INFO, gnttab_map_grant_ref, xen_memory_domain, xen_memory_reservation } from '../abi/layouts';
import { GNTMAP, GNTST, GNTTABOP } from '../abi/grant_table';
import { SHUTDOWN } from '../abi/sched';
import type { XenDomainOptions } from '../config';
import { E, XenTestGuest } from '../xenTestkit';

const MEM = 'xen/common/memory.c';
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: every copy faults
const NON_CANONICAL = 0x0000_8000_0000_0000n; // 2^47: fails the PV guest_handle_okay range check
const SELF = DOMID.DOMID_SELF;

type ReservationFields = Partial<Record<'extent_start' | 'nr_extents' | 'extent_order' | 'mem_flags' | 'domid', number | bigint>>;

/*
 * The test guest has 1024 RAM frames (0..0x3ff) in a 4096-frame space; shared_info sits at frame
 * 1024 and grant frame 0 at 1025 (populated); frames 1026..1088 are held for further grant
 * frames. tot_pages starts at 1024 and max_pages at 1024 + 256. The model hands a PV guest the
 * lowest free frames that are not Xen's, so the first fresh machine frame is 1089 (0x441).
 */
const RAM = 1024;
const FIRST_FREE_MFN = 1089n;

const pv = (xen: XenDomainOptions = {}) => new XenTestGuest({ xen });
const hvm = (xen: XenDomainOptions = {}) => new XenTestGuest({ xen: { guestType: 'pvhvm', ...xen } });

/** memory_op with the sub-op in the low 6 bits and start_extent above them. */
const memop = (g: XenTestGuest, op: number, arg: bigint, start = 0n) => g.ret('memory_op', (start << 6n) | BigInt(op), arg);
const reservation = (g: XenTestGuest, fields: ReservationFields) => g.put(xen_memory_reservation, { domid: SELF, ...fields });
const increase = (g: XenTestGuest, fields: ReservationFields, start = 0n) => memop(g, XENMEM.XENMEM_increase_reservation, reservation(g, fields), start);
const decrease = (g: XenTestGuest, fields: ReservationFields, start = 0n) => memop(g, XENMEM.XENMEM_decrease_reservation, reservation(g, fields), start);
const populate = (g: XenTestGuest, fields: ReservationFields, start = 0n) => memop(g, XENMEM.XENMEM_populate_physmap, reservation(g, fields), start);
const stat = (g: XenTestGuest, op: number, domid: number = SELF, start = 0n) => memop(g, op, g.put(xen_memory_domain, { domid }), start);
const totPages = (g: XenTestGuest) => stat(g, XENMEM.XENMEM_current_reservation);
const populated = (g: XenTestGuest, gfn: number) => g.machine.memory.isPopulated(gfn);

/** A guest list of frame numbers that ends exactly where guest memory ends (the first unpopulated grant frame). */
function listBeforeHole(g: XenTestGuest, values: readonly bigint[]): bigint {
  const hole = (g.xen.memoryMap.grantTableGfn + 1) * 4096;
  expect(populated(g, hole / 4096)).toBe(false);
  const at = hole - 8 * values.length;
  values.forEach((v, i) => g.machine.memory.write64(at + 8 * i, v));
  return BigInt(at);
}

/** struct xen_add_to_physmap (24 bytes): domid_t domid @0, u16 size @2, u32 space @4, idx @8, gpfn @16. */
function xatp(g: XenTestGuest, domid: number, space: number): bigint {
  const at = g.alloc(24);
  g.machine.memory.write16(Number(at), domid);
  g.machine.memory.write32(Number(at) + 4, space);
  return at;
}

/** struct xen_add_to_physmap_batch (32 bytes): domid_t domid @0, u16 space @2, u16 size @4, u16 extra @6, handles @8/16/24. */
function xatpBatch(g: XenTestGuest, domid: number, space: number): bigint {
  const at = g.alloc(32);
  g.machine.memory.write16(Number(at), domid);
  g.machine.memory.write16(Number(at) + 2, space);
  return at;
}

/** dom0 grants one of its frames and the guest maps it with GNTMAP_host_map at `gfn`. */
function mapPeerFrame(g: XenTestGuest, gfn: number, readonly = false, ref = 10, peerFrame = 9): void {
  expect(g.xen.peerActions.grantAccess(ref, peerFrame, readonly)).toBe(true);
  const flags = GNTMAP.GNTMAP_host_map | (readonly ? GNTMAP.GNTMAP_readonly : 0);
  const map = g.put(gnttab_map_grant_ref, { host_addr: BigInt(gfn) << 12n, flags, ref, dom: 0 });
  expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, map, 1)).toBe(0n);
  expect(g.get(gnttab_map_grant_ref, map).status).toBe(GNTST.GNTST_okay);
}

describe(`XENMEM_increase_reservation / decrease_reservation / populate_physmap argument checks (${MEM} do_memory_op, construct_memop_from_reservation)`, () => {
  const ops = [
    ['increase_reservation', XENMEM.XENMEM_increase_reservation],
    ['decrease_reservation', XENMEM.XENMEM_decrease_reservation],
    ['populate_physmap', XENMEM.XENMEM_populate_physmap],
  ] as const;

  test.each(ops)('%s with an unreadable argument returns start_extent (0, or the start encoded in cmd), never -EFAULT', (_name, op) => {
    const g = pv();
    expect(memop(g, op, BAD_PTR)).toBe(0n);
    expect(memop(g, op, BAD_PTR, 5n)).toBe(5n);
    expect(totPages(g)).toBe(1024n);
  });

  test.each(ops)('%s with nr_extents above UINT_MAX >> 6 (0x3FFFFFF) returns start_extent and does nothing', (_name, op) => {
    const g = pv();
    const list = g.putU64s([0x200n]);
    expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 0x400_0000 }))).toBe(0n);
    expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 0x400_0000 }), 3n)).toBe(3n);
    expect(totPages(g)).toBe(1024n);
    expect(g.getU64s(list, 1)).toEqual([0x200n]);
  });

  test.each(ops)('%s with start_extent >= nr_extents returns start_extent (nr_extents 0 returns 0)', (_name, op) => {
    const g = pv();
    const list = g.putU64s([0x200n, 0x201n, 0x202n]);
    expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 0 }))).toBe(0n);
    expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 3 }), 3n)).toBe(3n);
    expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 3 }), 7n)).toBe(7n);
    expect(totPages(g)).toBe(1024n);
    expect(g.getU64s(list, 3)).toEqual([0x200n, 0x201n, 0x202n]);
  });

  test('start_extent is all of cmd above bit 6 (58 bits), returned as it is', () => {
    const g = pv();
    const big = 1n << 57n;
    expect(increase(g, { nr_extents: 1 }, big)).toBe(big);
  });

  test.each(ops)('%s on a domain that does not exist (or a system domid) returns start_extent', (_name, op) => {
    const g = pv();
    const list = g.putU64s([0x200n]);
    for (const domid of [5, DOMID.DOMID_IO, DOMID.DOMID_XEN, DOMID.DOMID_INVALID]) {
      expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 1, domid }))).toBe(0n);
    }
    expect(totPages(g)).toBe(1024n);
  });

  test.each(ops)('%s on another existing domain (dom0) returns start_extent, not -EPERM (xsm_memory_adjust_reservation, XSM_TARGET)', (_name, op) => {
    const g = pv();
    const list = g.putU64s([0x20n]);
    expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 1, domid: 0 }))).toBe(0n);
    expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 1, domid: 0 }), 2n)).toBe(2n);
    expect(g.xen.peer.totPages).toBe(64);
    expect(g.xen.peerMachine.memory.isPopulated(0x20)).toBe(true);
    expect(g.getU64s(list, 1)).toEqual([0x20n]);
  });

  test('the own numeric domid is the same as DOMID_SELF (rcu_lock_domain_by_any_id)', () => {
    const g = pv();
    expect(increase(g, { nr_extents: 1, domid: 1 })).toBe(1n);
    expect(decrease(g, { extent_start: g.putU64s([0x200n]), nr_extents: 1, domid: 1 })).toBe(1n);
    expect(totPages(g)).toBe(1024n);
  });

  test('address_bits (mem_flags & 0xff) of 12 or less is refused when below the host threshold (get_order_from_pages(max_page) + 12)', () => {
    const g = pv();
    // Free machine frame 0, so that a 13-bit (two-frame) limit could be met.
    expect(decrease(g, { extent_start: g.putU64s([0n]), nr_extents: 1 })).toBe(1n);
    expect(increase(g, { nr_extents: 1, mem_flags: 12 })).toBe(0n);
    expect(increase(g, { nr_extents: 1, mem_flags: 1 })).toBe(0n);
    expect(totPages(g)).toBe(1023n);
    const list = g.putU64s([0xffn]);
    expect(increase(g, { extent_start: list, nr_extents: 1, mem_flags: 13 })).toBe(1n);
    expect(g.getU64s(list, 1)).toEqual([0n]);
    // With max_page 1 the threshold is 12 itself: address_bits 12 is then ignored, not refused.
    const tiny = pv({ hostMaxPage: 1 });
    expect(increase(tiny, { nr_extents: 1, mem_flags: 12 })).toBe(1n);
  });

  test('address_bits above 12 restricts where PV machine frames may come from (MEMF_bits)', () => {
    const g = pv();
    // 22 bits = the first 1024 frames, all of them RAM already: no extent can be allocated.
    expect(increase(g, { nr_extents: 1, mem_flags: 22 })).toBe(0n);
    const list = g.putU64s([0n]);
    expect(increase(g, { extent_start: list, nr_extents: 1, mem_flags: 23 })).toBe(1n);
    expect(g.getU64s(list, 1)).toEqual([FIRST_FREE_MFN]);
  });

  test('address_bits at or above the host threshold is ignored', () => {
    // max_page 0x400 has order 10: the threshold is 22, so address_bits 22 no longer restricts anything.
    const g = pv({ hostMaxPage: 0x400 });
    expect(increase(g, { nr_extents: 1, mem_flags: 22 })).toBe(1n);
  });

  test('XENMEMF_exact_node_request naming a node is refused for a domU (propagate_node); a node without it is ignored', () => {
    const g = pv();
    const node0 = 1 << 8; // XENMEMF_node(0)
    expect(increase(g, { nr_extents: 1, mem_flags: node0 | XENMEMF.XENMEMF_exact_node_request })).toBe(0n);
    expect(increase(g, { nr_extents: 1, mem_flags: (6 << 8) | XENMEMF.XENMEMF_exact_node_request })).toBe(0n);
    expect(totPages(g)).toBe(1024n);
    expect(increase(g, { nr_extents: 1, mem_flags: node0 })).toBe(1n);
    // exact_node_request without a node (XENMEMF_get_node gives NUMA_NO_NODE) is fine.
    expect(increase(g, { nr_extents: 1, mem_flags: XENMEMF.XENMEMF_exact_node_request })).toBe(1n);
    expect(totPages(g)).toBe(1026n);
  });

  test('with XENMEMF_vnode and no vNUMA layout the node fields are ignored, even with exact_node_request', () => {
    const g = pv();
    expect(increase(g, { nr_extents: 1, mem_flags: XENMEMF.XENMEMF_vnode | (6 << 8) | XENMEMF.XENMEMF_exact_node_request })).toBe(1n);
  });
});

describe(`XENMEM_increase_reservation (${MEM} increase_reservation)`, () => {
  test('PV: allocates every extent, writes the machine frames into extent_start and returns nr_extents', () => {
    const g = pv();
    const list = g.putU64s([0xdeadn, 0xdeadn, 0xdeadn, 0xdeadn]);
    expect(increase(g, { extent_start: list, nr_extents: 3 })).toBe(3n);
    expect(g.getU64s(list, 4)).toEqual([FIRST_FREE_MFN, FIRST_FREE_MFN + 1n, FIRST_FREE_MFN + 2n, 0xdeadn]);
    expect(totPages(g)).toBe(1027n);
    expect([populated(g, 1089), populated(g, 1091), populated(g, 1092)]).toEqual([true, true, false]);
  });

  test('PV: an order-9 extent is 512 naturally aligned frames', () => {
    const g = pv({ maxPages: 4096 });
    const list = g.putU64s([0n]);
    expect(increase(g, { extent_start: list, nr_extents: 1, extent_order: 9 })).toBe(1n);
    expect(g.getU64s(list, 1)).toEqual([1536n]);
    expect(totPages(g)).toBe(BigInt(RAM + 512));
  });

  test('HVM (translated): pages are allocated and counted in tot_pages, but nothing is written back and nothing is mapped', () => {
    const g = hvm();
    const list = g.putU64s([0xdeadn, 0xbeefn]);
    const before = g.machine.memory.populatedPages;
    expect(increase(g, { extent_start: list, nr_extents: 2 })).toBe(2n);
    expect(g.getU64s(list, 2)).toEqual([0xdeadn, 0xbeefn]);
    expect(totPages(g)).toBe(1026n);
    expect(g.machine.memory.populatedPages).toBe(before);
  });

  test('a NULL extent_start is allowed: the extents are allocated and nothing is written', () => {
    const g = pv();
    expect(increase(g, { extent_start: 0, nr_extents: 2 })).toBe(2n);
    expect(totPages(g)).toBe(1026n);
    expect(g.machine.memory.read64(0)).toBe(0n);
  });

  test('stops at max_pages with the number of extents done so far', () => {
    const g = pv({ maxPages: RAM + 2 });
    const list = g.putU64s([0n, 0n, 0n, 0n, 0n]);
    expect(increase(g, { extent_start: list, nr_extents: 5 })).toBe(2n);
    expect(g.getU64s(list, 5)).toEqual([FIRST_FREE_MFN, FIRST_FREE_MFN + 1n, 0n, 0n, 0n]);
    expect(totPages(g)).toBe(BigInt(RAM + 2));
    expect(increase(g, { extent_start: list, nr_extents: 1 })).toBe(0n);
  });

  test('an extent that does not fit below max_pages is not allocated in part (assign_pages -E2BIG)', () => {
    const g = pv({ maxPages: RAM + 3 });
    expect(increase(g, { nr_extents: 3, extent_order: 1 })).toBe(1n);
    expect(totPages(g)).toBe(BigInt(RAM + 2));
  });

  test('HVM stops at max_pages too', () => {
    const g = hvm({ maxPages: RAM + 1 });
    expect(increase(g, { nr_extents: 4 })).toBe(1n);
    expect(totPages(g)).toBe(BigInt(RAM + 1));
  });

  test('extent_order above the domU maximum (9) makes no progress', () => {
    const g = pv({ maxPages: 1 << 20 });
    expect(increase(g, { nr_extents: 1, extent_order: 10 })).toBe(0n);
    expect(increase(g, { nr_extents: 2, extent_order: 10 }, 1n)).toBe(1n);
    expect(totPages(g)).toBe(1024n);
  });

  test('a continuation (start_extent in cmd) starts at that index and returns the absolute count', () => {
    const g = pv();
    const list = g.putU64s([7n, 7n, 7n, 7n]);
    expect(increase(g, { extent_start: list, nr_extents: 4 }, 2n)).toBe(4n);
    expect(g.getU64s(list, 4)).toEqual([7n, 7n, FIRST_FREE_MFN, FIRST_FREE_MFN + 1n]);
    expect(totPages(g)).toBe(1026n);
  });

  test('PV: an extent list that fails the guest_handle range check makes no progress', () => {
    const g = pv();
    expect(increase(g, { extent_start: NON_CANONICAL, nr_extents: 2 })).toBe(0n);
    expect(totPages(g)).toBe(1024n);
  });

  test('HVM: no range check and no write-back, so a bad extent_start does not matter', () => {
    const g = hvm();
    expect(increase(g, { extent_start: NON_CANONICAL, nr_extents: 2 })).toBe(2n);
    expect(totPages(g)).toBe(1026n);
  });

  test('PV: a write-back fault stops with the count so far; the page of the failed extent stays allocated', () => {
    const g = pv();
    const list = listBeforeHole(g, [0n, 0n]);
    expect(increase(g, { extent_start: list, nr_extents: 4 })).toBe(2n);
    expect(g.getU64s(list, 2)).toEqual([FIRST_FREE_MFN, FIRST_FREE_MFN + 1n]);
    expect(totPages(g)).toBe(1027n);
    expect(increase(g, { extent_start: BAD_PTR, nr_extents: 1 })).toBe(0n);
    expect(totPages(g)).toBe(1028n);
  });
});

describe(`XENMEM_decrease_reservation (${MEM} decrease_reservation, guest_remove_page)`, () => {
  test('PV: frees the listed frames (machine frames) and returns nr_extents', () => {
    const g = pv();
    expect(decrease(g, { extent_start: g.putU64s([0x300n, 0x301n, 0x3ffn]), nr_extents: 3 })).toBe(3n);
    expect([populated(g, 0x300), populated(g, 0x301), populated(g, 0x3ff), populated(g, 0x302)]).toEqual([false, false, false, true]);
    expect(totPages(g)).toBe(1021n);
  });

  test('stops at the first frame that is not RAM of the domain', () => {
    const g = pv();
    // The second entry repeats the first, which is already gone.
    expect(decrease(g, { extent_start: g.putU64s([0x300n, 0x300n, 0x302n]), nr_extents: 3 })).toBe(1n);
    expect(populated(g, 0x302)).toBe(true);
    // Frames beyond the address space, and held-back grant frames with no page, stop at once.
    expect(decrease(g, { extent_start: g.putU64s([0x1_0000_0000n]), nr_extents: 1 })).toBe(0n);
    expect(decrease(g, { extent_start: g.putU64s([1030n]), nr_extents: 1 })).toBe(0n);
    expect(totPages(g)).toBe(1023n);
  });

  test('counts whole extents only: a failure inside an extent leaves its earlier pages freed but uncounted', () => {
    const g = pv();
    expect(decrease(g, { extent_start: g.putU64s([0x311n]), nr_extents: 1 })).toBe(1n);
    expect(decrease(g, { extent_start: g.putU64s([0x300n, 0x310n]), nr_extents: 2, extent_order: 1 })).toBe(1n);
    expect([populated(g, 0x300), populated(g, 0x301), populated(g, 0x310)]).toEqual([false, false, false]);
    expect(totPages(g)).toBe(1020n);
  });

  test('extent_order above 9 makes no progress', () => {
    const g = pv();
    expect(decrease(g, { extent_start: g.putU64s([0n]), nr_extents: 1, extent_order: 10 })).toBe(0n);
    expect(populated(g, 0)).toBe(true);
    expect(totPages(g)).toBe(1024n);
  });

  test('an unreadable extent list stops with the count so far', () => {
    const g = pv();
    expect(decrease(g, { extent_start: listBeforeHole(g, [0x300n]), nr_extents: 3 })).toBe(1n);
    expect(decrease(g, { extent_start: BAD_PTR, nr_extents: 3 })).toBe(0n);
    expect(totPages(g)).toBe(1023n);
  });

  test('a continuation starts at start_extent: earlier entries are not looked at', () => {
    const g = pv();
    expect(decrease(g, { extent_start: g.putU64s([0x300n, 0x301n, 0x302n]), nr_extents: 3 }, 2n)).toBe(3n);
    expect([populated(g, 0x300), populated(g, 0x301), populated(g, 0x302)]).toEqual([true, true, false]);
  });

  test('HVM: the frame leaves the p2m (guest accesses fault) and tot_pages falls', () => {
    const g = hvm();
    g.machine.memory.write8(0x300 * 4096, 0x5a);
    expect(decrease(g, { extent_start: g.putU64s([0x300n]), nr_extents: 1 })).toBe(1n);
    expect(g.machine.memory.read8(0x300 * 4096)).toMatchObject({ kind: 'memory-fault', reason: 'unpopulated' });
    expect(totPages(g)).toBe(1023n);
  });

  test('HVM: an empty p2m entry is -ENOENT inside, which stops the loop', () => {
    const g = hvm();
    expect(decrease(g, { extent_start: g.putU64s([0x301n, 3000n, 0x302n]), nr_extents: 3 })).toBe(1n);
    expect(populated(g, 0x302)).toBe(true);
  });

  test('HVM: a frame holding a grant mapping of another domain cannot be freed (get_page fails, -ENXIO)', () => {
    const g = hvm();
    mapPeerFrame(g, 3000);
    expect(decrease(g, { extent_start: g.putU64s([3000n]), nr_extents: 1 })).toBe(0n);
    expect(populated(g, 3000)).toBe(true);
    expect(totPages(g)).toBe(1024n);
  });

  test('freeing shared_info or a grant frame, or a PV frame under a grant mapping, is not modelled', () => {
    for (const g of [pv(), hvm()]) {
      const sharedInfo = BigInt(g.xen.memoryMap.sharedInfoGfn);
      expect(g.call('memory_op', XENMEM.XENMEM_decrease_reservation, reservation(g, { extent_start: g.putU64s([sharedInfo]), nr_extents: 1 }))).toMatchObject({
        kind: 'unimplemented',
      });
    }
    const g = pv();
    mapPeerFrame(g, 0x300);
    expect(g.call('memory_op', XENMEM.XENMEM_decrease_reservation, reservation(g, { extent_start: g.putU64s([0x300n]), nr_extents: 1 }))).toMatchObject({
      kind: 'unimplemented',
    });
  });
});

describe(`XENMEM_populate_physmap (${MEM} populate_physmap; xen/arch/x86/mm/p2m.c p2m_add_page)`, () => {
  test('PV: the gpfns are not used; each entry is overwritten with the new machine frame', () => {
    const g = pv();
    const list = g.putU64s([0x5000n, 0x300n]);
    expect(populate(g, { extent_start: list, nr_extents: 2 })).toBe(2n);
    expect(g.getU64s(list, 2)).toEqual([FIRST_FREE_MFN, FIRST_FREE_MFN + 1n]);
    expect(totPages(g)).toBe(1026n);
  });

  test('HVM: maps fresh zeroed pages at the given gfns, which become accessible; the list is left alone', () => {
    const g = hvm();
    expect(g.machine.memory.read8(2000 * 4096)).toMatchObject({ kind: 'memory-fault' });
    const list = g.putU64s([2000n, 2500n]);
    expect(populate(g, { extent_start: list, nr_extents: 2 })).toBe(2n);
    expect(g.getU64s(list, 2)).toEqual([2000n, 2500n]);
    expect(g.machine.memory.read8(2000 * 4096 + 17)).toBe(0);
    expect(g.machine.memory.write32(2500 * 4096, 0x1234_5678)).toBeUndefined();
    expect(g.machine.memory.read32(2500 * 4096)).toBe(0x1234_5678);
    expect(totPages(g)).toBe(1026n);
  });

  test('HVM: an order-1 extent maps two consecutive frames', () => {
    const g = hvm();
    expect(populate(g, { extent_start: g.putU64s([2000n]), nr_extents: 1, extent_order: 1 })).toBe(1n);
    expect([populated(g, 2000), populated(g, 2001), populated(g, 2002)]).toEqual([true, true, false]);
    expect(totPages(g)).toBe(1026n);
  });

  test('HVM: populating over RAM replaces the page with a zeroed one; the old page stays allocated (tot_pages grows)', () => {
    const g = hvm();
    g.machine.memory.write8(0x300 * 4096, 0xab);
    expect(populate(g, { extent_start: g.putU64s([0x300n]), nr_extents: 1 })).toBe(1n);
    expect(g.machine.memory.read8(0x300 * 4096)).toBe(0);
    expect(totPages(g)).toBe(1025n);
  });

  test('stops at max_pages with the count so far', () => {
    const g = hvm({ maxPages: RAM + 1 });
    expect(populate(g, { extent_start: g.putU64s([2000n, 2001n]), nr_extents: 2 })).toBe(1n);
    expect([populated(g, 2000), populated(g, 2001)]).toEqual([true, false]);
    const p = pv({ maxPages: RAM + 1 });
    const list = p.putU64s([5n, 6n]);
    expect(populate(p, { extent_start: list, nr_extents: 2 })).toBe(1n);
    expect(p.getU64s(list, 2)).toEqual([FIRST_FREE_MFN, 6n]);
  });

  test('extent_order above 9 makes no progress', () => {
    const g = hvm({ maxPages: 1 << 20 });
    expect(populate(g, { extent_start: g.putU64s([0n]), nr_extents: 1, extent_order: 10 })).toBe(0n);
    expect(totPages(g)).toBe(1024n);
  });

  test('XENMEMF_populate_on_demand on the caller itself stops at once, even where the order would be allowed (up to 18)', () => {
    for (const g of [pv(), hvm()]) {
      const list = g.putU64s([2000n]);
      expect(populate(g, { extent_start: list, nr_extents: 1, mem_flags: XENMEMF.XENMEMF_populate_on_demand })).toBe(0n);
      expect(populate(g, { extent_start: list, nr_extents: 1, extent_order: 12, mem_flags: XENMEMF.XENMEMF_populate_on_demand })).toBe(0n);
      expect(populate(g, { extent_start: list, nr_extents: 2, mem_flags: XENMEMF.XENMEMF_populate_on_demand }, 1n)).toBe(1n);
      expect(totPages(g)).toBe(1024n);
      expect(g.getU64s(list, 1)).toEqual([2000n]);
    }
  });

  test('the flag means populate-on-demand only for populate_physmap: increase_reservation ignores it', () => {
    const g = pv();
    expect(increase(g, { nr_extents: 1, mem_flags: XENMEMF.XENMEMF_populate_on_demand })).toBe(1n);
  });

  test('an unreadable extent list stops with the count so far', () => {
    const g = hvm();
    expect(populate(g, { extent_start: listBeforeHole(g, [2000n]), nr_extents: 2 })).toBe(1n);
    expect(populated(g, 2000)).toBe(true);
    expect(populate(g, { extent_start: BAD_PTR, nr_extents: 1 })).toBe(0n);
    expect(totPages(g)).toBe(1025n);
  });

  test('PV: each entry is read, then overwritten; a read fault stops with the count so far', () => {
    const g = pv();
    const list = listBeforeHole(g, [0n]);
    expect(populate(g, { extent_start: list, nr_extents: 2 })).toBe(1n);
    expect(g.getU64s(list, 1)).toEqual([FIRST_FREE_MFN]);
    expect(totPages(g)).toBe(1025n);
  });

  test('PV: a write-back fault (a read-only list) stops with the count so far; the new page stays allocated', () => {
    const g = pv();
    mapPeerFrame(g, 0x300, true); // the list sits in a page dom0 granted read-only
    expect(populate(g, { extent_start: 0x300n << 12n, nr_extents: 2 })).toBe(0n);
    expect(g.machine.memory.read64(0x300 << 12)).toBe(0n);
    expect(totPages(g)).toBe(1025n);
  });

  test('PV: an extent list that fails the guest_handle range check makes no progress', () => {
    const g = pv();
    expect(populate(g, { extent_start: NON_CANONICAL, nr_extents: 1 })).toBe(0n);
    expect(totPages(g)).toBe(1024n);
  });

  test('HVM: a gfn holding a grant mapping crashes the domain (p2m_add_page) and stops; the new page is not freed', () => {
    const g = hvm();
    mapPeerFrame(g, 3000);
    g.events();
    expect(populate(g, { extent_start: g.putU64s([2000n, 3000n, 2001n]), nr_extents: 3 })).toBe(1n);
    expect(g.xen.guest.shutdownCode).toBe(SHUTDOWN.SHUTDOWN_crash);
    expect(g.xen.guest.totPages).toBe(RAM + 2);
    expect(g.eventLog()).toEqual([`shutdown ${SHUTDOWN.SHUTDOWN_crash} @0`]);
  });

  test('HVM: populating the frames held for shared_info and the grant table, or beyond the modelled address space, is not modelled', () => {
    const g = hvm();
    for (const gfn of [BigInt(g.xen.memoryMap.sharedInfoGfn), 1030n, 4096n]) {
      expect(g.call('memory_op', XENMEM.XENMEM_populate_physmap, reservation(g, { extent_start: g.putU64s([gfn]), nr_extents: 1 }))).toMatchObject({
        kind: 'unimplemented',
      });
    }
  });
});

describe(`XENMEM_maximum_ram_page (${MEM} do_memory_op)`, () => {
  test('returns the host max_page; the argument is never read', () => {
    expect(memop(pv(), XENMEM.XENMEM_maximum_ram_page, 0n)).toBe(0x100_0000n);
    expect(memop(hvm({ hostMaxPage: 0x12_3457 }), XENMEM.XENMEM_maximum_ram_page, BAD_PTR)).toBe(0x12_3457n);
  });

  test('a start_extent is -EINVAL', () => {
    expect(memop(pv(), XENMEM.XENMEM_maximum_ram_page, 0n, 1n)).toBe(E('XEN_EINVAL'));
  });
});

describe(`XENMEM_current_reservation / maximum_reservation / maximum_gpfn (${MEM} do_memory_op; xen/arch/x86/mm.c domain_get_maximum_gpfn)`, () => {
  const ops = [
    ['current_reservation', XENMEM.XENMEM_current_reservation],
    ['maximum_reservation', XENMEM.XENMEM_maximum_reservation],
    ['maximum_gpfn', XENMEM.XENMEM_maximum_gpfn],
  ] as const;

  test.each(ops)('%s: a start_extent is -EINVAL, checked before the argument is read', (_name, op) => {
    expect(memop(pv(), op, BAD_PTR, 1n)).toBe(E('XEN_EINVAL'));
  });

  test.each(ops)('%s: an unreadable argument is -EFAULT', (_name, op) => {
    expect(memop(pv(), op, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test.each(ops)('%s: a domain that does not exist, or a system domid, is -ESRCH', (_name, op) => {
    const g = pv();
    for (const domid of [2, DOMID.DOMID_IO, DOMID.DOMID_XEN, DOMID.DOMID_IDLE]) expect(stat(g, op, domid)).toBe(E('XEN_ESRCH'));
  });

  test.each(ops)('%s: another domain (dom0) is -EPERM (xsm_memory_stat_reservation, XSM_TARGET)', (_name, op) => {
    expect(stat(pv(), op, 0)).toBe(E('XEN_EPERM'));
  });

  test('current_reservation is tot_pages and maximum_reservation is max_pages, for DOMID_SELF and the own id', () => {
    for (const g of [pv({ maxPages: 2000 }), hvm({ maxPages: 2000 })]) {
      expect(stat(g, XENMEM.XENMEM_current_reservation)).toBe(1024n);
      expect(stat(g, XENMEM.XENMEM_current_reservation, 1)).toBe(1024n);
      expect(stat(g, XENMEM.XENMEM_maximum_reservation)).toBe(2000n);
      expect(stat(g, XENMEM.XENMEM_maximum_reservation, 1)).toBe(2000n);
    }
    expect(stat(pv(), XENMEM.XENMEM_maximum_reservation)).toBe(BigInt(RAM + 256));
  });

  test('PV maximum_gpfn is (shared_info.arch.max_pfn ?: 1) - 1, a value the guest writes itself', () => {
    const g = pv();
    const maxPfn = g.xen.guest.sharedInfoGpa + SHARED_INFO.arch;
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn)).toBe(0n);
    g.machine.memory.write64(maxPfn, 0x500n);
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn)).toBe(0x4ffn);
    g.machine.memory.write64(maxPfn, 1n);
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn)).toBe(0n);
    g.machine.memory.write64(maxPfn, 0x1_0000_0000_0000n);
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn, 1)).toBe(0xffff_ffff_ffffn);
  });

  test('HVM maximum_gpfn is the highest gfn ever mapped (p2m max_mapped_pfn): it rises with populate and never falls', () => {
    const g = hvm();
    // RAM, shared_info (1024) and grant frame 0 (1025) are mapped at the start.
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn)).toBe(1025n);
    expect(populate(g, { extent_start: g.putU64s([3000n]), nr_extents: 1 })).toBe(1n);
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn)).toBe(3000n);
    expect(decrease(g, { extent_start: g.putU64s([3000n]), nr_extents: 1 })).toBe(1n);
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn)).toBe(3000n);
  });
});

describe(`other memory_op sub-ops (${MEM} do_memory_op; xen/arch/x86/mm.c arch_memory_op; xen/arch/x86/x86_64/mm.c subarch_memory_op)`, () => {
  test('an unknown sub-op is -ENOSYS (arch_memory_op default), including the removed 8 and every number from 29 to 63', () => {
    const g = pv();
    for (const op of [8, ...Array.from({ length: 35 }, (_, i) => 29 + i)]) expect([op, memop(g, op, g.alloc(64))]).toEqual([op, E('XEN_ENOSYS')]);
    expect(memop(hvm(), 8, 0n)).toBe(E('XEN_ENOSYS'));
  });

  test('HVM XENMEM_machphys_mapping is -ENOSYS (hvm_memory_op), whatever the start_extent', () => {
    const g = hvm();
    expect(memop(g, XENMEM.XENMEM_machphys_mapping, g.alloc(24))).toBe(E('XEN_ENOSYS'));
    expect(memop(g, XENMEM.XENMEM_machphys_mapping, g.alloc(24), 3n)).toBe(E('XEN_ENOSYS'));
  });

  test('XENMEM_add_to_physmap and add_to_physmap_batch: a start_extent that does not fit in 16 bits is -EDOM, before the argument is read', () => {
    for (const g of [pv(), hvm()]) {
      expect(memop(g, XENMEM.XENMEM_add_to_physmap, BAD_PTR, 0x1_0000n)).toBe(E('XEN_EDOM'));
      expect(memop(g, XENMEM.XENMEM_add_to_physmap_batch, BAD_PTR, 0x1_0000n)).toBe(E('XEN_EDOM'));
    }
    const g = hvm();
    expect(g.call('memory_op', (0xffffn << 6n) | BigInt(XENMEM.XENMEM_add_to_physmap), xatp(g, SELF, XENMAPSPACE.XENMAPSPACE_gmfn))).toMatchObject({ kind: 'unimplemented' });
  });

  test('XENMEM_add_to_physmap: -EFAULT, -ENOSYS for gmfn_foreign, -ESRCH, then -EACCES for a PV target or for dev_mmio (xatp_permission_check)', () => {
    const g = pv();
    expect(memop(g, XENMEM.XENMEM_add_to_physmap, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(memop(g, XENMEM.XENMEM_add_to_physmap, xatp(g, 9, XENMAPSPACE.XENMAPSPACE_gmfn_foreign))).toBe(E('XEN_ENOSYS'));
    expect(memop(g, XENMEM.XENMEM_add_to_physmap, xatp(g, 9, XENMAPSPACE.XENMAPSPACE_shared_info))).toBe(E('XEN_ESRCH'));
    expect(memop(g, XENMEM.XENMEM_add_to_physmap, xatp(g, SELF, XENMAPSPACE.XENMAPSPACE_shared_info))).toBe(E('XEN_EACCES'));
    expect(memop(g, XENMEM.XENMEM_add_to_physmap, xatp(g, 1, XENMAPSPACE.XENMAPSPACE_grant_table))).toBe(E('XEN_EACCES'));
    const h = hvm();
    expect(memop(h, XENMEM.XENMEM_add_to_physmap, xatp(h, 0, XENMAPSPACE.XENMAPSPACE_gmfn))).toBe(E('XEN_EACCES')); // dom0 is PV
    expect(memop(h, XENMEM.XENMEM_add_to_physmap, xatp(h, SELF, XENMAPSPACE.XENMAPSPACE_dev_mmio))).toBe(E('XEN_EACCES'));
    expect(memop(h, XENMEM.XENMEM_add_to_physmap, xatp(h, SELF, XENMAPSPACE.XENMAPSPACE_gmfn_foreign))).toBe(E('XEN_ENOSYS'));
    expect(h.call('memory_op', XENMEM.XENMEM_add_to_physmap, xatp(h, SELF, XENMAPSPACE.XENMAPSPACE_shared_info))).toMatchObject({ kind: 'unimplemented' });
  });

  test('XENMEM_add_to_physmap_batch: -EFAULT, -EOPNOTSUPP for gmfn_range, -ESRCH, then -EACCES for a PV target or for dev_mmio', () => {
    const g = pv();
    expect(memop(g, XENMEM.XENMEM_add_to_physmap_batch, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(memop(g, XENMEM.XENMEM_add_to_physmap_batch, xatpBatch(g, 9, XENMAPSPACE.XENMAPSPACE_gmfn_range))).toBe(E('XEN_EOPNOTSUPP'));
    expect(memop(g, XENMEM.XENMEM_add_to_physmap_batch, xatpBatch(g, 9, XENMAPSPACE.XENMAPSPACE_gmfn))).toBe(E('XEN_ESRCH'));
    expect(memop(g, XENMEM.XENMEM_add_to_physmap_batch, xatpBatch(g, SELF, XENMAPSPACE.XENMAPSPACE_gmfn_foreign))).toBe(E('XEN_EACCES'));
    const h = hvm();
    expect(memop(h, XENMEM.XENMEM_add_to_physmap_batch, xatpBatch(h, 0, XENMAPSPACE.XENMAPSPACE_gmfn))).toBe(E('XEN_EACCES'));
    expect(memop(h, XENMEM.XENMEM_add_to_physmap_batch, xatpBatch(h, SELF, XENMAPSPACE.XENMAPSPACE_dev_mmio))).toBe(E('XEN_EACCES'));
    expect(h.call('memory_op', XENMEM.XENMEM_add_to_physmap_batch, xatpBatch(h, SELF, XENMAPSPACE.XENMAPSPACE_gmfn))).toMatchObject({ kind: 'unimplemented' });
  });

  test('XENMEM_remove_from_physmap: -EFAULT, -ESRCH, -EACCES for a PV target; HVM: -ENOENT for an empty gfn', () => {
    const xrfp = (g: XenTestGuest, domid: number, gpfn: bigint) => {
      const at = g.alloc(16);
      g.machine.memory.write16(Number(at), domid);
      g.machine.memory.write64(Number(at) + 8, gpfn);
      return at;
    };
    const g = pv();
    expect(memop(g, XENMEM.XENMEM_remove_from_physmap, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(memop(g, XENMEM.XENMEM_remove_from_physmap, xrfp(g, 9, 0x300n))).toBe(E('XEN_ESRCH'));
    expect(memop(g, XENMEM.XENMEM_remove_from_physmap, xrfp(g, SELF, 0x300n))).toBe(E('XEN_EACCES'));
    expect(populated(g, 0x300)).toBe(true);
    const h = hvm();
    expect(memop(h, XENMEM.XENMEM_remove_from_physmap, xrfp(h, 0, 0x300n))).toBe(E('XEN_EACCES')); // dom0 is PV
    expect(memop(h, XENMEM.XENMEM_remove_from_physmap, xrfp(h, SELF, 3000n))).toBe(E('XEN_ENOENT'));
    // Beyond the address space the p2m has no entry either: -ENOENT, not a gap in the model.
    for (const gpfn of [4096n, 1n << 40n, (1n << 64n) - 1n]) expect(memop(h, XENMEM.XENMEM_remove_from_physmap, xrfp(h, SELF, gpfn))).toBe(E('XEN_ENOENT'));
  });

  test('HVM XENMEM_remove_from_physmap of RAM unmaps the gfn but the page stays allocated: tot_pages does not fall', () => {
    const g = hvm();
    const at = g.alloc(16);
    g.machine.memory.write16(Number(at), SELF);
    g.machine.memory.write64(Number(at) + 8, 0x3ffn);
    expect(memop(g, XENMEM.XENMEM_remove_from_physmap, at)).toBe(0n);
    expect(g.machine.memory.read8(0x3ff * 4096)).toMatchObject({ kind: 'memory-fault' });
    expect(memop(g, XENMEM.XENMEM_remove_from_physmap, at)).toBe(E('XEN_ENOENT'));
    expect(totPages(g)).toBe(1024n);
  });

  test('common sub-ops that take no start_extent are -EINVAL with one', () => {
    const g = pv();
    for (const op of [XENMEM.XENMEM_exchange, XENMEM.XENMEM_remove_from_physmap, XENMEM.XENMEM_claim_pages, XENMEM.XENMEM_get_vnumainfo, XENMEM.XENMEM_reserved_device_memory_map]) {
      expect(memop(g, op, g.alloc(64), 1n)).toBe(E('XEN_EINVAL'));
    }
  });

  test('architecture sub-ops with a start_extent are -ENOSYS: arch_memory_op switches on the whole cmd', () => {
    const g = pv();
    for (const op of [
      XENMEM.XENMEM_machphys_mfn_list,
      XENMEM.XENMEM_memory_map,
      XENMEM.XENMEM_machine_memory_map,
      XENMEM.XENMEM_machphys_mapping,
      XENMEM.XENMEM_set_memory_map,
      XENMEM.XENMEM_set_pod_target,
      XENMEM.XENMEM_get_pod_target,
      XENMEM.XENMEM_get_sharing_freed_pages,
      XENMEM.XENMEM_get_sharing_shared_pages,
      XENMEM.XENMEM_machphys_compat_mfn_list,
    ]) {
      expect(memop(g, op, g.alloc(64), 1n)).toBe(E('XEN_ENOSYS'));
    }
  });

  test('XENMEM_machine_memory_map is -EPERM for a domU (xsm_machine_memory_map, XSM_PRIV, before anything is read)', () => {
    expect(memop(pv(), XENMEM.XENMEM_machine_memory_map, BAD_PTR)).toBe(E('XEN_EPERM'));
    expect(memop(hvm(), XENMEM.XENMEM_machine_memory_map, BAD_PTR)).toBe(E('XEN_EPERM'));
  });

  test('XENMEM_get_sharing_freed_pages / shared_pages return 0 without CONFIG_MEM_SHARING, to anyone', () => {
    for (const g of [pv(), hvm()]) {
      expect(memop(g, XENMEM.XENMEM_get_sharing_freed_pages, BAD_PTR)).toBe(0n);
      expect(memop(g, XENMEM.XENMEM_get_sharing_shared_pages, BAD_PTR)).toBe(0n);
    }
  });

  test('XENMEM_paging_op and XENMEM_sharing_op are -ENOSYS without CONFIG_MEM_PAGING / CONFIG_MEM_SHARING (the default)', () => {
    for (const g of [pv(), hvm()]) {
      expect(memop(g, XENMEM.XENMEM_paging_op, g.alloc(64))).toBe(E('XEN_ENOSYS'));
      expect(memop(g, XENMEM.XENMEM_sharing_op, g.alloc(64))).toBe(E('XEN_ENOSYS'));
    }
  });

  test('XENMEM_machphys_compat_mfn_list is -EOPNOTSUPP without 32-bit PV support (opt_pv32)', () => {
    expect(memop(pv(), XENMEM.XENMEM_machphys_compat_mfn_list, BAD_PTR)).toBe(E('XEN_EOPNOTSUPP'));
  });

  test('XENMEM_get_vnumainfo: -EFAULT, -EINVAL for a non-zero pad, -ESRCH, -EPERM for dom0, then -EOPNOTSUPP with no vNUMA layout', () => {
    const topology = (g: XenTestGuest, domid: number, pad = 0) => {
      const at = g.alloc(40);
      g.machine.memory.write16(Number(at), domid);
      g.machine.memory.write16(Number(at) + 2, pad);
      return at;
    };
    const g = pv();
    expect(memop(g, XENMEM.XENMEM_get_vnumainfo, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(memop(g, XENMEM.XENMEM_get_vnumainfo, topology(g, SELF, 1))).toBe(E('XEN_EINVAL'));
    expect(memop(g, XENMEM.XENMEM_get_vnumainfo, topology(g, 9, 1))).toBe(E('XEN_EINVAL'));
    expect(memop(g, XENMEM.XENMEM_get_vnumainfo, topology(g, 9))).toBe(E('XEN_ESRCH'));
    expect(memop(g, XENMEM.XENMEM_get_vnumainfo, topology(g, 0))).toBe(E('XEN_EPERM'));
    expect(memop(g, XENMEM.XENMEM_get_vnumainfo, topology(g, SELF))).toBe(E('XEN_EOPNOTSUPP'));
    const h = hvm();
    expect(memop(h, XENMEM.XENMEM_get_vnumainfo, topology(h, 1))).toBe(E('XEN_EOPNOTSUPP'));
  });

  test('sub-ops outside the model answer unimplemented, with a reason', () => {
    const g = pv();
    for (const op of [
      XENMEM.XENMEM_exchange,
      XENMEM.XENMEM_memory_map,
      XENMEM.XENMEM_machphys_mapping,
      XENMEM.XENMEM_acquire_resource,
      XENMEM.XENMEM_access_op,
    ]) {
      const outcome = g.call('memory_op', op, g.alloc(64));
      expect(outcome.kind).toBe('unimplemented');
      expect(outcome.kind === 'unimplemented' && outcome.reason.length > 0).toBe(true);
    }
  });
});
