import { GNTCOPY, GNTMAP, GNTST, GNTTABOP, GTF } from '../abi/grant_table';
import { DOMID } from '../abi/xen';
import { XENMEM } from '../abi/memory';
import { SHUTDOWN } from '../abi/sched';
import {
  gnttab_copy,
  gnttab_get_version,
  gnttab_map_grant_ref,
  gnttab_query_size,
  gnttab_set_version,
  gnttab_setup_table,
  gnttab_unmap_grant_ref,
  grant_entry_v1,
  xen_memory_reservation,
} from '../abi/layouts';
import { decodeStruct, encodeStruct, type StructLayout, type StructValue } from '../../abi/struct';
import { isFault } from '../../machine/memory';
import type { GuestType } from '../config';
import type { XenProfileName } from '../profiles';
import { GrantTable } from '../grants/grantTable';
import { E, XenTestGuest } from '../xenTestkit';

const GC = 'xen/common/grant_table.c';
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: copy_from_guest faults
const NON_CANONICAL = 0x8000_0000_0000n; // between 2^47 and HYPERVISOR_VIRT_END: PV guest_handle_okay fails
const SELF = DOMID.DOMID_SELF;
const PEER = 0;
const GUEST = 1;
const RAM_PAGES = 1024; // XenTestGuest default
/** The guest's grant table frame 0 sits just above RAM and shared_info (xenModel.ts memory map). */
const GUEST_GRANT_GFN = RAM_PAGES + 1;
/** The peer's grant table starts at its frame 1; its data frames start at 8. */
const PEER_GRANT_GFN = 1;
const PEER_FRAME = 8;
/** A frame above the guest's RAM where mappings are placed (a hole until something is mapped there). */
const HOST = 0x800;
/** A RAM frame of the guest used as a copy buffer (well above the test kit's scratch allocations). */
const BUF = 0x300;
const TYPES: readonly GuestType[] = ['pv', 'pvhvm'];
const PROFILES: readonly XenProfileName[] = ['xen-4.22', 'xen-4.18', 'xen-4.17'];
const RW = GTF.GTF_reading | GTF.GTF_writing;

type Fields<L extends StructLayout> = Partial<Record<keyof L['fields'], number | bigint>>;
type MapIn = Fields<typeof gnttab_map_grant_ref>;
type UnmapIn = Fields<typeof gnttab_unmap_grant_ref>;
type CopyIn = Fields<typeof gnttab_copy>;

const guest = (type: GuestType = 'pv', profile: XenProfileName = 'xen-4.22', vcpus = 2) => new XenTestGuest({ vcpus, xen: { guestType: type, profile } });

function first<T>(xs: readonly T[]): T {
  const x = xs[0];
  if (x === undefined) throw new Error('empty list');
  return x;
}

/** A recognisable page: byte i is (i * 7 + seed) mod 256. */
function pattern(seed: number): Uint8Array {
  return Uint8Array.from({ length: 4096 }, (_, i) => (i * 7 + seed) & 0xff);
}

/** Writes an array of structs into fresh guest memory. */
function putArray<L extends StructLayout>(g: XenTestGuest, layout: L, elems: readonly Fields<L>[]): bigint {
  const at = g.alloc(layout.size * Math.max(elems.length, 1));
  elems.forEach((e, i) => g.write(at + BigInt(i * layout.size), encodeStruct(layout, e)));
  return at;
}

/** Issues a batched sub-op over `elems`; returns the return value and every element afterwards. */
function batch<L extends StructLayout>(g: XenTestGuest, cmd: number, layout: L, elems: readonly Fields<L>[], vcpu = 0) {
  const at = putArray(g, layout, elems);
  const rc = g.retOn(vcpu, 'grant_table_op', cmd, at, elems.length);
  return { rc, out: elems.map((_, i) => g.get(layout, at, i)) };
}

const maps = (g: XenTestGuest, elems: readonly MapIn[], vcpu = 0) => batch(g, GNTTABOP.GNTTABOP_map_grant_ref, gnttab_map_grant_ref, elems, vcpu);
const unmaps = (g: XenTestGuest, elems: readonly UnmapIn[]) => batch(g, GNTTABOP.GNTTABOP_unmap_grant_ref, gnttab_unmap_grant_ref, elems);
const copies = (g: XenTestGuest, elems: readonly CopyIn[]) => batch(g, GNTTABOP.GNTTABOP_copy, gnttab_copy, elems);

/** One map element; the call itself must return 0. */
function map1(g: XenTestGuest, e: MapIn, vcpu = 0): StructValue<typeof gnttab_map_grant_ref> {
  const r = maps(g, [e], vcpu);
  expect(r.rc).toBe(0n);
  return first(r.out);
}

/** One unmap element; returns its status. */
function unmap1(g: XenTestGuest, e: UnmapIn): number {
  const r = unmaps(g, [e]);
  expect(r.rc).toBe(0n);
  return first(r.out).status;
}

/** One copy element; returns its status. */
function copy1(g: XenTestGuest, e: CopyIn): number {
  const r = copies(g, [e]);
  expect(r.rc).toBe(0n);
  return first(r.out).status;
}

/** A host_map of peer grant `ref` at frame `gfn` of the guest. */
const hostMap = (ref: number, gfn: number = HOST, flags = 0, dom: number = PEER): MapIn => ({ host_addr: BigInt(gfn) << 12n, flags: GNTMAP.GNTMAP_host_map | flags, ref, dom });
/** Unmapping handle `handle` mapped at frame `gfn`. */
const hostUnmap = (handle: number, gfn: number = HOST): UnmapIn => ({ host_addr: BigInt(gfn) << 12n, dev_bus_addr: 0n, handle });

/** One side of a copy: a grant reference or a frame number, with its domid and offset. */
type Side = { readonly gref: boolean; readonly u: bigint; readonly domid: number; readonly offset: number };
const gref = (ref: number, domid: number = PEER, offset = 0): Side => ({ gref: true, u: BigInt(ref), domid, offset });
const gmfn = (frame: number | bigint, domid: number = SELF, offset = 0): Side => ({ gref: false, u: BigInt(frame), domid, offset });
function copyOp(src: Side, dst: Side, len: number): CopyIn {
  return {
    source_u: src.u,
    source_domid: src.domid,
    source_offset: src.offset,
    dest_u: dst.u,
    dest_domid: dst.domid,
    dest_offset: dst.offset,
    len,
    flags: (src.gref ? GNTCOPY.GNTCOPY_source_gref : 0) | (dst.gref ? GNTCOPY.GNTCOPY_dest_gref : 0),
    status: 0x5555,
  };
}

/** dom0 fills `frame` with a pattern and grants it to the guest as `ref`; returns the page contents. */
function offer(g: XenTestGuest, ref: number, opts: { readonly frame?: number; readonly readonly?: boolean } = {}): Uint8Array {
  const frame = opts.frame ?? PEER_FRAME;
  const bytes = pattern(frame + ref);
  expect(g.xen.peerActions.writePage(frame, 0, bytes)).toBe(true);
  expect(g.xen.peerActions.grantAccess(ref, frame, opts.readonly ?? false)).toBe(true);
  return bytes;
}

/** dom0's grant entry `ref`, read from dom0's grant frame. */
function peerEntry(g: XenTestGuest, ref: number): StructValue<typeof grant_entry_v1> {
  const bytes = g.xen.peerActions.readPage(PEER_GRANT_GFN, ref * grant_entry_v1.size, grant_entry_v1.size);
  if (!bytes) throw new Error('peer grant frame unreadable');
  return decodeStruct(bytes, grant_entry_v1);
}
const peerFlags = (g: XenTestGuest, ref: number) => peerEntry(g, ref).flags;
/** dom0 rewrites its grant entry `ref` in place. */
function setPeerEntry(g: XenTestGuest, ref: number, e: { flags: number; domid: number; frame: number }): void {
  expect(g.xen.peerActions.writePage(PEER_GRANT_GFN, ref * grant_entry_v1.size, encodeStruct(grant_entry_v1, e))).toBe(true);
}
/** dom0's page contents. */
function peerPage(g: XenTestGuest, frame: number, offset = 0, len = 4096): Uint8Array {
  const bytes = g.xen.peerActions.readPage(frame, offset, len);
  if (!bytes) throw new Error(`peer frame ${frame} unreadable`);
  return bytes;
}

/** The guest's own grant entry `ref` (in its grant frame 0). */
const guestEntryGpa = (ref: number) => BigInt(GUEST_GRANT_GFN * 4096 + ref * grant_entry_v1.size);
const guestEntry = (g: XenTestGuest, ref: number) => g.get(grant_entry_v1, guestEntryGpa(ref));
/** The guest writes its grant entry `ref` (a grant_entry_v1 in its grant frame). */
const setGuestEntry = (g: XenTestGuest, ref: number, e: { flags: number; domid: number; frame: number }) => g.write(guestEntryGpa(ref), encodeStruct(grant_entry_v1, e));

/** Guest memory at a frame, or the reason the guest cannot read it. */
function guestPage(g: XenTestGuest, gfn: number, offset = 0, len = 4096): Uint8Array | string {
  const bytes = g.machine.memory.readBytes(gfn * 4096 + offset, len);
  return isFault(bytes) ? bytes.reason : bytes;
}
/** The guest writes bytes at a frame; returns the fault reason, or 'ok'. */
function guestWrite(g: XenTestGuest, gfn: number, offset: number, bytes: Uint8Array): string {
  const fault = g.machine.memory.writeBytes(gfn * 4096 + offset, bytes);
  return fault ? fault.reason : 'ok';
}

/** XENMEM_decrease_reservation of one frame: the guest gives a RAM page back. */
function givePageBack(g: XenTestGuest, gfn: number): void {
  const r = g.put(xen_memory_reservation, { extent_start: g.putU64s([BigInt(gfn)]), nr_extents: 1n, extent_order: 0, domid: SELF });
  expect(g.ret('memory_op', XENMEM.XENMEM_decrease_reservation, r)).toBe(1n);
}

