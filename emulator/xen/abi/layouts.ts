import { defineStruct, s16, s8, u16, u32, u64, u8 } from '../../abi/struct';

/*
 * x86_64 layouts of the Xen public structs the model reads and writes. Offsets and sizes were
 * printed with offsetof/sizeof by a C program compiled (gcc 12, x86_64) against the public
 * headers of xen-project/xen c447b7308b1330ec6dcfef37220736c28f41daa0; vectors/encoding/
 * xen-struct-layouts.json keeps those numbers and the tests compare the two.
 */

// --- xen.h --------------------------------------------------------------------------------

/** struct vcpu_time_info (xen/include/public/xen.h), 32 bytes. */
export const vcpu_time_info = defineStruct('vcpu_time_info', 32, {
  version: u32(0),
  pad0: u32(4),
  tsc_timestamp: u64(8),
  system_time: u64(16),
  tsc_to_system_mul: u32(24),
  tsc_shift: s8(28),
  flags: u8(29),
});

/** struct vcpu_info (xen/include/public/xen.h), 64 bytes; its `time` member is a vcpu_time_info at {@link VCPU_INFO_TIME}. */
export const vcpu_info = defineStruct('vcpu_info', 64, {
  evtchn_upcall_pending: u8(0),
  evtchn_upcall_mask: u8(1),
  evtchn_pending_sel: u64(8),
  arch_cr2: u64(16),
  arch_pad: u64(24),
});

/** offsetof(struct vcpu_info, time). */
export const VCPU_INFO_TIME = 32;

/** Offsets inside struct shared_info (xen/include/public/xen.h), 3136 bytes on x86_64. */
export const SHARED_INFO = {
  size: 3136,
  /** vcpu_info[XEN_LEGACY_MAX_VCPUS] at 0, 64 bytes each. */
  vcpu_info: 0,
  /** xen_ulong_t evtchn_pending[64]. */
  evtchn_pending: 2048,
  /** xen_ulong_t evtchn_mask[64]. */
  evtchn_mask: 2560,
  wc_version: 3072,
  wc_sec: 3076,
  wc_nsec: 3080,
  wc_sec_hi: 3084,
  /** struct arch_shared_info (48 bytes). */
  arch: 3088,
} as const;

/** XEN_LEGACY_MAX_VCPUS for x86 (xen/include/public/arch-x86/xen.h): vCPUs with a vcpu_info in shared_info. */
export const XEN_LEGACY_MAX_VCPUS = 32;

/** struct multicall_entry (xen/include/public/xen.h), 64 bytes: op, result, args[6]. */
export const multicall_entry = defineStruct('multicall_entry', 64, {
  op: u64(0),
  result: u64(8),
  arg0: u64(16),
  arg1: u64(24),
  arg2: u64(32),
  arg3: u64(40),
  arg4: u64(48),
  arg5: u64(56),
});

/** struct mmuext_op (xen/include/public/xen.h), 24 bytes: cmd, arg1 union, arg2 union. */
export const mmuext_op = defineStruct('mmuext_op', 24, {
  cmd: u32(0),
  arg1: u64(8),
  arg2: u64(16),
});

// --- event_channel.h ----------------------------------------------------------------------

