import { GNTMAP, GNTST, GTF, GNTCOPY } from '../abi/grant_table';
import { DOMID } from '../abi/xen';
import { SHUTDOWN } from '../abi/sched';
import type { Gfn } from '../../machine/units';
import { writeToFrame, type Frame } from '../../machine/memory';
import type { XenDomain } from '../domain';
import type { AnyXenModel } from '../xenModel';
import type { ActiveGrant, Pins } from './grantTable';

/*
 * Grant map, unmap and copy for the v1 table (xen/common/grant_table.c map_grant_ref,
 * unmap_common, gnttab_copy_one, acquire_grant_for_copy, _set_status_v1), on model domains.
 * L is the mapping (or copying) domain, R the granting domain. Results are GNTST_* codes.
 */

/** A GNTST_* status code (int16_t). */
export type GntStatus = number;

/** Each pin counter is 8 bits; a counter at 128 or more refuses another pin (pin & (incr << 7)). */
const PIN_LIMIT = 128;

/** Frames of R that are RAM R owns (get_paged_frame): populated and not a foreign mapping. */
function ramFrame(r: XenDomain, frame: number): Frame | undefined {
  if (!Number.isInteger(frame) || !r.memory.isPopulated(frame) || r.memory.isForeign(frame)) return undefined;
  return r.memory.frameOf(frame as Gfn);
}

function pinCount(p: Pins): number {
  return p.hostR + p.hostW + p.devR + p.devW;
}

/** The pin increments a GNTMAP_* flag word asks for; undefined when neither host_map nor device_map is set. */
function pinIncrement(flags: number): Pins | undefined {
  const ro = (flags & GNTMAP.GNTMAP_readonly) !== 0;
  const inc: Pins = { hostR: 0, hostW: 0, devR: 0, devW: 0 };
  if (flags & GNTMAP.GNTMAP_device_map) ro ? inc.devR++ : inc.devW++;
  if (flags & GNTMAP.GNTMAP_host_map) ro ? inc.hostR++ : inc.hostW++;
  return pinCount(inc) === 0 ? undefined : inc;
}

function addPins(p: Pins, inc: Pins, sign: 1 | -1): void {
  p.hostR += sign * inc.hostR;
  p.hostW += sign * inc.hostW;
  p.devR += sign * inc.devR;
  p.devW += sign * inc.devW;
}

/**
 * How a grant is pinned.
 * - 'map' (map_grant_ref, _set_status_v1 with mapflag 1): an entry with GTF_sub_page is refused.
 * - 'copy' (acquire_grant_for_copy, mapflag 0): GTF_sub_page is ignored in v1, and a write
 *   upgrade of an entry that is already pinned looks the entry's frame up again.
 */
type PinUse = { readonly kind: 'map' } | { readonly kind: 'copy'; readonly checkPinnedFrame: boolean };

/**
 * Pins grant `ref` of R for L (the checks of _set_status_v1 and get_paged_frame): returns the
 * active entry, or the status. Sets GTF_reading, and GTF_writing for a writable use.
 */
