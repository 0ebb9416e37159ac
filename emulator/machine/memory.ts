import { PAGE_SHIFT, PAGE_SIZE, type Gfn } from './units';

/**
 * Why a guest memory access did not happen. This is a value, never an exception: each ABI turns
 * it into what the guest sees (-EFAULT for Xen, HV_STATUS_INVALID_ALIGNMENT or an intercept for
 * Viridian, #GP for an MSR that names a bad page, ...).
 */
export type MemoryFault = {
  readonly kind: 'memory-fault';
  /** First byte address that could not be accessed. */
  readonly gpa: number;
  readonly access: 'read' | 'write';
  /** outside: beyond the guest-physical address space; unpopulated: no page at that frame;
   * read-only: a frame mapped without write access (e.g. a read-only grant mapping). */
  readonly reason: 'outside' | 'unpopulated' | 'read-only';
};

/** True when an access result is a fault rather than a value. */
export function isFault(value: unknown): value is MemoryFault {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'memory-fault';
}

/**
 * A 4 KiB frame's storage; shared between memories when one maps another's frame. `holders`
 * lists every (memory, frame number) where it is visible, so that a write through any of them
 * marks all of them dirty.
 */
export type Frame = {
  readonly view: DataView;
  readonly bytes: Uint8Array;
  readonly holders: { readonly memory: GuestMemory; readonly gfn: number }[];
};

/** Frames carved from one buffer: one allocation for many frames (a slab lives as long as any of its frames). */
const FRAMES_PER_SLAB = 16;
let slab: ArrayBuffer | undefined;
let slabNext = FRAMES_PER_SLAB;

/** Creates a zero-filled frame. */
export function newFrame(): Frame {
  if (slabNext === FRAMES_PER_SLAB || slab === undefined) {
    slab = new ArrayBuffer(PAGE_SIZE * FRAMES_PER_SLAB);
    slabNext = 0;
  }
  const offset = PAGE_SIZE * slabNext++;
  return { view: new DataView(slab, offset, PAGE_SIZE), bytes: new Uint8Array(slab, offset, PAGE_SIZE), holders: [] };
}

/** Writes bytes straight into a frame (a hypervisor copy) and marks every place it is visible dirty. */
export function writeToFrame(frame: Frame, offset: number, data: Uint8Array): void {
  frame.bytes.set(data, offset);
  for (const h of frame.holders) h.memory.markDirty(h.gfn);
}

function addHolder(frame: Frame, memory: GuestMemory, gfn: number): void {
  frame.holders.push({ memory, gfn });
}

function removeHolder(frame: Frame, memory: GuestMemory, gfn: number): void {
  const i = frame.holders.findIndex((h) => h.memory === memory && h.gfn === gfn);
  if (i >= 0) frame.holders.splice(i, 1);
}

type Overlay = { readonly frame: Frame; readonly writable: boolean; readonly wasPopulated: boolean; readonly saved: Frame | undefined };

/** Options for {@link GuestMemory}. */
export type GuestMemoryOptions = {
  /** Frames [0, ramPages) are populated at creation. */
  readonly ramPages: number;
  /** Frames at or beyond this limit do not exist at all. Default: 4 x ramPages. */
  readonly addressSpacePages?: number;
};

/**
 * Sparse guest-physical memory: 4 KiB frames, little-endian accessors, a populated-frame map
 * (the p2m) that memory_op and grant maps change, and a dirty set that the observation layer
 * drains after every step. Frames are materialised on first write; a populated frame never
 * written reads as zeros.
 */
export class GuestMemory {
  /** Number of frames in the guest-physical address space. */
  readonly addressSpacePages: number;
  private readonly populated: Uint8Array;
  private populatedCount: number;
  private readonly frames = new Map<number, Frame>();
  private readonly overlays = new Map<number, Overlay>();
  private readonly dirty = new Set<number>();

