import { decodeStruct, encodeStruct, patchStruct, writeField, type StructLayout, type StructValue } from '../abi/struct';
import { isFault } from '../machine/memory';
import { gpaFromU64 } from '../machine/units';
import type { XenDomain } from './domain';

/*
 * Guest memory access as Xen's hypercall handlers do it (xen/arch/x86/include/asm/guest_access.h).
 * The model identifies a PV guest's virtual addresses with its guest-physical addresses (an
 * identity-mapped kernel), so a copy faults exactly where guest memory has no page. A copy to the
 * guest writes up to the fault before failing (PV copy_to_guest_ll is a `rep movsb`, HVM copies
 * page by page: xen/arch/x86/lib/copy-guest.c, xen/arch/x86/hvm/hvm.c hvm_copy_to_guest_linear).
 */

/** __HYPERVISOR_VIRT_END for x86_64 (xen/include/public/arch-x86/xen-x86_64.h). */
const HYPERVISOR_VIRT_END = 0xffff_8800_0000_0000n;
const U64_MAX = (1n << 64n) - 1n;

/** The byte address behind a 64-bit guest handle, or undefined if it cannot be one. */
function addressOf(ptr: bigint): number | undefined {
  return gpaFromU64(BigInt.asUintN(64, ptr));
}

/** guest_handle_is_null(). */
export function isNullHandle(ptr: bigint): boolean {
  return BigInt.asUintN(64, ptr) === 0n;
}

/**
 * guest_handle_okay(hnd, nr): always true for HVM (paging_mode_external); for PV the range check
 * of array_access_ok(), which looks at the start address only (__addr_ok: below 2^47 or at or
 * above HYPERVISOR_VIRT_END) and at the element count.
 */
export function guestHandleOkay(d: XenDomain, ptr: bigint, count: bigint, size: number): boolean {
  if (d.isHvm) return true;
  if (BigInt.asUintN(64, count) >= U64_MAX / BigInt(size)) return false;
  const addr = BigInt.asUintN(64, ptr);
  return addr < 1n << 47n || addr >= HYPERVISOR_VIRT_END;
}

/** copy_from_guest of a struct; undefined on a fault. */
export function copyFromGuest<L extends StructLayout>(d: XenDomain, ptr: bigint, layout: L, index = 0): StructValue<L> | undefined {
  const base = addressOf(ptr);
  if (base === undefined) return undefined;
  const bytes = d.memory.readBytes(base + index * layout.size, layout.size);
  return isFault(bytes) ? undefined : decodeStruct(bytes, layout);
}

/** A struct copied in, with the raw bytes kept so that copying it back preserves padding. */
export type CopiedStruct<L extends StructLayout> = { readonly value: StructValue<L>; readonly image: Uint8Array };

/** copy_from_guest of a struct, keeping its image; undefined on a fault. */
export function copyInStruct<L extends StructLayout>(d: XenDomain, ptr: bigint, layout: L, index = 0): CopiedStruct<L> | undefined {
  const base = addressOf(ptr);
  if (base === undefined) return undefined;
  const bytes = d.memory.readBytes(base + index * layout.size, layout.size);
  return isFault(bytes) ? undefined : { value: decodeStruct(bytes, layout), image: bytes };
}

/** copy_to_guest of a struct that was copied in and then had members assigned; false on a fault. */
export function copyBackStruct<L extends StructLayout>(
  d: XenDomain,
  ptr: bigint,
  layout: L,
  copied: CopiedStruct<L>,
  patch: Partial<Record<keyof L['fields'], number | bigint>>,
  index = 0,
): boolean {
  const base = addressOf(ptr);
  if (base === undefined) return false;
  return d.memory.writeBytesPartial(base + index * layout.size, patchStruct(copied.image, layout, patch)) === undefined;
}

/** copy_to_guest of a whole struct built from scratch; false on a fault. */
export function copyToGuest<L extends StructLayout>(
  d: XenDomain,
  ptr: bigint,
  layout: L,
  value: Partial<Record<keyof L['fields'], number | bigint>>,
  index = 0,
): boolean {
  const base = addressOf(ptr);
  if (base === undefined) return false;
  return d.memory.writeBytesPartial(base + index * layout.size, encodeStruct(layout, value)) === undefined;
}

/** __copy_field_to_guest: writes one field; false on a fault. */
export function copyFieldToGuest<L extends StructLayout>(d: XenDomain, ptr: bigint, layout: L, field: keyof L['fields'] & string, value: number | bigint, index = 0): boolean {
  const base = addressOf(ptr);
  if (base === undefined) return false;
  return writeField(d.memory, base + index * layout.size, layout, field, value) === undefined;
}

/** Reads a 32-bit unsigned element of a guest array; undefined on a fault. */
export function readGuestU32(d: XenDomain, ptr: bigint, index: number): number | undefined {
  const base = addressOf(ptr);
  if (base === undefined) return undefined;
  const value = d.memory.read32(base + 4 * index);
  return isFault(value) ? undefined : value;
}

/** Reads a 64-bit element of a guest array; undefined on a fault. */
export function readGuestU64(d: XenDomain, ptr: bigint, index: number): bigint | undefined {
  const base = addressOf(ptr);
  if (base === undefined) return undefined;
  const value = d.memory.read64(base + 8 * index);
  return isFault(value) ? undefined : value;
}

/** Writes a 32-bit element of a guest array; false on a fault. */
export function writeGuestU32(d: XenDomain, ptr: bigint, index: number, value: number): boolean {
  const base = addressOf(ptr);
  if (base === undefined) return false;
  return d.memory.write32(base + 4 * index, value) === undefined;
}

/** Writes a 64-bit element of a guest array; false on a fault. */
export function writeGuestU64(d: XenDomain, ptr: bigint, index: number, value: bigint): boolean {
  const base = addressOf(ptr);
  if (base === undefined) return false;
  return d.memory.write64(base + 8 * index, value) === undefined;
}

/** Copies bytes out of the guest; undefined on a fault. */
export function readGuestBytes(d: XenDomain, ptr: bigint, len: number): Uint8Array | undefined {
  const base = addressOf(ptr);
  if (base === undefined) return undefined;
  const bytes = d.memory.readBytes(base, len);
  return isFault(bytes) ? undefined : bytes;
}

/** Copies bytes into the guest; false on a fault. */
export function writeGuestBytes(d: XenDomain, ptr: bigint, bytes: Uint8Array): boolean {
  const base = addressOf(ptr);
  if (base === undefined) return false;
  return d.memory.writeBytesPartial(base, bytes) === undefined;
}

/** C argument conversions of the hypercall prototypes (xen/include/hypercall-defs.c). */
export const arg = {
  /** `int`: the low 32 bits, signed. */
  int: (x: bigint): number => Number(BigInt.asIntN(32, x)),
  /** `unsigned int`: the low 32 bits. */
  uint: (x: bigint): number => Number(BigInt.asUintN(32, x)),
  /** `unsigned long`: all 64 bits. */
  ulong: (x: bigint): bigint => BigInt.asUintN(64, x),
  /** `s_time_t` / `long`: all 64 bits, signed. */
  long: (x: bigint): bigint => BigInt.asIntN(64, x),
} as const;
