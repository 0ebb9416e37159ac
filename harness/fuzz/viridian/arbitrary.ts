import fc from 'fast-check';
import { CALLS_BY_CODE, viridianAbi, type ViridianCompat, type ViridianProfileName } from '../../sut/index';

/*
 * Raw hypercalls against the Viridian model alone: 64-bit input values built field by field with
 * the edges of each field (TLFS hypercall-interface.md "Hypercall Inputs"), rep ranges, reserved
 * bits one at a time, and input and output GPAs that are aligned, unaligned, page-crossing,
 * unpopulated or outside the GPA space; with TLB fills in between so that flushes act on
 * something.
 */

const { HV_HYPERCALL, HV_CALL_INPUT: HV_FLUSH } = viridianAbi;

/** One raw hypercall: the input value, the GPAs (or fast registers) and the input bytes. */
export type RawCall = {
  readonly kind: 'call';
  readonly vp: number;
  readonly rcx: bigint;
  /** Offset of the input from the start of the input page, or an absolute GPA. */
  readonly input: { readonly at: 'page'; readonly offset: number } | { readonly at: 'gpa'; readonly gpa: bigint };
  readonly output: { readonly at: 'page'; readonly offset: number } | { readonly at: 'gpa'; readonly gpa: bigint };
  readonly words: readonly bigint[];
};

/** A TLB fill between calls. */
export type RawTouch = { readonly kind: 'touch'; readonly vp: number; readonly va: bigint; readonly global: boolean };

export type RawStep = RawCall | RawTouch;

/** A generated Viridian-level case. */
export type ViridianFuzzCase = {
  readonly profile: ViridianProfileName;
  readonly compat: ViridianCompat;
  readonly vcpus: number;
  /** The rep budget of the restarted world in the restart-equivalence property. */
  readonly repsPerCall: number;
  readonly steps: readonly RawStep[];
};

const MODELLED = [...CALLS_BY_CODE.keys()].sort((a, b) => a - b);

/** The calls an enlightened guest makes (the rest need privileges no guest partition has). */
const GUEST_CALLS = MODELLED.filter((c) => {
  const access = CALLS_BY_CODE.get(c)?.access;
  return access !== undefined && (access.kind !== 'privilege' || access.bit !== 1);
});

/** Call codes: the guest's calls most often, any modelled call, codes the model does not know. */
const code = fc.oneof(
  { arbitrary: fc.constantFrom(...GUEST_CALLS), weight: 12 },
  { arbitrary: fc.constantFrom(...MODELLED), weight: 2 },
  { arbitrary: fc.constantFrom(0, 1, 0x8000, 0x8002, 0x8003, 0xffff), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 1 },
);

const small = (edges: readonly number[], max: number): fc.Arbitrary<number> => fc.oneof({ arbitrary: fc.constantFrom(...edges), weight: 4 }, { arbitrary: fc.integer({ min: 0, max }), weight: 1 });

/** The RsvdZ bits of the input value (HV_HYPERCALL_RSVD_MASK, Is Nested included), one at a time. */
const RESERVED_BITS = Array.from({ length: 64 }, (_, b) => b).filter((b) => ((BigInt(HV_HYPERCALL.HV_HYPERCALL_RSVD_MASK) >> BigInt(b)) & 1n) === 1n);

/**
 * The input value: the well-formed value for the call's shape (rep count 1-4 for a rep call, 0
 * otherwise; the fast bit where the call has a fast form), then at most one field broken: a
 * reserved bit, the fast bit, a variable header, the rep count or start at an edge, or any value.
 */