  constructor(options: GuestMemoryOptions) {
    const space = options.addressSpacePages ?? options.ramPages * 4;
    if (!Number.isInteger(options.ramPages) || options.ramPages < 1 || space < options.ramPages) {
      throw new RangeError(`bad guest memory size: ${options.ramPages} pages in a space of ${space}`);
    }
    this.addressSpacePages = space;
    this.populated = new Uint8Array(space);
    this.populated.fill(1, 0, options.ramPages);
    this.populatedCount = options.ramPages;
  }

  /** Number of populated frames (the domain's tot_pages as far as RAM goes). */
  get populatedPages(): number {
    return this.populatedCount;
  }

  /** Whether a frame number is inside the address space. */
  inSpace(gfn: number): boolean {
    return Number.isInteger(gfn) && gfn >= 0 && gfn < this.addressSpacePages;
  }

  /** Whether a frame currently has a page behind it (RAM or a foreign mapping). */
  isPopulated(gfn: number): boolean {
    return this.inSpace(gfn) && this.populated[gfn] === 1;
  }

  /** Puts a zeroed RAM page behind a frame. Returns false when the frame is outside the space or already populated. */
  populate(gfn: Gfn): boolean {
    if (!this.inSpace(gfn) || this.populated[gfn] === 1) return false;
    this.populated[gfn] = 1;
    this.populatedCount++;
    this.dropFrame(gfn);
    this.dirty.add(gfn);
    return true;
  }

  /** Removes the page behind a frame (its contents are lost). Returns false when there was none. */
  depopulate(gfn: Gfn): boolean {
    if (!this.isPopulated(gfn) || this.overlays.has(gfn)) return false;
    this.populated[gfn] = 0;
    this.populatedCount--;
    this.dropFrame(gfn);
    this.dirty.add(gfn);
    return true;
  }

  /** Marks a frame changed (used when a shared frame is written through another memory). */
  markDirty(gfn: number): void {
    this.dirty.add(gfn);
  }

  /** The storage of a populated RAM frame, materialised if needed (for sharing it with another memory). */
  frameOf(gfn: Gfn): Frame | undefined {
    if (!this.isPopulated(gfn)) return undefined;
    const overlay = this.overlays.get(gfn);
    if (overlay) return overlay.frame;
    return this.materialise(gfn);
  }

  /**
   * Places another memory's frame at `gfn` (a grant mapping). The previous contents are kept and
   * come back on {@link unmapForeign} when `restore` is asked for.
   */
  mapForeign(gfn: Gfn, frame: Frame, writable: boolean): boolean {
    if (!this.inSpace(gfn) || this.overlays.has(gfn)) return false;
    const wasPopulated = this.populated[gfn] === 1;
    const saved = wasPopulated ? this.frames.get(gfn) : undefined;
    if (saved) removeHolder(saved, this, gfn);
    this.overlays.set(gfn, { frame, writable, wasPopulated, saved });
    addHolder(frame, this, gfn);
    if (!wasPopulated) {
      this.populated[gfn] = 1;
      this.populatedCount++;
    }
    this.dirty.add(gfn);
    return true;
  }

  /** Whether a frame is a foreign mapping. */
  isForeign(gfn: number): boolean {
    return this.overlays.has(gfn);
  }

  /** The foreign frame mapped at `gfn` and whether it is writable, if there is one. */
  foreignMapping(gfn: number): { readonly frame: Frame; readonly writable: boolean } | undefined {
    const overlay = this.overlays.get(gfn);
    return overlay ? { frame: overlay.frame, writable: overlay.writable } : undefined;
  }

  /**
   * Removes a foreign mapping. With `restore` the frame gets back what was there before the
   * mapping (a PV virtual mapping going away); without it the frame is left unpopulated (an HVM
   * p2m entry being removed).
   */
  unmapForeign(gfn: Gfn, restore: boolean): boolean {
    const overlay = this.overlays.get(gfn);
    if (!overlay) return false;
    this.overlays.delete(gfn);
    removeHolder(overlay.frame, this, gfn);
    if (restore && overlay.wasPopulated) {
      if (overlay.saved) {
        this.frames.set(gfn, overlay.saved);
        addHolder(overlay.saved, this, gfn);
      } else this.frames.delete(gfn);
    } else {
      this.frames.delete(gfn);
      this.populated[gfn] = 0;
      this.populatedCount--;
    }
    this.dirty.add(gfn);
    return true;
  }

