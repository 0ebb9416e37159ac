import { XENMEM, XENMEMF } from '../abi/memory';
import { SHARED_INFO, xen_memory_domain, xen_memory_reservation } from '../abi/layouts';
import { SHUTDOWN } from '../abi/sched';
import { isFault } from '../../machine/memory';
import type { Gfn } from '../../machine/units';
import { xsmTarget } from '../evtchn/operations';
import { arg, copyFromGuest, guestHandleOkay, isNullHandle, readGuestU64, writeGuestU64 } from '../guestAccess';
import { errno, returned, unimplemented } from '../outcome';
import type { XenDomain } from '../domain';
import { defineHypercall, type HypercallContext } from './types';

/** MEMOP_EXTENT_SHIFT / MEMOP_CMD_MASK (xen/include/xen/hypercall.h). */
const MEMOP_EXTENT_SHIFT = 6n;
const MEMOP_CMD_MASK = 0x3fn;
/** MAX_ORDER on x86, the cap for populate-on-demand requests. */
const MAX_ORDER = 18;
/** NUMA_NO_NODE, what XENMEMF_get_node(0) gives. */
const NUMA_NO_NODE = 0xff;

type Reservation = { extent_start: bigint; nr_extents: bigint; extent_order: number; mem_flags: number; domid: number };

/** get_order_from_pages(n): the smallest order with 2^order >= n. */
function orderFromPages(pages: number): number {
  let order = 0;
  while (2 ** order < pages) order++;
  return order;
}

/**
 * construct_memop_from_reservation (xen/common/memory.c): validates mem_flags. Returns the
 * highest machine frame an allocation may use (from address_bits), or undefined when the flags
 * are refused. No vNUMA is configured, so XENMEMF_vnode is ignored.
 */
function memflagsLimit(ctx: HypercallContext, r: Reservation): number | 'refused' {
  const addressBits = r.mem_flags & 0xff;
  let limit = Number.MAX_SAFE_INTEGER;
  if (addressBits !== 0 && addressBits < orderFromPages(ctx.xen.config.hostMaxPage) + 12) {
    if (addressBits <= 12) return 'refused';
    limit = 2 ** (addressBits - 12);
  }
  if ((r.mem_flags & XENMEMF.XENMEMF_vnode) === 0) {
    // propagate_node: a node named by a domU is ignored unless it asks for that node exactly.
    const node = (((r.mem_flags >>> 8) - 1) & 0xff) >>> 0;
    if (node !== NUMA_NO_NODE && ctx.d.domid !== 0 && (r.mem_flags & XENMEMF.XENMEMF_exact_node_request) !== 0) return 'refused';
  }
  return limit;
}

/**
 * alloc_domheap_pages + assign_pages for `order`: fails when the domain would go past
 * max_pages. A PV domain gets machine frames, which the model places at the lowest free aligned
 * frames of the guest's address space (below `limit`, from address_bits); an HVM domain's pages
 * are owned but not mapped until populate_physmap maps them.
 */
function allocate(d: XenDomain, order: number, limit: number): number | undefined {
  const pages = 2 ** order;
  if (d.totPages + pages > d.maxPages) return undefined;
  if (d.isHvm) {
    d.totPages += pages;
    return -1;
  }
  const space = d.memory.addressSpacePages;
  for (let base = 0; base + pages <= space && base + pages <= limit; base += pages) {
    if (isXenPage(d, base, pages)) continue;
    let free = true;
    for (let k = 0; k < pages && free; k++) free = !d.memory.isPopulated(base + k);
    if (!free) continue;
    for (let k = 0; k < pages; k++) d.memory.populate((base + k) as Gfn);
    d.totPages += pages;
    return base;
  }
  return undefined;
}

/** increase_reservation (xen/common/memory.c): returns the absolute number of extents done. */
function increaseReservation(ctx: HypercallContext, r: Reservation, start: bigint, limit: number): bigint {
  const { d } = ctx;
  if (!isNullHandle(r.extent_start) && !guestHandleOkay(d, r.extent_start + start * 8n, r.nr_extents - start, 8)) return start;
  if (r.extent_order > ctx.xen.config.maxExtentOrder) return start;
  let i = start;
  for (; i < r.nr_extents; i++) {
    const mfn = allocate(d, r.extent_order, limit);
    if (mfn === undefined) break;
    // Only a PV (non-translated) domain is told the machine frames.
    if (!d.isHvm && !isNullHandle(r.extent_start) && !writeGuestU64(d, r.extent_start, Number(i), BigInt(mfn))) break;
  }
  return i;
}