function pinGrant(r: XenDomain, l: XenDomain, ref: number, writable: boolean, inc: Pins, use: PinUse): ActiveGrant | GntStatus {
  if (ref >= r.grants.nrEntries) return GNTST.GNTST_bad_gntref;
  let act = r.grants.active.get(ref);
  if (act && pinCount(act.pins) > 0) {
    const over =
      (inc.hostR > 0 && act.pins.hostR >= PIN_LIMIT) ||
      (inc.hostW > 0 && act.pins.hostW >= PIN_LIMIT) ||
      (inc.devR > 0 && act.pins.devR >= PIN_LIMIT) ||
      (inc.devW > 0 && act.pins.devW >= PIN_LIMIT);
    if (act.domid !== l.domid || over) return GNTST.GNTST_general_error;
  }
  const pinned = act !== undefined && pinCount(act.pins) > 0;
  const needsUpgrade = writable && act !== undefined && act.pins.hostW + act.pins.devW === 0;
  if (!pinned || needsUpgrade) {
    const entry = r.grants.readEntry(ref);
    if (!entry) return GNTST.GNTST_general_error;
    // Only an entry that is not pinned yet has its type and grantee checked; GTF_sub_page only
    // matters to a map (_set_status_v1: the mask gains GTF_sub_page when mapflag is set).
    const typeMask = use.kind === 'map' ? GTF.GTF_type_mask | GTF.GTF_sub_page : GTF.GTF_type_mask;
    if (!pinned && ((entry.flags & typeMask) !== GTF.GTF_permit_access || entry.domid !== l.domid)) {
      return GNTST.GNTST_general_error;
    }
    if (writable && (entry.flags & GTF.GTF_readonly) !== 0) return GNTST.GNTST_general_error;
    r.grants.setFlags(ref, GTF.GTF_reading | (writable ? GTF.GTF_writing : 0));
    if (!pinned) {
      const frame = ramFrame(r, entry.frame);
      if (!frame) {
        // The bits just set are dropped again (reduce_status_for_pin with nothing pinned).
        r.grants.clearFlags(ref, GTF.GTF_reading | (writable ? GTF.GTF_writing : 0));
        return GNTST.GNTST_bad_page;
      }
      act = { pins: { hostR: 0, hostW: 0, devR: 0, devW: 0 }, domid: l.domid, gfn: entry.frame, frame };
      r.grants.active.set(ref, act);
    } else if (use.kind === 'copy' && act) {
      // acquire_grant_for_copy: a write upgrade of a pinned entry calls get_paged_frame on the
      // entry's frame as it is now (bad_page if it is not RAM of R); Xen 4.22 (61b0a59ce2, XSA-500)
      // also refuses a frame other than the pinned one. Either failure drops GTF_writing again
      // (reduce_status_for_pin: no write pins). Older releases copy into the pinned frame.
      const frame = ramFrame(r, entry.frame);
      const status = !frame ? GNTST.GNTST_bad_page : use.checkPinnedFrame && frame !== act.frame ? GNTST.GNTST_general_error : GNTST.GNTST_okay;
      if (status !== GNTST.GNTST_okay) {
        r.grants.clearFlags(ref, GTF.GTF_writing);
        return status;
      }
    }
  }
  if (!act) return GNTST.GNTST_general_error;
  addPins(act.pins, inc, 1);
  return act;
}

/** Drops pins taken by {@link pinGrant} and clears the GTF bits no longer needed. */
function unpinGrant(r: XenDomain, ref: number, act: ActiveGrant, inc: Pins): void {
  addPins(act.pins, inc, -1);
  r.grants.reduceStatusForPin(ref, act, inc.hostW + inc.devW > 0);
}

/** What a GNTTABOP_map_grant_ref element gets back. */
export type MapResult = { readonly status: GntStatus; readonly handle?: number; readonly devBusAddr?: bigint };

/** map_grant_ref: L maps grant `ref` of domain `dom` at `hostAddr`, from vCPU `vcpu`. */
export function mapGrant(
  xen: AnyXenModel,
  l: XenDomain,
  vcpu: number,
  op: { readonly hostAddr: bigint; readonly flags: number; readonly ref: number; readonly dom: number },
): MapResult | { readonly unimplemented: string } {
  const inc = pinIncrement(op.flags);
  if (!inc) return { status: GNTST.GNTST_bad_gntref };
  const special = GNTMAP.GNTMAP_device_map | GNTMAP.GNTMAP_application_map | GNTMAP.GNTMAP_contains_pte;
  if (l.isHvm && (op.flags & special) !== 0) return { status: GNTST.GNTST_general_error };
  if (!l.isHvm && (op.flags & GNTMAP.GNTMAP_contains_pte) !== 0) return { unimplemented: 'GNTMAP_contains_pte: PV page tables are not modelled' };
  const r = xen.domainById(op.dom); // DOMID_SELF is not translated here
  if (!r) return { status: GNTST.GNTST_bad_domain };
  const handle = l.grants.getHandle(vcpu);
  if (handle === undefined) return { status: GNTST.GNTST_no_space };
  const writable = (op.flags & GNTMAP.GNTMAP_readonly) === 0;
  const pinned = pinGrant(r, l, op.ref, writable, inc, { kind: 'map' });
  if (typeof pinned === 'number') {
    l.grants.putHandle(handle, vcpu);
    return { status: pinned };
  }
  const act = pinned;
  let hostGfn: number | undefined;
  if (op.flags & GNTMAP.GNTMAP_host_map) {
    const placed = placeHostMapping(l, op, act, writable);
    if (placed === undefined) {
      unpinGrant(r, op.ref, act, inc);
      l.grants.putHandle(handle, vcpu);
      return { status: GNTST.GNTST_general_error };
    }
    hostGfn = placed;
  }
  l.grants.maptrack.set(handle, { domid: op.dom, ref: op.ref, flags: op.flags & 0xffff, vcpu, hostGfn });
  return { status: GNTST.GNTST_okay, handle, devBusAddr: BigInt(act.gfn) << 12n };
}

