import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** xen_version commands (xen/include/public/version.h). */
export const XENVER = {
  XENVER_version: 0,
  XENVER_extraversion: 1,
  XENVER_compile_info: 2,
  XENVER_capabilities: 3,
  XENVER_changeset: 4,
  XENVER_platform_parameters: 5,
  XENVER_get_features: 6,
  XENVER_pagesize: 7,
  XENVER_guest_handle: 8,
  XENVER_commandline: 9,
  XENVER_build_id: 10,
  XENVER_extraversion2: 11,
  XENVER_capabilities2: 12,
  XENVER_changeset2: 13,
  XENVER_commandline2: 14,
} as const;

/** Feature bits (XENVER_get_features submap 0) (xen/include/public/features.h). */
export const XENFEAT = {
  XENFEAT_writable_page_tables: 0,
  XENFEAT_writable_descriptor_tables: 1,
  XENFEAT_auto_translated_physmap: 2,
  XENFEAT_supervisor_mode_kernel: 3,
  XENFEAT_pae_pgdir_above_4gb: 4,
  XENFEAT_mmu_pt_update_preserve_ad: 5,
  XENFEAT_highmem_assist: 6,
  XENFEAT_gnttab_map_avail_bits: 7,
  XENFEAT_hvm_callback_vector: 8,
  XENFEAT_hvm_safe_pvclock: 9,
  XENFEAT_hvm_pirqs: 10,
  XENFEAT_dom0: 11,
  XENFEAT_memory_op_vnode_supported: 13,
  XENFEAT_ARM_SMCCC_supported: 14,
  XENFEAT_linux_rsdp_unrestricted: 15,
  XENFEAT_not_direct_mapped: 16,
  XENFEAT_direct_mapped: 17,
  XENFEAT_runstate_phys_area: 18,
  XENFEAT_vcpu_time_phys_area: 19,
  XENFEAT_dm_msix_all_writes: 20,
  XENFEAT_NR_SUBMAPS: 1,
} as const;

/** The tables of this file, for `xvc abi`. */
export const VERSION_TABLES: readonly AbiTable[] = [
  { title: 'xen_version commands', source: 'xen/include/public/version.h', values: XENVER },
  { title: 'Feature bits (XENVER_get_features submap 0)', source: 'xen/include/public/features.h', values: XENFEAT },
];
