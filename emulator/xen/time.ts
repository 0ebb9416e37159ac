import { vcpu_time_info } from './abi/layouts';
import { isFault } from '../machine/memory';
import type { XenClock, XenMemory } from './platform';

/** A TSC-to-nanoseconds scale: ns = ((tsc_delta << shift) * mul_frac) >> 32 (struct time_scale). */
export type TimeScale = { readonly mulFrac: number; readonly shift: number };

const MILLISECS_1000 = 1_000_000_000n;

/**
 * set_time_scale() of xen/arch/x86/time.c: normalise the tick rate into (10^9, 2 * 10^9] by
 * shifting, then mul_frac = (10^9 << 32) / tps32 (div_frac).
 */
export function setTimeScale(ticksPerSec: bigint): TimeScale {
  if (ticksPerSec <= 0n) throw new RangeError(`tick rate must be positive: ${ticksPerSec}`);
  let tps64 = ticksPerSec;
  let shift = 0;
  while (tps64 > MILLISECS_1000 * 2n) {
    tps64 >>= 1n;
    shift--;
  }
  let tps32 = BigInt.asUintN(32, tps64);
  while (tps32 <= MILLISECS_1000) {
    tps32 = BigInt.asUintN(32, tps32 << 1n);
    shift++;
  }
  return { mulFrac: Number((MILLISECS_1000 << 32n) / tps32), shift };
}

/**
 * The pvclock conversion guests apply (xen/include/public/xen.h vcpu_time_info comment; Linux
 * pvclock_scale_delta): the shift is applied to the 64-bit delta first, then a 64 x 32 multiply
 * keeps bits 95..32.
 */
export function scaleDelta(delta: bigint, scale: TimeScale): bigint {
  let d = BigInt.asUintN(64, delta);
  d = scale.shift >= 0 ? BigInt.asUintN(64, d << BigInt(scale.shift)) : d >> BigInt(-scale.shift);
  return BigInt.asUintN(64, (d * BigInt(scale.mulFrac)) >> 32n);
}

/**
 * Writes a vcpu_time_info record with Xen's version protocol (version_update_begin: (v+1)|1,
 * fields, version_update_end: v+1; xen/include/xen/time.h, __update_vcpu_system_time). The
 * calibration stamp is the current instant: tsc_timestamp = TSC now, system_time = NOW(); flags
 * stay 0 because the model's platform timer is not the TSC (clocksource_is_tsc()).
 */
export function writeVcpuTimeInfo(mem: XenMemory, gpa: number, clock: XenClock): void {
  const f = vcpu_time_info.fields;
  const old = mem.read32(gpa + f.version.offset);
  if (isFault(old)) return;
  const scale = setTimeScale(clock.tscHz);
  const begin = ((old + 1) | 1) >>> 0;
  mem.write32(gpa + f.version.offset, begin);
  mem.write32(gpa + f.pad0.offset, 0);
  mem.write64(gpa + f.tsc_timestamp.offset, clock.tsc());
  mem.write64(gpa + f.system_time.offset, clock.now);
  mem.write32(gpa + f.tsc_to_system_mul.offset, scale.mulFrac);
  mem.write8(gpa + f.tsc_shift.offset, scale.shift & 0xff);
  mem.write8(gpa + f.flags.offset, 0);
  mem.write16(gpa + 30, 0); // pad1[2]
  mem.write32(gpa + f.version.offset, (begin + 1) >>> 0);
}

/** What a guest computes from a vcpu_time_info record at a given TSC value (ns of system time). */
export function pvclockRead(record: { tscTimestamp: bigint; systemTime: bigint; mul: number; shift: number }, tsc: bigint): bigint {
  const delta = BigInt.asUintN(64, tsc - record.tscTimestamp);
  return BigInt.asUintN(64, record.systemTime + scaleDelta(delta, { mulFrac: record.mul, shift: record.shift }));
}