  /** Checks that [gpa, gpa+len) can be accessed; returns the first fault, if any. */
  check(gpa: number, len: number, access: 'read' | 'write'): MemoryFault | undefined {
    if (len <= 0) return undefined;
    const first = Math.floor(gpa / PAGE_SIZE);
    const last = Math.floor((gpa + len - 1) / PAGE_SIZE);
    for (let gfn = first; gfn <= last; gfn++) {
      const fault = this.checkFrame(gfn, access, gfn === first ? gpa : gfn * PAGE_SIZE);
      if (fault) return fault;
    }
    return undefined;
  }

  /** Reads one byte. */
  read8(gpa: number): number | MemoryFault {
    const view = this.readView(gpa);
    return isFault(view) ? view : view === null ? 0 : view.getUint8(gpa & (PAGE_SIZE - 1));
  }

  /** Reads a little-endian 16-bit value. */
  read16(gpa: number): number | MemoryFault {
    if ((gpa & (PAGE_SIZE - 1)) > PAGE_SIZE - 2) return this.readSlow(gpa, 2);
    const view = this.readView(gpa);
    return isFault(view) ? view : view === null ? 0 : view.getUint16(gpa & (PAGE_SIZE - 1), true);
  }

  /** Reads a little-endian 32-bit value. */
  read32(gpa: number): number | MemoryFault {
    if ((gpa & (PAGE_SIZE - 1)) > PAGE_SIZE - 4) return this.readSlow(gpa, 4);
    const view = this.readView(gpa);
    return isFault(view) ? view : view === null ? 0 : view.getUint32(gpa & (PAGE_SIZE - 1), true);
  }

  /** Reads a little-endian 64-bit value. */
  read64(gpa: number): bigint | MemoryFault {
    if ((gpa & (PAGE_SIZE - 1)) > PAGE_SIZE - 8) {
      const lo = this.readSlow(gpa, 4);
      if (isFault(lo)) return lo;
      const hi = this.readSlow(gpa + 4, 4);
      if (isFault(hi)) return hi;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    const view = this.readView(gpa);
    return isFault(view) ? view : view === null ? 0n : view.getBigUint64(gpa & (PAGE_SIZE - 1), true);
  }

  /** Writes one byte. */
  write8(gpa: number, value: number): MemoryFault | undefined {
    if ((value & 0xff) === 0) return this.writeZero(gpa, 1);
    const view = this.writeView(gpa);
    if (isFault(view)) return view;
    view.setUint8(gpa & (PAGE_SIZE - 1), value);
    return undefined;
  }

  /** Writes a little-endian 16-bit value. */
  write16(gpa: number, value: number): MemoryFault | undefined {
    if ((gpa & (PAGE_SIZE - 1)) > PAGE_SIZE - 2) return this.writeSlow(gpa, BigInt(value), 2);
    if ((value & 0xffff) === 0) return this.writeZero(gpa, 2);
    const view = this.writeView(gpa);
    if (isFault(view)) return view;
    view.setUint16(gpa & (PAGE_SIZE - 1), value, true);
    return undefined;
  }

  /** Writes a little-endian 32-bit value. */
  write32(gpa: number, value: number): MemoryFault | undefined {
    if ((gpa & (PAGE_SIZE - 1)) > PAGE_SIZE - 4) return this.writeSlow(gpa, BigInt(value >>> 0), 4);
    if (value >>> 0 === 0) return this.writeZero(gpa, 4);
    const view = this.writeView(gpa);
    if (isFault(view)) return view;
    view.setUint32(gpa & (PAGE_SIZE - 1), value >>> 0, true);
    return undefined;
  }

  /** Writes a little-endian 64-bit value (taken modulo 2^64). */
  write64(gpa: number, value: bigint): MemoryFault | undefined {
    if ((gpa & (PAGE_SIZE - 1)) > PAGE_SIZE - 8) return this.writeSlow(gpa, BigInt.asUintN(64, value), 8);
    if (BigInt.asUintN(64, value) === 0n) return this.writeZero(gpa, 8);
    const view = this.writeView(gpa);
    if (isFault(view)) return view;
    view.setBigUint64(gpa & (PAGE_SIZE - 1), BigInt.asUintN(64, value), true);
    return undefined;
  }

  /** Copies guest memory out; nothing is read unless the whole range is accessible. */
  readBytes(gpa: number, len: number): Uint8Array | MemoryFault {
    const fault = this.check(gpa, len, 'read');
    if (fault) return fault;
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const addr = gpa + done;
      const offset = addr & (PAGE_SIZE - 1);
      const chunk = Math.min(len - done, PAGE_SIZE - offset);
      const frame = this.currentFrame(Math.floor(addr / PAGE_SIZE));
      if (frame) out.set(frame.bytes.subarray(offset, offset + chunk), done);
      done += chunk;
    }
    return out;
  }

