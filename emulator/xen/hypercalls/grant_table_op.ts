import { GNTTABOP, GNTST } from '../abi/grant_table';
import { gnttab_copy, gnttab_get_version, gnttab_map_grant_ref, gnttab_query_size, gnttab_set_version, gnttab_setup_table, gnttab_unmap_grant_ref } from '../abi/layouts';
import { xsmTarget } from '../evtchn/operations';
import { copyGrant, mapGrant, unmapGrant } from '../grants/operations';
import { arg, copyBackStruct, copyFieldToGuest, copyFromGuest, copyInStruct, guestHandleOkay, writeGuestU64 } from '../guestAccess';
import { OK, errno, unimplemented, type XenOutcome } from '../outcome';
import { defineHypercall, type HypercallContext } from './types';

/** GNTTABOP_CMD_MASK and the continuation argument above it. */
const GNTTABOP_CMD_MASK = 0xfff;
/** Sub-ops an HVM guest may use (xen/arch/x86/hvm/hypercall.c hvm_grant_table_op), by raw cmd. */
const HVM_ALLOWED = new Set<number>([
  GNTTABOP.GNTTABOP_query_size,
  GNTTABOP.GNTTABOP_setup_table,
  GNTTABOP.GNTTABOP_set_version,
  GNTTABOP.GNTTABOP_get_version,
  GNTTABOP.GNTTABOP_copy,
  GNTTABOP.GNTTABOP_map_grant_ref,
  GNTTABOP.GNTTABOP_unmap_grant_ref,
  GNTTABOP.GNTTABOP_swap_grant_ref,
]);

/** gnttab_setup_table: count must be 1; errors other than faults go in `status`. */
function setupTable(ctx: HypercallContext, uop: bigint, count: number): XenOutcome {
  const { xen, d } = ctx;
  if (count !== 1) return errno('XEN_EINVAL');
  const a = copyFromGuest(d, uop, gnttab_setup_table);
  if (!a) return errno('XEN_EFAULT');
  if (!guestHandleOkay(d, a.frame_list, BigInt(a.nr_frames), 8)) return errno('XEN_EFAULT');
  let status: number = GNTST.GNTST_okay;
  const target = xen.domainByAnyId(a.dom, d);
  if (!target) status = GNTST.GNTST_bad_domain;
  else if (!xsmTarget(d, target)) status = GNTST.GNTST_permission_denied;
  else if (a.nr_frames > target.grants.maxFrames) status = GNTST.GNTST_general_error;
  else {
    if (a.nr_frames > target.grants.nrFrames) target.grants.grow(a.nr_frames);
    for (let i = 0; i < a.nr_frames; i++) {
      if (!writeGuestU64(d, a.frame_list, i, BigInt(target.grants.frameNumber(i)))) {
        status = GNTST.GNTST_bad_virt_addr;
        // Xen 4.18 stopped at the first faulting frame (5488cc3a4d); 4.17 kept going.
        if (xen.profile.name !== 'xen-4.17') break;
      }
    }
  }
  return copyFieldToGuest(d, uop, gnttab_setup_table, 'status', status) ? OK : errno('XEN_EFAULT');
}

/** gnttab_query_size: the whole struct is copied back, also on error. */
function querySize(ctx: HypercallContext, uop: bigint, count: number): XenOutcome {
  const { xen, d } = ctx;
  if (count !== 1) return errno('XEN_EINVAL');
  const a = copyInStruct(d, uop, gnttab_query_size);
  if (!a) return errno('XEN_EFAULT');
  const target = xen.domainByAnyId(a.value.dom, d);
  let patch: Partial<Record<keyof typeof gnttab_query_size.fields, number>>;
  if (!target) patch = { status: GNTST.GNTST_bad_domain };
  else if (!xsmTarget(d, target)) patch = { status: GNTST.GNTST_permission_denied };
  else patch = { nr_frames: target.grants.nrFrames, max_nr_frames: target.grants.maxFrames, status: GNTST.GNTST_okay };
  return copyBackStruct(d, uop, gnttab_query_size, a, patch) ? OK : errno('XEN_EFAULT');
}