/** Whether any of `pages` frames from `base` is reserved for Xen's own pages (shared_info, grant frames). */
function isXenPage(d: XenDomain, base: number, pages: number): boolean {
  for (let k = 0; k < pages; k++) if (d.isXenFrame(base + k)) return true;
  return false;
}

/** guest_remove_page: true when the frame was RAM of the domain and is now gone. */
function removePage(ctx: HypercallContext, gmfn: bigint): boolean {
  const { d } = ctx;
  if (gmfn < 0n || gmfn >= BigInt(d.memory.addressSpacePages)) return false; // HVM: not populated; PV: !mfn_valid
  const gfn = Number(gmfn);
  // Xen's own pages (shared_info, grant frames) are not RAM the guest can give back in the model.
  if (d.isXenFrame(gfn) || d.memory.isForeign(gfn) || !d.memory.isPopulated(gfn)) return false;
  d.memory.depopulate(gfn as Gfn);
  d.totPages--;
  return true;
}

/** decrease_reservation: stops at the first page that cannot be removed; counts whole extents only. */
function decreaseReservation(ctx: HypercallContext, r: Reservation, start: bigint): bigint {
  const { d } = ctx;
  if (!guestHandleOkay(d, r.extent_start + start * 8n, r.nr_extents - start, 8)) return start;
  if (r.extent_order > ctx.xen.config.maxExtentOrder) return start;
  let i = start;
  for (; i < r.nr_extents; i++) {
    const gmfn = readGuestU64(d, r.extent_start, Number(i));
    if (gmfn === undefined) break;
    let ok = true;
    for (let j = 0n; j < 1n << BigInt(r.extent_order) && ok; j++) ok = removePage(ctx, gmfn + j);
    if (!ok) break;
  }
  return i;
}

/** populate_physmap: maps fresh pages at the given frames (HVM) or hands out machine frames (PV). */
function populatePhysmap(ctx: HypercallContext, r: Reservation, start: bigint, limit: number): bigint {
  const { d } = ctx;
  const pod = (r.mem_flags & XENMEMF.XENMEMF_populate_on_demand) !== 0;
  if (!guestHandleOkay(d, r.extent_start + start * 8n, r.nr_extents - start, 8)) return start;
  if (r.extent_order > (pod ? MAX_ORDER : ctx.xen.config.maxExtentOrder)) return start;
  const pages = 2 ** r.extent_order;
  let i = start;
  for (; i < r.nr_extents; i++) {
    const gpfn = readGuestU64(d, r.extent_start, Number(i));
    if (gpfn === undefined) break;
    if (pod) break; // populate-on-demand on the caller's own domain stops at once
    if (d.isHvm) {
      // p2m_add_page at gpfn: a frame beyond the p2m fails; a grant or foreign entry there crashes the domain.
      if (gpfn + BigInt(pages) > BigInt(d.memory.addressSpacePages)) break;
      const base = Number(gpfn);
      // The model keeps shared_info and the grant frames at fixed frames; replacing them is not modelled.
      if (isXenPage(d, base, pages)) break;
      let special = false;
      for (let k = 0; k < pages; k++) special ||= d.memory.isForeign(base + k);
      if (special) {
        d.shutdown(SHUTDOWN.SHUTDOWN_crash);
        break;
      }
      if (allocate(d, r.extent_order, limit) === undefined) break;
      // The new page replaces whatever RAM was there; the old page stays allocated to the domain.
      for (let k = 0; k < pages; k++) {
        const gfn = (base + k) as Gfn;
        if (d.memory.isPopulated(gfn)) d.memory.depopulate(gfn);
        d.memory.populate(gfn);
      }
    } else {
      const mfn = allocate(d, r.extent_order, limit);
      if (mfn === undefined) break;
      if (!writeGuestU64(d, r.extent_start, Number(i), BigInt(mfn))) break;
    }
  }
  return i;
}

/** XENMEM_maximum_gpfn: HVM, the highest mapped frame; PV, shared_info.arch.max_pfn - 1 (max_pfn 0 counts as 1). */
function maximumGpfn(d: XenDomain): bigint {
  if (d.isHvm) {
    let top = 0;
    for (let gfn = d.memory.addressSpacePages - 1; gfn >= 0; gfn--) {
      if (d.memory.isPopulated(gfn)) {
        top = gfn;
        break;
      }
    }
    return BigInt(top);
  }
  const maxPfn = d.memory.read64(d.sharedInfoGpa + SHARED_INFO.arch);
  const value = isFault(maxPfn) || maxPfn === 0n ? 1n : maxPfn;
  return BigInt.asIntN(64, value - 1n);
}