function setupTable(g: XenTestGuest, dom: number, nrFrames: number, listLen = Math.max(nrFrames, 1)) {
  const list = g.putU64s(Array.from({ length: listLen }, () => 0xdead_beefn));
  const at = g.put(gnttab_setup_table, { dom, nr_frames: nrFrames, status: 0x1234, frame_list: list });
  const rc = g.ret('grant_table_op', GNTTABOP.GNTTABOP_setup_table, at, 1);
  return { rc, out: g.get(gnttab_setup_table, at), frames: g.getU64s(list, listLen), list };
}

function querySize(g: XenTestGuest, dom: number = SELF) {
  const at = g.put(gnttab_query_size, { dom, nr_frames: 0x1111, max_nr_frames: 0x2222, status: 0x1234 });
  const rc = g.ret('grant_table_op', GNTTABOP.GNTTABOP_query_size, at, 1);
  return { rc, out: g.get(gnttab_query_size, at) };
}

describe(`grant_table_op dispatch (${GC} do_grant_table_op; xen/arch/x86/hvm/hypercall.c hvm_grant_table_op)`, () => {
  test.each([
    ['dump_table', GNTTABOP.GNTTABOP_dump_table],
    ['transfer', GNTTABOP.GNTTABOP_transfer],
    ['unmap_and_replace', GNTTABOP.GNTTABOP_unmap_and_replace],
    ['get_status_frames', GNTTABOP.GNTTABOP_get_status_frames],
    ['cache_flush', GNTTABOP.GNTTABOP_cache_flush],
    ['13 (unknown)', 13],
  ])('an HVM guest gets -ENOSYS for %s: only 8 sub-ops pass hvm_grant_table_op', (_name, cmd) => {
    const g = guest('pvhvm');
    expect(g.ret('grant_table_op', cmd, g.alloc(64), 1)).toBe(E('XEN_ENOSYS'));
  });

  test('HVM: an allowed sub-op with bits >= 12 set is -ENOSYS (the filter switches on the raw cmd); PV says -EINVAL', () => {
    for (const cmd of [GNTTABOP.GNTTABOP_query_size | 0x1000, GNTTABOP.GNTTABOP_map_grant_ref | 0x8000_0000]) {
      const hvm = guest('pvhvm');
      expect(hvm.ret('grant_table_op', cmd, hvm.put(gnttab_query_size, { dom: SELF }), 1)).toBe(E('XEN_ENOSYS'));
      const pv = guest('pv');
      expect(pv.ret('grant_table_op', cmd, pv.put(gnttab_query_size, { dom: SELF }), 1)).toBe(E('XEN_EINVAL'));
    }
  });

  test('PV: continuation bits on any sub-op other than cache_flush are -EINVAL, and nothing is processed', () => {
    const g = guest('pv');
    offer(g, 10);
    const at = putArray(g, gnttab_map_grant_ref, [{ ...hostMap(10), status: 0x1234 }]);
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref | 0x1000, at, 1)).toBe(E('XEN_EINVAL'));
    expect(g.get(gnttab_map_grant_ref, at).status).toBe(0x1234);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test.each(TYPES)('%s: a count with bit 31 set is -EINVAL ((int)count < 0), before the sub-op is looked at', (type) => {
    const g = guest(type);
    offer(g, 10);
    const at = putArray(g, gnttab_map_grant_ref, [{ ...hostMap(10), status: 0x1234 }]);
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, at, 0x8000_0000)).toBe(E('XEN_EINVAL'));
    // For HVM the sub-op filter runs first: an op it refuses is -ENOSYS whatever the count.
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_dump_table, at, 0xffff_ffff)).toBe(type === 'pv' ? E('XEN_EINVAL') : E('XEN_ENOSYS'));
    expect(g.get(gnttab_map_grant_ref, at).status).toBe(0x1234);
  });

  test('cmd and count are unsigned ints: bits 32 to 63 of the registers are ignored', () => {
    const g = guest('pv');
    const at = g.put(gnttab_query_size, { dom: SELF, status: 0x1234 });
    expect(g.ret('grant_table_op', 0x1_0000_0000n | BigInt(GNTTABOP.GNTTABOP_query_size), at, 0x7_0000_0001n)).toBe(0n);
    expect(g.get(gnttab_query_size, at)).toEqual({ dom: SELF, nr_frames: 1, max_nr_frames: 64, status: GNTST.GNTST_okay });
  });

  test('PV: an unknown cmd and GNTTABOP_dump_table are -ENOSYS', () => {
    const g = guest('pv');
    for (const cmd of [GNTTABOP.GNTTABOP_dump_table, 13, 0xfff]) expect(g.ret('grant_table_op', cmd, g.alloc(64), 1)).toBe(E('XEN_ENOSYS'));
  });

  test('PV on Xen 4.22: GNTTABOP_cache_flush is gone from x86 (-ENOSYS), and its continuation bits are not -EINVAL', () => {
    const g = guest('pv');
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_cache_flush, g.alloc(64), 1)).toBe(E('XEN_ENOSYS'));
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_cache_flush | 0x5000, g.alloc(64), 1)).toBe(E('XEN_ENOSYS'));
  });

  test.each(['xen-4.18', 'xen-4.17'] as const)('PV on %s: GNTTABOP_cache_flush still exists on x86 (removed in 4.21) and is reported as not modelled', (profile) => {
    const g = guest('pv', profile);
    expect(g.call('grant_table_op', GNTTABOP.GNTTABOP_cache_flush, g.alloc(64), 1)).toMatchObject({ kind: 'unimplemented' });
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_cache_flush, NON_CANONICAL, 1)).toBe(E('XEN_EFAULT'));
    expect(guest('pvhvm', profile).ret('grant_table_op', GNTTABOP.GNTTABOP_cache_flush, 0x1000, 1)).toBe(E('XEN_ENOSYS'));
  });

  test.each([
    ['map_grant_ref', GNTTABOP.GNTTABOP_map_grant_ref],
    ['unmap_grant_ref', GNTTABOP.GNTTABOP_unmap_grant_ref],
    ['copy', GNTTABOP.GNTTABOP_copy],
  ])('%s: a PV array outside the guest address range is -EFAULT even with count 0 (guest_handle_okay); HVM always passes that check', (_name, cmd) => {
    expect(guest('pv').ret('grant_table_op', cmd, NON_CANONICAL, 0)).toBe(E('XEN_EFAULT'));
    expect(guest('pvhvm').ret('grant_table_op', cmd, NON_CANONICAL, 0)).toBe(0n);
    expect(guest('pvhvm').ret('grant_table_op', cmd, NON_CANONICAL, 1)).toBe(E('XEN_EFAULT')); // the copy-in faults
  });

  test('PV: transfer, unmap_and_replace and swap_grant_ref check their array too: -EFAULT before any work', () => {
    const g = guest('pv');
    for (const cmd of [GNTTABOP.GNTTABOP_transfer, GNTTABOP.GNTTABOP_unmap_and_replace, GNTTABOP.GNTTABOP_swap_grant_ref]) {
      expect(g.ret('grant_table_op', cmd, NON_CANONICAL, 1)).toBe(E('XEN_EFAULT'));
    }
  });

  test('sub-ops outside the model are reported as unimplemented', () => {
    const pv = guest('pv');
    for (const cmd of [GNTTABOP.GNTTABOP_transfer, GNTTABOP.GNTTABOP_unmap_and_replace, GNTTABOP.GNTTABOP_get_status_frames, GNTTABOP.GNTTABOP_swap_grant_ref]) {
      expect(pv.call('grant_table_op', cmd, pv.alloc(64), 1)).toMatchObject({ kind: 'unimplemented' });
    }
    const hvm = guest('pvhvm');
    expect(hvm.call('grant_table_op', GNTTABOP.GNTTABOP_swap_grant_ref, hvm.alloc(64), 1)).toMatchObject({ kind: 'unimplemented' });
  });

  test.each(TYPES)('%s: count 0 returns 0 and processes nothing', (type) => {
    const g = guest(type);
    offer(g, 10);
    const at = putArray(g, gnttab_map_grant_ref, [{ ...hostMap(10), status: 0x1234 }]);
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, at, 0)).toBe(0n);
    expect(g.get(gnttab_map_grant_ref, at).status).toBe(0x1234);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
    expect(guestPage(g, HOST, 0, 1)).toBe('unpopulated');
  });

  test.each(TYPES)('%s: an element that cannot be read stops the batch with -EFAULT; the elements before it keep their effects', (type) => {
    const g = guest(type);
    offer(g, 10);
    givePageBack(g, 0x3f0);
    const at = 0x3f0n * 4096n - 32n; // element 0 ends the page before the hole, element 1 is in the hole
    g.write(at, encodeStruct(gnttab_map_grant_ref, hostMap(10)));
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, at, 2)).toBe(E('XEN_EFAULT'));
    expect(g.get(gnttab_map_grant_ref, at)).toMatchObject({ status: GNTST.GNTST_okay, handle: 0 });
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
  });

  test.each(TYPES)('%s: an element that cannot be written back is -EFAULT, and the mapping it made stays in force', (type) => {
    const g = guest(type);
    // The map arguments live in a page the guest maps read-only from dom0: copy-in works, copy-back faults.
    g.xen.peerActions.writePage(9, 0, encodeStruct(gnttab_map_grant_ref, hostMap(21, HOST + 1)));
    g.xen.peerActions.grantAccess(20, 9, true);
    const contents = offer(g, 21, { frame: 10 });
    expect(map1(g, hostMap(20, HOST, GNTMAP.GNTMAP_readonly)).status).toBe(GNTST.GNTST_okay);
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, BigInt(HOST) << 12n, 1)).toBe(E('XEN_EFAULT'));
    expect(peerFlags(g, 21)).toBe(GTF.GTF_permit_access | RW);
    expect(guestPage(g, HOST + 1)).toEqual(contents);
  });
});

