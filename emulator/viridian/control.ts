import { HV_HYPERCALL } from './abi/input';

/**
 * The hypercall input value (RCX on x64) field by field, per the TLFS "Hypercall Inputs" table
 * (hypercall-interface.md) and the masks of Linux include/hyperv/hvgdk_mini.h:
 * call code 15:0, fast 16, variable header size 26:17 (in QWORDs), RsvdZ 30:27, Is Nested 31,
 * rep count 43:32, RsvdZ 47:44, rep start index 59:48, RsvdZ 63:60.
 */
export type HypercallInput = {
  readonly code: number;
  readonly fast: boolean;
  /** Variable header size in 8-byte units. */
  readonly varHeadSize: number;
  /** Bit 31 (Is Nested). Linux and KVM count it among the reserved bits (docs/decisions.md V1). */
  readonly nested: boolean;
  readonly repCount: number;
  readonly repStart: number;
  /** Bits 30:27, 47:44 and 63:60 as they were set. */
  readonly reserved: bigint;
};

const U64 = (1n << 64n) - 1n;
const RSVD_NO_NESTED = BigInt(HV_HYPERCALL.HV_HYPERCALL_RSVD_MASK) & ~BigInt(HV_HYPERCALL.HV_HYPERCALL_NESTED);

/** Splits a 64-bit input value into its fields. */
export function decodeInput(value: bigint): HypercallInput {
  const v = value & U64;
  return {
    code: Number(v & 0xffffn),
    fast: (v & BigInt(HV_HYPERCALL.HV_HYPERCALL_FAST_BIT)) !== 0n,
    varHeadSize: Number((v & BigInt(HV_HYPERCALL.HV_HYPERCALL_VARHEAD_MASK)) >> BigInt(HV_HYPERCALL.HV_HYPERCALL_VARHEAD_OFFSET)),
    nested: (v & BigInt(HV_HYPERCALL.HV_HYPERCALL_NESTED)) !== 0n,
    repCount: Number((v & HV_HYPERCALL.HV_HYPERCALL_REP_COMP_MASK) >> BigInt(HV_HYPERCALL.HV_HYPERCALL_REP_COMP_OFFSET)),
    repStart: Number((v & HV_HYPERCALL.HV_HYPERCALL_REP_START_MASK) >> BigInt(HV_HYPERCALL.HV_HYPERCALL_REP_START_OFFSET)),
    reserved: v & RSVD_NO_NESTED,
  };
}

/** The fields an input value is built from; omitted ones are zero. */
export type HypercallInputFields = {
  readonly code: number;
  readonly fast?: boolean;
  readonly varHeadSize?: number;
  readonly nested?: boolean;
  readonly repCount?: number;
  readonly repStart?: number;
  readonly reserved?: bigint;
};

/** Builds an input value; throws (a caller bug) when a field does not fit its bits. */
export function encodeInput(fields: HypercallInputFields): bigint {
  const check = (name: string, value: number, bits: number): bigint => {
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) throw new RangeError(`hypercall input ${name} ${value} does not fit in ${bits} bits`);
    return BigInt(value);
  };
  const reserved = fields.reserved ?? 0n;
  if ((reserved & ~RSVD_NO_NESTED) !== 0n) throw new RangeError(`hypercall input reserved bits 0x${reserved.toString(16)} outside the RsvdZ fields`);
  return (
    check('call code', fields.code, 16) |
    (fields.fast ? BigInt(HV_HYPERCALL.HV_HYPERCALL_FAST_BIT) : 0n) |
    (check('variable header size', fields.varHeadSize ?? 0, 10) << BigInt(HV_HYPERCALL.HV_HYPERCALL_VARHEAD_OFFSET)) |
    (fields.nested ? BigInt(HV_HYPERCALL.HV_HYPERCALL_NESTED) : 0n) |
    (check('rep count', fields.repCount ?? 0, 12) << BigInt(HV_HYPERCALL.HV_HYPERCALL_REP_COMP_OFFSET)) |
    (check('rep start index', fields.repStart ?? 0, 12) << BigInt(HV_HYPERCALL.HV_HYPERCALL_REP_START_OFFSET)) |
    reserved
  );
}

/** Returns `input` with its rep start index replaced (what a guest does to restart a rep call). */
export function withRepStart(input: bigint, repStart: number): bigint {
  const mask = HV_HYPERCALL.HV_HYPERCALL_REP_START_MASK;
  if (!Number.isInteger(repStart) || repStart < 0 || repStart > 0xfff) throw new RangeError(`rep start index ${repStart} does not fit in 12 bits`);
  return ((input & U64) & ~mask) | (BigInt(repStart) << BigInt(HV_HYPERCALL.HV_HYPERCALL_REP_START_OFFSET));
}

/**
 * The hypercall result value (RAX on x64), TLFS "Hypercall Outputs": HV_STATUS in 15:0, reps
 * completed in 43:32; the other bits are reserved and the model writes them as zero.
 */
export type HypercallResult = { readonly status: number; readonly repsCompleted: number };

/** Builds a result value. */
export function encodeResult(result: HypercallResult): bigint {
  return BigInt(result.status & 0xffff) | (BigInt(result.repsCompleted & 0xfff) << BigInt(HV_HYPERCALL.HV_HYPERCALL_REP_COMP_OFFSET));
}

/** Splits a result value; reserved bits are ignored, as the TLFS tells callers to. */
export function decodeResult(value: bigint): HypercallResult {
  const v = value & U64;
  return {
    status: Number(v & BigInt(HV_HYPERCALL.HV_HYPERCALL_RESULT_MASK)),
    repsCompleted: Number((v & HV_HYPERCALL.HV_HYPERCALL_REP_COMP_MASK) >> BigInt(HV_HYPERCALL.HV_HYPERCALL_REP_COMP_OFFSET)),
  };
}
