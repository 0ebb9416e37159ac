import fc from 'fast-check';

/*
 * The values fuzzed hypercalls take, biased toward the edges that break adapters: ports at and
 * past the 2-level limits, vCPU indices at 63, 64 and past the last vCPU, deadlines in the past
 * and one nanosecond away, periods at the minimum, durations across the 100 ns tick of reference
 * time, bad and page-crossing guest addresses. Each table lists the benign values first: fast-check
 * shrinks a constantFrom toward its first value.
 */

/** Mostly one of the edges, sometimes any value of the range. */
export function edged(edges: readonly number[], min: number, max: number, edgeWeight = 4): fc.Arbitrary<number> {
  return fc.oneof({ arbitrary: fc.constantFrom(...edges), weight: edgeWeight }, { arbitrary: fc.integer({ min, max }), weight: 1 });
}

/**
 * Event channel ports: the first few (lowest-free allocation hands these out), the selector-word
 * boundaries (63 | 64), the 2-level limit of a 64-bit guest (4095 | 4096, EVTCHN_2L_NR_CHANNELS in
 * xen/include/public/event_channel.h... 64 * 64), and values no channel can have.
 */
export const port = edged([1, 2, 3, 4, 0, 5, 6, 7, 8, 63, 64, 65, 127, 1023, 1024, 4095, 4096, 0x7fffffff, 0xffffffff], 0, 130);

/** A port the guest or dom0 is likely to have (the scenario's first allocations). */
export const likelyPort = fc.constantFrom(1, 2, 3, 4, 5);

/** vCPU ids as hypercall arguments: the first ones, the 64-bit mask boundary, past the last vCPU, unsigned -1. */
export const vcpuArg = edged([0, 1, 2, 3, 63, 64, 65, 66, 127, 0xffffffff], 0, 70);

/** The vCPU a step runs on (a step on a vCPU that is not running is left out). */
export const issuer = fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.constantFrom(1, 2, 63, 64, 65), weight: 2 });

/** The vCPU whose TLB a fill goes to: any, the ones at the 64-bit mask boundary as often as vCPU 0. */
export const tlbVcpu = fc.constantFrom(0, 1, 64, 2, 63, 65);

/** Domain ids: dom0 (the peer), the guest (1), DOMID_SELF, a domain that does not exist, DOMID_INVALID. */
export const domid = fc.constantFrom(0x7ff0, 0, 1, 7, 0x7ff4, 0xffff);

/** Nanosecond durations across the 100 ns tick, the microsecond, the millisecond and the second. */
export const duration = edged([0, 1, 99, 100, 101, 999, 1000, 1001, 99_999, 100_000, 999_999, 1_000_000, 1_000_001, 10_000_000, 100_000_000, 1_000_000_000], 0, 2_000_000);

/** An absolute Xen deadline: relative to the step's time ($now), zero (cancel), in the past, or far away. */
export const deadline: fc.Arbitrary<number | string> = fc.oneof(
  { arbitrary: duration.map((d) => `$now+${d}`), weight: 6 },
  { arbitrary: fc.constantFrom<number | string>(0, 1, '$now-1', '$now', '0x7fffffffffffffff', '0xffffffffffffffff'), weight: 2 },
);

/** Periods around VCPUOP_set_periodic_timer's minimum (MILLISECS(1), xen/common/domain.c). */
export const period = fc.constantFrom<number | string>(1_000_000, 999_999, 1_000_001, 0, 1, 1_500_037, 10_000_000, '0x7fffffffffffffff');

/**
 * Guest addresses no hypercall may use: the unmapped top of the guest half, non-canonical,
 * Xen's own area, page 0, and the last bytes of RAM (crossing into shared_info or past it).
 */
export const badPointer = fc.constantFrom('0x7ffff0000000', '0x800000000000', '0xffff800000000000', '0', '0x10', '0xfffffffffffffff8', '0x3ffffe', '0x5ffffc');

/** Where a buffer argument goes: the scratch area (default), unaligned, across a page boundary in RAM. */
export const placement: fc.Arbitrary<string | undefined> = fc.oneof({ arbitrary: fc.constant(undefined), weight: 8 }, { arbitrary: fc.constantFrom('0x100ffa', '0x101003', '0x102ff8'), weight: 1 });

/** Guest virtual addresses the TLB steps and flushes share, so that flushes hit filled entries. */
export const va = fc.constantFrom('0x400000', '0x401000', '0x7f0000000000', '0xffff800000001000', '0x400800');

/** Address spaces (CR3 values). */
export const space = fc.constantFrom('0x1000', '0x2000', '0x0');

/** Guest frames the guest owns and can offer (RAM below the scratch area). */
export const guestFrame = fc.constantFrom(0x110, 0x111, 0x3ff, 0x400, 0x7fffffff);

/** Grant references: the first entries, the last of frame 0 (v1: 512 per frame), the first of frame 1, far past. */
export const grantRef = edged([0, 1, 2, 3, 8, 511, 512, 4096, 0xffffffff], 0, 16);

/** Byte counts and lengths: zero, one, around a page, huge. */
export const count = edged([1, 0, 2, 3, 64, 4096, 4097, 0x7fffffff, 0xffffffff], 0, 8);

/** A hex string of `n` pseudo-random bytes. */
export const hexBytes = (min: number, max: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));

/** Printable console text as hex bytes. */
export const consoleText = fc.string({ unit: fc.constantFrom(...'abc xyz\n\r\t!'.split('')), minLength: 0, maxLength: 24 }).map((s) => Buffer.from(s, 'latin1').toString('hex'));

/** A 64-bit value written as 0x hex: random, or with one high bit. */
export const u64 = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 63 }).map((b) => 1n << BigInt(b))).map((v) => `0x${v.toString(16)}`);

/** `value` as `bytes` little-endian bytes in hex (a store's or buffer's `bytes`). */
export function leHex(value: number | bigint, bytes: number): string {
  let v = BigInt.asUintN(bytes * 8, BigInt(value));
  let out = '';
  for (let i = 0; i < bytes; i++) {
    out += Number(v & 0xffn).toString(16).padStart(2, '0');
    v >>= 8n;
  }
  return out;
}
