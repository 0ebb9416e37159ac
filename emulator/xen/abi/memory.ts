import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** memory_op commands (xen/include/public/memory.h). */
export const XENMEM = {
  XENMEM_increase_reservation: 0,
  XENMEM_decrease_reservation: 1,
  XENMEM_populate_physmap: 6,
  XENMEM_exchange: 11,
  XENMEM_maximum_ram_page: 2,
  XENMEM_current_reservation: 3,
  XENMEM_maximum_reservation: 4,
  XENMEM_maximum_gpfn: 14,
  XENMEM_machphys_mfn_list: 5,
  XENMEM_machphys_compat_mfn_list: 25,
  XENMEM_machphys_mapping: 12,
  XENMEM_add_to_physmap: 7,
  XENMEM_add_to_physmap_batch: 23,
  XENMEM_remove_from_physmap: 15,
  XENMEM_memory_map: 9,
  XENMEM_machine_memory_map: 10,
  XENMEM_set_memory_map: 13,
  XENMEM_set_pod_target: 16,
  XENMEM_get_pod_target: 17,
  XENMEM_get_sharing_freed_pages: 18,
  XENMEM_get_sharing_shared_pages: 19,
  XENMEM_paging_op: 20,
  XENMEM_paging_op_nominate: 0,
  XENMEM_paging_op_evict: 1,
  XENMEM_paging_op_prep: 2,
  XENMEM_access_op: 21,
  XENMEM_access_op_set_access: 0,
  XENMEM_access_op_get_access: 1,
  XENMEM_access_op_set_access_multi: 4,
  XENMEM_sharing_op: 22,
  XENMEM_sharing_op_nominate_gfn: 0,
  XENMEM_sharing_op_nominate_gref: 1,
  XENMEM_sharing_op_share: 2,
  XENMEM_sharing_op_debug_gfn: 3,
  XENMEM_sharing_op_debug_mfn: 4,
  XENMEM_sharing_op_debug_gref: 5,
  XENMEM_sharing_op_add_physmap: 6,
  XENMEM_sharing_op_audit: 7,
  XENMEM_sharing_op_range_share: 8,
  XENMEM_sharing_op_fork: 9,
  XENMEM_sharing_op_fork_reset: 10,
  XENMEM_claim_pages: 24,
  XENMEM_reserved_device_memory_map: 27,
  XENMEM_acquire_resource: 28,
  XENMEM_resource_ioreq_server: 0,
  XENMEM_resource_grant_table: 1,
  XENMEM_resource_vmtrace_buf: 2,
  XENMEM_resource_grant_table_id_shared: 0,
  XENMEM_resource_grant_table_id_status: 1,
  XENMEM_resource_ioreq_server_frame_bufioreq: 0,
  XENMEM_get_vnumainfo: 26,
} as const;

/** xen_memory_reservation.mem_flags bits (xen/include/public/memory.h). */
export const XENMEMF = {
  XENMEMF_populate_on_demand: 65536,
  XENMEMF_exact_node_request: 131072,
  XENMEMF_vnode: 262144,
} as const;

/** add_to_physmap spaces (xen/include/public/memory.h). */
export const XENMAPSPACE = {
  XENMAPSPACE_shared_info: 0,
  XENMAPSPACE_grant_table: 1,
  XENMAPSPACE_gmfn: 2,
  XENMAPSPACE_gmfn_range: 3,
  XENMAPSPACE_gmfn_foreign: 4,
  XENMAPSPACE_dev_mmio: 5,
  XENMAPIDX_grant_table_status: 2147483648,
} as const;

/** The tables of this file, for `xvc abi`. */
export const MEMORY_TABLES: readonly AbiTable[] = [
  { title: 'memory_op commands', source: 'xen/include/public/memory.h', values: XENMEM },
  { title: 'xen_memory_reservation.mem_flags bits', source: 'xen/include/public/memory.h', values: XENMEMF },
  { title: 'add_to_physmap spaces', source: 'xen/include/public/memory.h', values: XENMAPSPACE },
];