describe(`GNTTABOP_setup_table (${GC} gnttab_setup_table)`, () => {
  test('count other than 1 is -EINVAL and nothing is written', () => {
    const g = guest('pv');
    const list = g.putU64s([7n]);
    const at = g.put(gnttab_setup_table, { dom: SELF, nr_frames: 1, status: 0x1234, frame_list: list });
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_setup_table, at, 0)).toBe(E('XEN_EINVAL'));
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_setup_table, at, 2)).toBe(E('XEN_EINVAL'));
    expect(g.get(gnttab_setup_table, at).status).toBe(0x1234);
    expect(g.getU64s(list, 1)).toEqual([7n]);
  });

  test('an unreadable argument is -EFAULT', () => {
    expect(guest('pv').ret('grant_table_op', GNTTABOP.GNTTABOP_setup_table, BAD_PTR, 1)).toBe(E('XEN_EFAULT'));
  });

  test('PV: a frame_list outside the address range is -EFAULT and status is not written; HVM passes the check and gets bad_virt_addr', () => {
    for (const type of TYPES) {
      const g = guest(type);
      const at = g.put(gnttab_setup_table, { dom: SELF, nr_frames: 1, status: 0x1234, frame_list: NON_CANONICAL });
      expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_setup_table, at, 1)).toBe(type === 'pv' ? E('XEN_EFAULT') : 0n);
      expect(g.get(gnttab_setup_table, at).status).toBe(type === 'pv' ? 0x1234 : GNTST.GNTST_bad_virt_addr);
    }
  });

  test.each(TYPES)('%s: one frame of the own table; frame 0 is the frame just above shared_info; only status is written back', (type) => {
    const g = guest(type);
    const r = setupTable(g, SELF, 1);
    expect(r.rc).toBe(0n);
    expect(r.out).toEqual({ dom: SELF, nr_frames: 1, status: GNTST.GNTST_okay, frame_list: r.list });
    expect(r.frames).toEqual([BigInt(GUEST_GRANT_GFN)]);
  });

  test('the own numeric domid is accepted like DOMID_SELF (rcu_lock_domain_by_any_id)', () => {
    const r = setupTable(guest('pv'), GUEST, 1);
    expect(r.out.status).toBe(GNTST.GNTST_okay);
    expect(r.frames).toEqual([BigInt(GUEST_GRANT_GFN)]);
  });

  test('a domain that does not exist gives status bad_domain; the call returns 0 and frame_list is untouched', () => {
    const r = setupTable(guest('pv'), 5, 1);
    expect(r).toMatchObject({ rc: 0n, out: { status: GNTST.GNTST_bad_domain, nr_frames: 1 }, frames: [0xdead_beefn] });
  });

  test('another domain (dom0) gives status permission_denied (xsm_grant_setup, XSM_TARGET)', () => {
    const r = setupTable(guest('pv'), PEER, 1);
    expect(r).toMatchObject({ rc: 0n, out: { status: GNTST.GNTST_permission_denied }, frames: [0xdead_beefn] });
  });

  test.each(TYPES)('%s: nr_frames above max_grant_frames (64) gives general_error and neither grows the table nor writes frame_list', (type) => {
    const g = guest(type);
    const r = setupTable(g, SELF, 65, 2);
    expect(r).toMatchObject({ rc: 0n, out: { status: GNTST.GNTST_general_error }, frames: [0xdead_beefn, 0xdead_beefn] });
    expect(querySize(g).out.nr_frames).toBe(1);
  });

  test('max_grant_frames comes from the domain config', () => {
    const g = new XenTestGuest({ xen: { maxGrantFrames: 8 } });
    expect(setupTable(g, SELF, 9).out.status).toBe(GNTST.GNTST_general_error);
    expect(setupTable(g, SELF, 8).out.status).toBe(GNTST.GNTST_okay);
  });

  test.each(TYPES)('%s: growing the table lists consecutive frames, adds zeroed pages to the guest, and query_size reports the new size', (type) => {
    const g = guest(type);
    expect(guestPage(g, GUEST_GRANT_GFN + 3, 0, 1)).toBe('unpopulated');
    const r = setupTable(g, SELF, 4);
    expect(r.out.status).toBe(GNTST.GNTST_okay);
    expect(r.frames).toEqual([0, 1, 2, 3].map((i) => BigInt(GUEST_GRANT_GFN + i)));
    expect(guestPage(g, GUEST_GRANT_GFN + 3)).toEqual(new Uint8Array(4096));
    expect(querySize(g).out).toMatchObject({ nr_frames: 4, max_nr_frames: 64, status: GNTST.GNTST_okay });
  });

  test('the table never shrinks: a smaller nr_frames (or 0) is okay, lists only nr_frames entries, and query_size keeps the size', () => {
    const g = guest('pv');
    setupTable(g, SELF, 64);
    const r = setupTable(g, SELF, 2, 3);
    expect(r.out.status).toBe(GNTST.GNTST_okay);
    expect(r.frames).toEqual([BigInt(GUEST_GRANT_GFN), BigInt(GUEST_GRANT_GFN + 1), 0xdead_beefn]);
    const z = setupTable(g, SELF, 0);
    expect(z).toMatchObject({ rc: 0n, out: { status: GNTST.GNTST_okay }, frames: [0xdead_beefn] });
    expect(querySize(g).out.nr_frames).toBe(64);
  });

  test('grown frames hold grant entries dom0 can map: an entry in frame 1 works once the table has 2 frames', () => {
    const g = guest('pv');
    const ref = 512 + 3; // first entry of table frame 1
    setupTable(g, SELF, 2);
    g.write(BigInt((GUEST_GRANT_GFN + 1) * 4096 + 3 * 8), encodeStruct(grant_entry_v1, { flags: GTF.GTF_permit_access, domid: PEER, frame: BUF }));
    expect(g.xen.peerActions.mapGrant(ref, true).status).toBe(GNTST.GNTST_okay);
  });

  test.each([
    ['xen-4.22', false],
    ['xen-4.18', false],
    ['xen-4.17', true],
  ] as const)('%s: a frame_list write fault sets bad_virt_addr; the loop stops (4.18+) or keeps going (4.17: %s)', (profile, continues) => {
    const g = guest('pv', profile);
    // frame_list[0] is the last 8 bytes of a read-only mapped page, frame_list[1] the first 8 of the next RAM page.
    offer(g, 20, { readonly: true });
    expect(map1(g, hostMap(20, BUF, GNTMAP.GNTMAP_readonly)).status).toBe(GNTST.GNTST_okay);
    g.write(BigInt((BUF + 1) * 4096), new Uint8Array(8).fill(0xee));
    const list = BigInt(BUF * 4096 + 4096 - 8);
    const at = g.put(gnttab_setup_table, { dom: SELF, nr_frames: 2, frame_list: list });
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_setup_table, at, 1)).toBe(0n);
    expect(g.get(gnttab_setup_table, at).status).toBe(GNTST.GNTST_bad_virt_addr);
    expect(g.getU64s(list + 8n, 1)).toEqual([continues ? BigInt(GUEST_GRANT_GFN + 1) : 0xeeee_eeee_eeee_eeeen]);
    expect(querySize(g).out.nr_frames).toBe(2); // the table grew before the list was written
  });

  test('a fault writing status back is -EFAULT', () => {
    const g = guest('pv');
    g.xen.peerActions.writePage(9, 0, encodeStruct(gnttab_setup_table, { dom: SELF, nr_frames: 0 }));
    g.xen.peerActions.grantAccess(20, 9, true);
    map1(g, hostMap(20, HOST, GNTMAP.GNTMAP_readonly));
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_setup_table, BigInt(HOST) << 12n, 1)).toBe(E('XEN_EFAULT'));
  });
});

describe(`GNTTABOP_query_size (${GC} gnttab_query_size)`, () => {
  test('count other than 1 is -EINVAL and nothing is written', () => {
    const g = guest('pv');
    const at = g.put(gnttab_query_size, { dom: SELF, status: 0x1234 });
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_query_size, at, 0)).toBe(E('XEN_EINVAL'));
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_query_size, at, 3)).toBe(E('XEN_EINVAL'));
    expect(g.get(gnttab_query_size, at)).toEqual({ dom: SELF, nr_frames: 0, max_nr_frames: 0, status: 0x1234 });
  });

  test('an unreadable argument is -EFAULT', () => {
    expect(guest('pvhvm').ret('grant_table_op', GNTTABOP.GNTTABOP_query_size, BAD_PTR, 1)).toBe(E('XEN_EFAULT'));
  });

  test.each(TYPES)('%s: a fresh table has 1 frame of at most 64', (type) => {
    expect(querySize(guest(type))).toEqual({ rc: 0n, out: { dom: SELF, nr_frames: 1, max_nr_frames: 64, status: GNTST.GNTST_okay } });
  });

  test('the own numeric domid works like DOMID_SELF; max_nr_frames follows the config', () => {
    const g = new XenTestGuest({ xen: { maxGrantFrames: 8 } });
    expect(querySize(g, GUEST).out).toEqual({ dom: GUEST, nr_frames: 1, max_nr_frames: 8, status: GNTST.GNTST_okay });
  });

  test('errors go in status and the whole struct is copied back with the caller\'s nr_frames and max_nr_frames', () => {
    const g = guest('pv');
    expect(querySize(g, 5)).toEqual({ rc: 0n, out: { dom: 5, nr_frames: 0x1111, max_nr_frames: 0x2222, status: GNTST.GNTST_bad_domain } });
    expect(querySize(g, PEER)).toEqual({ rc: 0n, out: { dom: PEER, nr_frames: 0x1111, max_nr_frames: 0x2222, status: GNTST.GNTST_permission_denied } });
  });
});