  /** Copies bytes into guest memory; nothing is written unless the whole range is writable. */
  writeBytes(gpa: number, data: Uint8Array): MemoryFault | undefined {
    const fault = this.check(gpa, data.length, 'write');
    if (fault) return fault;
    let done = 0;
    while (done < data.length) {
      const addr = gpa + done;
      const gfn = Math.floor(addr / PAGE_SIZE);
      const offset = addr & (PAGE_SIZE - 1);
      const chunk = Math.min(data.length - done, PAGE_SIZE - offset);
      this.writeChunk(gfn, offset, data.subarray(done, done + chunk));
      done += chunk;
    }
    return undefined;
  }

  /**
   * Copies bytes into guest memory up to the first byte that cannot be written, the way a
   * hypervisor's copy-to-guest does (the bytes before a hole land); returns the fault, if any.
   */
  writeBytesPartial(gpa: number, data: Uint8Array): MemoryFault | undefined {
    let done = 0;
    while (done < data.length) {
      const addr = gpa + done;
      const gfn = frameIndex(addr);
      const fault = gfn === undefined ? outside(addr, 'write') : this.checkFrame(gfn, 'write', addr);
      if (fault) return fault;
      const offset = addr & (PAGE_SIZE - 1);
      const chunk = Math.min(data.length - done, PAGE_SIZE - offset);
      this.writeChunk(gfn as number, offset, data.subarray(done, done + chunk));
      done += chunk;
    }
    return undefined;
  }

  /** Frames written, populated, depopulated or remapped since the last call; the set is cleared. */
  takeDirty(): number[] {
    const out = [...this.dirty].sort((a, b) => a - b);
    this.dirty.clear();
    return out;
  }

  /** Whether any frame changed since the last {@link takeDirty}. */
  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  /** Contents of a frame for observation: null when unpopulated, a zero-length array for a never-written page. */
  pageImage(gfn: number): Uint8Array | null {
    if (!this.isPopulated(gfn)) return null;
    const frame = this.currentFrame(gfn);
    return frame ? frame.bytes : new Uint8Array(0);
  }

  /** Every populated frame that holds data (for whole-memory observation), in ascending order. */
  materialisedFrames(): number[] {
    const out = new Set<number>(this.frames.keys());
    for (const gfn of this.overlays.keys()) out.add(gfn);
    return [...out].filter((gfn) => this.isPopulated(gfn)).sort((a, b) => a - b);
  }

  private checkFrame(gfn: number, access: 'read' | 'write', gpa: number): MemoryFault | undefined {
    if (!this.inSpace(gfn)) return { kind: 'memory-fault', gpa, access, reason: 'outside' };
    if (this.populated[gfn] !== 1) return { kind: 'memory-fault', gpa, access, reason: 'unpopulated' };
    if (access === 'write') {
      const overlay = this.overlays.get(gfn);
      if (overlay && !overlay.writable) return { kind: 'memory-fault', gpa, access, reason: 'read-only' };
    }
    return undefined;
  }