/** struct evtchn_alloc_unbound, 8 bytes. */
export const evtchn_alloc_unbound = defineStruct('evtchn_alloc_unbound', 8, { dom: u16(0), remote_dom: u16(2), port: u32(4) });
/** struct evtchn_bind_interdomain, 12 bytes. */
export const evtchn_bind_interdomain = defineStruct('evtchn_bind_interdomain', 12, { remote_dom: u16(0), remote_port: u32(4), local_port: u32(8) });
/** struct evtchn_bind_virq, 12 bytes. */
export const evtchn_bind_virq = defineStruct('evtchn_bind_virq', 12, { virq: u32(0), vcpu: u32(4), port: u32(8) });
/** struct evtchn_bind_pirq, 12 bytes. */
export const evtchn_bind_pirq = defineStruct('evtchn_bind_pirq', 12, { pirq: u32(0), flags: u32(4), port: u32(8) });
/** struct evtchn_bind_ipi, 8 bytes. */
export const evtchn_bind_ipi = defineStruct('evtchn_bind_ipi', 8, { vcpu: u32(0), port: u32(4) });
/** struct evtchn_close / evtchn_send / evtchn_unmask: one port, 4 bytes. */
export const evtchn_port_arg = defineStruct('evtchn_port_arg', 4, { port: u32(0) });
/** struct evtchn_status, 24 bytes; `u` is a union at 16. */
export const evtchn_status = defineStruct('evtchn_status', 24, {
  dom: u16(0),
  port: u32(4),
  status: u32(8),
  vcpu: u32(12),
  /** u.unbound.dom / u.interdomain.dom (domid_t). */
  u_dom: u16(16),
  /** u.interdomain.port. */
  u_port: u32(20),
  /** u.pirq / u.virq (same bytes as u_dom's word). */
  u_word: u32(16),
});
/** struct evtchn_bind_vcpu, 8 bytes. */
export const evtchn_bind_vcpu = defineStruct('evtchn_bind_vcpu', 8, { port: u32(0), vcpu: u32(4) });
/** struct evtchn_reset, 2 bytes. */
export const evtchn_reset = defineStruct('evtchn_reset', 2, { dom: u16(0) });
/** struct evtchn_set_priority, 8 bytes. */
export const evtchn_set_priority = defineStruct('evtchn_set_priority', 8, { port: u32(0), priority: u32(4) });
/** struct evtchn_init_control, 24 bytes. */
export const evtchn_init_control = defineStruct('evtchn_init_control', 24, { control_gfn: u64(0), offset: u32(8), vcpu: u32(12), link_bits: u8(16) });
/** struct evtchn_expand_array, 8 bytes. */
export const evtchn_expand_array = defineStruct('evtchn_expand_array', 8, { array_gfn: u64(0) });

// --- sched.h ------------------------------------------------------------------------------

/** struct sched_shutdown, 4 bytes. */
export const sched_shutdown = defineStruct('sched_shutdown', 4, { reason: u32(0) });
/** struct sched_poll, 24 bytes. */
export const sched_poll = defineStruct('sched_poll', 24, { ports: u64(0), nr_ports: u32(8), timeout: u64(16) });
/** struct sched_remote_shutdown, 8 bytes. */
export const sched_remote_shutdown = defineStruct('sched_remote_shutdown', 8, { domain_id: u16(0), reason: u32(4) });
/** struct sched_watchdog, 8 bytes. */
export const sched_watchdog = defineStruct('sched_watchdog', 8, { id: u32(0), timeout: u32(4) });

// --- vcpu.h -------------------------------------------------------------------------------

/** struct vcpu_runstate_info, 48 bytes. */
export const vcpu_runstate_info = defineStruct('vcpu_runstate_info', 48, {
  state: u32(0),
  state_entry_time: u64(8),
  time_running: u64(16),
  time_runnable: u64(24),
  time_blocked: u64(32),
  time_offline: u64(40),
});
/** struct vcpu_set_periodic_timer, 8 bytes. */
export const vcpu_set_periodic_timer = defineStruct('vcpu_set_periodic_timer', 8, { period_ns: u64(0) });
/** struct vcpu_set_singleshot_timer, 16 bytes. */
export const vcpu_set_singleshot_timer = defineStruct('vcpu_set_singleshot_timer', 16, { timeout_abs_ns: u64(0), flags: u32(8) });
/** struct vcpu_register_vcpu_info, 16 bytes. */
export const vcpu_register_vcpu_info = defineStruct('vcpu_register_vcpu_info', 16, { mfn: u64(0), offset: u32(8), rsvd: u32(12) });
/** sizeof(struct vcpu_guest_context) on x86_64 (xen/include/public/arch-x86/xen.h). */
export const VCPU_GUEST_CONTEXT_SIZE = 5168;

// --- memory.h -----------------------------------------------------------------------------

/** struct xen_memory_reservation, 32 bytes. */
export const xen_memory_reservation = defineStruct('xen_memory_reservation', 32, {
  extent_start: u64(0),
  nr_extents: u64(8),
  extent_order: u32(16),
  mem_flags: u32(20),
  domid: u16(24),
});
/** struct xen_memory_domain, 2 bytes. */
export const xen_memory_domain = defineStruct('xen_memory_domain', 2, { domid: u16(0) });

// --- grant_table.h ------------------------------------------------------------------------

