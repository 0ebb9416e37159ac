import { grant_entry_v1 } from '../abi/layouts';
import { GTF } from '../abi/grant_table';
import { isFault, type Frame } from '../../machine/memory';
import type { Gfn } from '../../machine/units';
import type { XenDomain } from '../domain';

/** Entries per v1 grant frame (4096 / sizeof(grant_entry_v1)). */
export const ENTRIES_PER_FRAME = 512;
/** MAPTRACK_PER_PAGE: struct grant_mapping is 16 bytes. */
export const MAPTRACK_PER_PAGE = 256;
/** Default gnttab_max_maptrack_frames (xen/common/grant_table.c). */
export const DEFAULT_MAX_MAPTRACK_FRAMES = 1024;

/** Pin counts of an active grant (struct active_grant_entry: hstr, hstw, devr, devw). */
export type Pins = { hostR: number; hostW: number; devR: number; devW: number };

/**
 * An active (pinned) grant of this table: who pinned it, the granter's frame number and the page
 * behind it when it was pinned (act->mfn). Users of an active grant work on `frame`, never on
 * whatever the granter's p2m holds at `gfn` now: the pinned page stays the granted one even if the
 * granter gives it back or replaces it while it is mapped (xen/common/grant_table.c act->mfn).
 */
export type ActiveGrant = { readonly pins: Pins; domid: number; gfn: number; readonly frame: Frame };

/** One of this domain's maptrack entries: a grant of another domain mapped here. */
export type Mapping = {
  /** Granting domain. */
  readonly domid: number;
  readonly ref: number;
  /** GNTMAP_* flags still in force (host_map / device_map removed as they are unmapped). */
  flags: number;
  /** vCPU whose free list the handle returns to. */
  readonly vcpu: number;
  /** Frame of the mapping domain where the grant is host-mapped, if it is. */
  hostGfn: number | undefined;
};

/**
 * A domain's grant table (v1): its shared entry frames in the domain's memory, the active
 * entries Xen pins, and the maptrack of grants this domain has mapped from others
 * (xen/common/grant_table.c).
 */
export class GrantTable {
  /** nr_grant_frames; INITIAL_NR_GRANT_FRAMES is 1. */
  nrFrames = 0;
  /** gt_version. */
  version = 1;
  readonly active = new Map<number, ActiveGrant>();
  /** Maptrack entries by handle. */
  readonly maptrack = new Map<number, Mapping>();
  /** maptrack_limit (handles that exist). */
  maptrackLimit = 0;
  /** Per-vCPU free lists; the last element of a list is the sentinel that is never handed out. */
  private readonly freeLists = new Map<number, number[]>();

  private readonly owner: XenDomain;
  /** Frame of the owner's memory where table frame 0 lives (frame i at firstGfn + i). */
  readonly firstGfn: number;
  /** max_grant_frames. */
  readonly maxFrames: number;
  /** max_maptrack_frames. */
  readonly maxMaptrackFrames: number;

  constructor(owner: XenDomain, firstGfn: number, maxFrames: number, maxMaptrackFrames = DEFAULT_MAX_MAPTRACK_FRAMES) {
    this.owner = owner;
    this.firstGfn = firstGfn;
    this.maxFrames = maxFrames;
    this.maxMaptrackFrames = maxMaptrackFrames;
  }

  /** gnttab_grow_table: grows to `frames` (never shrinks), placing the new zeroed frames in memory. */
  grow(frames: number): void {
    const target = Math.max(frames, 1);
    while (this.nrFrames < target) {
      const gfn = (this.firstGfn + this.nrFrames) as Gfn;
      if (!this.owner.memory.isPopulated(gfn)) this.owner.memory.populate(gfn);
      this.nrFrames++;
    }
  }

  /** nr_grant_entries(). */
  get nrEntries(): number {
    return this.nrFrames * ENTRIES_PER_FRAME;
  }

  /** The guest-physical address of grant entry `ref` in the owner's memory. */
  entryGpa(ref: number): number {
    return (this.firstGfn + Math.floor(ref / ENTRIES_PER_FRAME)) * 4096 + (ref % ENTRIES_PER_FRAME) * grant_entry_v1.size;
  }

