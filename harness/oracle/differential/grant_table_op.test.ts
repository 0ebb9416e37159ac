import { decodeStruct, encodeStruct, xenAbi, PEER_FIRST_DATA_FRAME, type GuestType, type PeerRequest, type PeerResult, type StructLayout, type StructValue } from '../../sut/index';
import { Disagreement, PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

const { GNTTABOP, GNTST, GNTMAP, GTF, GNTCOPY, DOMID, XEN_ERRNO, XENMEM } = xenAbi;
const { gnttab_map_grant_ref, gnttab_unmap_grant_ref, gnttab_copy, gnttab_setup_table, gnttab_query_size, gnttab_set_version, gnttab_get_version, grant_entry_v1, xen_memory_reservation } = xenAbi;

/* grant_table_op in both worlds (xen/common/grant_table.c); dom0 acts through peer actions (emulator/xen/peer.ts). */

const GC = 'xen/common/grant_table.c';
const E = (name: keyof typeof XEN_ERRNO): bigint => -BigInt(XEN_ERRNO[name]);
const BAD_PTR = 0x7fff_f000_0000n;
const NON_CANONICAL = 0x8000_0000_0000n;
const SELF = DOMID.DOMID_SELF;
const PEER = 0;
const GUEST = 1;
const PEER_FRAME = PEER_FIRST_DATA_FRAME;
const PEER_GRANT_GFN = 1;
const GUEST_GRANT_GFN = 1025;
const HOST = 0x800;
const BUF = 0x300;
const gpa = (gfn: number, offset = 0): bigint => BigInt(gfn * 4096 + offset);
const PERMIT = GTF.GTF_permit_access;
const READING = GTF.GTF_reading;
const RW = PERMIT | READING | GTF.GTF_writing;
const BAD_HANDLE = GNTST.GNTST_bad_handle;
const TYPES: readonly GuestType[] = ['pv', 'pvhvm'];

type Profile = (typeof PAIR_PROFILES)[number];
type Fields<L extends StructLayout> = Partial<Record<keyof L['fields'], number | bigint>>;

const gop = (g: PairGuest, cmd: number, uop: bigint, count: number): bigint => g.ret('grant_table_op', cmd, uop, count);
const guest = (profile: Profile, guestType: GuestType = 'pv'): PairGuest => new PairGuest({ viridian: { profile }, xen: { guestType } });
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: PeerResult): Uint8Array => Uint8Array.from((typeof s === 'string' ? s : '').match(/../g) ?? [], (x) => parseInt(x, 16));
const pattern = (seed: number, n = 32): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

/** A peer action in both worlds; the results must agree. */
function peer(g: PairGuest, request: PeerRequest): PeerResult {
  const step = g.pair.peer(request);
  if (step.differences.length > 0) throw new Disagreement(`peer ${request.op}`, step.differences);
  return step.xen;
}
const peerRead = (g: PairGuest, frame: number, offset: number, length: number): Uint8Array => unhex(peer(g, { op: 'readPage', frame, offset, length }));
const peerFlags = (g: PairGuest, ref: number): number => decodeStruct(peerRead(g, PEER_GRANT_GFN, ref * 8, 8), grant_entry_v1).flags;

/** dom0 writes a pattern at the start of `frame` and grants it to the guest as `ref`. */
function offer(g: PairGuest, ref: number, frame: number = PEER_FRAME, readonly = false): Uint8Array {
  const bytes = pattern(frame + ref);
  expect(peer(g, { op: 'writePage', frame, offset: 0, data: hex(bytes) })).toBe(true);
  expect(peer(g, { op: 'grantAccess', ref, frame, readonly, domid: GUEST })).toBe(true);
  return bytes;
}

