/**
 * Branded units shared by every model. A brand costs nothing at run time; it stops a guest frame
 * number from being passed where a byte address is expected, and so on.
 */

/** A guest-physical byte address (safe integer, below 2^52). */
export type Gpa = number & { readonly __brand: 'Gpa' };
/** A guest frame number (a guest-physical address shifted right by 12). */
export type Gfn = number & { readonly __brand: 'Gfn' };
/** A vCPU index inside one domain / partition. */
export type VcpuId = number & { readonly __brand: 'VcpuId' };
/** Virtual time in nanoseconds since the machine was created. */
export type Ns = bigint & { readonly __brand: 'Ns' };

/** 4 KiB, the only page size the models know. */
export const PAGE_SIZE = 4096;
/** log2(PAGE_SIZE). */
export const PAGE_SHIFT = 12;
/** Highest guest-physical address width the machine accepts (x86 MAXPHYADDR 52). */
export const MAX_GPA_BITS = 52;

/** 2^64 - 1, for masking register values. */
export const U64_MASK = (1n << 64n) - 1n;
/** 2^32 - 1. */
export const U32_MASK = 0xffff_ffff;

/** Checked constructor: a byte address the machine can represent. */
export function asGpa(value: number): Gpa {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** MAX_GPA_BITS) {
    throw new RangeError(`not a guest-physical address: ${value}`);
  }
  return value as Gpa;
}

/** Checked constructor for a frame number. */
export function asGfn(value: number): Gfn {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** (MAX_GPA_BITS - PAGE_SHIFT)) {
    throw new RangeError(`not a guest frame number: ${value}`);
  }
  return value as Gfn;
}

/** Checked constructor for a vCPU index. */
export function asVcpuId(value: number): VcpuId {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`not a vCPU index: ${value}`);
  }
  return value as VcpuId;
}

/** Checked constructor for a time value. */
export function asNs(value: bigint): Ns {
  if (value < 0n) throw new RangeError(`negative virtual time: ${value}`);
  return value as Ns;
}

/**
 * Converts a 64-bit register value that a guest passed as an address into a byte address, or
 * undefined when it lies beyond what the machine can address (the caller turns that into the
 * guest-visible fault its ABI defines).
 */
export function gpaFromU64(value: bigint): Gpa | undefined {
  if (value < 0n || value >= 1n << BigInt(MAX_GPA_BITS)) return undefined;
  return Number(value) as Gpa;
}

/** The frame that holds a byte address. */
export function gfnOf(gpa: Gpa): Gfn {
  return Math.floor(gpa / PAGE_SIZE) as Gfn;
}

/** The first byte address of a frame. */
export function gpaOf(gfn: Gfn): Gpa {
  return (gfn * PAGE_SIZE) as Gpa;
}
