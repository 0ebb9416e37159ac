import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** Error numbers, returned negated (XEN_E*) (xen/include/public/errno.h). */
export const XEN_ERRNO = {
  XEN_EPERM: 1,
  XEN_ENOENT: 2,
  XEN_ESRCH: 3,
  XEN_EINTR: 4,
  XEN_EIO: 5,
  XEN_ENXIO: 6,
  XEN_E2BIG: 7,
  XEN_ENOEXEC: 8,
  XEN_EBADF: 9,
  XEN_ECHILD: 10,
  XEN_EAGAIN: 11,
  XEN_EWOULDBLOCK: 11,
  XEN_ENOMEM: 12,
  XEN_EACCES: 13,
  XEN_EFAULT: 14,
  XEN_EBUSY: 16,
  XEN_EEXIST: 17,
  XEN_EXDEV: 18,
  XEN_ENODEV: 19,
  XEN_ENOTDIR: 20,
  XEN_EISDIR: 21,
  XEN_EINVAL: 22,
  XEN_ENFILE: 23,
  XEN_EMFILE: 24,
  XEN_ENOSPC: 28,
  XEN_EROFS: 30,
  XEN_EMLINK: 31,
  XEN_EDOM: 33,
  XEN_ERANGE: 34,
  XEN_EDEADLK: 35,
  XEN_EDEADLOCK: 35,
  XEN_ENAMETOOLONG: 36,
  XEN_ENOLCK: 37,
  XEN_ENOSYS: 38,
  XEN_ENOTEMPTY: 39,
  XEN_ENODATA: 61,
  XEN_ETIME: 62,
  XEN_EBADMSG: 74,
  XEN_EOVERFLOW: 75,
  XEN_EILSEQ: 84,
  XEN_ERESTART: 85,
  XEN_ENOTSOCK: 88,
  XEN_EMSGSIZE: 90,
  XEN_EOPNOTSUPP: 95,
  XEN_EADDRINUSE: 98,
  XEN_EADDRNOTAVAIL: 99,
  XEN_ENOBUFS: 105,
  XEN_EISCONN: 106,
  XEN_ENOTCONN: 107,
  XEN_ETIMEDOUT: 110,
  XEN_ECONNREFUSED: 111,
} as const;

/** The name of an error number (XEN_EINVAL, ...). */
export type XenErrnoName = keyof typeof XEN_ERRNO;

/** The negated error number a hypercall returns, as a 64-bit register value is read back signed. */
export function xenError(name: XenErrnoName): bigint {
  return -BigInt(XEN_ERRNO[name]);
}

/** The tables of this file, for `xvc abi`. */
export const ERRNO_TABLES: readonly AbiTable[] = [
  {
    title: 'Error numbers, returned negated (XEN_E*)',
    source: 'xen/include/public/errno.h',
    values: XEN_ERRNO,
    notes: {
      XEN_EINTR: 'defined only with __XEN__: Xen-internal, never returned to a guest',
      XEN_ERESTART: 'defined only with __XEN__: Xen-internal (continuations), never returned to a guest',
    },
  },
];
