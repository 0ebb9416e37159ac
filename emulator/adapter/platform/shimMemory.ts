import { isFault, type Frame, type MemoryFault } from '../../machine/memory';
import { asGfn, type Gfn } from '../../machine/units';
import type { XenMemory } from '../../xen/platform';
import type { ShimMemoryView, ShimPlatform } from '../host';

/**
 * Guest memory for the logic running in the adapter: the guest's physical address space, which
 * ends where the adapter's own frames begin (`guestFrames`). Loads and stores are the guest's
 * own; an access past the end faults as it does in the Xen world. The p2m changes that memory_op
 * and grant maps make (populate, release, map a foreign frame) go to the platform's root-side
 * memory service, the stand-in for Hyper-V's dynamic memory and the root's GPA mappings.
 */
export class ShimMemory implements XenMemory {
  private readonly view: ShimMemoryView;
  private readonly platform: ShimPlatform;
  private readonly guestFrames: number;

  constructor(view: ShimMemoryView, platform: ShimPlatform, guestFrames: number) {
    this.view = view;
    this.platform = platform;
    this.guestFrames = guestFrames;
  }

  get addressSpacePages(): number {
    return this.guestFrames;
  }

  /** Populated frames of the guest's space (the adapter's own, above it, do not count). */
  get populatedPages(): number {
    let own = 0;
    for (let gfn = this.guestFrames; gfn < this.view.addressSpacePages; gfn++) if (this.view.isPopulated(gfn)) own++;
    return this.view.populatedPages - own;
  }

  inSpace(gfn: number): boolean {
    return Number.isInteger(gfn) && gfn >= 0 && gfn < this.guestFrames;
  }

  isPopulated(gfn: number): boolean {
    return this.inSpace(gfn) && this.view.isPopulated(gfn);
  }

  /** A fault for an access reaching past the guest's space, as GuestMemory reports one. */
  private outside(gpa: number, len: number, access: 'read' | 'write'): MemoryFault | undefined {
    const end = this.guestFrames * 4096;
    if (gpa + Math.max(len, 1) <= end) return undefined;
    return { kind: 'memory-fault', gpa: Math.max(gpa, end), access, reason: 'outside' };
  }

  populate(gfn: Gfn): boolean {
    return this.inSpace(gfn) && this.platform.populate(gfn);
  }

  depopulate(gfn: Gfn): boolean {
    return this.inSpace(gfn) && this.platform.depopulate(gfn);
  }

  frameOf(gfn: Gfn): Frame | undefined {
    return this.inSpace(gfn) ? this.platform.frameOf(gfn) : undefined;
  }

  mapForeign(gfn: Gfn, frame: Frame, writable: boolean): boolean {
    return this.inSpace(gfn) && this.platform.mapForeign(gfn, frame, writable);
  }

  isForeign(gfn: number): boolean {
    return this.inSpace(gfn) && this.platform.isForeign(gfn);
  }

  foreignMapping(gfn: number): { readonly frame: Frame; readonly writable: boolean } | undefined {
    return this.inSpace(gfn) ? this.platform.foreignMapping(gfn) : undefined;
  }

  unmapForeign(gfn: Gfn, restore: boolean): boolean {
    return this.inSpace(gfn) && this.platform.unmapForeign(asGfn(gfn), restore);
  }

  check(gpa: number, len: number, access: 'read' | 'write'): MemoryFault | undefined {
    return this.view.check(gpa, len, access) ?? (len > 0 ? this.outside(gpa, len, access) : undefined);
  }

  read8(gpa: number): number | MemoryFault {
    return this.outside(gpa, 1, 'read') ?? this.view.read8(gpa);
  }

  read16(gpa: number): number | MemoryFault {
    return this.outside(gpa, 2, 'read') ?? this.view.read16(gpa);
  }

  read32(gpa: number): number | MemoryFault {
    return this.outside(gpa, 4, 'read') ?? this.view.read32(gpa);
  }

  read64(gpa: number): bigint | MemoryFault {
    return this.outside(gpa, 8, 'read') ?? this.view.read64(gpa);
  }

  write8(gpa: number, value: number): MemoryFault | undefined {
    return this.outside(gpa, 1, 'write') ?? this.view.write8(gpa, value);
  }

  write16(gpa: number, value: number): MemoryFault | undefined {
    return this.outside(gpa, 2, 'write') ?? this.view.write16(gpa, value);
  }

  write32(gpa: number, value: number): MemoryFault | undefined {
    return this.outside(gpa, 4, 'write') ?? this.view.write32(gpa, value);
  }

  write64(gpa: number, value: bigint): MemoryFault | undefined {
    return this.outside(gpa, 8, 'write') ?? this.view.write64(gpa, value);
  }

  readBytes(gpa: number, len: number): Uint8Array | MemoryFault {
    // A fault inside the guest's space comes first (GuestMemory reports the first faulting byte).
    const own = this.view.readBytes(gpa, Math.min(len, Math.max(0, this.guestFrames * 4096 - gpa)));
    if (isFault(own)) return own;
    return this.outside(gpa, len, 'read') ?? this.view.readBytes(gpa, len);
  }

  writeBytes(gpa: number, data: Uint8Array): MemoryFault | undefined {
    const fault = this.check(gpa, data.length, 'write');
    return fault ?? this.view.writeBytes(gpa, data);
  }

  writeBytesPartial(gpa: number, data: Uint8Array): MemoryFault | undefined {
    const room = Math.max(0, this.guestFrames * 4096 - gpa);
    if (data.length <= room) return this.view.writeBytesPartial(gpa, data);
    return this.view.writeBytesPartial(gpa, data.subarray(0, room)) ?? this.outside(gpa, data.length, 'write');
  }
}
