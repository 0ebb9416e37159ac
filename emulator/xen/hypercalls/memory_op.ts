import { XENMAPSPACE, XENMEM, XENMEMF } from '../abi/memory';
import { SHARED_INFO, xen_memory_domain, xen_memory_reservation } from '../abi/layouts';
import { SHUTDOWN } from '../abi/sched';
import { isFault } from '../../machine/memory';
import type { Gfn } from '../../machine/units';
import { xsmTarget } from '../evtchn/operations';
import { arg, copyFromGuest, guestHandleOkay, isNullHandle, readGuestBytes, readGuestU64, writeGuestU64 } from '../guestAccess';
import { errno, returned, unimplemented, type XenOutcome } from '../outcome';
import type { XenDomain } from '../domain';
import { claimPages, podTarget } from '../memoryPrivileged';
import { defineHypercall, type HypercallContext } from './types';

/** MEMOP_EXTENT_SHIFT / MEMOP_CMD_MASK (xen/include/xen/hypercall.h). */
const MEMOP_EXTENT_SHIFT = 6n;
const MEMOP_CMD_MASK = 0x3fn;
/** MAX_ORDER on x86, the cap for populate-on-demand requests. */
const MAX_ORDER = 18;
/** NUMA_NO_NODE, what XENMEMF_get_node(0) gives. */
const NUMA_NO_NODE = 0xff;
/** sizeof(struct xen_vnuma_topology_info) on x86_64 (xen/include/public/memory.h). */
const VNUMA_TOPOLOGY_INFO_SIZE = 40;

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

/** The highest populated frame of a domain's address space (0 when none is). */
function highestPopulated(d: XenDomain): number {
  for (let gfn = d.memory.addressSpacePages - 1; gfn >= 0; gfn--) if (d.memory.isPopulated(gfn)) return gfn;
  return 0;
}

/**
 * p2m->max_mapped_pfn is a high-water mark: p2m_pt_set_entry / ept_set_entry raise it for every
 * valid mapping and nothing lowers it (xen/arch/x86/mm/p2m-pt.c, p2m-ept.c). The model records
 * the top before memory_op removes pages, so that XENMEM_maximum_gpfn does not fall afterwards.
 */
const maxMappedPfn = new WeakMap<XenDomain, number>();

function noteMappedTop(d: XenDomain): void {
  maxMappedPfn.set(d, Math.max(maxMappedPfn.get(d) ?? 0, highestPopulated(d)));
}

/**
 * guest_remove_page (xen/common/memory.c) for one frame:
 * - 'removed': the frame was RAM of the domain and is gone (the allocation ref is dropped, so
 *   tot_pages falls);
 * - 'failed': Xen returns an error that stops decrease_reservation (HVM: -ENOENT for an empty
 *   p2m entry, -ENXIO for a grant-mapped page of another domain; PV: -EINVAL for an invalid
 *   MFN, -ENXIO for a page the domain does not own);
 * - an outcome: a path the model cannot reproduce.
 */
function removePage(ctx: HypercallContext, gmfn: bigint): 'removed' | 'failed' | XenOutcome {
  const { d } = ctx;
  if (gmfn < 0n || gmfn >= BigInt(d.memory.addressSpacePages)) return 'failed'; // HVM: not populated; PV: !mfn_valid or not owned
  const gfn = Number(gmfn);
  if (!d.memory.isPopulated(gfn)) return 'failed';
  // shared_info and the grant frames are pages Xen shares with the domain: get_page() succeeds on
  // them and Xen removes them like RAM. The model keeps them at fixed frames.
  if (d.isXenFrame(gfn)) return unimplemented('decrease_reservation of a frame holding shared_info or a grant frame is not modelled');
  if (d.memory.isForeign(gfn)) {
    // HVM: a grant mapping in the p2m; the page belongs to the granter, so get_page() fails (-ENXIO).
    if (d.isHvm) return 'failed';
    // PV: the list names the domain's own MFN, which stays owned while a virtual mapping shows
    // the granted page; Xen frees it. The model cannot take the page away from under the mapping.
    return unimplemented('decrease_reservation of a PV frame that is covered by a grant mapping is not modelled');
  }
  d.memory.depopulate(gfn as Gfn);
  d.totPages--;
  return 'removed';
}

/** decrease_reservation: stops at the first page that cannot be removed; counts whole extents only. */
function decreaseReservation(ctx: HypercallContext, r: Reservation, start: bigint): XenOutcome {
  const { d } = ctx;
  if (!guestHandleOkay(d, r.extent_start + start * 8n, r.nr_extents - start, 8)) return returned(start);
  if (r.extent_order > ctx.xen.config.maxExtentOrder) return returned(start);
  if (d.isHvm) noteMappedTop(d);
  let i = start;
  for (; i < r.nr_extents; i++) {
    const gmfn = readGuestU64(d, r.extent_start, Number(i));
    if (gmfn === undefined) break;
    let failed = false;
    for (let j = 0n; j < 1n << BigInt(r.extent_order) && !failed; j++) {
      const result = removePage(ctx, gmfn + j);
      if (typeof result === 'object') return result;
      failed = result === 'failed';
    }
    if (failed) break;
  }
  return returned(i);
}

