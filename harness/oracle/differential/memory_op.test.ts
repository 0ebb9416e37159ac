import { decodeStruct, xenAbi, type GuestType, type XenDomainOptions } from '../../sut/index';
import { PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

const { XENMEM, XENMEMF, XENMAPSPACE, DOMID, XEN_ERRNO, SHARED_INFO, GNTTABOP, GNTMAP, GNTST, gnttab_map_grant_ref, gnttab_copy, xen_memory_reservation, xen_memory_domain } = xenAbi;

/*
 * memory_op in both worlds (xen/common/memory.c do_memory_op; xen/arch/x86/mm.c arch_memory_op).
 * 1024 RAM frames in a 4096-frame space; shared_info at 1024, grant frame 0 at 1025, frames up to
 * 1088 held for the grant table: the first machine frame a PV guest is given is 1089.
 */

const MEM = 'xen/common/memory.c';
const E = (name: keyof typeof XEN_ERRNO): bigint => -BigInt(XEN_ERRNO[name]);
const BAD_PTR = 0x7fff_f000_0000n;
const NON_CANONICAL = 0x8000_0000_0000n;
const SELF = DOMID.DOMID_SELF;
const RAM = 1024;
const FIRST_FREE_MFN = 1089n;
const TYPES: readonly GuestType[] = ['pv', 'pvhvm'];

type Profile = (typeof PAIR_PROFILES)[number];
type Fields = Partial<Record<'extent_start' | 'nr_extents' | 'extent_order' | 'mem_flags' | 'domid', number | bigint>>;

const guest = (profile: Profile, guestType: GuestType = 'pv', xen: XenDomainOptions = {}): PairGuest => new PairGuest({ viridian: { profile }, xen: { guestType, ...xen } });
const memop = (g: PairGuest, op: number, arg: bigint, start = 0n): bigint => g.ret('memory_op', (start << 6n) | BigInt(op), arg);
const reservation = (g: PairGuest, fields: Fields): bigint => g.put(xen_memory_reservation, { domid: SELF, ...fields });
const increase = (g: PairGuest, f: Fields, start = 0n) => memop(g, XENMEM.XENMEM_increase_reservation, reservation(g, f), start);
const decrease = (g: PairGuest, f: Fields, start = 0n) => memop(g, XENMEM.XENMEM_decrease_reservation, reservation(g, f), start);
const populate = (g: PairGuest, f: Fields, start = 0n) => memop(g, XENMEM.XENMEM_populate_physmap, reservation(g, f), start);
const stat = (g: PairGuest, op: number, domid: number = SELF, start = 0n) => memop(g, op, g.put(xen_memory_domain, { domid }), start);
const totPages = (g: PairGuest) => stat(g, XENMEM.XENMEM_current_reservation);
/** Whether a frame is populated (the pair checks the translated world against it after every step). */
const mapped = (g: PairGuest, gfn: number): boolean => g.pair.xen.machine.memory.isPopulated(gfn);
const u64s = (g: PairGuest, at: bigint, n: number): bigint[] => Array.from({ length: n }, (_, i) => new DataView(g.read(at + BigInt(8 * i), 8).buffer).getBigUint64(0, true));

/** A call both worlds report as not modelled. */
function notModelled(g: PairGuest, cmd: bigint | number, arg: bigint): void {
  const step = g.callOn(0, 'memory_op', cmd, arg);
  expect([step.xen.kind, step.translated.kind]).toEqual(['unimplemented', 'unimplemented']);
}

/** A list of frame numbers ending where guest memory ends: at frame 1026, the first grant frame held back (never allocated). */
function listBeforeHole(g: PairGuest, values: readonly bigint[]): bigint {
  const at = BigInt((g.pair.xen.xen.memoryMap.grantTableGfn + 1) * 4096 - 8 * values.length);
  const bytes = new Uint8Array(8 * values.length);
  values.forEach((v, i) => new DataView(bytes.buffer).setBigUint64(8 * i, v, true));
  g.write(at, bytes);
  return at;
}

/** dom0 grants its frame 9 and the guest maps it with GNTMAP_host_map at `gfn`. */
function mapPeerFrame(g: PairGuest, gfn: number): void {
  expect(g.pair.peer({ op: 'grantAccess', ref: 10, frame: 9, readonly: false, domid: 1 }).xen).toBe(true);
  const map = g.put(gnttab_map_grant_ref, { host_addr: BigInt(gfn) << 12n, flags: GNTMAP.GNTMAP_host_map, ref: 10, dom: 0 });
  expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, map, 1)).toBe(0n);
  expect(decodeStruct(g.read(map, gnttab_map_grant_ref.size), gnttab_map_grant_ref).status).toBe(GNTST.GNTST_okay);
}

