import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** sched_op commands (xen/include/public/sched.h). */
export const SCHEDOP = {
  SCHEDOP_yield: 0,
  SCHEDOP_block: 1,
  SCHEDOP_shutdown: 2,
  SCHEDOP_poll: 3,
  SCHEDOP_remote_shutdown: 4,
  SCHEDOP_shutdown_code: 5,
  SCHEDOP_watchdog: 6,
  SCHEDOP_pin_override: 7,
} as const;

/** Shutdown reasons (xen/include/public/sched.h). */
export const SHUTDOWN = {
  SHUTDOWN_poweroff: 0,
  SHUTDOWN_reboot: 1,
  SHUTDOWN_suspend: 2,
  SHUTDOWN_crash: 3,
  SHUTDOWN_watchdog: 4,
  SHUTDOWN_soft_reset: 5,
  SHUTDOWN_MAX: 5,
} as const;

/** The tables of this file, for `xvc abi`. */
export const SCHED_TABLES: readonly AbiTable[] = [
  { title: 'sched_op commands', source: 'xen/include/public/sched.h', values: SCHEDOP },
  { title: 'Shutdown reasons', source: 'xen/include/public/sched.h', values: SHUTDOWN },
];
