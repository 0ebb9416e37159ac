import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** vcpu_op commands (xen/include/public/vcpu.h). */
export const VCPUOP = {
  VCPUOP_initialise: 0,
  VCPUOP_up: 1,
  VCPUOP_down: 2,
  VCPUOP_is_up: 3,
  VCPUOP_get_runstate_info: 4,
  VCPUOP_register_runstate_memory_area: 5,
  VCPUOP_set_periodic_timer: 6,
  VCPUOP_stop_periodic_timer: 7,
  VCPUOP_set_singleshot_timer: 8,
  VCPUOP_stop_singleshot_timer: 9,
  VCPUOP_register_vcpu_info: 10,
  VCPUOP_send_nmi: 11,
  VCPUOP_get_physid: 12,
  VCPUOP_register_vcpu_time_memory_area: 13,
  VCPUOP_register_runstate_phys_area: 14,
  VCPUOP_register_vcpu_time_phys_area: 15,
} as const;

/** vcpu_runstate_info states and flags (xen/include/public/vcpu.h). */
export const RUNSTATE = {
  XEN_RUNSTATE_UPDATE: 0x8000000000000000n,
  RUNSTATE_running: 0,
  RUNSTATE_runnable: 1,
  RUNSTATE_blocked: 2,
  RUNSTATE_offline: 3,
} as const;

/** vcpu_set_singleshot_timer flags (xen/include/public/vcpu.h). */
export const VCPU_SSHOTTMR = {
  _VCPU_SSHOTTMR_future: 0,
  VCPU_SSHOTTMR_future: 1,
} as const;

/** The tables of this file, for `xvc abi`. */
export const VCPU_TABLES: readonly AbiTable[] = [
  { title: 'vcpu_op commands', source: 'xen/include/public/vcpu.h', values: VCPUOP },
  { title: 'vcpu_runstate_info states and flags', source: 'xen/include/public/vcpu.h', values: RUNSTATE },
  { title: 'vcpu_set_singleshot_timer flags', source: 'xen/include/public/vcpu.h', values: VCPU_SSHOTTMR },
];