describe(`GNTTABOP_map_grant_ref (${GC} map_grant_ref)`, () => {
  test.each(TYPES)('%s: a writable map of a dom0 grant: status okay, handle 0, dev_bus_addr = frame << 12; the guest sees the page and dom0 sees the guest writes', (type) => {
    const g = guest(type);
    const contents = offer(g, 10);
    const out = map1(g, hostMap(10));
    expect(out).toEqual({ host_addr: BigInt(HOST) << 12n, flags: GNTMAP.GNTMAP_host_map, ref: 10, dom: PEER, status: GNTST.GNTST_okay, handle: 0, dev_bus_addr: BigInt(PEER_FRAME) << 12n });
    expect(guestPage(g, HOST)).toEqual(contents);
    expect(guestWrite(g, HOST, 100, Uint8Array.of(1, 2, 3))).toBe('ok');
    expect(peerPage(g, PEER_FRAME, 99, 5)).toEqual(Uint8Array.of(contents[99] as number, 1, 2, 3, contents[103] as number));
    // ... and dom0's writes are seen by the guest.
    g.xen.peerActions.writePage(PEER_FRAME, 4000, Uint8Array.of(0xab));
    expect(guestPage(g, HOST, 4000, 1)).toEqual(Uint8Array.of(0xab));
  });

  test.each(TYPES)('%s: a read-only map can be read but refuses guest writes; only GTF_reading is set', (type) => {
    const g = guest(type);
    const contents = offer(g, 10);
    expect(map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly)).status).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, HOST)).toEqual(contents);
    expect(guestWrite(g, HOST, 0, Uint8Array.of(1))).toBe('read-only');
    expect(peerPage(g, PEER_FRAME, 0, 1)).toEqual(contents.subarray(0, 1));
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_reading);
  });

  test.each(TYPES)('%s: a writable map sets GTF_reading|GTF_writing in dom0\'s entry; unmapping clears them; domid and frame are untouched', (type) => {
    const g = guest(type);
    offer(g, 10);
    const h = map1(g, hostMap(10)).handle;
    expect(peerEntry(g, 10)).toEqual({ flags: GTF.GTF_permit_access | RW, domid: GUEST, frame: PEER_FRAME });
    expect(unmap1(g, hostUnmap(h))).toBe(GNTST.GNTST_okay);
    expect(peerEntry(g, 10)).toEqual({ flags: GTF.GTF_permit_access, domid: GUEST, frame: PEER_FRAME });
  });

  test('read-only then writable maps: GTF_writing comes and goes with the writable one, GTF_reading with the last one (reduce_status_for_pin)', () => {
    const g = guest('pv');
    offer(g, 10);
    const ro = map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly)).handle;
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_reading);
    const rw = map1(g, hostMap(10, HOST + 1)).handle;
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
    expect(unmap1(g, hostUnmap(rw, HOST + 1))).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_reading);
    expect(unmap1(g, hostUnmap(ro, HOST))).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test('two writable maps: unmapping one leaves both bits; unmapping the last clears them', () => {
    const g = guest('pvhvm');
    offer(g, 10);
    const a = map1(g, hostMap(10, HOST)).handle;
    const b = map1(g, hostMap(10, HOST + 1)).handle;
    expect(unmap1(g, hostUnmap(a, HOST))).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
    expect(guestPage(g, HOST + 1, 0, 1)).toEqual(peerPage(g, PEER_FRAME, 0, 1));
    expect(unmap1(g, hostUnmap(b, HOST + 1))).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test.each(TYPES)('%s: neither host_map nor device_map is bad_gntref, decided first (even for a missing domain), and consumes no handle', (type) => {
    const g = guest(type);
    offer(g, 10);
    const r = maps(g, [
      { ...hostMap(10), flags: GNTMAP.GNTMAP_readonly },
      { ...hostMap(10, HOST, 0, 5), flags: 0 },
    ]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_bad_gntref, GNTST.GNTST_bad_gntref]);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
    expect(map1(g, hostMap(10)).handle).toBe(0);
  });

  test.each([
    ['device_map', GNTMAP.GNTMAP_device_map],
    ['application_map', GNTMAP.GNTMAP_application_map],
    ['contains_pte', GNTMAP.GNTMAP_contains_pte],
  ])('HVM: %s is general_error, before the domain is looked up, and consumes no handle', (_name, flag) => {
    const g = guest('pvhvm');
    offer(g, 10);
    expect(map1(g, hostMap(10, HOST, flag)).status).toBe(GNTST.GNTST_general_error);
    expect(map1(g, hostMap(10, HOST, flag, 5)).status).toBe(GNTST.GNTST_general_error);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
    expect(map1(g, hostMap(10)).handle).toBe(0);
  });

  test('HVM: any other extra flag bit (a guest_avail bit) fails in create_grant_p2m_mapping: general_error, bits rolled back, handle consumed', () => {
    const g = guest('pvhvm');
    offer(g, 10);
    expect(map1(g, hostMap(10, HOST, 1 << 16)).status).toBe(GNTST.GNTST_general_error);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
    expect(guestPage(g, HOST, 0, 1)).toBe('unpopulated');
    expect(map1(g, hostMap(10)).handle).toBe(1); // the failed map took handle 0 and put it at the tail of the free list
  });

  test('PV: a guest_avail bit is accepted', () => {
    const g = guest('pv');
    offer(g, 10);
    expect(map1(g, hostMap(10, HOST, 1 << 16)).status).toBe(GNTST.GNTST_okay);
  });

  test('PV: device_map alone pins the grant and reports dev_bus_addr without mapping anything at host_addr', () => {
    const g = guest('pv');
    offer(g, 10);
    const out = map1(g, { host_addr: BigInt(HOST) << 12n, flags: GNTMAP.GNTMAP_device_map, ref: 10, dom: PEER });
    expect(out).toMatchObject({ status: GNTST.GNTST_okay, handle: 0, dev_bus_addr: BigInt(PEER_FRAME) << 12n });
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
    expect(guestPage(g, HOST, 0, 1)).toBe('unpopulated');
  });

  test('PV: GNTMAP_contains_pte (host_addr names a PTE) is reported as not modelled', () => {
    const g = guest('pv');
    offer(g, 10);
    const at = putArray(g, gnttab_map_grant_ref, [hostMap(10, HOST, GNTMAP.GNTMAP_contains_pte)]);
    expect(g.call('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, at, 1)).toMatchObject({ kind: 'unimplemented' });
  });

  test.each(TYPES)('%s: a domain that does not exist and DOMID_SELF (not translated by rcu_lock_domain_by_id) are bad_domain, consuming no handle', (type) => {
    const g = guest(type);
    offer(g, 10);
    expect(map1(g, hostMap(10, HOST, 0, 5)).status).toBe(GNTST.GNTST_bad_domain);
    expect(map1(g, hostMap(10, HOST, 0, SELF)).status).toBe(GNTST.GNTST_bad_domain);
    expect(map1(g, hostMap(10)).handle).toBe(0);
  });

  test.each(TYPES)('%s: a ref at or beyond dom0\'s nr_grant_entries (512 for one frame) is bad_gntref; 511 is in range', (type) => {
    const g = guest(type);
    offer(g, 511);
    expect(map1(g, hostMap(512)).status).toBe(GNTST.GNTST_bad_gntref);
    expect(map1(g, hostMap(0x8000_0000)).status).toBe(GNTST.GNTST_bad_gntref);
    expect(map1(g, hostMap(511)).status).toBe(GNTST.GNTST_okay);
  });

  test.each([
    ['an unused entry (flags 0)', 0, GUEST],
    ['GTF_accept_transfer', GTF.GTF_accept_transfer, GUEST],
    ['GTF_transitive', GTF.GTF_transitive, GUEST],
    ['GTF_permit_access with GTF_sub_page', GTF.GTF_permit_access | GTF.GTF_sub_page, GUEST],
    ['a grant to another domain', GTF.GTF_permit_access, 7],
    ['a grant to dom0 itself', GTF.GTF_permit_access, PEER],
  ])('%s is general_error and leaves the entry as it was', (_name, flags, domid) => {
    const g = guest('pv');
    setPeerEntry(g, 10, { flags, domid, frame: PEER_FRAME });
    expect(map1(g, hostMap(10)).status).toBe(GNTST.GNTST_general_error);
    expect(map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly)).status).toBe(GNTST.GNTST_general_error);
    expect(peerEntry(g, 10)).toEqual({ flags, domid, frame: PEER_FRAME });
  });

  test.each(TYPES)('%s: a writable map of a GTF_readonly grant is general_error with no bits set; a read-only map works', (type) => {
    const g = guest(type);
    offer(g, 10, { readonly: true });
    expect(map1(g, hostMap(10)).status).toBe(GNTST.GNTST_general_error);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_readonly);
    expect(map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly)).status).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_readonly | GTF.GTF_reading);
  });

  test.each(TYPES)('%s: a granted frame that is not RAM of dom0 is bad_page, and the GTF bits just set are rolled back', (type) => {
    const g = guest(type);
    g.xen.peerActions.grantAccess(10, 100, false); // dom0 has 64 frames of RAM
    g.xen.peerActions.grantAccess(11, 0x10_0000, true); // beyond dom0's address space
    expect(map1(g, hostMap(10)).status).toBe(GNTST.GNTST_bad_page);
    expect(map1(g, hostMap(11, HOST, GNTMAP.GNTMAP_readonly)).status).toBe(GNTST.GNTST_bad_page);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
    expect(peerFlags(g, 11)).toBe(GTF.GTF_permit_access | GTF.GTF_readonly);
    expect(guestPage(g, HOST, 0, 1)).toBe('unpopulated');
  });

  test('a granted frame where dom0 itself has a grant mapping is bad_page (get_paged_frame refuses foreign pages)', () => {
    const g = guest('pv');
    setGuestEntry(g, 8, { flags: GTF.GTF_permit_access, domid: PEER, frame: BUF });
    const peerMap = g.xen.peerActions.mapGrant(8, false);
    expect(peerMap.status).toBe(GNTST.GNTST_okay);
    g.xen.peerActions.grantAccess(10, peerMap.frame as number, false);
    expect(map1(g, hostMap(10)).status).toBe(GNTST.GNTST_bad_page);
  });

  test.each(TYPES)('%s: handles count up from 0; a freed handle is not reused while fresh ones remain', (type) => {
    const g = guest(type);
    offer(g, 10);
    expect(maps(g, [hostMap(10, HOST), hostMap(10, HOST + 1), hostMap(10, HOST + 2)]).out.map((o) => o.handle)).toEqual([0, 1, 2]);
    expect(unmap1(g, hostUnmap(1, HOST + 1))).toBe(GNTST.GNTST_okay);
    expect(map1(g, hostMap(10, HOST + 1)).handle).toBe(3);
  });

  test('freed handles come back in the order they were freed, only after all 255 fresh handles; the last freed one is the tail sentinel', () => {
    const g = guest('pv');
    const refs = Array.from({ length: 255 }, (_, i) => 8 + i);
    for (const ref of refs) g.xen.peerActions.grantAccess(ref, PEER_FRAME, false);
    const first255 = maps(g, refs.map((ref, i) => hostMap(ref, HOST + i)));
    expect(first255.out.map((o) => o.handle)).toEqual(refs.map((_, i) => i));
    expect(unmaps(g, [hostUnmap(7, HOST + 7), hostUnmap(3, HOST + 3)]).out.map((o) => o.status)).toEqual([0, 0]);
    // 255 was the first page's sentinel; freeing 7 made it usable; 3 is the sentinel now.
    const next = maps(g, [hostMap(15, HOST + 7), hostMap(11, HOST + 3), hostMap(8, HOST + 300)]);
    expect(next.out.map((o) => o.handle)).toEqual([255, 7, 256]);
  });

  test('a map that fails after taking a handle (bad ref) puts it back at the tail; failures before that (bad domain) take none', () => {
    const g = guest('pvhvm');
    offer(g, 10);
    const r = maps(g, [hostMap(10, HOST), hostMap(9999), hostMap(10, HOST + 1), hostMap(10, HOST, 0, 5), hostMap(10, HOST + 2)]);
    expect(r.out.map((o) => [o.status, o.handle])).toEqual([
      [GNTST.GNTST_okay, 0],
      [GNTST.GNTST_bad_gntref, 0],
      [GNTST.GNTST_okay, 2],
      [GNTST.GNTST_bad_domain, 0],
      [GNTST.GNTST_okay, 3],
    ]);
    // Handle 1 is now the tail: 4..254 and then the old tail 255 come first, then a new page.
    const refs = Array.from({ length: 253 }, (_, i) => 20 + i);
    for (const ref of refs) g.xen.peerActions.grantAccess(ref, PEER_FRAME, false);
    const more = maps(g, refs.map((ref, i) => hostMap(ref, HOST + 3 + i)));
    expect(more.out.map((o) => o.handle)).toEqual([...Array.from({ length: 251 }, (_, i) => 4 + i), 255, 256]);
  });

  test('the first maptrack page goes to the vCPU that maps first; another vCPU gets a page of its own', () => {
    const g = guest('pv');
    offer(g, 10);
    expect(map1(g, hostMap(10, HOST), 1).handle).toBe(0);
    expect(map1(g, hostMap(10, HOST + 1), 0).handle).toBe(256);
    expect(map1(g, hostMap(10, HOST + 2), 1).handle).toBe(1);
  });

  test.each(TYPES)('%s: the whole element is copied back; a failure changes only status, keeping the caller\'s handle and dev_bus_addr', (type) => {
    const g = guest(type);
    offer(g, 10);
    const junk = { handle: 0xabcd, dev_bus_addr: 0x1234_5678n };
    const r = maps(g, [
      { ...hostMap(9999), ...junk },
      { ...hostMap(10), ...junk },
    ]);
    expect(r.out).toEqual([
      { ...hostMap(9999), ...junk, status: GNTST.GNTST_bad_gntref },
      { ...hostMap(10), status: GNTST.GNTST_okay, handle: 1, dev_bus_addr: BigInt(PEER_FRAME) << 12n }, // handle 0 was consumed by the failure
    ]);
  });

  test.each(TYPES)('%s: a failing element does not stop the batch; the call returns 0', (type) => {
    const g = guest(type);
    offer(g, 10);
    offer(g, 11, { frame: 9, readonly: true });
    const r = maps(g, [hostMap(600), hostMap(10, HOST), hostMap(11, HOST + 1), hostMap(11, HOST + 2, GNTMAP.GNTMAP_readonly)]);
    expect(r.rc).toBe(0n);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_bad_gntref, GNTST.GNTST_okay, GNTST.GNTST_general_error, GNTST.GNTST_okay]);
  });

  test.each(TYPES)('%s: the low 12 bits of host_addr are ignored', (type) => {
    const g = guest(type);
    const contents = offer(g, 10);
    expect(map1(g, { ...hostMap(10), host_addr: (BigInt(HOST) << 12n) | 0xabcn }).status).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, HOST)).toEqual(contents);
  });

  test.each(TYPES)('%s: a host_addr beyond the guest address space is general_error with the bits rolled back', (type) => {
    const g = guest(type);
    offer(g, 10);
    expect(map1(g, hostMap(10, 0x10_0000)).status).toBe(GNTST.GNTST_general_error);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test('HVM: mapping over RAM displaces the page; unmapping leaves a hole, not the old page (p2m_add_page / p2m_remove_page)', () => {
    const g = guest('pvhvm');
    const contents = offer(g, 10);
    g.write(BigInt(BUF * 4096), Uint8Array.of(0x77));
    const h = map1(g, hostMap(10, BUF)).handle;
    expect(guestPage(g, BUF)).toEqual(contents);
    expect(unmap1(g, hostUnmap(h, BUF))).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, BUF, 0, 1)).toBe('unpopulated');
  });

  test('HVM: mapping over an existing grant mapping crashes the domain (p2m_add_page) and the element fails with general_error', () => {
    const g = guest('pvhvm');
    const contents = offer(g, 10);
    offer(g, 11, { frame: 9 });
    expect(map1(g, hostMap(10)).status).toBe(GNTST.GNTST_okay);
    g.events();
    expect(map1(g, hostMap(11)).status).toBe(GNTST.GNTST_general_error);
    expect(g.eventLog()).toEqual([`shutdown ${SHUTDOWN.SHUTDOWN_crash} @0`]);
    expect(g.xen.guest.shutdownCode).toBe(SHUTDOWN.SHUTDOWN_crash);
    expect(peerFlags(g, 11)).toBe(GTF.GTF_permit_access);
    expect(guestPage(g, HOST)).toEqual(contents);
  });

  test('PV: mapping over an existing grant mapping replaces it; the old handle then no longer matches host_addr (general_error)', () => {
    const g = guest('pv');
    offer(g, 10);
    const contents11 = offer(g, 11, { frame: 9 });
    const a = map1(g, hostMap(10)).handle;
    const b = map1(g, hostMap(11)).handle;
    expect(guestPage(g, HOST)).toEqual(contents11);
    expect(g.xen.guest.shuttingDown).toBe(false);
    expect(unmap1(g, hostUnmap(a))).toBe(GNTST.GNTST_general_error);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
    expect(unmap1(g, hostUnmap(b))).toBe(GNTST.GNTST_okay);
  });

  test.each(TYPES)('%s: 128 writable host maps of one grant are the limit (8-bit pin counter); read-only maps count separately', (type) => {
    const g = guest(type);
    offer(g, 10);
    const rw = maps(g, Array.from({ length: 129 }, (_, i) => hostMap(10, HOST + i)));
    expect(rw.out.map((o) => o.status)).toEqual([...Array.from({ length: 128 }, () => GNTST.GNTST_okay), GNTST.GNTST_general_error]);
    expect(map1(g, hostMap(10, HOST + 200, GNTMAP.GNTMAP_readonly)).status).toBe(GNTST.GNTST_okay);
  });

  test('while the grant is pinned, further maps do not recheck the entry: dom0 revoking it in place does not stop them', () => {
    const g = guest('pv');
    const contents = offer(g, 10);
    map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly));
    setPeerEntry(g, 10, { flags: 0, domid: 0, frame: 0 });
    expect(map1(g, hostMap(10, HOST + 1, GNTMAP.GNTMAP_readonly)).status).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, HOST + 1)).toEqual(contents);
  });

  test('upgrading a read-only pin to writable still checks GTF_readonly, and sets GTF_writing when allowed', () => {
    const g = guest('pv');
    offer(g, 10, { readonly: true });
    map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly));
    expect(map1(g, hostMap(10, HOST + 1)).status).toBe(GNTST.GNTST_general_error);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_readonly | GTF.GTF_reading);
    setPeerEntry(g, 10, { flags: GTF.GTF_reading, domid: 0, frame: 0 }); // only the readonly bit is looked at
    expect(map1(g, hostMap(10, HOST + 1)).status).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(RW);
  });

  test('PV: the guest may map its own grant by its numeric domid (rd == ld is not refused)', () => {
    const g = guest('pv');
    g.write(BigInt(BUF * 4096), Uint8Array.of(0x42));
    setGuestEntry(g, 8, { flags: GTF.GTF_permit_access, domid: GUEST, frame: BUF });
    expect(map1(g, hostMap(8, HOST, 0, GUEST))).toMatchObject({ status: GNTST.GNTST_okay, dev_bus_addr: BigInt(BUF) << 12n });
    expect(guestPage(g, HOST, 0, 1)).toEqual(Uint8Array.of(0x42));
    expect(guestEntry(g, 8).flags).toBe(GTF.GTF_permit_access | RW);
  });
});