/** gnttab_map_grant_ref: each element is processed and copied back whole; only faults stop the batch. */
function mapBatch(ctx: HypercallContext, uop: bigint, count: number): XenOutcome {
  const { xen, d, v } = ctx;
  for (let i = 0; i < count; i++) {
    const a = copyInStruct(d, uop, gnttab_map_grant_ref, i);
    if (!a) return errno('XEN_EFAULT');
    const r = mapGrant(xen, d, v.id, { hostAddr: a.value.host_addr, flags: a.value.flags, ref: a.value.ref, dom: a.value.dom });
    if ('unimplemented' in r) return unimplemented(r.unimplemented);
    const patch: Partial<Record<keyof typeof gnttab_map_grant_ref.fields, number | bigint>> = { status: r.status };
    if (r.handle !== undefined) patch.handle = r.handle;
    if (r.devBusAddr !== undefined) patch.dev_bus_addr = r.devBusAddr;
    if (!copyBackStruct(d, uop, gnttab_map_grant_ref, a, patch, i)) return errno('XEN_EFAULT');
  }
  return OK;
}

/** gnttab_unmap_grant_ref: only `status` is written back. */
function unmapBatch(ctx: HypercallContext, uop: bigint, count: number): XenOutcome {
  const { xen, d } = ctx;
  for (let i = 0; i < count; i++) {
    const a = copyFromGuest(d, uop, gnttab_unmap_grant_ref, i);
    if (!a) return errno('XEN_EFAULT');
    const status = unmapGrant(xen, d, { hostAddr: a.host_addr, devBusAddr: a.dev_bus_addr, handle: a.handle });
    if (!copyFieldToGuest(d, uop, gnttab_unmap_grant_ref, 'status', status, i)) return errno('XEN_EFAULT');
  }
  return OK;
}

/** gnttab_copy: only `status` is written back; only faults stop the batch. */
function copyBatch(ctx: HypercallContext, uop: bigint, count: number): XenOutcome {
  const { xen, d } = ctx;
  for (let i = 0; i < count; i++) {
    const a = copyFromGuest(d, uop, gnttab_copy, i);
    if (!a) return errno('XEN_EFAULT');
    const status = copyGrant(xen, d, {
      source: { ref: Number(a.source_u & 0xffff_ffffn), gmfn: a.source_u, domid: a.source_domid, offset: a.source_offset },
      dest: { ref: Number(a.dest_u & 0xffff_ffffn), gmfn: a.dest_u, domid: a.dest_domid, offset: a.dest_offset },
      len: a.len,
      flags: a.flags,
    });
    if (!copyFieldToGuest(d, uop, gnttab_copy, 'status', status, i)) return errno('XEN_EFAULT');
  }
  return OK;
}

/**
 * HYPERVISOR_grant_table_op(unsigned cmd, void *uop, unsigned count): xen/common/grant_table.c
 * do_grant_table_op, grant table v1. Batched ops return 0 and report per element in `status`.
 */