/** HYPERVISOR_memory_op(unsigned long cmd, void *arg): xen/common/memory.c do_memory_op. */
export const memory_op = defineHypercall({
  name: 'memory_op',
  guests: ['pv', 'pvhvm'],
  source: 'xen/common/memory.c do_memory_op; xen/arch/x86/hvm/hypercall.c hvm_memory_op',
  handler(ctx, args) {
    const { xen, d } = ctx;
    const cmd = arg.ulong(args[0]);
    const ptr = args[1];
    const op = Number(cmd & MEMOP_CMD_MASK);
    const start = cmd >> MEMOP_EXTENT_SHIFT;
    if (d.isHvm && op === XENMEM.XENMEM_machphys_mapping) return errno('XEN_ENOSYS');
    switch (op) {
      case XENMEM.XENMEM_increase_reservation:
      case XENMEM.XENMEM_decrease_reservation:
      case XENMEM.XENMEM_populate_physmap: {
        // These never return an error code: every early failure returns start_extent.
        const r = copyFromGuest(d, ptr, xen_memory_reservation);
        if (!r) return returned(start);
        if (r.nr_extents > 0xffff_ffffn >> 6n) return returned(start);
        if (start >= r.nr_extents) return returned(start);
        const target = xen.domainByAnyId(r.domid, d);
        if (!target) return returned(start);
        const limit = memflagsLimit(ctx, r);
        if (limit === 'refused') return returned(start);
        if (!xsmTarget(d, target)) return returned(start);
        // Only a domain's own reservation is modelled (the model's peer never adjusts the guest's).
        if (target !== d) return unimplemented('memory_op reservation on another domain is not modelled');
        switch (op) {
          case XENMEM.XENMEM_increase_reservation:
            return returned(increaseReservation(ctx, r, start, limit));
          case XENMEM.XENMEM_decrease_reservation:
            return returned(decreaseReservation(ctx, r, start));
          default:
            return returned(populatePhysmap(ctx, r, start, limit));
        }
      }
      case XENMEM.XENMEM_maximum_ram_page:
        if (start !== 0n) return errno('XEN_EINVAL');
        return returned(xen.config.hostMaxPage);
      case XENMEM.XENMEM_current_reservation:
      case XENMEM.XENMEM_maximum_reservation:
      case XENMEM.XENMEM_maximum_gpfn: {
        if (start !== 0n) return errno('XEN_EINVAL');
        const a = copyFromGuest(d, ptr, xen_memory_domain);
        if (!a) return errno('XEN_EFAULT');
        const target = xen.domainByAnyId(a.domid, d);
        if (!target) return errno('XEN_ESRCH');
        if (!xsmTarget(d, target)) return errno('XEN_EPERM');
        if (op === XENMEM.XENMEM_current_reservation) return returned(target.totPages);
        if (op === XENMEM.XENMEM_maximum_reservation) return returned(target.maxPages);
        return returned(maximumGpfn(target));
      }
      case XENMEM.XENMEM_exchange:
      case XENMEM.XENMEM_remove_from_physmap:
      case XENMEM.XENMEM_claim_pages:
      case XENMEM.XENMEM_get_vnumainfo:
      case XENMEM.XENMEM_reserved_device_memory_map:
        if (start !== 0n) return errno('XEN_EINVAL');
        return unimplemented(`memory_op ${op}: not modelled`);
      case XENMEM.XENMEM_add_to_physmap:
      case XENMEM.XENMEM_add_to_physmap_batch:
        if (start > 0xffffn) return errno('XEN_EDOM');
        return unimplemented(`memory_op ${op}: physmap placement of Xen pages is fixed at boot in the model`);
      case XENMEM.XENMEM_acquire_resource:
      case XENMEM.XENMEM_access_op:
        return unimplemented(`memory_op ${op}: toolstack interface, not modelled`);
      case XENMEM.XENMEM_machphys_mfn_list:
      case XENMEM.XENMEM_memory_map:
      case XENMEM.XENMEM_machine_memory_map:
      case XENMEM.XENMEM_machphys_mapping:
      case XENMEM.XENMEM_set_memory_map:
      case XENMEM.XENMEM_set_pod_target:
      case XENMEM.XENMEM_get_pod_target:
      case XENMEM.XENMEM_get_sharing_freed_pages:
      case XENMEM.XENMEM_get_sharing_shared_pages:
      case XENMEM.XENMEM_paging_op:
      case XENMEM.XENMEM_sharing_op:
      case XENMEM.XENMEM_machphys_compat_mfn_list:
        // arch_memory_op switches on the full cmd: with a start_extent no case matches.
        if (start !== 0n) return errno('XEN_ENOSYS');
        return unimplemented(`memory_op ${op}: architecture memory interface not modelled`);
      default:
        return errno('XEN_ENOSYS');
    }
  },
});
