import { MMUEXT } from '../abi/mmuext';
import { DOMID } from '../abi/xen';
import { mmuext_op as mmuext_op_layout } from '../abi/layouts';
import { arg, copyFromGuest, guestHandleOkay, isNullHandle, readGuestU32, readGuestU64, writeGuestU32 } from '../guestAccess';
import { OK, errno, returned, unimplemented, type XenOutcome } from '../outcome';
import type { XenDomain } from '../domain';
import type { XenVcpu } from '../xenVcpu';
import { defineHypercall, type HypercallContext } from './types';

/** MMU_UPDATE_PREEMPTED = ~(~0U >> 1): the continuation flag in `count`. */
const MMU_UPDATE_PREEMPTED = 0x8000_0000;
/** __HYPERVISOR_VIRT_END (xen/include/public/arch-x86/xen-x86_64.h). */
const HYPERVISOR_VIRT_END = 0xffff_8800_0000_0000n;

/** __addr_ok (xen/arch/x86/include/asm/x86_64/uaccess.h): below 2^47 or above Xen's area. */
function addrOk(va: bigint): boolean {
  const a = BigInt.asUintN(64, va);
  return a < 1n << 47n || a >= HYPERVISOR_VIRT_END;
}

/** is_canonical_address (xen/arch/x86/include/asm/x86_64/page.h): bits 63..47 all equal. */
function isCanonical(va: bigint): boolean {
  const top = BigInt.asUintN(64, va) >> 47n;
  return top === 0n || top === (1n << 17n) - 1n;
}

/**
 * vcpumask_to_pcpumask: reads the guest's vCPU bitmap one unsigned long at a time until the
 * words cover max_vcpus; bits at or beyond max_vcpus are ignored. Undefined on a fault.
 */
function readVcpuMask(d: XenDomain, ptr: bigint): XenVcpu[] | undefined {
  const out: XenVcpu[] = [];
  for (let word = 0; word * 64 < d.vcpus.length; word++) {
    const bits = readGuestU64(d, ptr, word);
    if (bits === undefined) return undefined;
    for (let bit = 0; bit < 64; bit++) {
      if (((bits >> BigInt(bit)) & 1n) === 0n) continue;
      const id = word * 64 + bit;
      if (id >= d.vcpus.length) return out;
      out.push(d.vcpus[id] as XenVcpu);
    }
  }
  return out;
}

/** One mmuext_op entry for a PV caller on its own pages; returns 0 or the errno name. */
function doOne(ctx: HypercallContext, op: { cmd: number; arg1: bigint; arg2: bigint }): XenOutcome {
  const { d, v } = ctx;
  switch (op.cmd) {
    case MMUEXT.MMUEXT_TLB_FLUSH_LOCAL:
      // flush_tlb_local(): FLUSH_TLB drops the non-global translations.
      v.hw.tlb.flushNonGlobal();
      return OK;
    case MMUEXT.MMUEXT_INVLPG_LOCAL:
      // paging_invlpg(curr, va) (xen/arch/x86/mm.c): the page in the current address space and its
      // global entry. Unlike the _MULTI and _ALL forms it tests is_canonical_address, not __addr_ok,
      // so a page of Xen's guest-readable area (the read-only M2P at HYPERVISOR_VIRT_START) is flushed.
      if (isCanonical(op.arg1)) v.hw.tlb.flushPages(v.hw.space, op.arg1);
      return OK;
    case MMUEXT.MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT.MMUEXT_INVLPG_MULTI: {
      const targets = readVcpuMask(d, op.arg2);
      if (!targets) return errno('XEN_EINVAL');
      if (op.cmd === MMUEXT.MMUEXT_TLB_FLUSH_MULTI) for (const t of targets) t.hw.tlb.flushNonGlobal();
      else if (addrOk(op.arg1)) for (const t of targets) t.hw.tlb.flushPages(t.hw.space, op.arg1);
      return OK;
    }
    case MMUEXT.MMUEXT_TLB_FLUSH_ALL:
      for (const t of d.vcpus) t.hw.tlb.flushNonGlobal();
      return OK;
    case MMUEXT.MMUEXT_INVLPG_ALL:
      if (addrOk(op.arg1)) for (const t of d.vcpus) t.hw.tlb.flushPages(t.hw.space, op.arg1);
      return OK;
    case MMUEXT.MMUEXT_MARK_SUPER:
    case MMUEXT.MMUEXT_UNMARK_SUPER:
      return errno('XEN_EOPNOTSUPP');
    case MMUEXT.MMUEXT_FLUSH_CACHE:
      // cache_flush_permitted() is false for a domU without I/O resources.
      return errno('XEN_EACCES');
    case MMUEXT.MMUEXT_FLUSH_CACHE_GLOBAL:
      return errno(ctx.xen.profile.flushCacheGlobalDenied);
    case MMUEXT.MMUEXT_PIN_L1_TABLE:
    case MMUEXT.MMUEXT_PIN_L2_TABLE:
    case MMUEXT.MMUEXT_PIN_L3_TABLE:
    case MMUEXT.MMUEXT_PIN_L4_TABLE:
    case MMUEXT.MMUEXT_UNPIN_TABLE:
    case MMUEXT.MMUEXT_NEW_BASEPTR:
    case MMUEXT.MMUEXT_NEW_USER_BASEPTR:
    case MMUEXT.MMUEXT_SET_LDT:
    case MMUEXT.MMUEXT_CLEAR_PAGE:
    case MMUEXT.MMUEXT_COPY_PAGE:
      return unimplemented(`mmuext_op cmd ${op.cmd}: PV page-table and page-type management is not modelled`);
    default:
      return errno('XEN_ENOSYS');
  }
}