/**
 * populate_physmap (xen/common/memory.c): maps fresh pages at the given frames (HVM) or hands out
 * machine frames (PV). The page is allocated (alloc_domheap_pages, which counts it in tot_pages)
 * before guest_physmap_add_page; when adding it fails the page is not freed.
 */
function populatePhysmap(ctx: HypercallContext, r: Reservation, start: bigint, limit: number): XenOutcome {
  const { d } = ctx;
  const pod = (r.mem_flags & XENMEMF.XENMEMF_populate_on_demand) !== 0;
  if (!guestHandleOkay(d, r.extent_start + start * 8n, r.nr_extents - start, 8)) return returned(start);
  if (r.extent_order > (pod ? MAX_ORDER : ctx.xen.config.maxExtentOrder)) return returned(start);
  const pages = 2 ** r.extent_order;
  let i = start;
  for (; i < r.nr_extents; i++) {
    const gpfn = readGuestU64(d, r.extent_start, Number(i));
    if (gpfn === undefined) break;
    if (pod) break; // populate-on-demand on the caller's own domain stops at once
    if (d.isHvm) {
      // alloc_domheap_pages comes first: past max_pages it fails and the loop stops.
      if (d.totPages + pages > d.maxPages) break;
      // p2m_add_page at gpfn. The model's guest-physical address space ends at addressSpacePages;
      // Xen's p2m reaches much further, so a frame beyond it is not modelled rather than refused.
      if (gpfn + BigInt(pages) > BigInt(d.memory.addressSpacePages)) {
        return unimplemented(`populate_physmap at gfn ${gpfn}: beyond the modelled guest-physical address space`);
      }
      const base = Number(gpfn);
      // shared_info and grant frames are mapped as ordinary RAM entries, which Xen would replace;
      // the model keeps them at fixed frames.
      if (isXenPage(d, base, pages)) return unimplemented('populate_physmap over the frames reserved for shared_info and the grant table is not modelled');
      if (allocate(d, r.extent_order, limit) === undefined) break;
      // A grant or foreign entry there: domain_crash() and -EPERM, which stops the loop; the
      // page just allocated is not freed.
      let special = false;
      for (let k = 0; k < pages; k++) special ||= d.memory.isForeign(base + k);
      if (special) {
        d.shutdown(SHUTDOWN.SHUTDOWN_crash);
        break;
      }
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
  return returned(i);
}

/** XENMEM_maximum_gpfn: HVM, the highest frame ever mapped (max_mapped_pfn); PV, shared_info.arch.max_pfn - 1 (max_pfn 0 counts as 1). */
function maximumGpfn(d: XenDomain): bigint {
  if (d.isHvm) return BigInt(Math.max(maxMappedPfn.get(d) ?? 0, highestPopulated(d)));
  const maxPfn = d.memory.read64(d.sharedInfoGpa + SHARED_INFO.arch);
  const value = isFault(maxPfn) || maxPfn === 0n ? 1n : maxPfn;
  return BigInt.asIntN(64, value - 1n);
}

/**
 * XENMEM_remove_from_physmap (xen/common/memory.c do_memory_op): struct xen_remove_from_physmap
 * {domid_t domid @0; xen_pfn_t gpfn @8} (16 bytes). Only a translated target may be changed
 * (-EACCES otherwise); an empty gfn, or one beyond the address space, is -ENOENT; a RAM page
 * leaves the p2m but stays allocated (guest_physmap_remove_page drops no allocation reference),
 * so tot_pages does not change.
 */
function removeFromPhysmap(ctx: HypercallContext, ptr: bigint): XenOutcome {
  const { xen, d } = ctx;
  const bytes = readGuestBytes(d, ptr, 16);
  if (!bytes) return errno('XEN_EFAULT');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const target = xen.domainByAnyId(view.getUint16(0, true), d);
  if (!target) return errno('XEN_ESRCH');
  if (!target.isHvm) return errno('XEN_EACCES');
  if (!xsmTarget(d, target)) return errno('XEN_EPERM'); // xsm_remove_from_physmap (XSM_TARGET)
  const gpfn = view.getBigUint64(8, true);
  // Nothing is mapped beyond the address space: the p2m lookup (ept_get_entry / p2m_pt_get_entry
  // above max_mapped_pfn) yields no page, so get_page_from_gfn is NULL: -ENOENT.
  if (gpfn >= BigInt(target.memory.addressSpacePages)) return errno('XEN_ENOENT');
  const gfn = Number(gpfn);
  if (target.isXenFrame(gfn)) return unimplemented('remove_from_physmap of the frames held for shared_info and the grant table is not modelled');
  if (target.memory.isForeign(gfn)) return unimplemented('remove_from_physmap of a grant-mapped frame is not modelled');
  // get_page_from_gfn finds no page: -ENOENT.
  if (!target.memory.isPopulated(gfn)) return errno('XEN_ENOENT');
  noteMappedTop(target);
  target.memory.depopulate(gfn as Gfn);
  return returned(0);
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
            return decreaseReservation(ctx, r, start);
          default:
            return populatePhysmap(ctx, r, start, limit);
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
      case XENMEM.XENMEM_get_vnumainfo: {
        // struct xen_vnuma_topology_info (40 bytes): domid_t domid, uint16_t pad, counts, handles.
        if (start !== 0n) return errno('XEN_EINVAL');
        const topology = readGuestBytes(d, ptr, VNUMA_TOPOLOGY_INFO_SIZE);
        if (!topology) return errno('XEN_EFAULT');
        const view = new DataView(topology.buffer, topology.byteOffset, topology.byteLength);
        if (view.getUint16(2, true) !== 0) return errno('XEN_EINVAL');
        const target = xen.domainByAnyId(view.getUint16(0, true), d);
        if (!target) return errno('XEN_ESRCH');
        if (!xsmTarget(d, target)) return errno('XEN_EPERM'); // xsm_get_vnumainfo (XSM_TARGET)
        // No domain of the model has a vNUMA layout (d->vnuma == NULL).
        return errno('XEN_EOPNOTSUPP');
      }
      case XENMEM.XENMEM_remove_from_physmap:
        if (start !== 0n) return errno('XEN_EINVAL');
        return removeFromPhysmap(ctx, ptr);
      case XENMEM.XENMEM_claim_pages:
        return claimPages(ctx, ptr, start);
      case XENMEM.XENMEM_exchange:
      case XENMEM.XENMEM_reserved_device_memory_map:
        if (start !== 0n) return errno('XEN_EINVAL');
        return unimplemented(`memory_op ${op}: not modelled`);
      case XENMEM.XENMEM_add_to_physmap:
      case XENMEM.XENMEM_add_to_physmap_batch: {
        // start_extent must fit the 16-bit size field.
        if (start > 0xffffn) return errno('XEN_EDOM');
        const batch = op === XENMEM.XENMEM_add_to_physmap_batch;
        // struct xen_add_to_physmap {domid_t domid; u16 size; u32 space; ...} (24 bytes) or
        // struct xen_add_to_physmap_batch {domid_t domid; u16 space; u16 size; ...} (32 bytes).
        const head = readGuestBytes(d, ptr, batch ? 32 : 24);
        if (!head) return errno('XEN_EFAULT');
        const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
        const space = batch ? view.getUint16(2, true) : view.getUint32(4, true);
        // Foreign mappings only through the batch; the batch refuses gmfn_range.
        if (!batch && space === XENMAPSPACE.XENMAPSPACE_gmfn_foreign) return errno('XEN_ENOSYS');
        if (batch && space === XENMAPSPACE.XENMAPSPACE_gmfn_range) return errno('XEN_EOPNOTSUPP');
        const target = xen.domainByAnyId(view.getUint16(0, true), d);
        if (!target) return errno('XEN_ESRCH');
        // xatp_permission_check: a PV (non-translated) target is -EACCES; dev_mmio is only for
        // the hardware domain mapping into itself; then xsm_add_to_physmap (XSM_TARGET).
        if (!target.isHvm) return errno('XEN_EACCES');
        if (space === XENMAPSPACE.XENMAPSPACE_dev_mmio) return errno('XEN_EACCES');
        if (!xsmTarget(d, target)) return errno('XEN_EPERM');
        return unimplemented(`memory_op ${op}: physmap placement of Xen pages is fixed at boot in the model`);
      }
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
      case XENMEM.XENMEM_machphys_compat_mfn_list:
        // arch_memory_op / subarch_memory_op switch on the full cmd: with a start_extent no case matches.
        if (start !== 0n) return errno('XEN_ENOSYS');
        switch (op) {
          case XENMEM.XENMEM_machine_memory_map:
            // arch_memory_op: xsm_machine_memory_map(XSM_PRIV) comes first; a domU is refused.
            return errno('XEN_EPERM');
          case XENMEM.XENMEM_get_sharing_freed_pages:
          case XENMEM.XENMEM_get_sharing_shared_pages:
            // subarch_memory_op: mem_sharing_get_nr_{saved,shared}_mfns(), which are 0 without
            // CONFIG_MEM_SHARING (default n, asm/mem_sharing.h); there is no permission check.
            return returned(0);
          case XENMEM.XENMEM_machphys_compat_mfn_list:
            // subarch_memory_op: !opt_pv32 (CONFIG_PV32 is not built, see the capabilities string).
            return errno('XEN_EOPNOTSUPP');
          case XENMEM.XENMEM_set_pod_target:
          case XENMEM.XENMEM_get_pod_target:
            return podTarget(ctx, op, ptr);
          default:
            return unimplemented(`memory_op ${op}: architecture memory interface not modelled`);
        }
      // XENMEM_paging_op and XENMEM_sharing_op only have cases with CONFIG_MEM_PAGING /
      // CONFIG_MEM_SHARING, both default n (xen/arch/x86/hvm/Kconfig): they fall to -ENOSYS.
      default:
        return errno('XEN_ENOSYS');
    }
  },
});