  private currentFrame(gfn: number): Frame | undefined {
    const overlay = this.overlays.get(gfn);
    return overlay ? overlay.frame : this.frames.get(gfn);
  }

  private materialise(gfn: number): Frame {
    let frame = this.frames.get(gfn);
    if (!frame) {
      frame = newFrame();
      addHolder(frame, this, gfn);
      this.frames.set(gfn, frame);
    }
    return frame;
  }

  private dropFrame(gfn: number): void {
    const frame = this.frames.get(gfn);
    if (!frame) return;
    removeHolder(frame, this, gfn);
    this.frames.delete(gfn);
  }

  /**
   * Zeros written to a frame that has no storage yet change nothing a read can see (it reads as
   * zeros): the frame is marked written and not materialised, which keeps the zeroing of pages
   * (SynIC pages, hypercall parameter pages, scratch buffers) from allocating them.
   */
  private bare(gfn: number): boolean {
    return !this.overlays.has(gfn) && !this.frames.has(gfn);
  }

  private writeZero(gpa: number, len: number): MemoryFault | undefined {
    const gfn = frameIndex(gpa);
    const fault = gfn === undefined ? outside(gpa, 'write') : this.checkFrame(gfn, 'write', gpa);
    if (fault) return fault;
    if (this.bare(gfn as number)) {
      this.dirty.add(gfn as number);
      return undefined;
    }
    this.writableFrame(gfn as number).bytes.fill(0, gpa & (PAGE_SIZE - 1), (gpa & (PAGE_SIZE - 1)) + len);
    return undefined;
  }

  private writeChunk(gfn: number, offset: number, data: Uint8Array): void {
    if (this.bare(gfn) && data.every((b) => b === 0)) {
      this.dirty.add(gfn);
      return;
    }
    this.writableFrame(gfn).bytes.set(data, offset);
  }

  private writableFrame(gfn: number): Frame {
    const frame = this.overlays.get(gfn)?.frame ?? this.materialise(gfn);
    if (frame.holders.length === 1) this.dirty.add(gfn);
    else for (const h of frame.holders) h.memory.markDirty(h.gfn);
    return frame;
  }

  /** Returns the frame's view, null for a populated never-written frame, or the fault. */
  private readView(gpa: number): DataView | null | MemoryFault {
    const gfn = frameIndex(gpa);
    const fault = gfn === undefined ? outside(gpa, 'read') : this.checkFrame(gfn, 'read', gpa);
    if (fault) return fault;
    return this.currentFrame(gfn as number)?.view ?? null;
  }

  private writeView(gpa: number): DataView | MemoryFault {
    const gfn = frameIndex(gpa);
    const fault = gfn === undefined ? outside(gpa, 'write') : this.checkFrame(gfn, 'write', gpa);
    if (fault) return fault;
    return this.writableFrame(gfn as number).view;
  }

  /** A little-endian read that crosses a page boundary, byte by byte. */
  private readSlow(gpa: number, len: number): number | MemoryFault {
    const fault = this.check(gpa, len, 'read');
    if (fault) return fault;
    let value = 0;
    for (let i = len - 1; i >= 0; i--) {
      const byte = this.read8(gpa + i) as number;
      value = value * 256 + byte;
    }
    return value;
  }

  private writeSlow(gpa: number, value: bigint, len: number): MemoryFault | undefined {
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    return this.writeBytesPartial(gpa, bytes);
  }
}

function outside(gpa: number, access: 'read' | 'write'): MemoryFault {
  return { kind: 'memory-fault', gpa, access, reason: 'outside' };
}

/** The frame index of a byte address, or undefined for something that is not an address at all. */
function frameIndex(gpa: number): number | undefined {
  if (gpa >>> 0 === gpa) return gpa >>> PAGE_SHIFT;
  return Number.isSafeInteger(gpa) && gpa >= 0 ? Math.floor(gpa / PAGE_SIZE) : undefined;
}