/**
 * HYPERVISOR_mmuext_op(mmuext_op_t *uops, unsigned count, unsigned *pdone, unsigned foreigndom):
 * xen/arch/x86/mm.c do_mmuext_op. The ops run in order; the first failing op ends the batch with
 * its error; *pdone gets the number completed (added to its old value on a continuation).
 */
export const mmuext_op = defineHypercall({
  name: 'mmuext_op',
  guests: ['pv', 'pvhvm'],
  source: 'xen/arch/x86/mm.c do_mmuext_op',
  handler(ctx, args) {
    const { xen, d } = ctx;
    const uops = args[0];
    let count = arg.uint(args[1]);
    const pdone = args[2];
    const foreigndom = arg.uint(args[3]);
    let done = 0;
    if (count === MMU_UPDATE_PREEMPTED && isNullHandle(uops)) return returned(BigInt.asIntN(32, BigInt(foreigndom)));
    if ((count & MMU_UPDATE_PREEMPTED) !== 0) {
      // A count with bit 31 set means "resuming": done carries on from *pdone.
      count &= ~MMU_UPDATE_PREEMPTED >>> 0;
      if (!isNullHandle(pdone)) done = readGuestU32(d, pdone, 0) ?? done;
    }
    if (!guestHandleOkay(d, uops, BigInt(count), mmuext_op_layout.size)) return errno('XEN_EFAULT');
    // get_pg_owner: the caller's own id named explicitly is refused; DOMID_SELF is the caller.
    const ownerId = foreigndom & 0xffff;
    let owner: XenDomain | undefined;
    if (ownerId === d.domid) owner = undefined;
    else if (ownerId === DOMID.DOMID_IO || ownerId === DOMID.DOMID_XEN) {
      // dom_io and dom_xen are system domains created without XEN_DOMCTL_CDF_hvm, so they pass
      // is_pv_domain(); xsm_mmuext_op(XSM_TARGET) then refuses every caller but the control domain.
      if (d.domid !== 0) return errno('XEN_EPERM');
      return unimplemented('mmuext_op on DOMID_IO / DOMID_XEN pages is not modelled');
    } else owner = xen.domainByAnyId(ownerId, d);
    if (!owner) return errno('XEN_ESRCH');
    if (owner.isHvm) return errno('XEN_EINVAL');
    if (owner !== d && d.domid !== 0) return errno('XEN_EPERM'); // xsm_mmuext_op(XSM_TARGET)
    let rc: XenOutcome = OK;
    let i = 0;
    for (; i < count; i++) {
      const op = copyFromGuest(d, uops, mmuext_op_layout, i);
      if (!op) {
        rc = errno('XEN_EFAULT');
        break;
      }
      rc = doOne(ctx, op);
      if (rc.kind !== 'returned' || rc.value !== 0n) break;
    }
    if (rc.kind === 'unimplemented') return rc;
    if (!isNullHandle(pdone)) writeGuestU32(d, pdone, 0, (done + i) >>> 0); // a fault here is ignored
    return rc;
  },
});
