import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** Special domain identifiers (xen/include/public/xen.h). */
export const DOMID = {
  DOMID_FIRST_RESERVED: 32752,
  DOMID_SELF: 32752,
  DOMID_IO: 32753,
  DOMID_XEN: 32754,
  DOMID_COW: 32755,
  DOMID_INVALID: 32756,
  DOMID_ANY: 32757,
  DOMID_IDLE: 32767,
  DOMID_MASK: 32767,
} as const;

/** vcpu_time_info.flags bits (xen/include/public/xen.h). */
export const XEN_PVCLOCK = {
  XEN_PVCLOCK_TSC_STABLE_BIT: 1,
  XEN_PVCLOCK_GUEST_STOPPED: 2,
} as const;

/** The tables of this file, for `xvc abi`. */
export const XEN_MISC_TABLES: readonly AbiTable[] = [
  { title: 'Special domain identifiers', source: 'xen/include/public/xen.h', values: DOMID },
  { title: 'vcpu_time_info.flags bits', source: 'xen/include/public/xen.h', values: XEN_PVCLOCK },
];
