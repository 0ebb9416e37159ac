import { xenError } from '../abi/errno';
import { multicall_entry } from '../abi/layouts';
import { arg, copyFieldToGuest, copyFromGuest, guestHandleOkay, writeGuestBytes } from '../guestAccess';
import { BLOCKED, OK, errno, type XenOutcome } from '../outcome';
import type { HypercallArgs, HypercallContext } from './types';
import { defineHypercall } from './types';

/** The debug build's deliberate corruption of a processed entry (xen/common/multicall.c). */
const CORRUPT = new Uint8Array(multicall_entry.size).fill(0xaa);

/**
 * Runs entries [from, count) of a multicall list. Returns the multicall's return value, or
 * BLOCKED when an entry blocked the vCPU; the rest then runs when it resumes (Xen preempts after
 * the blocking entry and continues the multicall from the next one).
 */
function runEntries(ctx: HypercallContext, list: bigint, from: bigint, count: bigint): XenOutcome {
  const { xen, d, v } = ctx;
  for (let i = from; i < count; i++) {
    const index = Number(i);
    const entry = copyFromGuest(d, list, multicall_entry, index);
    if (!entry) return errno('XEN_EFAULT');
    const args: HypercallArgs = [entry.arg0, entry.arg1, entry.arg2, entry.arg3, entry.arg4];
    const outcome = xen.dispatch(ctx, entry.op, args);
    if (outcome.kind === 'unimplemented') return outcome;
    const result = outcome.kind === 'returned' ? outcome.value : 0n;
    // The guest must rely only on `result`: a debug build fills the rest of the entry with 0xAA.
    if (xen.config.build === 'debug') writeGuestBytes(d, list + BigInt(index * multicall_entry.size), CORRUPT);
    if (!copyFieldToGuest(d, list, multicall_entry, 'result', BigInt.asUintN(64, result), index)) {
      // do_multicall: rc = -EFAULT ends the loop, but an entry that blocked the vCPU stays blocked
      // (vcpu_block set _VPF_blocked); the guest sees -EFAULT only when the vCPU is woken.
      if (outcome.kind !== 'blocked') return errno('XEN_EFAULT');
      v.onResume = () => xenError('XEN_EFAULT');
      return BLOCKED;
    }
    if (outcome.kind === 'blocked') {
      const next = i + 1n;
      v.onResume = () => {
        v.inMulticall = true;
        const rest = runEntries(ctx, list, next, count);
        v.inMulticall = false;
        return rest.kind === 'returned' ? rest.value : rest.kind === 'blocked' ? undefined : 0n;
      };
      return BLOCKED;
    }
  }
  return OK;
}

/**
 * HYPERVISOR_multicall(multicall_entry_t *list, unsigned long nr_calls): xen/common/multicall.c
 * do_multicall. Each entry runs as if issued directly (same table, so an unavailable op gets
 * -ENOSYS in `result`); a failing entry does not stop the batch; nesting is -EINVAL.
 */
export const multicall = defineHypercall({
  name: 'multicall',
  guests: ['pv', 'pvhvm'],
  source: 'xen/common/multicall.c do_multicall',
  handler(ctx, args) {
    const { xen, d, v } = ctx;
    if (v.inMulticall) return errno('XEN_EINVAL');
    const list = args[0];
    const count = xen.profile.multicallCountBits === 32 ? BigInt(arg.uint(args[1])) : arg.ulong(args[1]);
    if (!guestHandleOkay(d, list, count, multicall_entry.size)) return errno('XEN_EFAULT');
    v.inMulticall = true;
    try {
      return runEntries(ctx, list, 0n, count);
    } finally {
      v.inMulticall = false;
    }
  },
});