/** A batched sub-op over `elems`; returns the return value and every element afterwards. */
function batch<L extends StructLayout>(g: PairGuest, cmd: number, layout: L, elems: readonly Fields<L>[]): { rc: bigint; out: StructValue<L>[] } {
  const at = g.alloc(layout.size * Math.max(elems.length, 1));
  const bytes = new Uint8Array(layout.size * elems.length);
  elems.forEach((e, i) => bytes.set(encodeStruct(layout, e), i * layout.size));
  g.write(at, bytes);
  const rc = g.ret('grant_table_op', cmd, at, elems.length);
  return { rc, out: elems.map((_, i) => decodeStruct(g.read(at + BigInt(i * layout.size), layout.size), layout)) };
}
const statuses = <L extends StructLayout>(r: { rc: bigint; out: StructValue<L>[] }): (bigint | number)[] => [r.rc, ...r.out.map((o) => (o as { status: number }).status)];
const hostMap = (ref: number, gfn = HOST, flags = 0, dom = PEER): Fields<typeof gnttab_map_grant_ref> => ({ host_addr: BigInt(gfn) << 12n, flags: GNTMAP.GNTMAP_host_map | flags, ref, dom });
const maps = (g: PairGuest, elems: readonly Fields<typeof gnttab_map_grant_ref>[]) => batch(g, GNTTABOP.GNTTABOP_map_grant_ref, gnttab_map_grant_ref, elems);
const unmaps = (g: PairGuest, elems: readonly Fields<typeof gnttab_unmap_grant_ref>[]) => batch(g, GNTTABOP.GNTTABOP_unmap_grant_ref, gnttab_unmap_grant_ref, elems);
const unmapAt = (handle: number, gfn = HOST): Fields<typeof gnttab_unmap_grant_ref> => ({ host_addr: BigInt(gfn) << 12n, handle });

type Side = { gref: boolean; u: bigint | number; domid: number; offset: number };
const gref = (ref: number, offset = 0, domid = PEER): Side => ({ gref: true, u: ref, domid, offset });
const gmfn = (frame: number | bigint, offset = 0, domid: number = SELF): Side => ({ gref: false, u: frame, domid, offset });
const copyOp = (s: Side, d: Side, len: number): Fields<typeof gnttab_copy> => ({
  ...{ source_u: BigInt(s.u), source_domid: s.domid, source_offset: s.offset, dest_u: BigInt(d.u), dest_domid: d.domid, dest_offset: d.offset, len, status: 0x5555 },
  flags: (s.gref ? GNTCOPY.GNTCOPY_source_gref : 0) | (d.gref ? GNTCOPY.GNTCOPY_dest_gref : 0),
});
const copies = (g: PairGuest, elems: readonly Fields<typeof gnttab_copy>[]) => statuses(batch(g, GNTTABOP.GNTTABOP_copy, gnttab_copy, elems));

const mapped = (g: PairGuest, gfn: number): boolean => g.pair.xen.machine.memory.isPopulated(gfn);
/** The guest writes its own grant entry `ref`. */
const setGuestEntry = (g: PairGuest, ref: number, e: { flags: number; domid: number; frame: number }) => g.write(gpa(GUEST_GRANT_GFN, ref * 8), encodeStruct(grant_entry_v1, e));
const guestFlags = (g: PairGuest, ref: number): number => decodeStruct(g.read(gpa(GUEST_GRANT_GFN, ref * 8), 8), grant_entry_v1).flags;

