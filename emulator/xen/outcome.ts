import { XEN_ERRNO, type XenErrnoName } from './abi/errno';

/**
 * What a Xen hypercall does, as the calling vCPU sees it.
 * - returned: the call returned this value in RAX (a C `long`, kept signed: -22n is -EINVAL).
 * - blocked: the vCPU is parked inside the call (SCHEDOP_block / poll); the machine logs a
 *   'resumed' event with the return value when it wakes.
 * - unimplemented: the model does not implement this path; the reason says what is missing. It is
 *   never a guess at what Xen does.
 */
export type XenOutcome =
  | { readonly kind: 'returned'; readonly value: bigint }
  | { readonly kind: 'blocked' }
  | { readonly kind: 'unimplemented'; readonly reason: string };

/** The outcome of a call that returned `value`. */
export function returned(value: bigint | number): XenOutcome {
  return { kind: 'returned', value: BigInt(value) };
}

/** The outcome of a call that failed with -errno. */
export function errno(name: XenErrnoName): XenOutcome {
  return { kind: 'returned', value: -BigInt(XEN_ERRNO[name]) };
}

/** The outcome of a path the model does not implement. */
export function unimplemented(reason: string): XenOutcome {
  return { kind: 'unimplemented', reason };
}

/** A successful call returning 0. */
export const OK: XenOutcome = Object.freeze({ kind: 'returned', value: 0n });
/** A call parked on its vCPU. */
export const BLOCKED: XenOutcome = Object.freeze({ kind: 'blocked' });

const NAME_BY_ERRNO = new Map<number, XenErrnoName>(
  (Object.entries(XEN_ERRNO) as [XenErrnoName, number][]).filter(([name]) => name !== 'XEN_EWOULDBLOCK' && name !== 'XEN_EDEADLOCK').map(([name, value]) => [value, name]),
);

/** Human form of a return value: "0", "-XEN_EINVAL (-22)", "4096". */
export function describeXenReturn(value: bigint): string {
  if (value < 0n && value >= -4095n) {
    const name = NAME_BY_ERRNO.get(Number(-value));
    if (name) return `-${name} (${value})`;
  }
  return value.toString();
}
