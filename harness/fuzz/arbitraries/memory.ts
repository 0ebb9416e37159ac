import fc from 'fast-check';
import type { Step } from '../../spec/scenario';
import { call, structArg } from './call';
import { badPointer, domid, edged, guestFrame, leHex } from './values';

/*
 * memory_op (xen/include/public/memory.h, xen/common/memory.c do_memory_op,
 * xen/arch/x86/mm.c arch_memory_op): reservations with extent lists at the edges, the size
 * queries, add_to_physmap of the shared_info and grant-table frames, and the sub-ops a domU
 * is refused.
 */

/** Where a reservation's extent list is stored. */
const EXTENTS = '0x122000';

const reservation = fc
  .tuple(
    fc.constantFrom('XENMEM_increase_reservation', 'XENMEM_decrease_reservation', 'XENMEM_populate_physmap'),
    fc.array(guestFrame, { minLength: 0, maxLength: 3 }),
    edged([0, 1, 9, 10, 64], 0, 20),
    fc.constantFrom(0x7ff0, 0, 1, 7),
    fc.constantFrom(0, 1, 3),
  )
  .map(([cmd, frames, order, dom, extra]): Step[] => [
    ...(frames.length > 0 ? [{ store: { at: EXTENTS, bytes: frames.map((f) => leHex(f, 8)).join('') } }] : []),
    call('memory_op', [cmd, { struct: 'xen_memory_reservation', extent_start: extra === 3 ? '0x7ffff0000000' : EXTENTS, nr_extents: frames.length + (extra === 1 ? 1 : 0), extent_order: order, mem_flags: 0, domid: dom }]),
  ]);

export const memorySteps: fc.Arbitrary<readonly Step[]> = fc.oneof(
  { arbitrary: reservation, weight: 3 },
  { arbitrary: fc.constantFrom('XENMEM_maximum_ram_page').map((cmd) => [call('memory_op', [cmd, 0])]), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom('XENMEM_current_reservation', 'XENMEM_maximum_reservation', 'XENMEM_maximum_gpfn'), structArg('xen_memory_domain', fc.record({ domid }))).map(([cmd, a]) => [call('memory_op', [cmd, a])]), weight: 2 },
  // XENMEM_add_to_physmap with struct xen_add_to_physmap: domid u16, size u16, space u32, idx u64, gpfn u64.
  {
    arbitrary: fc
      .tuple(domid, fc.constantFrom(0, 1, 2, 3, 5, 9), fc.constantFrom(0, 1, 2, 0x80000000), fc.constantFrom(0x140, 0x3ff, 0x400, 0x800000))
      .map(([dom, space, idx, gpfn]) => [call('memory_op', ['XENMEM_add_to_physmap', { bytes: leHex(dom, 2) + leHex(1, 2) + leHex(space, 4) + leHex(idx, 8) + leHex(gpfn, 8) }])]),
    weight: 2,
  },
  { arbitrary: fc.constantFrom('XENMEM_memory_map', 'XENMEM_machine_memory_map', 'XENMEM_machphys_mapping', 'XENMEM_get_sharing_freed_pages', 'XENMEM_exchange', 'XENMEM_claim_pages', 'XENMEM_get_vnumainfo').map((cmd) => [call('memory_op', [cmd, { zeros: 64 }])]), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom(99, 63, '0x40', '0x100'), badPointer).map(([cmd, ptr]) => [call('memory_op', [cmd, { ptr }])]), weight: 1 },
);
