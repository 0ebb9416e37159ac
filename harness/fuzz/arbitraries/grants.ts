import fc from 'fast-check';
import type { Step } from '../../spec/scenario';
import { call, structArg } from './call';
import { count, domid, grantRef, guestFrame, hexBytes } from './values';

/*
 * grant_table_op (xen/include/public/grant_table.h, xen/common/grant_table.c do_grant_table_op)
 * against grants dom0 offers, and the guest's own grant entries that dom0 maps.
 */

/** dom0's first data frame (emulator/xen/peer.ts PEER_FIRST_DATA_FRAME) and the next. */
const peerFrame = fc.constantFrom(8, 9, 1, 0x7fffffff);
/** Guest frames that grant maps are placed at. */
const hostAddr = fc.constantFrom('0x150000', '0x151000', '0x150800', '0x7ffff0000000', '0x0');
const handle = fc.constantFrom(0, 1, 2, 0xffffffff);
const gnttabCount = fc.oneof({ arbitrary: fc.constant(1), weight: 6 }, { arbitrary: count, weight: 1 });

const map = fc
  .tuple(
    structArg('gnttab_map_grant_ref', fc.record({ host_addr: hostAddr, flags: fc.constantFrom<string | number>('GNTMAP_host_map', 'GNTMAP_host_map|GNTMAP_readonly', 0, 'GNTMAP_device_map', 'GNTMAP_host_map|GNTMAP_application_map'), ref: grantRef, dom: fc.constantFrom(0, 0, 1, 7, 0x7ff0) })),
    gnttabCount,
  )
  .map(([a, n]) => call('grant_table_op', ['GNTTABOP_map_grant_ref', a, n]));

const unmap = fc
  .tuple(structArg('gnttab_unmap_grant_ref', fc.record({ host_addr: hostAddr, dev_bus_addr: fc.constant(0), handle })), gnttabCount)
  .map(([a, n]) => call('grant_table_op', ['GNTTABOP_unmap_grant_ref', a, n]));

const copySide = fc.record({ gref: fc.boolean(), ref: grantRef, frame: guestFrame, domid: fc.constantFrom(0x7ff0, 0, 1, 7), offset: fc.constantFrom(0, 8, 4095, 4000) });
const copy = fc
  .tuple(copySide, copySide, fc.constantFrom(0, 1, 8, 96, 4096))
  .map(([src, dst, len]) =>
    call('grant_table_op', [
      'GNTTABOP_copy',
      { struct: 'gnttab_copy', source_u: src.gref ? src.ref : src.frame, source_domid: src.domid, source_offset: src.offset, dest_u: dst.gref ? dst.ref : dst.frame, dest_domid: dst.domid, dest_offset: dst.offset, len, flags: (src.gref ? 1 : 0) | (dst.gref ? 2 : 0) },
      1,
    ]),
  );

/** The guest writes grant entry `ref` of its own table: GTF_permit_access (maybe read-only) to dom0 for a frame. */
const guestGrant = fc.tuple(fc.constantFrom(0, 1, 2, 8), fc.constantFrom(1, 5, 0, 3), fc.constantFrom(0, 1, 7), guestFrame).map(([ref, flags, dom, frame]): Step => ({ store: { at: `$grant_table+${ref * 8}`, u64: `0x${((BigInt(frame) << 32n) | (BigInt(dom) << 16n) | BigInt(flags)).toString(16)}` } }));

const peerSteps: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('grantAccess'), ref: grantRef, frame: peerFrame, readonly: fc.boolean(), domid: fc.constantFrom(1, 1, 0, 7) }).map((peer) => ({ peer })), weight: 4 },
  { arbitrary: grantRef.map((ref) => ({ peer: { op: 'endAccess', ref } })), weight: 1 },
  { arbitrary: fc.tuple(peerFrame, fc.constantFrom(0, 4090), hexBytes(1, 8)).map(([frame, offset, data]) => ({ peer: { op: 'writePage', frame, offset, data } })), weight: 1 },
  { arbitrary: fc.tuple(peerFrame, fc.constantFrom(0, 4090)).map(([frame, offset]) => ({ peer: { op: 'readPage', frame, offset, length: 8 } })), weight: 1 },
  { arbitrary: fc.tuple(grantRef, fc.boolean()).map(([ref, readonly]) => ({ peer: { op: 'mapGrant', ref, readonly } })), weight: 2 },
  { arbitrary: handle.map((h) => ({ peer: { op: 'unmapGrant', handle: h } })), weight: 1 },
  { arbitrary: fc.tuple(guestFrame, hexBytes(1, 8)).map(([frame, data]) => ({ peer: { op: 'writeMapped', frame, offset: 16, data } })), weight: 1 },
  { arbitrary: guestFrame.map((frame) => ({ peer: { op: 'readMapped', frame, offset: 16, length: 8 } })), weight: 1 },
);

export const grantSteps: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: map, weight: 4 },
  { arbitrary: unmap, weight: 2 },
  { arbitrary: copy, weight: 2 },
  { arbitrary: guestGrant, weight: 2 },
  { arbitrary: peerSteps, weight: 5 },
  { arbitrary: fc.tuple(domid, fc.constantFrom(0, 1, 2, 4, 64)).map(([dom, nr]) => call('grant_table_op', ['GNTTABOP_setup_table', { struct: 'gnttab_setup_table', dom, nr_frames: nr, frame_list: '0x123000' }, 1])), weight: 1 },
  { arbitrary: domid.map((dom) => call('grant_table_op', ['GNTTABOP_query_size', { struct: 'gnttab_query_size', dom }, 1])), weight: 1 },
  { arbitrary: fc.constantFrom(1, 2, 0, 3).map((version) => call('grant_table_op', ['GNTTABOP_set_version', { struct: 'gnttab_set_version', version }, 1])), weight: 1 },
  { arbitrary: domid.map((dom) => call('grant_table_op', ['GNTTABOP_get_version', { struct: 'gnttab_get_version', dom }, 1])), weight: 1 },
  { arbitrary: fc.constantFrom<string | number>('GNTTABOP_transfer', 'GNTTABOP_dump_table', 'GNTTABOP_unmap_and_replace', 'GNTTABOP_get_status_frames', 'GNTTABOP_swap_grant_ref', 'GNTTABOP_cache_flush', 13, 99, '0x80000002').map((cmd) => call('grant_table_op', [cmd, { zeros: 64 }, 1])), weight: 1 },
);