describe.each(PAIR_PROFILES)('memory_op agrees (%s)', (profile) => {
  const OPS = [XENMEM.XENMEM_increase_reservation, XENMEM.XENMEM_decrease_reservation, XENMEM.XENMEM_populate_physmap];

  test.each(TYPES)(`%s: reservation ops never fail with an errno: every early exit returns start_extent (${MEM} do_memory_op, construct_memop_from_reservation)`, (type) => {
    const g = guest(profile, type);
    const list = g.putU64s([0x200n, 0x201n, 0x202n]);
    for (const op of OPS) {
      expect([memop(g, op, BAD_PTR), memop(g, op, BAD_PTR, 5n)]).toEqual([0n, 5n]);
      expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 0x400_0000 }), 3n)).toBe(3n); // nr_extents > UINT_MAX >> 6
      expect([memop(g, op, reservation(g, { extent_start: list, nr_extents: 0 })), memop(g, op, reservation(g, { extent_start: list, nr_extents: 3 }), 7n)]).toEqual([0n, 7n]);
      for (const domid of [5, DOMID.DOMID_IO, DOMID.DOMID_XEN, DOMID.DOMID_INVALID, 0]) expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 1, domid }))).toBe(0n);
      expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 2, extent_order: 10 }), 1n)).toBe(1n); // above max_order 9
      expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 1, mem_flags: 12 }))).toBe(0n); // address_bits <= 12
      expect(memop(g, op, reservation(g, { extent_start: list, nr_extents: 1, mem_flags: (1 << 8) | XENMEMF.XENMEMF_exact_node_request }))).toBe(0n);
    }
    expect(totPages(g)).toBe(1024n);
    expect(u64s(g, list, 3)).toEqual([0x200n, 0x201n, 0x202n]);
  });

  test(`pv: increase_reservation hands out machine frames, written back to extent_start (${MEM} increase_reservation)`, () => {
    const g = guest(profile, 'pv', { maxPages: RAM + 520 });
    const list = g.putU64s([0xdeadn, 0xdeadn, 0xdeadn, 0xdeadn]);
    expect(increase(g, { extent_start: list, nr_extents: 3 })).toBe(3n);
    expect(u64s(g, list, 4)).toEqual([FIRST_FREE_MFN, FIRST_FREE_MFN + 1n, FIRST_FREE_MFN + 2n, 0xdeadn]);
    expect([totPages(g), mapped(g, 1091), mapped(g, 1092)]).toEqual([1027n, true, false]);
    expect(increase(g, { extent_start: list, nr_extents: 4 }, 3n)).toBe(4n); // a continuation starts at start_extent
    expect(u64s(g, list, 4)).toEqual([FIRST_FREE_MFN, FIRST_FREE_MFN + 1n, FIRST_FREE_MFN + 2n, FIRST_FREE_MFN + 3n]);
    expect(increase(g, { extent_start: 0, nr_extents: 2 })).toBe(2n); // NULL extent_start
    const order9 = g.putU64s([0n]);
    expect(increase(g, { extent_start: order9, nr_extents: 1, extent_order: 9 })).toBe(1n);
    expect([u64s(g, order9, 1), totPages(g)]).toEqual([[1536n], BigInt(RAM + 6 + 512)]);
    expect(increase(g, { extent_start: list, nr_extents: 1, mem_flags: 22 })).toBe(0n); // 22 bits: the first 1024 frames, all taken
    expect(increase(g, { extent_start: list, nr_extents: 5 })).toBe(2n); // stops at max_pages
    expect(totPages(g)).toBe(BigInt(RAM + 520));
  });

  test(`pv: a write-back fault stops increase_reservation with the count so far; the failed extent stays allocated (${MEM})`, () => {
    const g = guest(profile);
    const list = listBeforeHole(g, [0n, 0n]);
    expect(increase(g, { extent_start: list, nr_extents: 4 })).toBe(2n);
    expect([u64s(g, list, 2), totPages(g)]).toEqual([[FIRST_FREE_MFN, FIRST_FREE_MFN + 1n], 1027n]);
    expect(increase(g, { extent_start: NON_CANONICAL, nr_extents: 2 })).toBe(0n); // fails guest_handle_okay
  });

  test(`pvhvm: increase_reservation counts pages in tot_pages but writes and maps nothing; no range check (${MEM})`, () => {
    const g = guest(profile, 'pvhvm', { maxPages: RAM + 3 });
    const list = g.putU64s([0xdeadn, 0xbeefn]);
    expect(increase(g, { extent_start: list, nr_extents: 2 })).toBe(2n);
    expect(increase(g, { extent_start: NON_CANONICAL, nr_extents: 2 })).toBe(1n);
    expect([u64s(g, list, 2), totPages(g), mapped(g, 1089)]).toEqual([[0xdeadn, 0xbeefn], BigInt(RAM + 3), false]);
  });

  test.each(TYPES)(`%s: decrease_reservation frees frames, stops at the first that is not RAM, counts whole extents (${MEM} guest_remove_page)`, (type) => {
    const g = guest(profile, type);
    g.write(0x300n * 4096n, Uint8Array.of(0x5a));
    expect(decrease(g, { extent_start: g.putU64s([0x300n, 0x301n, 0x3ffn]), nr_extents: 3 })).toBe(3n);
    expect([mapped(g, 0x300), mapped(g, 0x301), mapped(g, 0x3ff), mapped(g, 0x302), totPages(g)]).toEqual([false, false, false, true, 1021n]);
    expect(decrease(g, { extent_start: g.putU64s([0x302n, 0x302n, 0x303n]), nr_extents: 3 })).toBe(1n);
    expect(decrease(g, { extent_start: g.putU64s([0x1_0000_0000n]), nr_extents: 1 })).toBe(0n);
    expect(decrease(g, { extent_start: g.putU64s([0x311n]), nr_extents: 1 })).toBe(1n);
    expect(decrease(g, { extent_start: g.putU64s([0x304n, 0x310n]), nr_extents: 2, extent_order: 1 })).toBe(1n);
    expect([mapped(g, 0x305), mapped(g, 0x310), totPages(g)]).toEqual([false, false, 1016n]);
    expect(decrease(g, { extent_start: g.putU64s([0x320n, 0x321n, 0x322n]), nr_extents: 3 }, 2n)).toBe(3n);
    expect([mapped(g, 0x321), mapped(g, 0x322)]).toEqual([true, false]);
    expect(decrease(g, { extent_start: BAD_PTR, nr_extents: 3 })).toBe(0n);
    notModelled(g, XENMEM.XENMEM_decrease_reservation, reservation(g, { extent_start: g.putU64s([1024n]), nr_extents: 1 })); // shared_info
  });

  test(`pvhvm: decrease_reservation of an empty gfn (-ENOENT) or of a grant mapping (-ENXIO) stops the loop (${MEM})`, () => {
    const g = guest(profile, 'pvhvm');
    expect(decrease(g, { extent_start: g.putU64s([0x301n, 3000n, 0x302n]), nr_extents: 3 })).toBe(1n);
    mapPeerFrame(g, 3000);
    expect(decrease(g, { extent_start: g.putU64s([3000n]), nr_extents: 1 })).toBe(0n);
    expect([mapped(g, 0x302), mapped(g, 3000), totPages(g)]).toEqual([true, true, 1023n]);
  });

  test(`pv: populate_physmap ignores the gpfns and overwrites each entry with a new machine frame (${MEM} populate_physmap)`, () => {
    const g = guest(profile, 'pv', { maxPages: RAM + 3 });
    const hole = listBeforeHole(g, [0x4000n]);
    expect(populate(g, { extent_start: hole, nr_extents: 2 })).toBe(1n); // the second entry cannot be read
    expect(u64s(g, hole, 1)).toEqual([FIRST_FREE_MFN]);
    const list = g.putU64s([0x5000n, 0x300n, 7n]);
    expect(populate(g, { extent_start: list, nr_extents: 3 })).toBe(2n); // then max_pages
    expect([u64s(g, list, 3), totPages(g)]).toEqual([[FIRST_FREE_MFN + 1n, FIRST_FREE_MFN + 2n, 7n], BigInt(RAM + 3)]);
  });

  test(`pvhvm: populate_physmap maps zeroed pages at the gfns, replacing RAM; order 1 is two frames (${MEM}; xen/arch/x86/mm/p2m.c p2m_add_page)`, () => {
    const g = guest(profile, 'pvhvm');
    g.write(0x300n * 4096n, Uint8Array.of(0xab));
    const list = g.putU64s([2000n, 2500n, 0x300n]);
    expect(populate(g, { extent_start: list, nr_extents: 3 })).toBe(3n);
    expect([u64s(g, list, 3), g.read(0x300n * 4096n, 1)[0], totPages(g)]).toEqual([[2000n, 2500n, 0x300n], 0, 1027n]);
    g.write(2500n * 4096n, Uint8Array.of(1, 2, 3, 4));
    expect(populate(g, { extent_start: g.putU64s([2002n]), nr_extents: 1, extent_order: 1 })).toBe(1n);
    expect([mapped(g, 2002), mapped(g, 2003), mapped(g, 2004)]).toEqual([true, true, false]);
    expect(populate(g, { extent_start: list, nr_extents: 1, mem_flags: XENMEMF.XENMEMF_populate_on_demand })).toBe(0n);
    expect(populate(g, { extent_start: g.putU64s([1030n]), nr_extents: 1, extent_order: 10 })).toBe(0n);
    notModelled(g, XENMEM.XENMEM_populate_physmap, reservation(g, { extent_start: g.putU64s([1030n]), nr_extents: 1 })); // a held grant frame
  });

  test(`pvhvm: populate_physmap over a grant mapping crashes the domain (p2m_add_page, domain_crash) (${MEM})`, () => {
    const g = guest(profile, 'pvhvm');
    mapPeerFrame(g, 3000);
    expect(populate(g, { extent_start: g.putU64s([2000n, 3000n, 2001n]), nr_extents: 3 })).toBe(1n);
    expect(g.pair.xen.xen.guest.shutdownCode).toBe(3); // SHUTDOWN_crash
  });

  test.each(TYPES)(`%s: maximum_ram_page, current_reservation, maximum_reservation and their errors (${MEM} do_memory_op)`, (type) => {
    const g = guest(profile, type, { maxPages: 2000 });
    expect([memop(g, XENMEM.XENMEM_maximum_ram_page, BAD_PTR), memop(g, XENMEM.XENMEM_maximum_ram_page, 0n, 1n)]).toEqual([0x100_0000n, E('XEN_EINVAL')]);
    expect([stat(g, XENMEM.XENMEM_current_reservation), stat(g, XENMEM.XENMEM_current_reservation, 1), stat(g, XENMEM.XENMEM_maximum_reservation)]).toEqual([1024n, 1024n, 2000n]);
    for (const op of [XENMEM.XENMEM_current_reservation, XENMEM.XENMEM_maximum_reservation, XENMEM.XENMEM_maximum_gpfn]) {
      expect([memop(g, op, BAD_PTR, 1n), memop(g, op, BAD_PTR), stat(g, op, 2), stat(g, op, DOMID.DOMID_IO), stat(g, op, 0)]).toEqual([
        E('XEN_EINVAL'),
        E('XEN_EFAULT'),
        E('XEN_ESRCH'),
        E('XEN_ESRCH'),
        E('XEN_EPERM'),
      ]);
    }
  });

  test(`pv: maximum_gpfn is (shared_info.arch.max_pfn ?: 1) - 1, written by the guest (xen/arch/x86/mm.c domain_get_maximum_gpfn)`, () => {
    const g = guest(profile);
    const maxPfn = BigInt(g.pair.xen.xen.memoryMap.sharedInfoGfn * 4096 + SHARED_INFO.arch);
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn)).toBe(0n);
    g.write(maxPfn, Uint8Array.of(0, 5, 0, 0, 0, 0, 0, 0));
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn, 1)).toBe(0x4ffn);
  });

  // Regression tests: the adapter's own frames once sat at the top of the guest's GPA space (fixed in 0dce43c: they are above it now).
  test(`pvhvm: maximum_gpfn is the highest gfn ever mapped, 1025 at boot (xen/arch/x86/mm.c domain_get_maximum_gpfn, p2m max_mapped_pfn)`, () => {
    const g = guest(profile, 'pvhvm');
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn)).toBe(1025n);
    expect(populate(g, { extent_start: g.putU64s([3000n]), nr_extents: 1 })).toBe(1n);
    expect(decrease(g, { extent_start: g.putU64s([3000n]), nr_extents: 1 })).toBe(1n);
    expect(stat(g, XENMEM.XENMEM_maximum_gpfn)).toBe(3000n);
  });

  test(`pv: decrease_reservation of an unpopulated frame at the top of the address space stops at once (${MEM} guest_remove_page)`, () => {
    const g = guest(profile);
    expect(decrease(g, { extent_start: g.putU64s([4094n]), nr_extents: 1 })).toBe(0n);
  });

  test(`pv: increase_reservation may use every free frame up to the top of the address space (${MEM} increase_reservation)`, () => {
    const g = guest(profile, 'pv', { maxPages: 4096 });
    expect(increase(g, { nr_extents: 8, extent_order: 9 })).toBe(5n); // 1536, 2048, 2560, 3072, 3584
  });

  test(`pvhvm: populate_physmap at the last gfn maps RAM there (${MEM} populate_physmap)`, () => {
    const g = guest(profile, 'pvhvm');
    expect(populate(g, { extent_start: g.putU64s([4095n]), nr_extents: 1 })).toBe(1n);
    g.write(4095n * 4096n, Uint8Array.of(1));
  });

  test(`pvhvm: RAM populated at a high gfn keeps what the guest wrote there (${MEM} populate_physmap; GNTTABOP_copy reads it back)`, () => {
    const g = guest(profile, 'pvhvm');
    expect(populate(g, { extent_start: g.putU64s([4094n]), nr_extents: 1 })).toBe(1n);
    g.write(4094n * 4096n, new Uint8Array(16).fill(0x5a));
    g.pair.peer({ op: 'readPage', frame: 9, offset: 0, length: 4 }); // the adapter answers the peer
    const copy = g.put(gnttab_copy, { source_u: 4094n, source_domid: SELF, dest_u: 0x300n, dest_domid: SELF, len: 16 });
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_copy, copy, 1)).toBe(0n);
    expect(g.read(0x300n * 4096n, 16)).toEqual(new Uint8Array(16).fill(0x5a));
  });

  test.each(TYPES)(`%s: add_to_physmap and add_to_physmap_batch checks (${MEM} do_memory_op, xatp_permission_check)`, (type) => {
    const g = guest(profile, type);
    const xatp = (domid: number, space: number, batch = false): bigint => {
      const at = g.alloc(32);
      const b = new Uint8Array(32);
      const v = new DataView(b.buffer);
      v.setUint16(0, domid, true);
      if (batch) v.setUint16(2, space, true);
      else v.setUint32(4, space, true);
      g.write(at, b);
      return at;
    };
    const add = XENMEM.XENMEM_add_to_physmap;
    const addBatch = XENMEM.XENMEM_add_to_physmap_batch;
    expect([memop(g, add, BAD_PTR, 0x1_0000n), memop(g, addBatch, BAD_PTR, 0x1_0000n), memop(g, add, BAD_PTR), memop(g, addBatch, BAD_PTR)]).toEqual([E('XEN_EDOM'), E('XEN_EDOM'), E('XEN_EFAULT'), E('XEN_EFAULT')]);
    expect(memop(g, add, xatp(9, XENMAPSPACE.XENMAPSPACE_gmfn_foreign))).toBe(E('XEN_ENOSYS'));
    expect(memop(g, addBatch, xatp(9, XENMAPSPACE.XENMAPSPACE_gmfn_range, true))).toBe(E('XEN_EOPNOTSUPP'));
    expect([memop(g, add, xatp(9, XENMAPSPACE.XENMAPSPACE_shared_info)), memop(g, addBatch, xatp(9, XENMAPSPACE.XENMAPSPACE_gmfn, true))]).toEqual([E('XEN_ESRCH'), E('XEN_ESRCH')]);
    expect([memop(g, add, xatp(0, XENMAPSPACE.XENMAPSPACE_gmfn)), memop(g, add, xatp(SELF, XENMAPSPACE.XENMAPSPACE_dev_mmio))]).toEqual([E('XEN_EACCES'), E('XEN_EACCES')]);
    if (type === 'pv') expect(memop(g, add, xatp(SELF, XENMAPSPACE.XENMAPSPACE_shared_info))).toBe(E('XEN_EACCES'));
    else {
      notModelled(g, add, xatp(SELF, XENMAPSPACE.XENMAPSPACE_shared_info));
      notModelled(g, addBatch, xatp(SELF, XENMAPSPACE.XENMAPSPACE_gmfn, true));
    }
  });

  test.each(TYPES)(`%s: remove_from_physmap (${MEM} do_memory_op)`, (type) => {
    const g = guest(profile, type);
    const xrfp = (domid: number, gpfn: bigint): bigint => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setUint16(0, domid, true);
      new DataView(b.buffer).setBigUint64(8, gpfn, true);
      const at = g.alloc(16);
      g.write(at, b);
      return at;
    };
    const op = XENMEM.XENMEM_remove_from_physmap;
    expect([memop(g, op, BAD_PTR, 1n), memop(g, op, BAD_PTR), memop(g, op, xrfp(9, 0x300n)), memop(g, op, xrfp(0, 0x300n))]).toEqual([E('XEN_EINVAL'), E('XEN_EFAULT'), E('XEN_ESRCH'), E('XEN_EACCES')]);
    if (type === 'pv') expect(memop(g, op, xrfp(SELF, 0x300n))).toBe(E('XEN_EACCES'));
    else {
      expect([memop(g, op, xrfp(SELF, 3000n)), memop(g, op, xrfp(SELF, 0x3ffn)), memop(g, op, xrfp(1, 0x3ffn))]).toEqual([E('XEN_ENOENT'), 0n, E('XEN_ENOENT')]);
      expect([mapped(g, 0x3ff), totPages(g)]).toEqual([false, 1024n]);
    }
  });

  test.each(TYPES)(`%s: the other sub-ops: unknown, memory_map, exchange, machine_memory_map, sharing, vNUMA (${MEM}; xen/arch/x86/mm.c arch_memory_op)`, (type) => {
    const g = guest(profile, type);
    for (const op of [8, 29, 40, 63]) expect(memop(g, op, g.alloc(64))).toBe(E('XEN_ENOSYS'));
    expect([memop(g, XENMEM.XENMEM_paging_op, g.alloc(64)), memop(g, XENMEM.XENMEM_sharing_op, g.alloc(64))]).toEqual([E('XEN_ENOSYS'), E('XEN_ENOSYS')]);
    for (const op of [XENMEM.XENMEM_exchange, XENMEM.XENMEM_claim_pages, XENMEM.XENMEM_get_vnumainfo]) expect(memop(g, op, g.alloc(64), 1n)).toBe(E('XEN_EINVAL'));
    for (const op of [XENMEM.XENMEM_memory_map, XENMEM.XENMEM_machine_memory_map, XENMEM.XENMEM_set_pod_target]) expect(memop(g, op, g.alloc(64), 1n)).toBe(E('XEN_ENOSYS'));
    expect(memop(g, XENMEM.XENMEM_machine_memory_map, BAD_PTR)).toBe(E('XEN_EPERM'));
    expect([memop(g, XENMEM.XENMEM_get_sharing_freed_pages, BAD_PTR), memop(g, XENMEM.XENMEM_get_sharing_shared_pages, BAD_PTR)]).toEqual([0n, 0n]);
    const vnuma = (domid: number, pad = 0): bigint => {
      const b = new Uint8Array(40);
      new DataView(b.buffer).setUint16(0, domid, true);
      new DataView(b.buffer).setUint16(2, pad, true);
      const at = g.alloc(40);
      g.write(at, b);
      return at;
    };
    const vn = XENMEM.XENMEM_get_vnumainfo;
    expect([memop(g, vn, BAD_PTR), memop(g, vn, vnuma(SELF, 1)), memop(g, vn, vnuma(9)), memop(g, vn, vnuma(0)), memop(g, vn, vnuma(SELF))]).toEqual([
      E('XEN_EFAULT'),
      E('XEN_EINVAL'),
      E('XEN_ESRCH'),
      E('XEN_EPERM'),
      E('XEN_EOPNOTSUPP'),
    ]);
    if (type === 'pvhvm') expect(memop(g, XENMEM.XENMEM_machphys_mapping, g.alloc(24))).toBe(E('XEN_ENOSYS'));
    else expect(memop(g, XENMEM.XENMEM_machphys_compat_mfn_list, BAD_PTR)).toBe(E('XEN_EOPNOTSUPP'));
    for (const op of [XENMEM.XENMEM_exchange, XENMEM.XENMEM_memory_map, XENMEM.XENMEM_acquire_resource]) notModelled(g, op, g.alloc(64));
  });
});