const inputValue = fc
  .record({
    code,
    fast: fc.boolean(),
    reps: fc.integer({ min: 1, max: 4 }),
    start: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 }),
    broken: fc.oneof(
      { arbitrary: fc.constant({ field: 'none' as const, value: 0 }), weight: 8 },
      { arbitrary: fc.constantFrom(...RESERVED_BITS).map((value) => ({ field: 'reserved' as const, value })), weight: 1 },
      { arbitrary: fc.constant({ field: 'fast' as const, value: 0 }), weight: 1 },
      { arbitrary: small([1, 2, 1023], 1023).map((value) => ({ field: 'varHeadSize' as const, value })), weight: 1 },
      { arbitrary: small([0, 1, 4095], 4095).map((value) => ({ field: 'repCount' as const, value })), weight: 1 },
      { arbitrary: small([1, 4, 4095], 4095).map((value) => ({ field: 'repStart' as const, value })), weight: 1 },
      { arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((raw) => ({ field: 'raw' as const, value: 0, raw })), weight: 1 },
    ),
  })
  .map((f) => {
    const shape = CALLS_BY_CODE.get(f.code)?.shape;
    const b = f.broken;
    if (b.field === 'raw') return 'raw' in b ? b.raw : 0n;
    const rep = shape?.rep ?? false;
    let repCount = rep ? f.reps : 0;
    let repStart = rep ? Math.min(f.start, repCount - 1) : 0;
    let fast = (shape?.fast ?? false) && f.fast;
    let varHeadSize = 0;
    let reserved = 0n;
    if (b.field === 'reserved') reserved = 1n << BigInt(b.value);
    if (b.field === 'fast') fast = !fast;
    if (b.field === 'varHeadSize') varHeadSize = b.value;
    if (b.field === 'repCount') repCount = b.value;
    if (b.field === 'repStart') repStart = b.value;
    return (
      BigInt(f.code) |
      (fast ? BigInt(HV_HYPERCALL.HV_HYPERCALL_FAST_BIT) : 0n) |
      (BigInt(varHeadSize) << BigInt(HV_HYPERCALL.HV_HYPERCALL_VARHEAD_OFFSET)) |
      (BigInt(repCount) << BigInt(HV_HYPERCALL.HV_HYPERCALL_REP_COMP_OFFSET)) |
      (BigInt(repStart) << BigInt(HV_HYPERCALL.HV_HYPERCALL_REP_START_OFFSET)) |
      reserved
    );
  });

/** Input words: address spaces, flush flags, processor masks, GVAs with page counts, vectors, anything. */
const word = fc.oneof(
  { arbitrary: fc.constantFrom(0n, 1n, 3n, 0xffffffffffffffffn, BigInt(HV_FLUSH.HV_FLUSH_ALL_PROCESSORS), BigInt(HV_FLUSH.HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES), BigInt(HV_FLUSH.HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY), 0x400000n, 0x400002n, 0x401000n, 0x1000n, 0x30n, 0xffn, 0x10n, 0xfn), weight: 5 },
  { arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), weight: 1 },
);

const gpa = (page: number): fc.Arbitrary<RawCall['input']> =>
  fc.oneof(
    { arbitrary: fc.constant({ at: 'page' as const, offset: 0 }), weight: 8 },
    { arbitrary: fc.constantFrom(4, 8, 4088, 4092).map((offset) => ({ at: 'page' as const, offset })), weight: 1 },
    { arbitrary: fc.constantFrom(0xfff_ffff_f000n, 1n << 52n, BigInt((page + 0x1000) * 4096), 0n).map((g) => ({ at: 'gpa' as const, gpa: g })), weight: 1 },
  );

const call: fc.Arbitrary<RawCall> = fc.record({
  kind: fc.constant('call' as const),
  vp: fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.constantFrom(1, 2, 64), weight: 1 }),
  rcx: inputValue,
  input: gpa(0x20),
  output: gpa(0x21),
  words: fc.array(word, { minLength: 0, maxLength: 8 }),
});

const touch: fc.Arbitrary<RawTouch> = fc.record({ kind: fc.constant('touch' as const), vp: fc.constantFrom(0, 1, 2, 64), va: fc.constantFrom(0x400000n, 0x401000n, 0x402000n), global: fc.boolean() });

/** Generated Viridian-level cases. */
export function viridianCaseArbitrary(profiles: readonly ViridianProfileName[]): fc.Arbitrary<ViridianFuzzCase> {
  return fc.record({
    profile: fc.constantFrom(...profiles),
    compat: fc.constantFrom<ViridianCompat>('tlfs', 'kvm', 'xen'),
    vcpus: fc.constantFrom(2, 3, 65),
    repsPerCall: fc.constantFrom(1, 2, 3),
    steps: fc.array(fc.oneof({ arbitrary: call, weight: 3 }, { arbitrary: touch, weight: 1 }), { minLength: 1, maxLength: 12 }),
  });
}
