import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** hvm_op commands (xen/include/public/hvm/hvm_op.h). */
export const HVMOP = {
  HVMOP_set_param: 0,
  HVMOP_get_param: 1,
  HVMOP_flush_tlbs: 5,
  HVMOP_pagetable_dying: 9,
  HVMOP_get_time: 10,
  HVMOP_xentrace: 11,
  HVMOP_set_mem_access: 12,
  HVMOP_get_mem_access: 13,
  HVMOP_get_mem_type: 15,
  HVMOP_set_evtchn_upcall_vector: 23,
  HVMOP_guest_request_vm_event: 24,
  HVMOP_altp2m: 25,
} as const;

/** HVMOP_altp2m sub-operations (xen/include/public/hvm/hvm_op.h). */
export const HVMOP_ALTP2M = {
  HVMOP_altp2m_get_domain_state: 1,
  HVMOP_altp2m_set_domain_state: 2,
  HVMOP_altp2m_vcpu_enable_notify: 3,
  HVMOP_altp2m_create_p2m: 4,
  HVMOP_altp2m_destroy_p2m: 5,
  HVMOP_altp2m_switch_p2m: 6,
  HVMOP_altp2m_set_mem_access: 7,
  HVMOP_altp2m_change_gfn: 8,
  HVMOP_altp2m_set_mem_access_multi: 9,
  HVMOP_altp2m_set_suppress_ve: 10,
  HVMOP_altp2m_get_suppress_ve: 11,
  HVMOP_altp2m_get_mem_access: 12,
  HVMOP_altp2m_vcpu_disable_notify: 13,
  HVMOP_altp2m_get_p2m_idx: 14,
  HVMOP_altp2m_set_suppress_ve_multi: 15,
  HVMOP_altp2m_set_visibility: 16,
} as const;

/** HVM parameters (xen/include/public/hvm/params.h). */
export const HVM_PARAM = {
  HVM_PARAM_PAE_ENABLED: 4,
  HVM_PARAM_DM_DOMAIN: 13,
  HVM_PARAM_MEMORY_EVENT_CR0: 20,
  HVM_PARAM_MEMORY_EVENT_CR3: 21,
  HVM_PARAM_MEMORY_EVENT_CR4: 22,
  HVM_PARAM_MEMORY_EVENT_INT3: 23,
  HVM_PARAM_NESTEDHVM: 24,
  HVM_PARAM_MEMORY_EVENT_SINGLE_STEP: 25,
  HVM_PARAM_BUFIOREQ_EVTCHN: 26,
  HVM_PARAM_MEMORY_EVENT_MSR: 30,
  HVM_PARAM_CALLBACK_IRQ: 0,
  HVM_PARAM_CALLBACK_IRQ_TYPE_MASK: 0xff00000000000000n,
  HVM_PARAM_CALLBACK_TYPE_GSI: 0,
  HVM_PARAM_CALLBACK_TYPE_PCI_INTX: 1,
  HVM_PARAM_CALLBACK_TYPE_VECTOR: 2,
  HVM_PARAM_STORE_PFN: 1,
  HVM_PARAM_STORE_EVTCHN: 2,
  HVM_PARAM_IOREQ_PFN: 5,
  HVM_PARAM_BUFIOREQ_PFN: 6,
  HVM_PARAM_VIRIDIAN: 9,
  HVM_PARAM_TIMER_MODE: 10,
  HVM_PARAM_HPET_ENABLED: 11,
  HVM_PARAM_IDENT_PT: 12,
  HVM_PARAM_ACPI_S_STATE: 14,
  HVM_PARAM_VM86_TSS: 15,
  HVM_PARAM_VPT_ALIGN: 16,
  HVM_PARAM_CONSOLE_PFN: 17,
  HVM_PARAM_CONSOLE_EVTCHN: 18,
  HVM_PARAM_ACPI_IOPORTS_LOCATION: 19,
  HVM_PARAM_PAGING_RING_PFN: 27,
  HVM_PARAM_MONITOR_RING_PFN: 28,
  HVM_PARAM_SHARING_RING_PFN: 29,
  HVM_PARAM_TRIPLE_FAULT_REASON: 31,
  HVM_PARAM_IOREQ_SERVER_PFN: 32,
  HVM_PARAM_NR_IOREQ_SERVER_PAGES: 33,
  HVM_PARAM_VM_GENERATION_ID_ADDR: 34,
  HVM_PARAM_ALTP2M: 35,
  HVM_PARAM_X87_FIP_WIDTH: 36,
  HVM_PARAM_VM86_TSS_SIZED: 37,
  HVM_PARAM_MCA_CAP: 38,
  HVM_NR_PARAMS: 39,
} as const;

/** HVM_PARAM_TIMER_MODE values (xen/include/public/hvm/params.h). */
export const HVMPTM = {
  HVMPTM_delay_for_missed_ticks: 0,
  HVMPTM_no_delay_for_missed_ticks: 1,
  HVMPTM_no_missed_ticks_pending: 2,
  HVMPTM_one_missed_tick_pending: 3,
} as const;

/** HVM_PARAM_VIRIDIAN feature bits (xen/include/public/hvm/params.h). */
export const HVMPV = {
  HVMPV_base_freq: 1,
  HVMPV_no_freq: 2,
  HVMPV_time_ref_count: 4,
  HVMPV_reference_tsc: 8,
  HVMPV_hcall_remote_tlb_flush: 16,
  HVMPV_apic_assist: 32,
  HVMPV_crash_ctl: 64,
  HVMPV_synic: 128,
  HVMPV_stimer: 256,
  HVMPV_hcall_ipi: 512,
  HVMPV_ex_processor_masks: 1024,
  HVMPV_no_vp_limit: 2048,
  HVMPV_cpu_hotplug: 4096,
  HVMPV_feature_mask: 8191,
} as const;

/** The tables of this file, for `xvc abi`. */
export const HVM_OP_TABLES: readonly AbiTable[] = [
  { title: 'hvm_op commands', source: 'xen/include/public/hvm/hvm_op.h', values: HVMOP },
  { title: 'HVMOP_altp2m sub-operations', source: 'xen/include/public/hvm/hvm_op.h', values: HVMOP_ALTP2M },
  { title: 'HVM parameters', source: 'xen/include/public/hvm/params.h', values: HVM_PARAM },
  { title: 'HVM_PARAM_TIMER_MODE values', source: 'xen/include/public/hvm/params.h', values: HVMPTM },
  { title: 'HVM_PARAM_VIRIDIAN feature bits', source: 'xen/include/public/hvm/params.h', values: HVMPV },
];