/** struct grant_entry_v1, 8 bytes. */
export const grant_entry_v1 = defineStruct('grant_entry_v1', 8, { flags: u16(0), domid: u16(2), frame: u32(4) });
/** struct gnttab_setup_table, 24 bytes. */
export const gnttab_setup_table = defineStruct('gnttab_setup_table', 24, { dom: u16(0), nr_frames: u32(4), status: s16(8), frame_list: u64(16) });
/** struct gnttab_query_size, 16 bytes. */
export const gnttab_query_size = defineStruct('gnttab_query_size', 16, { dom: u16(0), nr_frames: u32(4), max_nr_frames: u32(8), status: s16(12) });
/** struct gnttab_map_grant_ref, 32 bytes. */
export const gnttab_map_grant_ref = defineStruct('gnttab_map_grant_ref', 32, {
  host_addr: u64(0),
  flags: u32(8),
  ref: u32(12),
  dom: u16(16),
  status: s16(18),
  handle: u32(20),
  dev_bus_addr: u64(24),
});
/** struct gnttab_unmap_grant_ref, 24 bytes. */
export const gnttab_unmap_grant_ref = defineStruct('gnttab_unmap_grant_ref', 24, { host_addr: u64(0), dev_bus_addr: u64(8), handle: u32(16), status: s16(20) });
/** struct gnttab_copy, 40 bytes: source{u, domid, offset} at 0, dest at 16. */
export const gnttab_copy = defineStruct('gnttab_copy', 40, {
  source_u: u64(0),
  source_domid: u16(8),
  source_offset: u16(10),
  dest_u: u64(16),
  dest_domid: u16(24),
  dest_offset: u16(26),
  len: u16(32),
  flags: u16(34),
  status: s16(36),
});
/** struct gnttab_set_version, 4 bytes. */
export const gnttab_set_version = defineStruct('gnttab_set_version', 4, { version: u32(0) });
/** struct gnttab_get_version, 8 bytes. */
export const gnttab_get_version = defineStruct('gnttab_get_version', 8, { dom: u16(0), pad: u16(2), version: u32(4) });

// --- version.h ----------------------------------------------------------------------------

/** xen_feature_info_t, 8 bytes. */
export const xen_feature_info = defineStruct('xen_feature_info', 8, { submap_idx: u32(0), submap: u32(4) });
/** struct xen_platform_parameters, 8 bytes. */
export const xen_platform_parameters = defineStruct('xen_platform_parameters', 8, { virt_start: u64(0) });
/** struct xen_varbuf header: u32 len, then the buffer. */
export const xen_varbuf = defineStruct('xen_varbuf', 4, { len: u32(0) });
/** Sizes of the fixed string buffers of xen_version. */
export const XENVER_SIZES = {
  xen_extraversion_t: 16,
  xen_compile_info: 144,
  xen_capabilities_info_t: 1024,
  xen_changeset_info_t: 64,
  xen_domain_handle_t: 16,
  xen_commandline_t: 1024,
} as const;

// --- hvm/hvm_op.h -------------------------------------------------------------------------

/** struct xen_hvm_param, 16 bytes. */
export const xen_hvm_param = defineStruct('xen_hvm_param', 16, { domid: u16(0), pad: u16(2), index: u32(4), value: u64(8) });
/** struct xen_hvm_evtchn_upcall_vector, 8 bytes. */
export const xen_hvm_evtchn_upcall_vector = defineStruct('xen_hvm_evtchn_upcall_vector', 8, { vcpu: u32(0), vector: u8(4) });
/** struct xen_hvm_get_time, 8 bytes. */
export const xen_hvm_get_time = defineStruct('xen_hvm_get_time', 8, { now: u64(0) });

/** Every layout, for the layout test and for `xvc abi`. */
export const XEN_LAYOUTS = [
  vcpu_time_info,
  vcpu_info,
  multicall_entry,
  mmuext_op,
  evtchn_alloc_unbound,
  evtchn_bind_interdomain,
  evtchn_bind_virq,
  evtchn_bind_pirq,
  evtchn_bind_ipi,
  evtchn_port_arg,
  evtchn_status,
  evtchn_bind_vcpu,
  evtchn_reset,
  evtchn_set_priority,
  evtchn_init_control,
  evtchn_expand_array,
  sched_shutdown,
  sched_poll,
  sched_remote_shutdown,
  sched_watchdog,
  vcpu_runstate_info,
  vcpu_set_periodic_timer,
  vcpu_set_singleshot_timer,
  vcpu_register_vcpu_info,
  xen_memory_reservation,
  xen_memory_domain,
  grant_entry_v1,
  gnttab_setup_table,
  gnttab_query_size,
  gnttab_map_grant_ref,
  gnttab_unmap_grant_ref,
  gnttab_copy,
  gnttab_set_version,
  gnttab_get_version,
  xen_feature_info,
  xen_platform_parameters,
  xen_varbuf,
  xen_hvm_param,
  xen_hvm_evtchn_upcall_vector,
  xen_hvm_get_time,
] as const;