describe(`GNTTABOP_unmap_grant_ref (${GC} unmap_common)`, () => {
  test.each(TYPES)('%s: a handle never handed out is bad_handle: before any map (limit 0), beyond the limit, and free inside it', (type) => {
    const g = guest(type);
    expect(unmap1(g, hostUnmap(0))).toBe(GNTST.GNTST_bad_handle);
    offer(g, 10);
    map1(g, hostMap(10));
    expect(unmap1(g, hostUnmap(256))).toBe(GNTST.GNTST_bad_handle);
    expect(unmap1(g, hostUnmap(5))).toBe(GNTST.GNTST_bad_handle);
    expect(unmap1(g, hostUnmap(0xffff_ffff))).toBe(GNTST.GNTST_bad_handle);
  });

  test.each(TYPES)('%s: a handle already unmapped is bad_handle', (type) => {
    const g = guest(type);
    offer(g, 10);
    const h = map1(g, hostMap(10)).handle;
    expect(unmaps(g, [hostUnmap(h), hostUnmap(h)]).out.map((o) => o.status)).toEqual([GNTST.GNTST_okay, GNTST.GNTST_bad_handle]);
  });

  test.each(TYPES)('%s: host_addr 0 and dev_bus_addr 0 is okay but unmaps nothing; the handle stays live', (type) => {
    const g = guest(type);
    const contents = offer(g, 10);
    const h = map1(g, hostMap(10)).handle;
    expect(unmap1(g, { host_addr: 0n, dev_bus_addr: 0n, handle: h })).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, HOST)).toEqual(contents);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
    expect(unmap1(g, hostUnmap(h))).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test.each(TYPES)('%s: a mapping at frame 0 needs a host_addr that is not 0 but still names frame 0 (e.g. 1)', (type) => {
    const g = guest(type);
    offer(g, 10);
    const h = map1(g, { ...hostMap(10), host_addr: 0n }).handle;
    expect(unmap1(g, { host_addr: 0n, handle: h })).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
    expect(unmap1(g, { host_addr: 1n, handle: h })).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test.each(TYPES)('%s: a host_addr that does not hold this mapping is general_error (not bad_virt_addr) and changes nothing', (type) => {
    const g = guest(type);
    const contents = offer(g, 10);
    const h = map1(g, hostMap(10)).handle;
    expect(unmap1(g, hostUnmap(h, HOST + 1))).toBe(GNTST.GNTST_general_error);
    expect(unmap1(g, hostUnmap(h, BUF))).toBe(GNTST.GNTST_general_error);
    expect(guestPage(g, HOST)).toEqual(contents);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
    expect(unmap1(g, hostUnmap(h))).toBe(GNTST.GNTST_okay);
  });

  test.each(TYPES)('%s: success removes the mapping (the guest can no longer read the frame), frees the handle and clears the bits', (type) => {
    const g = guest(type);
    offer(g, 10);
    const h = map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly)).handle;
    expect(unmap1(g, hostUnmap(h))).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, HOST, 0, 1)).toBe('unpopulated');
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
    expect(g.xen.peerActions.endAccess(10)).toBe(true);
  });

  test.each(TYPES)('%s: only status is written back', (type) => {
    const g = guest(type);
    offer(g, 10);
    const h = map1(g, hostMap(10)).handle;
    const r = unmaps(g, [
      { ...hostUnmap(h), status: 0x1234 },
      { ...hostUnmap(77), dev_bus_addr: 0x9000n, status: 0x1234 },
    ]);
    expect(r.out).toEqual([
      { ...hostUnmap(h), status: GNTST.GNTST_okay },
      { ...hostUnmap(77), dev_bus_addr: 0x9000n, status: GNTST.GNTST_bad_handle },
    ]);
  });

  test('a failing element does not stop the batch', () => {
    const g = guest('pvhvm');
    offer(g, 10);
    const [a, b] = maps(g, [hostMap(10, HOST), hostMap(10, HOST + 1)]).out.map((o) => o.handle);
    const r = unmaps(g, [hostUnmap(a as number, HOST), hostUnmap(9), hostUnmap(b as number, HOST + 5), hostUnmap(b as number, HOST + 1)]);
    expect(r.rc).toBe(0n);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_okay, GNTST.GNTST_bad_handle, GNTST.GNTST_general_error, GNTST.GNTST_okay]);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test('PV: host_map|device_map is unmapped in parts; a wrong dev_bus_addr is bad_dev_addr; the handle lives until both parts are gone', () => {
    const g = guest('pv');
    offer(g, 10);
    const h = map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_device_map)).handle;
    expect(unmap1(g, { host_addr: BigInt(HOST) << 12n, dev_bus_addr: 0x5000n, handle: h })).toBe(GNTST.GNTST_bad_dev_addr);
    expect(guestPage(g, HOST, 0, 1)).toEqual(peerPage(g, PEER_FRAME, 0, 1)); // nothing was unmapped
    expect(unmap1(g, hostUnmap(h))).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, HOST, 0, 1)).toBe('unpopulated');
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
    expect(unmap1(g, { host_addr: 0n, dev_bus_addr: BigInt(PEER_FRAME) << 12n, handle: h })).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
    expect(unmap1(g, { host_addr: 0n, dev_bus_addr: BigInt(PEER_FRAME) << 12n, handle: h })).toBe(GNTST.GNTST_bad_handle);
  });

  test('PV: the PTE at host_addr must have the mapping\'s access: a read-only handle does not unmap a writable mapping of the same frame', () => {
    const g = guest('pv');
    offer(g, 10);
    g.xen.peerActions.grantAccess(11, PEER_FRAME, false); // a second grant of the same frame
    const ro = map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly)).handle;
    map1(g, hostMap(11, HOST)); // replaces the read-only PTE with a writable one
    expect(unmap1(g, hostUnmap(ro))).toBe(GNTST.GNTST_general_error);
  });
});

