import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** grant_table_op commands (xen/include/public/grant_table.h). */
export const GNTTABOP = {
  GNTTABOP_map_grant_ref: 0,
  GNTTABOP_unmap_grant_ref: 1,
  GNTTABOP_setup_table: 2,
  GNTTABOP_dump_table: 3,
  GNTTABOP_transfer: 4,
  GNTTABOP_copy: 5,
  GNTTABOP_query_size: 6,
  GNTTABOP_unmap_and_replace: 7,
  GNTTABOP_set_version: 8,
  GNTTABOP_get_status_frames: 9,
  GNTTABOP_get_version: 10,
  GNTTABOP_swap_grant_ref: 11,
  GNTTABOP_cache_flush: 12,
} as const;

/** Grant operation status codes (int16_t) (xen/include/public/grant_table.h). */
export const GNTST = {
  GNTST_okay: 0,
  GNTST_general_error: -1,
  GNTST_bad_domain: -2,
  GNTST_bad_gntref: -3,
  GNTST_bad_handle: -4,
  GNTST_bad_virt_addr: -5,
  GNTST_bad_dev_addr: -6,
  GNTST_no_device_space: -7,
  GNTST_permission_denied: -8,
  GNTST_bad_page: -9,
  GNTST_bad_copy_arg: -10,
  GNTST_address_too_big: -11,
  GNTST_eagain: -12,
  GNTST_no_space: -13,
} as const;

/** grant_entry flags (xen/include/public/grant_table.h). */
export const GTF = {
  GTF_invalid: 0,
  GTF_permit_access: 1,
  GTF_accept_transfer: 2,
  GTF_transitive: 3,
  GTF_type_mask: 3,
  _GTF_readonly: 2,
  GTF_readonly: 4,
  _GTF_reading: 3,
  GTF_reading: 8,
  _GTF_writing: 4,
  GTF_writing: 16,
  _GTF_PWT: 5,
  GTF_PWT: 32,
  _GTF_PCD: 6,
  GTF_PCD: 64,
  _GTF_PAT: 7,
  GTF_PAT: 128,
  _GTF_sub_page: 8,
  GTF_sub_page: 256,
  _GTF_transfer_committed: 2,
  GTF_transfer_committed: 4,
  _GTF_transfer_completed: 3,
  GTF_transfer_completed: 8,
} as const;

/** map_grant_ref flags (xen/include/public/grant_table.h). */
export const GNTMAP = {
  _GNTMAP_device_map: 0,
  GNTMAP_device_map: 1,
  _GNTMAP_host_map: 1,
  GNTMAP_host_map: 2,
  _GNTMAP_readonly: 2,
  GNTMAP_readonly: 4,
  _GNTMAP_application_map: 3,
  GNTMAP_application_map: 8,
  _GNTMAP_contains_pte: 4,
  GNTMAP_contains_pte: 16,
  _GNTMAP_guest_avail0: 16,
  GNTMAP_guest_avail_mask: 4294901760,
} as const;

/** gnttab_copy flags (xen/include/public/grant_table.h). */
export const GNTCOPY = {
  _GNTCOPY_source_gref: 0,
  GNTCOPY_source_gref: 1,
  _GNTCOPY_dest_gref: 1,
  GNTCOPY_dest_gref: 2,
} as const;

/** Reserved grant references (xen/include/public/grant_table.h). */
export const GNTTAB_RESERVED = {
  GNTTAB_NR_RESERVED_ENTRIES: 8,
  GNTTAB_RESERVED_CONSOLE: 0,
  GNTTAB_RESERVED_XENSTORE: 1,
} as const;

/** The tables of this file, for `xvc abi`. */
export const GRANT_TABLE_TABLES: readonly AbiTable[] = [
  { title: 'grant_table_op commands', source: 'xen/include/public/grant_table.h', values: GNTTABOP },
  { title: 'Grant operation status codes (int16_t)', source: 'xen/include/public/grant_table.h', values: GNTST },
  { title: 'grant_entry flags', source: 'xen/include/public/grant_table.h', values: GTF },
  { title: 'map_grant_ref flags', source: 'xen/include/public/grant_table.h', values: GNTMAP },
  { title: 'gnttab_copy flags', source: 'xen/include/public/grant_table.h', values: GNTCOPY },
  { title: 'Reserved grant references', source: 'xen/include/public/grant_table.h', values: GNTTAB_RESERVED },
];
