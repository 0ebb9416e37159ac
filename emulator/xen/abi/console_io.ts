import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** console_io commands (xen/include/public/xen.h). */
export const CONSOLEIO = {
  CONSOLEIO_write: 0,
  CONSOLEIO_read: 1,
} as const;

/** The tables of this file, for `xvc abi`. */
export const CONSOLE_IO_TABLES: readonly AbiTable[] = [
  { title: 'console_io commands', source: 'xen/include/public/xen.h', values: CONSOLEIO },
];