describe(`GNTTABOP_copy (${GC} gnttab_copy_one)`, () => {
  test.each(TYPES)('%s: gref of dom0 to a guest frame (DOMID_SELF): the bytes land at dest_offset', (type) => {
    const g = guest(type);
    const contents = offer(g, 10);
    g.write(BigInt(BUF * 4096), new Uint8Array(4096).fill(0x11));
    expect(copy1(g, copyOp(gref(10, PEER, 100), gmfn(BUF, SELF, 2000), 50))).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, BUF, 1999, 52)).toEqual(Uint8Array.from([0x11, ...contents.subarray(100, 150), 0x11]));
  });

  test.each(TYPES)('%s: a guest frame to a gref of dom0: dom0\'s page changes', (type) => {
    const g = guest(type);
    offer(g, 10);
    g.write(BigInt(BUF * 4096 + 10), Uint8Array.of(1, 2, 3, 4));
    expect(copy1(g, copyOp(gmfn(BUF, SELF, 10), gref(10, PEER, 4092), 4))).toBe(GNTST.GNTST_okay);
    expect(peerPage(g, PEER_FRAME, 4092, 4)).toEqual(Uint8Array.of(1, 2, 3, 4));
  });

  test.each(TYPES)('%s: gref to gref, and frame to frame inside the guest', (type) => {
    const g = guest(type);
    const contents = offer(g, 10);
    offer(g, 11, { frame: 9 });
    expect(copy1(g, copyOp(gref(10), gref(11, PEER, 8), 16))).toBe(GNTST.GNTST_okay);
    expect(peerPage(g, 9, 8, 16)).toEqual(contents.subarray(0, 16));
    g.write(BigInt(BUF * 4096), Uint8Array.of(9, 8, 7));
    expect(copy1(g, copyOp(gmfn(BUF), gmfn(BUF + 1, SELF, 5), 3))).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, BUF + 1, 5, 3)).toEqual(Uint8Array.of(9, 8, 7));
  });

  test('one grant as both source and destination (read pin, then a write upgrade) copies inside the page', () => {
    const g = guest('pv');
    const contents = offer(g, 10);
    expect(copy1(g, copyOp(gref(10, PEER, 0), gref(10, PEER, 2048), 2048))).toBe(GNTST.GNTST_okay);
    expect(peerPage(g, PEER_FRAME, 2048, 2048)).toEqual(contents.subarray(0, 2048));
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test('a gref with DOMID_SELF names the guest\'s own grant, which must be granted to the guest itself', () => {
    const g = guest('pv');
    g.write(BigInt((BUF + 1) * 4096), Uint8Array.of(0x5a));
    setGuestEntry(g, 8, { flags: GTF.GTF_permit_access, domid: GUEST, frame: BUF + 1 });
    expect(copy1(g, copyOp(gref(8, SELF), gmfn(BUF), 1))).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, BUF, 0, 1)).toEqual(Uint8Array.of(0x5a));
    setGuestEntry(g, 9, { flags: GTF.GTF_permit_access, domid: PEER, frame: BUF + 1 });
    expect(copy1(g, copyOp(gref(9, SELF), gmfn(BUF), 1))).toBe(GNTST.GNTST_general_error);
    expect(guestEntry(g, 8).flags).toBe(GTF.GTF_permit_access);
  });

  test('len 0 is okay at once on Xen 4.22, whatever the other fields say', () => {
    const g = guest('pv');
    const r = copies(g, [copyOp(gref(10, 5, 5000), gmfn(0x10_0000, PEER, 9000), 0), copyOp(gmfn(BUF, GUEST), gref(9999), 0)]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_okay, GNTST.GNTST_okay]);
  });

  test.each(['xen-4.18', 'xen-4.17'] as const)('len 0 goes through every check on %s (before a4a790f432)', (profile) => {
    const g = guest('pv', profile);
    offer(g, 10);
    const r = copies(g, [
      copyOp(gref(10, 5), gmfn(BUF), 0),
      copyOp(gmfn(BUF, GUEST), gref(10), 0),
      copyOp(gref(9999), gmfn(BUF), 0),
      copyOp(gref(10), gmfn(BUF, SELF, 4097), 0),
      copyOp(gref(10, PEER, 4096), gmfn(BUF, SELF, 4096), 0),
    ]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_bad_domain, GNTST.GNTST_permission_denied, GNTST.GNTST_bad_gntref, GNTST.GNTST_bad_copy_arg, GNTST.GNTST_okay]);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test.each(TYPES)('%s: a frame number with any domid but DOMID_SELF is permission_denied, even the guest\'s own numeric id', (type) => {
    const g = guest(type);
    offer(g, 10);
    const r = copies(g, [copyOp(gmfn(BUF, GUEST), gmfn(BUF + 1), 8), copyOp(gref(10), gmfn(BUF, PEER), 8), copyOp(gmfn(PEER_FRAME, PEER), gmfn(BUF), 8)]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_permission_denied, GNTST.GNTST_permission_denied, GNTST.GNTST_permission_denied]);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test.each(TYPES)('%s: a domain that does not exist is bad_domain; the source side is checked first, permission before lookup', (type) => {
    const g = guest(type);
    offer(g, 10);
    const r = copies(g, [
      copyOp(gref(10, 5), gmfn(BUF), 8),
      copyOp(gref(10), gref(3, 5), 8),
      copyOp(gmfn(BUF, 5), gref(3, 5), 8), // source permission_denied before dest bad_domain
      copyOp(gref(3, 5), gmfn(BUF, PEER), 8), // source bad_domain before dest permission_denied
    ]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_bad_domain, GNTST.GNTST_bad_domain, GNTST.GNTST_permission_denied, GNTST.GNTST_bad_domain]);
  });

  test('a frame number needs DOMID_SELF in every element, even when the domids repeat from the previous element (model rule; Xen HEAD skips the check then)', () => {
    const g = guest('pv');
    offer(g, 10);
    const r = copies(g, [copyOp(gref(10), gmfn(BUF), 8), copyOp(gmfn(PEER_FRAME, PEER), gmfn(BUF), 8), copyOp(gref(10), gmfn(BUF), 8)]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_okay, GNTST.GNTST_permission_denied, GNTST.GNTST_okay]);
  });

  test.each(TYPES)('%s: a ref beyond dom0\'s table is bad_gntref, as source or destination', (type) => {
    const g = guest(type);
    offer(g, 10);
    const r = copies(g, [copyOp(gref(512), gmfn(BUF), 8), copyOp(gmfn(BUF), gref(600), 8)]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_bad_gntref, GNTST.GNTST_bad_gntref]);
  });

  test.each(TYPES)('%s: a frame that is not RAM of its domain is bad_page: a hole, beyond the address space, a grant mapping, a granted non-RAM frame', (type) => {
    const g = guest(type);
    offer(g, 10);
    map1(g, hostMap(10, HOST));
    g.xen.peerActions.grantAccess(11, 100, false);
    const r = copies(g, [
      copyOp(gmfn(HOST + 1), gmfn(BUF), 8),
      copyOp(gmfn(BUF), gmfn(0x1_0000_0000_0000n), 8),
      copyOp(gmfn(HOST), gmfn(BUF), 8),
      copyOp(gmfn(BUF), gref(11), 8),
    ]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_bad_page, GNTST.GNTST_bad_page, GNTST.GNTST_bad_page, GNTST.GNTST_bad_page]);
    expect(peerFlags(g, 11)).toBe(GTF.GTF_permit_access);
  });

  test.each(TYPES)('%s: a GTF_readonly grant works as source but is general_error as destination, with no bits left behind', (type) => {
    const g = guest(type);
    const contents = offer(g, 10, { readonly: true });
    const r = copies(g, [copyOp(gref(10), gmfn(BUF), 8), copyOp(gmfn(BUF), gref(10, PEER, 100), 8)]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_okay, GNTST.GNTST_general_error]);
    expect(peerPage(g, PEER_FRAME, 100, 8)).toEqual(contents.subarray(100, 108));
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_readonly);
  });

  test.each([
    ['an unused entry', 0, GUEST],
    ['a grant to another domain', GTF.GTF_permit_access, 7],
    ['GTF_transitive (a v2 type)', GTF.GTF_transitive, GUEST],
  ])('%s is general_error', (_name, flags, domid) => {
    const g = guest('pv');
    setPeerEntry(g, 10, { flags, domid, frame: PEER_FRAME });
    expect(copy1(g, copyOp(gref(10), gmfn(BUF), 8))).toBe(GNTST.GNTST_general_error);
    expect(peerEntry(g, 10)).toEqual({ flags, domid, frame: PEER_FRAME });
  });

  test('GTF_sub_page is ignored by a v1 copy (_set_status_v1 checks it only for maps)', () => {
    const g = guest('pv');
    const contents = offer(g, 10);
    setPeerEntry(g, 10, { flags: GTF.GTF_permit_access | GTF.GTF_sub_page, domid: GUEST, frame: PEER_FRAME });
    expect(copy1(g, copyOp(gref(10, PEER, 4000), gmfn(BUF), 96))).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, BUF, 0, 96)).toEqual(contents.subarray(4000, 4096));
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_sub_page);
    expect(map1(g, hostMap(10)).status).toBe(GNTST.GNTST_general_error);
  });

  test.each(TYPES)('%s: offset + len beyond 4096 on either side is bad_copy_arg; exactly 4096 is fine', (type) => {
    const g = guest(type);
    offer(g, 10);
    const r = copies(g, [
      copyOp(gref(10, PEER, 4000), gmfn(BUF), 97),
      copyOp(gref(10), gmfn(BUF, SELF, 1), 4096),
      copyOp(gref(10, PEER, 4000), gmfn(BUF, SELF, 4000), 96),
    ]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_bad_copy_arg, GNTST.GNTST_bad_copy_arg, GNTST.GNTST_okay]);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });

  test.each(TYPES)('%s: bad_copy_arg is reported only after both sides were acquired', (type) => {
    const g = guest(type);
    offer(g, 10, { readonly: true });
    const r = copies(g, [
      copyOp(gref(700, PEER, 4000), gmfn(BUF), 200),
      copyOp(gref(10, PEER, 4000), gmfn(HOST), 200),
      copyOp(gref(10, PEER, 4000), gref(10), 200),
      copyOp(gref(10, 5, 4000), gmfn(BUF), 200),
    ]);
    expect(r.out.map((o) => o.status)).toEqual([GNTST.GNTST_bad_gntref, GNTST.GNTST_bad_page, GNTST.GNTST_general_error, GNTST.GNTST_bad_domain]);
  });

  test.each(TYPES)('%s: a copy leaves no GTF bits behind, but keeps the bits of an existing mapping', (type) => {
    const g = guest(type);
    offer(g, 10);
    expect(copy1(g, copyOp(gmfn(BUF), gref(10), 8))).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
    map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly));
    expect(copy1(g, copyOp(gmfn(BUF), gref(10), 8))).toBe(GNTST.GNTST_okay);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_reading);
  });

  test.each(TYPES)('%s: a copy into a grant the guest maps read-only writes the shared page', (type) => {
    const g = guest(type);
    offer(g, 10);
    map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly));
    g.write(BigInt(BUF * 4096), Uint8Array.of(0xc0, 0xde));
    expect(copy1(g, copyOp(gmfn(BUF), gref(10, PEER, 6), 2))).toBe(GNTST.GNTST_okay);
    expect(guestPage(g, HOST, 6, 2)).toEqual(Uint8Array.of(0xc0, 0xde));
  });

  test.each([
    ['xen-4.22', 'general_error (the XSA-500 check)', GNTST.GNTST_general_error],
    ['xen-4.18', 'okay, writing the pinned frame', GNTST.GNTST_okay],
    ['xen-4.17', 'okay, writing the pinned frame', GNTST.GNTST_okay],
  ] as const)('%s: a write upgrade of a pinned grant whose entry now names another RAM frame is %s', (profile, _what, status) => {
    const g = guest('pv', profile);
    const old = offer(g, 10);
    const other = pattern(99);
    g.xen.peerActions.writePage(9, 0, other);
    map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly));
    setPeerEntry(g, 10, { flags: GTF.GTF_permit_access, domid: GUEST, frame: 9 });
    g.write(BigInt(BUF * 4096), Uint8Array.of(0xfe));
    expect(copy1(g, copyOp(gmfn(BUF), gref(10), 1))).toBe(status);
    expect(peerPage(g, PEER_FRAME, 0, 1)).toEqual(status === GNTST.GNTST_okay ? Uint8Array.of(0xfe) : old.subarray(0, 1));
    expect(peerPage(g, 9)).toEqual(other);
    // The copy set GTF_reading|GTF_writing and dropped GTF_writing again: the read-only pin remains.
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_reading);
  });

  test.each(PROFILES)('%s: a write upgrade of a pinned grant whose entry now names a frame that is not RAM is bad_page', (profile) => {
    const g = guest('pv', profile);
    offer(g, 10);
    map1(g, hostMap(10, HOST, GNTMAP.GNTMAP_readonly));
    setPeerEntry(g, 10, { flags: GTF.GTF_permit_access | GTF.GTF_reading, domid: GUEST, frame: 100 });
    expect(copy1(g, copyOp(gmfn(BUF), gref(10), 1))).toBe(GNTST.GNTST_bad_page);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | GTF.GTF_reading);
    // A read-only use of the pinned grant does not look at the entry again.
    expect(copy1(g, copyOp(gref(10), gmfn(BUF), 1))).toBe(GNTST.GNTST_okay);
  });

  test.each(TYPES)('%s: only status is written back, and a failing element does not stop the batch', (type) => {
    const g = guest(type);
    offer(g, 10);
    const elems = [copyOp(gref(10), gmfn(BUF), 8), copyOp(gref(999), gmfn(BUF), 8), copyOp(gmfn(BUF), gref(10), 8)];
    const r = copies(g, elems);
    expect(r.rc).toBe(0n);
    expect(r.out).toEqual([
      { ...elems[0], status: GNTST.GNTST_okay },
      { ...elems[1], status: GNTST.GNTST_bad_gntref },
      { ...elems[2], status: GNTST.GNTST_okay },
    ]);
  });

  test('a fault reading an element is -EFAULT; the elements before it are done', () => {
    const g = guest('pvhvm');
    offer(g, 10);
    givePageBack(g, 0x3f0);
    const at = 0x3f0n * 4096n - 40n;
    g.write(at, encodeStruct(gnttab_copy, copyOp(gmfn(BUF), gref(10, PEER, 0), 1)));
    g.write(BigInt(BUF * 4096), Uint8Array.of(0x99));
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_copy, at, 2)).toBe(E('XEN_EFAULT'));
    expect(g.get(gnttab_copy, at).status).toBe(GNTST.GNTST_okay);
    expect(peerPage(g, PEER_FRAME, 0, 1)).toEqual(Uint8Array.of(0x99));
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access);
  });
});