describe.each(PAIR_PROFILES)('grant_table_op agrees (%s)', (profile) => {
  test.each(TYPES)(`%s: dispatch: unknown and unavailable sub-ops, continuation bits, negative counts, count 0 (${GC} do_grant_table_op; hvm_grant_table_op)`, (type) => {
    const g = guest(profile, type);
    const hvm = type === 'pvhvm';
    for (const cmd of [13, GNTTABOP.GNTTABOP_dump_table]) expect(gop(g, cmd, g.alloc(64), 1)).toBe(E('XEN_ENOSYS'));
    expect(gop(g, GNTTABOP.GNTTABOP_query_size | 0x1000, g.alloc(64), 1)).toBe(hvm ? E('XEN_ENOSYS') : E('XEN_EINVAL'));
    expect(gop(g, GNTTABOP.GNTTABOP_map_grant_ref, g.alloc(64), 0x8000_0000)).toBe(E('XEN_EINVAL'));
    expect(gop(g, GNTTABOP.GNTTABOP_map_grant_ref, 0n, 0)).toBe(0n);
    for (const cmd of [GNTTABOP.GNTTABOP_transfer, GNTTABOP.GNTTABOP_unmap_and_replace, GNTTABOP.GNTTABOP_get_status_frames, GNTTABOP.GNTTABOP_cache_flush]) {
      const step = g.callOn(0, 'grant_table_op', cmd, g.alloc(64), 1);
      // x86 lost GNTTABOP_cache_flush in Xen 4.21: -ENOSYS on the default 4.22 profile.
      if (hvm || cmd === GNTTABOP.GNTTABOP_cache_flush) expect(step.xen).toEqual({ kind: 'returned', value: E('XEN_ENOSYS') });
      else expect([step.xen.kind, step.translated.kind]).toEqual(['unimplemented', 'unimplemented']);
    }
    if (!hvm) expect(gop(g, GNTTABOP.GNTTABOP_copy, NON_CANONICAL, 1)).toBe(E('XEN_EFAULT'));
  });

  test.each(TYPES)(`%s: set_version 1 is 0 and 0/3 are -EINVAL, both writing back 1; v2 is not modelled; get_version (${GC} gnttab_set_version, gnttab_get_version)`, (type) => {
    const g = guest(profile, type);
    const set = (version: number) => {
      const at = g.put(gnttab_set_version, { version });
      return [gop(g, GNTTABOP.GNTTABOP_set_version, at, 1), decodeStruct(g.read(at, 4), gnttab_set_version).version];
    };
    expect([set(1), set(0), set(3)]).toEqual([[0n, 1], [E('XEN_EINVAL'), 1], [E('XEN_EINVAL'), 1]]);
    const v2 = g.callOn(0, 'grant_table_op', GNTTABOP.GNTTABOP_set_version, g.put(gnttab_set_version, { version: 2 }), 1);
    expect([v2.xen.kind, v2.translated.kind]).toEqual(['unimplemented', 'unimplemented']);
    const get = (dom: number) => {
      const at = g.put(gnttab_get_version, { dom, pad: 0xabcd, version: 0x7777 });
      return [gop(g, GNTTABOP.GNTTABOP_get_version, at, 0), decodeStruct(g.read(at, 8), gnttab_get_version).version];
    };
    expect([get(SELF), get(GUEST), get(5), get(PEER)]).toEqual([[0n, 1], [0n, 1], [E('XEN_ESRCH'), 0x7777], [E('XEN_EPERM'), 0x7777]]);
    expect([gop(g, GNTTABOP.GNTTABOP_set_version, BAD_PTR, 1), gop(g, GNTTABOP.GNTTABOP_get_version, BAD_PTR, 1)]).toEqual([E('XEN_EFAULT'), E('XEN_EFAULT')]);
  });

  test.each(TYPES)(`%s: setup_table lists the table's frames and grows it; query_size follows; errors in status (${GC} gnttab_setup_table, gnttab_query_size)`, (type) => {
    const g = guest(profile, type);
    const setup = (dom: number, nrFrames: number, list = g.putU64s(Array<bigint>(Math.max(nrFrames, 1)).fill(0xdeadn))) => {
      const at = g.put(gnttab_setup_table, { dom, nr_frames: nrFrames, status: 0x1234, frame_list: list });
      const rc = gop(g, GNTTABOP.GNTTABOP_setup_table, at, 1);
      const frames = list === NON_CANONICAL ? [] : Array.from({ length: Math.max(nrFrames, 1) }, (_, i) => new DataView(g.read(list + BigInt(8 * i), 8).buffer).getBigUint64(0, true));
      return [rc, decodeStruct(g.read(at, 24), gnttab_setup_table).status, frames];
    };
    const query = (dom: number) => {
      const at = g.put(gnttab_query_size, { dom, nr_frames: 0x1111, max_nr_frames: 0x2222, status: 0x1234 });
      const rc = gop(g, GNTTABOP.GNTTABOP_query_size, at, 1);
      const o = decodeStruct(g.read(at, 16), gnttab_query_size);
      return [rc, o.nr_frames, o.max_nr_frames, o.status];
    };
    expect(query(SELF)).toEqual([0n, 1, 64, 0]);
    expect(setup(SELF, 1)).toEqual([0n, 0, [1025n]]);
    expect(setup(5, 1)).toEqual([0n, GNTST.GNTST_bad_domain, [0xdeadn]]);
    expect(setup(PEER, 1)).toEqual([0n, GNTST.GNTST_permission_denied, [0xdeadn]]);
    expect(setup(SELF, 65)[1]).toBe(-1);
    expect([mapped(g, 1026), mapped(g, 1027)]).toEqual([false, false]);
    expect(setup(GUEST, 3)).toEqual([0n, 0, [1025n, 1026n, 1027n]]);
    expect([mapped(g, 1027), query(SELF), query(5), query(PEER)]).toEqual([true, [0n, 3, 64, 0], [0n, 0x1111, 0x2222, GNTST.GNTST_bad_domain], [0n, 0x1111, 0x2222, GNTST.GNTST_permission_denied]]);
    expect(setup(SELF, 1, NON_CANONICAL).slice(0, 2)).toEqual(type === 'pv' ? [E('XEN_EFAULT'), 0x1234] : [0n, GNTST.GNTST_bad_virt_addr]);
    for (const cmd of [GNTTABOP.GNTTABOP_setup_table, GNTTABOP.GNTTABOP_query_size]) {
      expect([gop(g, cmd, g.alloc(24), 2), gop(g, cmd, BAD_PTR, 1)]).toEqual([E('XEN_EINVAL'), E('XEN_EFAULT')]);
    }
  });

  test.each(TYPES)(`%s: the guest maps a dom0 grant, reads and writes through it, dom0 sees it; unmap leaves a hole (${GC} map_grant_ref, unmap_common)`, (type) => {
    const g = guest(profile, type);
    const contents = offer(g, 10);
    const m = maps(g, [hostMap(10)]);
    expect(m.rc).toBe(0n);
    expect(m.out[0]).toMatchObject({ status: 0, handle: 0, dev_bus_addr: BigInt(PEER_FRAME) << 12n });
    expect([g.read(gpa(HOST), 32), peerFlags(g, 10)]).toEqual([contents, RW]);
    g.write(gpa(HOST, 100), Uint8Array.of(1, 2, 3));
    expect(peerRead(g, PEER_FRAME, 99, 5)).toEqual(Uint8Array.of(0, 1, 2, 3, 0));
    expect(peer(g, { op: 'writePage', frame: PEER_FRAME, offset: 4000, data: 'ab' })).toBe(true);
    expect(g.read(gpa(HOST, 4000), 1)).toEqual(Uint8Array.of(0xab));
    expect(peer(g, { op: 'endAccess', ref: 10 })).toBe(false); // refused while mapped
    expect(statuses(unmaps(g, [unmapAt(0)]))).toEqual([0n, 0]);
    expect([peerFlags(g, 10), mapped(g, HOST)]).toEqual([PERMIT, false]);
    expect(peer(g, { op: 'endAccess', ref: 10 })).toBe(true);
    expect(statuses(maps(g, [hostMap(10)]))).toEqual([0n, -1]);
  });

  test.each(TYPES)(`%s: map errors go in status, each element on its own, and the batch goes on (${GC} map_grant_ref)`, (type) => {
    const g = guest(profile, type);
    offer(g, 10);
    offer(g, 11, PEER_FRAME + 1, true);
    expect(peer(g, { op: 'grantAccess', ref: 12, frame: 100, readonly: false, domid: GUEST })).toBe(true); // not RAM of dom0
    const r = maps(g, [
      { ...hostMap(10), flags: GNTMAP.GNTMAP_readonly }, // neither host_map nor device_map
      hostMap(10, HOST, 0, 5),
      hostMap(10, HOST, 0, SELF),
      hostMap(512),
      hostMap(11),
      hostMap(12),
      { ...hostMap(10), host_addr: 1n << 40n },
      hostMap(10, HOST, type === 'pvhvm' ? GNTMAP.GNTMAP_device_map : 0),
      hostMap(11, HOST + 1, GNTMAP.GNTMAP_readonly),
    ]);
    const last = type === 'pvhvm' ? -1 : 0;
    expect(statuses(r)).toEqual([0n, -3, -2, -2, -3, -1, -9, -1, last, 0]);
    expect([peerFlags(g, 11), peerFlags(g, 12)]).toEqual([PERMIT | GTF.GTF_readonly | READING, PERMIT]);
    const store = g.pair.write((HOST + 1) * 4096, Uint8Array.of(9)); // the read-only mapping refuses guest stores
    expect([store.xen, store.differences, g.read(gpa(HOST + 1), 32)]).toEqual([false, [], pattern(PEER_FRAME + 1 + 11)]);
  });

  test.each(TYPES)(`%s: unmap errors: a handle never handed out, a handle already unmapped, host_addr not holding the mapping, host_addr 0 (${GC} unmap_common)`, (type) => {
    const g = guest(profile, type);
    offer(g, 10);
    expect(statuses(unmaps(g, [unmapAt(0), unmapAt(300)]))).toEqual([0n, BAD_HANDLE, BAD_HANDLE]);
    expect(statuses(maps(g, [hostMap(10)]))).toEqual([0n, 0]);
    expect(statuses(unmaps(g, [unmapAt(0, HOST + 5), { host_addr: 0n, handle: 0 }, unmapAt(1)]))).toEqual([0n, -1, 0, BAD_HANDLE]);
    expect([mapped(g, HOST), peerFlags(g, 10)]).toEqual([true, RW]);
    expect(statuses(unmaps(g, [unmapAt(0), unmapAt(0)]))).toEqual([0n, 0, BAD_HANDLE]);
    expect(gop(g, GNTTABOP.GNTTABOP_unmap_grant_ref, BAD_PTR, 1)).toBe(E('XEN_EFAULT'));
  });

  test(`pvhvm: mapping over RAM displaces the page (unmap leaves a hole); over a grant mapping crashes the domain (${GC}; p2m_add_page)`, () => {
    const g = guest(profile, 'pvhvm');
    offer(g, 10);
    expect(statuses(maps(g, [hostMap(10, BUF)]))).toEqual([0n, 0]);
    expect(statuses(unmaps(g, [unmapAt(0, BUF)]))).toEqual([0n, 0]);
    expect(mapped(g, BUF)).toBe(false);
    expect(statuses(maps(g, [hostMap(10), hostMap(10)]))).toEqual([0n, 0, -1]);
    expect(g.pair.xen.xen.guest.shutdownCode).toBe(3);
  });

  test.each(TYPES)(`%s: copy between dom0 grants and guest frames, both directions, gref and gmfn sides (${GC} gnttab_copy_one)`, (type) => {
    const g = guest(profile, type);
    const contents = offer(g, 10);
    offer(g, 11, PEER_FRAME + 1);
    g.write(gpa(BUF), new Uint8Array(64).fill(0x11));
    expect(copies(g, [copyOp(gref(10, 4), gmfn(BUF, 2), 8)])).toEqual([0n, 0]);
    expect(g.read(gpa(BUF), 12)).toEqual(Uint8Array.from([0x11, 0x11, ...contents.subarray(4, 12), 0x11, 0x11]));
    g.write(gpa(BUF, 40), Uint8Array.of(1, 2, 3, 4));
    expect(copies(g, [copyOp(gmfn(BUF, 40), gref(10, 4092), 4), copyOp(gref(10), gref(11, 8), 16), copyOp(gmfn(BUF, 40), gmfn(BUF + 1, 5), 4), copyOp(gref(10), gmfn(BUF), 0)])).toEqual([0n, 0, 0, 0, 0]);
    expect([peerRead(g, PEER_FRAME, 4092, 4), peerRead(g, PEER_FRAME + 1, 8, 16), g.read(gpa(BUF + 1, 5), 4)]).toEqual([Uint8Array.of(1, 2, 3, 4), contents.subarray(0, 16), Uint8Array.of(1, 2, 3, 4)]);
    expect([peerFlags(g, 10), peerFlags(g, 11)]).toEqual([PERMIT, PERMIT]);
    // The guest's own grant, named with DOMID_SELF, granted to itself.
    setGuestEntry(g, 8, { flags: PERMIT, domid: GUEST, frame: BUF + 1 });
    setGuestEntry(g, 9, { flags: PERMIT, domid: PEER, frame: BUF + 1 });
    expect(copies(g, [copyOp(gref(8, 5), gmfn(BUF + 2), 4), copyOp(gref(9, 0), gmfn(BUF + 2), 4)].map((c) => ({ ...c, source_domid: SELF })))).toEqual([0n, 0, -1]);
    expect([g.read(gpa(BUF + 2), 4), guestFlags(g, 8)]).toEqual([Uint8Array.of(1, 2, 3, 4), PERMIT]);
  });

  test.each(TYPES)(`%s: copy errors in status: domains, refs, pages, read-only grants, offsets (${GC} gnttab_copy_one, gnttab_copy_claim_buf)`, (type) => {
    const g = guest(profile, type);
    offer(g, 10);
    offer(g, 11, PEER_FRAME + 1, true);
    expect(
      copies(g, [
        copyOp(gmfn(BUF, 0, GUEST), gmfn(BUF + 1), 4), // a frame number needs the literal DOMID_SELF
        copyOp(gref(10, 0, 5), gmfn(BUF), 4),
        copyOp(gref(10), gref(10, 0, 5), 4),
        copyOp(gref(512), gmfn(BUF), 4),
        copyOp(gref(10), gmfn(HOST), 4), // a hole
        copyOp(gref(10), gmfn(1n << 40n), 4),
        copyOp(gref(11), gmfn(BUF), 4), // read-only works as source ...
        copyOp(gmfn(BUF), gref(11), 4), // ... not as destination
        copyOp(gref(10, 4000), gmfn(BUF), 100),
        copyOp(gref(10), gmfn(BUF, 4095), 2),
        copyOp(gref(10), gmfn(BUF, 4088), 8),
      ]),
    ).toEqual([0n, -8, -2, -2, -3, -9, -9, 0, -1, -10, -10, 0]);
    expect([peerFlags(g, 10), peerFlags(g, 11)]).toEqual([PERMIT, PERMIT | GTF.GTF_readonly]);
    expect(gop(g, GNTTABOP.GNTTABOP_copy, BAD_PTR, 1)).toBe(E('XEN_EFAULT'));
  });

  // Regression tests: the adapter's own frames once sat at the top of the guest's GPA space (fixed in 0dce43c: they are above it now).
  test.each(TYPES)(`%s: copy from a frame number at the top of the address space, a hole, is bad_page (${GC} gnttab_copy_claim_buf)`, (type) => {
    const g = guest(profile, type);
    expect(copies(g, [copyOp(gmfn(4094), gmfn(BUF), 16)])).toEqual([0n, GNTST.GNTST_bad_page]);
  });

  test.each(TYPES)(`%s: a dom0 grant mapped at the last gfns keeps dom0's data and the domain running (${GC} create_grant_host_mapping)`, (type) => {
    const g = guest(profile, type);
    const contents = offer(g, 10);
    expect(statuses(maps(g, [hostMap(10, 4094), hostMap(10, 4095)]))).toEqual([0n, 0, 0]);
    expect([peerRead(g, PEER_FRAME, 0, 32), peerRead(g, PEER_FRAME, 0, 32), g.read(4095n * 4096n, 32)]).toEqual([contents, contents, contents]);
  });

  describe("the peer maps the guest's grants (peer.ts mapGrant / writeMapped; map_grant_ref by dom0)", () => {
    const grantToPeer = (g: PairGuest, ref: number, flags: number = PERMIT, domid = PEER, frame = BUF): Uint8Array => {
      const bytes = pattern(ref);
      g.write(gpa(BUF), bytes);
      setGuestEntry(g, ref, { flags, domid, frame });
      return bytes;
    };

    test.each(TYPES)(`%s: a writable map sets the guest's GTF bits; dom0 reads and writes the guest page; unmap clears them (${GC})`, (type) => {
      const g = guest(profile, type);
      const bytes = grantToPeer(g, 8);
      const m = peer(g, { op: 'mapGrant', ref: 8, readonly: false }) as { status: number; handle: number; frame: number };
      expect(m).toMatchObject({ status: 0, handle: 0 });
      expect([guestFlags(g, 8), unhex(peer(g, { op: 'readMapped', frame: m.frame, offset: 0, length: 32 }))]).toEqual([RW, bytes]);
      expect(peer(g, { op: 'writeMapped', frame: m.frame, offset: 64, data: 'aabb' })).toBe(true);
      expect(g.read(gpa(BUF, 64), 2)).toEqual(Uint8Array.of(0xaa, 0xbb));
      g.write(gpa(BUF, 70), Uint8Array.of(0xcc));
      expect(peer(g, { op: 'readMapped', frame: m.frame, offset: 70, length: 1 })).toBe('cc');
      expect(peer(g, { op: 'unmapGrant', handle: m.handle })).toBe(0);
      expect([guestFlags(g, 8), peer(g, { op: 'readMapped', frame: m.frame, offset: 0, length: 1 }), peer(g, { op: 'unmapGrant', handle: m.handle })]).toEqual([
        PERMIT,
        null,
        BAD_HANDLE,
      ]);
    });

    test.each(TYPES)(`%s: a read-only map sets only GTF_reading and dom0 cannot write through it (${GC})`, (type) => {
      const g = guest(profile, type);
      const bytes = grantToPeer(g, 8);
      const m = peer(g, { op: 'mapGrant', ref: 8, readonly: true }) as { status: number; frame: number };
      expect([m.status, guestFlags(g, 8), peer(g, { op: 'writeMapped', frame: m.frame, offset: 0, data: '01' })]).toEqual([0, PERMIT | READING, false]);
      expect(g.read(gpa(BUF), 32)).toEqual(bytes);
    });

    test.each([
      ['GTF_readonly refuses a writable map', PERMIT | GTF.GTF_readonly, PEER, BUF, false, -1],
      ['GTF_readonly allows a read-only map', PERMIT | GTF.GTF_readonly, PEER, BUF, true, 0],
      ['an entry that is not permit_access is refused', 0, PEER, BUF, true, -1],
      ['a grant for another domain is refused', PERMIT, 7, BUF, false, -1],
      ['a frame that is a hole is bad_page, the bits rolled back', PERMIT, PEER, HOST, false, GNTST.GNTST_bad_page],
    ])(`%s (${GC} _set_status_v1, get_paged_frame)`, (_name, flags, domid, frame, readonly, status) => {
      const g = guest(profile, 'pvhvm');
      grantToPeer(g, 8, flags, domid, frame);
      expect((peer(g, { op: 'mapGrant', ref: 8, readonly }) as { status: number }).status).toBe(status);
      expect(guestFlags(g, 8) & ~READING).toBe(flags);
    });

    test.each(TYPES)(`%s: the page dom0 mapped stays mapped after the guest gives it back (act->mfn) (${GC}; xen/common/memory.c)`, (type) => {
      const g = guest(profile, type);
      const bytes = grantToPeer(g, 8);
      const m = peer(g, { op: 'mapGrant', ref: 8, readonly: false }) as { handle: number; frame: number };
      const r = g.put(xen_memory_reservation, { extent_start: g.putU64s([BigInt(BUF)]), nr_extents: 1, domid: SELF });
      expect(g.ret('memory_op', XENMEM.XENMEM_decrease_reservation, r)).toBe(1n);
      expect([mapped(g, BUF), unhex(peer(g, { op: 'readMapped', frame: m.frame, offset: 0, length: 32 }))]).toEqual([false, bytes]);
      expect([peer(g, { op: 'unmapGrant', handle: m.handle }), guestFlags(g, 8)]).toEqual([0, PERMIT]);
    });
  });
});