  /** The frame number reported for table frame i (gnttab_shared_gfn). */
  frameNumber(i: number): number {
    return this.firstGfn + i;
  }

  /** Reads a shared entry; undefined when its frame is not readable. */
  readEntry(ref: number): { flags: number; domid: number; frame: number } | undefined {
    const bytes = this.owner.memory.readBytes(this.entryGpa(ref), grant_entry_v1.size);
    if (isFault(bytes)) return undefined;
    const view = new DataView(bytes.buffer);
    return { flags: view.getUint16(0, true), domid: view.getUint16(2, true), frame: view.getUint32(4, true) };
  }

  /** ORs bits into an entry's flags (the cmpxchg of _set_status_v1). */
  setFlags(ref: number, bits: number): void {
    const gpa = this.entryGpa(ref);
    const flags = this.owner.memory.read16(gpa);
    if (!isFault(flags)) this.owner.memory.write16(gpa, flags | bits);
  }

  /** Clears bits of an entry's flags (gnttab_clear_flags). */
  clearFlags(ref: number, bits: number): void {
    const gpa = this.entryGpa(ref);
    const flags = this.owner.memory.read16(gpa);
    if (!isFault(flags)) this.owner.memory.write16(gpa, flags & ~bits);
  }

  /**
   * reduce_status_for_pin: after pins were dropped, clear GTF_writing when no write pins remain
   * (and the dropped pin was writable) and GTF_reading when nothing is pinned.
   */
  reduceStatusForPin(ref: number, act: ActiveGrant, wasWritable: boolean): void {
    let clear = 0;
    if (wasWritable && act.pins.hostW === 0 && act.pins.devW === 0) clear |= GTF.GTF_writing;
    const total = act.pins.hostR + act.pins.hostW + act.pins.devR + act.pins.devW;
    if (total === 0) {
      clear |= GTF.GTF_reading;
      this.active.delete(ref);
    }
    if (clear) this.clearFlags(ref, clear);
  }

  /**
   * get_maptrack_handle: a handle from the vCPU's free list (never its sentinel), else a fresh
   * page of 256 handles whose first handle is returned, else one stolen from another vCPU's list.
   */
  getHandle(vcpu: number): number | undefined {
    const list = this.freeLists.get(vcpu) ?? [];
    if (list.length >= 2) return list.shift() as number;
    if (this.maptrackLimit / MAPTRACK_PER_PAGE < this.maxMaptrackFrames) {
      const base = this.maptrackLimit;
      this.maptrackLimit += MAPTRACK_PER_PAGE;
      const fresh: number[] = [];
      for (let h = base + 1; h < base + MAPTRACK_PER_PAGE; h++) fresh.push(h);
      this.freeLists.set(vcpu, [...fresh, ...list]);
      return base;
    }
    // get_maptrack_handle: a vCPU that never had a free list first steals one extra handle to be
    // its tail sentinel, then steals the handle it hands out.
    if (!this.freeLists.has(vcpu)) {
      const sentinel = this.steal(vcpu);
      if (sentinel === undefined) return undefined;
      this.freeLists.set(vcpu, [sentinel]);
    }
    return this.steal(vcpu);
  }

  /**
   * steal_maptrack_handle: takes the head of another vCPU's list, never its sentinel. Xen starts
   * at a random vCPU; the model starts at vCPU 0 so runs are reproducible.
   */
  private steal(vcpu: number): number | undefined {
    for (const [other, otherList] of [...this.freeLists.entries()].sort((a, b) => a[0] - b[0])) {
      if (other !== vcpu && otherList.length >= 2) return otherList.shift() as number;
    }
    return undefined;
  }

  /** put_maptrack_handle: the handle becomes the new tail of its vCPU's list (FIFO reuse). */
  putHandle(handle: number, vcpu: number): void {
    this.maptrack.delete(handle);
    const list = this.freeLists.get(vcpu) ?? [];
    list.push(handle);
    this.freeLists.set(vcpu, list);
  }
}