/**
 * create_grant_host_mapping: HVM puts the frame in the p2m at host_addr >> 12 (only host_map
 * and readonly allowed; a frame already holding a grant or foreign mapping crashes the domain);
 * PV writes the PTE of the linear address (the model identifies it with the frame), replacing
 * whatever mapping was there. Returns the frame used, or undefined for GNTST_general_error.
 */
function placeHostMapping(l: XenDomain, op: { hostAddr: bigint; flags: number }, act: ActiveGrant, writable: boolean): number | undefined {
  if (l.isHvm && (op.flags & ~GNTMAP.GNTMAP_readonly) !== GNTMAP.GNTMAP_host_map) return undefined;
  const gfnBig = BigInt.asUintN(64, op.hostAddr) >> 12n;
  if (gfnBig >= BigInt(l.memory.addressSpacePages)) return undefined;
  const gfn = Number(gfnBig);
  // The model keeps Xen's own pages at fixed frames; mapping over them is refused.
  if (l.isXenFrame(gfn)) return undefined;
  if (l.memory.isForeign(gfn)) {
    if (l.isHvm) {
      l.shutdown(SHUTDOWN.SHUTDOWN_crash); // p2m_add_page: domain_crash on a grant/foreign entry
      return undefined;
    }
    l.memory.unmapForeign(gfn as Gfn, true);
  }
  l.memory.mapForeign(gfn as Gfn, act.frame, writable);
  return gfn;
}

/** unmap_common + unmap_common_complete for one element. */
export function unmapGrant(xen: AnyXenModel, l: XenDomain, op: { readonly hostAddr: bigint; readonly devBusAddr: bigint; readonly handle: number }): GntStatus {
  if (op.handle >= l.grants.maptrackLimit) return GNTST.GNTST_bad_handle;
  const map = l.grants.maptrack.get(op.handle);
  if (!map || map.flags === 0) return GNTST.GNTST_bad_handle;
  const r = xen.domainById(map.domid);
  const act = r?.grants.active.get(map.ref);
  if (!r || !act) return GNTST.GNTST_bad_handle;
  const ro = (map.flags & GNTMAP.GNTMAP_readonly) !== 0;
  const dev = op.devBusAddr !== 0n && (map.flags & GNTMAP.GNTMAP_device_map) !== 0;
  if (dev && op.devBusAddr !== BigInt(act.gfn) << 12n) return GNTST.GNTST_bad_dev_addr;
  const done: Pins = { hostR: 0, hostW: 0, devR: 0, devW: 0 };
  if (op.hostAddr !== 0n && (map.flags & GNTMAP.GNTMAP_host_map) !== 0) {
    // replace_grant_host_mapping: the frame at host_addr must map this grant's frame (with the same access).
    const gfnBig = BigInt.asUintN(64, op.hostAddr) >> 12n;
    const gfn = gfnBig < BigInt(l.memory.addressSpacePages) ? Number(gfnBig) : -1;
    const there = gfn >= 0 ? l.memory.foreignMapping(gfn) : undefined;
    if (!there || there.frame !== act.frame || (!l.isHvm && there.writable === ro)) return GNTST.GNTST_general_error;
    l.memory.unmapForeign(gfn as Gfn, false);
    map.flags &= ~GNTMAP.GNTMAP_host_map;
    map.hostGfn = undefined;
    ro ? done.hostR++ : done.hostW++;
  }
  if (dev) {
    map.flags &= ~GNTMAP.GNTMAP_device_map;
    ro ? done.devR++ : done.devW++;
  }
  if ((map.flags & (GNTMAP.GNTMAP_host_map | GNTMAP.GNTMAP_device_map)) === 0) {
    map.flags = 0;
    l.grants.putHandle(op.handle, map.vcpu);
  }
  if (pinCount(done) > 0) unpinGrant(r, map.ref, act, done);
  return GNTST.GNTST_okay;
}