describe(`GNTTABOP_set_version (${GC} gnttab_set_version)`, () => {
  const setVersion = (g: XenTestGuest, version: number, count = 1) => {
    const at = g.put(gnttab_set_version, { version });
    return { outcome: g.call('grant_table_op', GNTTABOP.GNTTABOP_set_version, at, count), version: g.get(gnttab_set_version, at).version };
  };

  test.each(TYPES)('%s: version 1 (the version in force) is 0, and count is ignored', (type) => {
    const g = guest(type);
    expect(setVersion(g, 1)).toEqual({ outcome: { kind: 'returned', value: 0n }, version: 1 });
    expect(setVersion(g, 1, 0)).toEqual({ outcome: { kind: 'returned', value: 0n }, version: 1 });
    expect(setVersion(g, 1, 99)).toEqual({ outcome: { kind: 'returned', value: 0n }, version: 1 });
  });

  test.each([0, 3, 0xffff_ffff])('version %i is -EINVAL and the version in force (1) is written back', (version) => {
    expect(setVersion(guest('pv'), version)).toEqual({ outcome: { kind: 'returned', value: E('XEN_EINVAL') }, version: 1 });
  });

  test('version 2 is reported as not modelled (grant table v2)', () => {
    expect(setVersion(guest('pv'), 2).outcome).toMatchObject({ kind: 'unimplemented' });
  });

  test('an unreadable argument is -EFAULT', () => {
    expect(guest('pv').ret('grant_table_op', GNTTABOP.GNTTABOP_set_version, BAD_PTR, 1)).toBe(E('XEN_EFAULT'));
  });
});