export const grant_table_op = defineHypercall({
  name: 'grant_table_op',
  guests: ['pv', 'pvhvm'],
  source: 'xen/common/grant_table.c do_grant_table_op; xen/arch/x86/hvm/hypercall.c hvm_grant_table_op',
  handler(ctx, args) {
    const { xen, d } = ctx;
    const raw = arg.uint(args[0]);
    const uop = args[1];
    const count = arg.uint(args[2]);
    if (d.isHvm && !HVM_ALLOWED.has(raw)) return errno('XEN_ENOSYS');
    if ((count | 0) < 0) return errno('XEN_EINVAL');
    const cmd = raw & GNTTABOP_CMD_MASK;
    if (cmd !== GNTTABOP.GNTTABOP_cache_flush && raw >>> 12 !== 0) return errno('XEN_EINVAL');
    // do_grant_table_op checks guest_handle_okay(uop, count) for every batched op, including the
    // ones the model does not implement (their element sizes: gnttab_transfer 24,
    // gnttab_unmap_and_replace 24, gnttab_swap_grant_ref 12).
    const elementSizes: Partial<Record<number, number>> = {
      [GNTTABOP.GNTTABOP_map_grant_ref]: gnttab_map_grant_ref.size,
      [GNTTABOP.GNTTABOP_unmap_grant_ref]: gnttab_unmap_grant_ref.size,
      [GNTTABOP.GNTTABOP_copy]: gnttab_copy.size,
      [GNTTABOP.GNTTABOP_transfer]: 24,
      [GNTTABOP.GNTTABOP_unmap_and_replace]: 24,
      [GNTTABOP.GNTTABOP_swap_grant_ref]: 12,
    };
    // gnttab_cache_flush_t (16 bytes) exists on x86 only before 4.21.
    if (xen.profile.name !== 'xen-4.22') elementSizes[GNTTABOP.GNTTABOP_cache_flush] = 16;
    const size = elementSizes[cmd];
    if (size !== undefined && !guestHandleOkay(d, uop, BigInt(count), size)) return errno('XEN_EFAULT');
    switch (cmd) {
      case GNTTABOP.GNTTABOP_map_grant_ref:
        return mapBatch(ctx, uop, count);
      case GNTTABOP.GNTTABOP_unmap_grant_ref:
        return unmapBatch(ctx, uop, count);
      case GNTTABOP.GNTTABOP_setup_table:
        return setupTable(ctx, uop, count);
      case GNTTABOP.GNTTABOP_copy:
        return copyBatch(ctx, uop, count);
      case GNTTABOP.GNTTABOP_query_size:
        return querySize(ctx, uop, count);
      case GNTTABOP.GNTTABOP_set_version: {
        const a = copyInStruct(d, uop, gnttab_set_version);
        if (!a) return errno('XEN_EFAULT');
        const version = a.value.version;
        let rc: XenOutcome = OK;
        if (version !== 1 && version !== 2) rc = errno('XEN_EINVAL');
        else if (version === 2) return unimplemented('GNTTABOP_set_version 2: grant table v2 is not modelled');
        // Whatever happened, the version in force is written back.
        return copyBackStruct(d, uop, gnttab_set_version, a, { version: d.grants.version }) ? rc : errno('XEN_EFAULT');
      }
      case GNTTABOP.GNTTABOP_get_version: {
        const a = copyFromGuest(d, uop, gnttab_get_version);
        if (!a) return errno('XEN_EFAULT');
        const target = xen.domainByAnyId(a.dom, d);
        if (!target) return errno('XEN_ESRCH');
        if (!xsmTarget(d, target)) return errno('XEN_EPERM');
        return copyFieldToGuest(d, uop, gnttab_get_version, 'version', target.grants.version) ? OK : errno('XEN_EFAULT');
      }
      case GNTTABOP.GNTTABOP_dump_table:
        return errno('XEN_ENOSYS');
      case GNTTABOP.GNTTABOP_cache_flush:
        // x86 lost GNTTABOP_cache_flush in 4.21 (5642a6055c: only CONFIG_HAS_GRANT_CACHE_FLUSH builds
        // have it), so 4.18 and 4.17 PV guests still reach gnttab_cache_flush.
        return xen.profile.name !== 'xen-4.22' && !d.isHvm ? unimplemented(`GNTTABOP_cache_flush (${xen.profile.name} PV) is not modelled`) : errno('XEN_ENOSYS');
      case GNTTABOP.GNTTABOP_transfer:
      case GNTTABOP.GNTTABOP_unmap_and_replace:
      case GNTTABOP.GNTTABOP_get_status_frames:
      case GNTTABOP.GNTTABOP_swap_grant_ref:
        return unimplemented(`grant_table_op ${cmd}: not modelled`);
      default:
        return errno('XEN_ENOSYS');
    }
  },
});
