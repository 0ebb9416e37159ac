import type { VirtualClock } from '../machine/clock';
import { newFrame, writeToFrame, type Frame } from '../machine/memory';
import { encodeStruct } from '../abi/struct';
import { hv_reference_tsc_page } from './abi/layouts';

/*
 * Partition reference time (TLFS timers.md "Partition Reference Counter", "Partition Reference
 * Time Enlightenment"; TLFS v6.0b 12.7): a 100 ns counter that starts at 0 when the partition is
 * created, and the reference TSC page from which a guest computes the same value from its TSC.
 */

/** HV_X64_MSR_TIME_REF_COUNT at virtual time `ns`: floor(ns / 100). */
export function referenceCount(ns: bigint): bigint {
  return ns / 100n;
}

/** The scale and offset the model publishes for a clock, or undefined when the TSC is too slow to scale. */
export type TscPageParams = { readonly scale: bigint; readonly offset: bigint };

const TWO_64 = 1n << 64n;

/**
 * TscScale = floor(10^7 * 2^64 / tscHz) (100 ns per TSC tick as a 64.64 fraction) and
 * TscOffset = -floor(tscAtZero * TscScale / 2^64), so that
 * ((tsc * TscScale) >> 64) + TscOffset is the reference count within one tick (the formula of
 * TLFS timers.md, with TscOffset a signed 64-bit value). A TSC slower than 10 MHz cannot be
 * scaled into 64 bits; the page then stays invalid.
 */
export function tscPageParams(clock: VirtualClock): TscPageParams | undefined {
  const scale = (10_000_000n * TWO_64) / clock.tscHz;
  if (scale >= TWO_64) return undefined;
  const offset = -((clock.tscAtZero * scale) / TWO_64);
  return { scale, offset: BigInt.asUintN(64, offset) };
}

/** The reference time a guest computes from the page: ((tsc * scale) >> 64) + offset, as signed 64-bit arithmetic. */
export function tscPageTime(tsc: bigint, scale: bigint, offset: bigint): bigint {
  return BigInt.asIntN(64, ((BigInt.asUintN(64, tsc) * scale) >> 64n) + BigInt.asIntN(64, offset));
}

/**
 * The next TscSequence after `seq`: 0 means "not valid, use the MSR" (TLFS timers.md) and
 * 0xFFFFFFFF is not a valid value either (TLFS v2.0A 15.4.3.2), so both are skipped, as KVM's
 * kvm_hv_setup_tsc_page does.
 */
export function nextTscSequence(seq: number): number {
  const next = (seq + 1) >>> 0;
  return next === 0 || next === 0xffff_ffff ? 1 : next;
}

/** The partition's reference TSC page: the hypervisor-owned frame and its publication state. */
export class ReferenceTscPage {
  readonly frame: Frame = newFrame();
  /** HV_X64_MSR_REFERENCE_TSC as written. */
  msr = 0n;
  mappedAt: number | undefined;
  /** The TscSequence the page holds now (0: invalid or never published). */
  sequence = 0;
  /** The last valid sequence published, so that a later publication never repeats it. */
  private lastValid = 0;
  private readonly first: number;

  constructor(firstSequence: number) {
    this.first = firstSequence;
  }

  /** Writes the page: a new sequence with the clock's scale and offset, or sequence 0 when the page must not be used. */
  publish(clock: VirtualClock, valid: boolean): void {
    const params = valid ? tscPageParams(clock) : undefined;
    if (params) this.lastValid = this.lastValid === 0 ? this.first : nextTscSequence(this.lastValid);
    this.sequence = params ? this.lastValid : 0;
    const image = encodeStruct(hv_reference_tsc_page, params ? { tsc_sequence: this.sequence, tsc_scale: params.scale, tsc_offset: params.offset } : { tsc_sequence: 0 });
    writeToFrame(this.frame, 0, image);
  }
}
