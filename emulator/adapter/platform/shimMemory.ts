import type { Frame, MemoryFault } from '../../machine/memory';
import { asGfn, type Gfn } from '../../machine/units';
import type { XenMemory } from '../../xen/platform';
import type { ShimMemoryView, ShimPlatform } from '../host';

/**
 * Guest memory for the logic running in the adapter: loads and stores are the guest's own; the
 * p2m changes that memory_op and grant maps make (populate, release, map a foreign frame) go to
 * the platform's root-side memory service, the stand-in for Hyper-V's dynamic memory and the
 * root's GPA mappings.
 */
export class ShimMemory implements XenMemory {
  private readonly view: ShimMemoryView;
  private readonly platform: ShimPlatform;
  private readonly privateFrames: ReadonlySet<number>;

  constructor(view: ShimMemoryView, platform: ShimPlatform, privateFrames: ReadonlySet<number>) {
    this.view = view;
    this.platform = platform;
    this.privateFrames = privateFrames;
  }

  get addressSpacePages(): number {
    return this.view.addressSpacePages;
  }

  /** Populated frames, without the adapter's own (the domain's RAM as Xen counts it). */
  get populatedPages(): number {
    let own = 0;
    for (const gfn of this.privateFrames) if (this.view.isPopulated(gfn)) own++;
    return this.view.populatedPages - own;
  }

  inSpace(gfn: number): boolean {
    return this.view.inSpace(gfn);
  }

  isPopulated(gfn: number): boolean {
    return this.view.isPopulated(gfn);
  }

  populate(gfn: Gfn): boolean {
    return this.platform.populate(gfn);
  }

  depopulate(gfn: Gfn): boolean {
    return this.platform.depopulate(gfn);
  }

  frameOf(gfn: Gfn): Frame | undefined {
    return this.platform.frameOf(gfn);
  }

  mapForeign(gfn: Gfn, frame: Frame, writable: boolean): boolean {
    return this.platform.mapForeign(gfn, frame, writable);
  }

  isForeign(gfn: number): boolean {
    return this.platform.isForeign(gfn);
  }

  foreignMapping(gfn: number): { readonly frame: Frame; readonly writable: boolean } | undefined {
    return this.platform.foreignMapping(gfn);
  }

  unmapForeign(gfn: Gfn, restore: boolean): boolean {
    return this.platform.unmapForeign(asGfn(gfn), restore);
  }

  check(gpa: number, len: number, access: 'read' | 'write'): MemoryFault | undefined {
    return this.view.check(gpa, len, access);
  }

  read8(gpa: number): number | MemoryFault {
    return this.view.read8(gpa);
  }

  read16(gpa: number): number | MemoryFault {
    return this.view.read16(gpa);
  }

  read32(gpa: number): number | MemoryFault {
    return this.view.read32(gpa);
  }

  read64(gpa: number): bigint | MemoryFault {
    return this.view.read64(gpa);
  }

  write8(gpa: number, value: number): MemoryFault | undefined {
    return this.view.write8(gpa, value);
  }

  write16(gpa: number, value: number): MemoryFault | undefined {
    return this.view.write16(gpa, value);
  }

  write32(gpa: number, value: number): MemoryFault | undefined {
    return this.view.write32(gpa, value);
  }

  write64(gpa: number, value: bigint): MemoryFault | undefined {
    return this.view.write64(gpa, value);
  }

  readBytes(gpa: number, len: number): Uint8Array | MemoryFault {
    return this.view.readBytes(gpa, len);
  }

  writeBytes(gpa: number, data: Uint8Array): MemoryFault | undefined {
    return this.view.writeBytes(gpa, data);
  }

  writeBytesPartial(gpa: number, data: Uint8Array): MemoryFault | undefined {
    return this.view.writeBytesPartial(gpa, data);
  }
}