describe(`GNTTABOP_get_version (${GC} gnttab_get_version)`, () => {
  const getVersion = (g: XenTestGuest, dom: number) => {
    const at = g.put(gnttab_get_version, { dom, pad: 0xabcd, version: 0x7777 });
    return { rc: g.ret('grant_table_op', GNTTABOP.GNTTABOP_get_version, at, 0), out: g.get(gnttab_get_version, at) };
  };

  test.each(TYPES)('%s: the own table is version 1; only the version field is written (pad untouched), count ignored', (type) => {
    const g = guest(type);
    expect(getVersion(g, SELF)).toEqual({ rc: 0n, out: { dom: SELF, pad: 0xabcd, version: 1 } });
    expect(getVersion(g, GUEST)).toEqual({ rc: 0n, out: { dom: GUEST, pad: 0xabcd, version: 1 } });
  });

  test('a domain that does not exist is -ESRCH; another domain (dom0) is -EPERM; nothing is written', () => {
    const g = guest('pv');
    expect(getVersion(g, 5)).toEqual({ rc: E('XEN_ESRCH'), out: { dom: 5, pad: 0xabcd, version: 0x7777 } });
    expect(getVersion(g, PEER)).toEqual({ rc: E('XEN_EPERM'), out: { dom: PEER, pad: 0xabcd, version: 0x7777 } });
  });

  test('an unreadable argument is -EFAULT', () => {
    expect(guest('pvhvm').ret('grant_table_op', GNTTABOP.GNTTABOP_get_version, BAD_PTR, 1)).toBe(E('XEN_EFAULT'));
  });
});

describe(`the guest as granter: dom0 maps the guest's grants (${GC} map_grant_ref, unmap_common; peer.ts)`, () => {
  /** The guest fills frame BUF and grants it to dom0 as `ref`. */
  function grantToPeer(g: XenTestGuest, ref: number, flags: number = GTF.GTF_permit_access): Uint8Array {
    const bytes = pattern(ref);
    g.write(BigInt(BUF * 4096), bytes);
    setGuestEntry(g, ref, { flags, domid: PEER, frame: BUF });
    return bytes;
  }

  test.each(TYPES)('%s: a writable dom0 map sets GTF_reading|GTF_writing in the guest\'s entry; dom0 reads and writes the guest page; unmap clears the bits', (type) => {
    const g = guest(type);
    const bytes = grantToPeer(g, 8);
    const m = g.xen.peerActions.mapGrant(8, false);
    expect(m).toMatchObject({ status: GNTST.GNTST_okay, handle: 0 });
    const frame = m.frame as number;
    expect(guestEntry(g, 8)).toEqual({ flags: GTF.GTF_permit_access | RW, domid: PEER, frame: BUF });
    expect(g.xen.peerActions.readMapped(frame, 0, 4096)).toEqual(bytes);
    expect(g.xen.peerActions.writeMapped(frame, 64, Uint8Array.of(0xaa, 0xbb))).toBe(true);
    expect(guestPage(g, BUF, 64, 2)).toEqual(Uint8Array.of(0xaa, 0xbb));
    expect(g.xen.peerActions.unmapGrant(0)).toBe(GNTST.GNTST_okay);
    expect(guestEntry(g, 8)).toEqual({ flags: GTF.GTF_permit_access, domid: PEER, frame: BUF });
    expect(g.xen.peerActions.readMapped(frame, 0, 1)).toBeUndefined();
  });

  test.each(TYPES)('%s: a read-only dom0 map sets only GTF_reading and dom0 cannot write through it', (type) => {
    const g = guest(type);
    const bytes = grantToPeer(g, 8);
    const m = g.xen.peerActions.mapGrant(8, true);
    expect(m.status).toBe(GNTST.GNTST_okay);
    expect(guestEntry(g, 8).flags).toBe(GTF.GTF_permit_access | GTF.GTF_reading);
    expect(g.xen.peerActions.writeMapped(m.frame as number, 0, Uint8Array.of(1))).toBe(false);
    expect(guestPage(g, BUF)).toEqual(bytes);
  });

  test.each([
    ['GTF_readonly refuses a writable map', GTF.GTF_permit_access | GTF.GTF_readonly, false, GNTST.GNTST_general_error],
    ['GTF_readonly allows a read-only map', GTF.GTF_permit_access | GTF.GTF_readonly, true, GNTST.GNTST_okay],
    ['an entry that is not permit_access is refused', 0, true, GNTST.GNTST_general_error],
  ])('%s', (_name, flags, readonly, status) => {
    const g = guest('pv');
    grantToPeer(g, 8, flags);
    expect(g.xen.peerActions.mapGrant(8, readonly).status).toBe(status);
  });

  test('a grant the guest made for another domain cannot be mapped by dom0', () => {
    const g = guest('pv');
    setGuestEntry(g, 8, { flags: GTF.GTF_permit_access, domid: 7, frame: BUF });
    expect(g.xen.peerActions.mapGrant(8, false).status).toBe(GNTST.GNTST_general_error);
    expect(guestEntry(g, 8).flags).toBe(GTF.GTF_permit_access);
  });

  test('a guest frame that is a hole is bad_page for dom0, with the guest\'s bits rolled back', () => {
    const g = guest('pvhvm');
    setGuestEntry(g, 8, { flags: GTF.GTF_permit_access, domid: PEER, frame: HOST });
    expect(g.xen.peerActions.mapGrant(8, false).status).toBe(GNTST.GNTST_bad_page);
    expect(guestEntry(g, 8).flags).toBe(GTF.GTF_permit_access);
  });

  test.each(TYPES)('%s: the page dom0 mapped stays mapped after the guest gives it back, and dom0 can still unmap it (act->mfn)', (type) => {
    const g = guest(type);
    const bytes = grantToPeer(g, 8);
    const m = g.xen.peerActions.mapGrant(8, false);
    givePageBack(g, BUF);
    expect(guestPage(g, BUF, 0, 1)).toBe('unpopulated');
    expect(g.xen.peerActions.readMapped(m.frame as number, 0, 4096)).toEqual(bytes);
    expect(g.xen.peerActions.unmapGrant(m.handle as number)).toBe(GNTST.GNTST_okay);
    expect(guestEntry(g, 8).flags).toBe(GTF.GTF_permit_access);
  });

  test('dom0 cannot end access to its grant while the guest has it mapped; it can once the guest unmapped it', () => {
    const g = guest('pv');
    offer(g, 10);
    const h = map1(g, hostMap(10)).handle;
    expect(g.xen.peerActions.endAccess(10)).toBe(false);
    expect(peerFlags(g, 10)).toBe(GTF.GTF_permit_access | RW);
    expect(unmap1(g, hostUnmap(h))).toBe(GNTST.GNTST_okay);
    expect(g.xen.peerActions.endAccess(10)).toBe(true);
    expect(peerEntry(g, 10).flags).toBe(0);
    expect(map1(g, hostMap(10)).status).toBe(GNTST.GNTST_general_error);
  });
});

describe(`maptrack handles (${GC} get_maptrack_handle, steal_maptrack_handle, put_maptrack_handle)`, () => {
  /** A table limited to one maptrack page (256 handles), owned by a test guest. */
  const smallTable = () => new GrantTable(guest('pv').xen.guest, GUEST_GRANT_GFN, 64, 1);

  test('one vCPU: 0 to 254 from the first page; 255 is the tail sentinel; with no room for another page there is nothing left', () => {
    const t = smallTable();
    expect(Array.from({ length: 255 }, () => t.getHandle(0))).toEqual(Array.from({ length: 255 }, (_, i) => i));
    expect(t.getHandle(0)).toBeUndefined();
    t.putHandle(9, 0);
    expect([t.getHandle(0), t.getHandle(0)]).toEqual([255, undefined]);
  });

  test('a vCPU without a free list steals one handle as its sentinel and then the one it uses', () => {
    const t = smallTable();
    expect(t.getHandle(0)).toBe(0);
    expect(t.getHandle(1)).toBe(2); // 1 became vCPU 1's sentinel
    expect(t.getHandle(1)).toBe(3); // vCPU 1's list holds only its sentinel: steal again
    expect(t.getHandle(0)).toBe(4);
    t.putHandle(3, 1); // back to vCPU 1's list, behind its sentinel 1
    for (let h = 5; h <= 254; h++) expect(t.getHandle(0)).toBe(h);
    expect(t.getHandle(0)).toBe(1); // vCPU 0 has only its sentinel 255 left; it steals vCPU 1's head
    expect(t.getHandle(0)).toBeUndefined();
  });
});