/** One side of a GNTTABOP_copy element. */
export type CopySide = { readonly ref: number; readonly gmfn: bigint; readonly domid: number; readonly offset: number };

/**
 * gnttab_copy_one for one element. The model acquires and releases both buffers per element
 * (Xen caches them between consecutive elements; the only guest-visible effect of the cache is
 * that Xen skips the DOMID_SELF check for a frame-number buffer when the domids repeat, which the
 * model does not reproduce: see docs/decisions.md).
 */
export function copyGrant(xen: AnyXenModel, l: XenDomain, op: { source: CopySide; dest: CopySide; len: number; flags: number }): GntStatus {
  if (op.len === 0 && xen.profile.grantCopyZeroLength === 'okay') return GNTST.GNTST_okay;
  const srcGref = (op.flags & GNTCOPY.GNTCOPY_source_gref) !== 0;
  const dstGref = (op.flags & GNTCOPY.GNTCOPY_dest_gref) !== 0;
  // gnttab_copy_lock_domains: a frame number is allowed only with the literal DOMID_SELF.
  if (op.source.domid !== DOMID.DOMID_SELF && !srcGref) return GNTST.GNTST_permission_denied;
  const sd = xen.domainByAnyId(op.source.domid, l);
  if (!sd) return GNTST.GNTST_bad_domain;
  if (op.dest.domid !== DOMID.DOMID_SELF && !dstGref) return GNTST.GNTST_permission_denied;
  const dd = xen.domainByAnyId(op.dest.domid, l);
  if (!dd) return GNTST.GNTST_bad_domain;
  const release: (() => void)[] = [];
  try {
    // Xen 4.22 carries the XSA-500 fix (61b0a59ce2, backported to RELEASE-4.22.0); 4.18.0 and 4.17.0 do not.
    const use: PinUse = { kind: 'copy', checkPinnedFrame: xen.profile.name === 'xen-4.22' };
    const src = claimBuffer(sd, l, op.source, srcGref, false, use, release);
    if (typeof src === 'number') return src;
    const dst = claimBuffer(dd, l, op.dest, dstGref, true, use, release);
    if (typeof dst === 'number') return dst;
    if (op.source.offset + op.len > 4096 || op.dest.offset + op.len > 4096) return GNTST.GNTST_bad_copy_arg;
    writeToFrame(dst, op.dest.offset, src.bytes.slice(op.source.offset, op.source.offset + op.len));
    return GNTST.GNTST_okay;
  } finally {
    for (const undo of release.reverse()) undo();
  }
}

/** gnttab_copy_claim_buf: the frame behind one side, pinned for the copy; or a status. */
function claimBuffer(owner: XenDomain, l: XenDomain, side: CopySide, gref: boolean, writable: boolean, use: PinUse, release: (() => void)[]): Frame | GntStatus {
  if (gref) {
    const inc: Pins = { hostR: writable ? 0 : 1, hostW: writable ? 1 : 0, devR: 0, devW: 0 };
    const act = pinGrant(owner, l, side.ref, writable, inc, use);
    if (typeof act === 'number') return act;
    release.push(() => unpinGrant(owner, side.ref, act, inc));
    return act.frame;
  }
  const frame = side.gmfn < BigInt(owner.memory.addressSpacePages) ? ramFrame(owner, Number(side.gmfn)) : undefined;
  return frame ?? GNTST.GNTST_bad_page;
}
