import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** mmuext_op commands (xen/include/public/xen.h). */
export const MMUEXT = {
  MMUEXT_PIN_L1_TABLE: 0,
  MMUEXT_PIN_L2_TABLE: 1,
  MMUEXT_PIN_L3_TABLE: 2,
  MMUEXT_PIN_L4_TABLE: 3,
  MMUEXT_UNPIN_TABLE: 4,
  MMUEXT_NEW_BASEPTR: 5,
  MMUEXT_TLB_FLUSH_LOCAL: 6,
  MMUEXT_INVLPG_LOCAL: 7,
  MMUEXT_TLB_FLUSH_MULTI: 8,
  MMUEXT_INVLPG_MULTI: 9,
  MMUEXT_TLB_FLUSH_ALL: 10,
  MMUEXT_INVLPG_ALL: 11,
  MMUEXT_FLUSH_CACHE: 12,
  MMUEXT_SET_LDT: 13,
  MMUEXT_NEW_USER_BASEPTR: 15,
  MMUEXT_CLEAR_PAGE: 16,
  MMUEXT_COPY_PAGE: 17,
  MMUEXT_FLUSH_CACHE_GLOBAL: 18,
  MMUEXT_MARK_SUPER: 19,
  MMUEXT_UNMARK_SUPER: 20,
} as const;

/** mmu_update commands (xen/include/public/xen.h). */
export const MMU_UPDATE = {
  MMU_NORMAL_PT_UPDATE: 0,
  MMU_MACHPHYS_UPDATE: 1,
  MMU_PT_UPDATE_PRESERVE_AD: 2,
  MMU_PT_UPDATE_NO_TRANSLATE: 3,
} as const;

/** update_va_mapping flags (xen/include/public/xen.h). */
export const UVMF = {
  UVMF_NONE: 0,
  UVMF_TLB_FLUSH: 1,
  UVMF_INVLPG: 2,
  UVMF_FLUSHTYPE_MASK: 3,
  UVMF_MULTI: 0,
  UVMF_LOCAL: 0,
  UVMF_ALL: 4,
} as const;

/** vm_assist commands and types (xen/include/public/xen.h). */
export const VMASST = {
  VMASST_CMD_enable: 0,
  VMASST_CMD_disable: 1,
  VMASST_TYPE_4gb_segments: 0,
  VMASST_TYPE_4gb_segments_notify: 1,
  VMASST_TYPE_writable_pagetables: 2,
  VMASST_TYPE_pae_extended_cr3: 3,
  VMASST_TYPE_architectural_iopl: 4,
  VMASST_TYPE_runstate_update_flag: 5,
  VMASST_TYPE_m2p_strict: 32,
} as const;

/** The tables of this file, for `xvc abi`. */
export const MMUEXT_TABLES: readonly AbiTable[] = [
  { title: 'mmuext_op commands', source: 'xen/include/public/xen.h', values: MMUEXT },
  { title: 'mmu_update commands', source: 'xen/include/public/xen.h', values: MMU_UPDATE },
  { title: 'update_va_mapping flags', source: 'xen/include/public/xen.h', values: UVMF },
  { title: 'vm_assist commands and types', source: 'xen/include/public/xen.h', values: VMASST },
];
