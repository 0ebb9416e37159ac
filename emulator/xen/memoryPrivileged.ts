import { XENMEM } from './abi/memory';
import { xen_memory_reservation } from './abi/layouts';
import { copyFromGuest, isNullHandle, readGuestBytes } from './guestAccess';
import { errno, unimplemented, type XenOutcome } from './outcome';
import type { XenDomain } from './domain';
import type { HypercallContext } from './hypercalls/types';

/*
 * memory_op sub-ops that only the control domain may complete (XSM_PRIV): XENMEM_claim_pages and
 * the populate-on-demand target. A domU never gets past the policy, so the model answers every
 * check Xen makes before it and the refusal itself; what a privileged caller would get is left
 * unimplemented (the model's guest is never the control domain).
 */

/** sizeof(struct xen_pod_target): four uint64_t and a domid_t, padded to 8 (xen/include/public/memory.h). */
const POD_TARGET_SIZE = 40;
/** Offset of xen_pod_target.domid. */
const POD_TARGET_DOMID = 32;

/** Whether the dummy XSM policy grants XSM_PRIV to `src`: the control domain only (xen/include/xsm/dummy.h xsm_default_action). */
function xsmPriv(src: XenDomain): boolean {
  return src.domid === 0; // dom0 is the control domain
}

/**
 * XENMEM_claim_pages (xen/common/memory.c do_memory_op, RELEASE-4.17.0 to c447b7308b; the
 * llc_coloring_enabled check of newer trees is constant false on x86): a struct
 * xen_memory_reservation with a null extent_start, extent_order 0 and mem_flags 0 (-EINVAL
 * otherwise), for a domain looked up with rcu_lock_domain_by_id, which knows no DOMID_SELF
 * (-EINVAL for it and for any unknown id); then xsm_claim_pages (XSM_PRIV): -EPERM.
 */
export function claimPages(ctx: HypercallContext, ptr: bigint, start: bigint): XenOutcome {
  const { xen, d } = ctx;
  if (start !== 0n) return errno('XEN_EINVAL');
  const r = copyFromGuest(d, ptr, xen_memory_reservation);
  if (!r) return errno('XEN_EFAULT');
  if (!isNullHandle(r.extent_start) || r.extent_order !== 0 || r.mem_flags !== 0) return errno('XEN_EINVAL');
  const target = xen.domainById(r.domid);
  if (!target) return errno('XEN_EINVAL');
  if (!xsmPriv(d)) return errno('XEN_EPERM');
  return unimplemented('XENMEM_claim_pages by the control domain is not modelled');
}

/**
 * XENMEM_set_pod_target / XENMEM_get_pod_target (xen/arch/x86/mm.c arch_memory_op): struct
 * xen_pod_target, domain by rcu_lock_domain_by_any_id (-ESRCH); a PV domain has no
 * populate-on-demand (-EINVAL); then xsm_set_pod_target / xsm_get_pod_target (XSM_PRIV): -EPERM.
 */
export function podTarget(ctx: HypercallContext, op: number, ptr: bigint): XenOutcome {
  const { xen, d } = ctx;
  const bytes = readGuestBytes(d, ptr, POD_TARGET_SIZE);
  if (!bytes) return errno('XEN_EFAULT');
  const domid = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(POD_TARGET_DOMID, true);
  const target = xen.domainByAnyId(domid, d);
  if (!target) return errno('XEN_ESRCH');
  if (!target.isHvm) return errno('XEN_EINVAL');
  if (!xsmPriv(d)) return errno('XEN_EPERM');
  return unimplemented(`${op === XENMEM.XENMEM_set_pod_target ? 'XENMEM_set_pod_target' : 'XENMEM_get_pod_target'} by the control domain is not modelled`);
}
