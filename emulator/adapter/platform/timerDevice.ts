import { HV_FEATURES_EDX as EDX, HV_PRIVILEGES_EAX as EAX } from '../../viridian/abi/cpuid';
import { HV_X64_MSR } from '../../viridian/abi/msrs';
import { IA32_TSC_DEADLINE, IA32_X2APIC_LVT_TIMER } from '../../viridian/apicTimer';
import { SHIM_VECTORS, TIMER_SINT, type ViridianDriver } from './viridianDriver';

/**
 * How the adapter gets an interrupt at a deadline, best first:
 * - 'stimer-direct': synthetic timer 0 in direct mode, which raises a vector (CPUID 0x40000003
 *   EAX bit 3 and EDX bit 19);
 * - 'stimer-message': synthetic timer 0 posting HVMSG_TIMER_EXPIRED to the timer SINT (EAX bits 2, 3);
 * - 'tsc-deadline': the local APIC timer in TSC-deadline mode, which every x86 machine has.
 * Synthetic timers count 100 ns units of reference time, so a deadline is rounded up to the next
 * 100 ns (never early); the TSC-deadline timer is exact to the TSC tick.
 */
export type TimerMode = 'stimer-direct' | 'stimer-message' | 'tsc-deadline';

const STIMER_ENABLE = 1n;
const STIMER_DIRECT = 1n << 12n;
const TSC_DEADLINE_MODE = 2n << 17n;

/** The timer hardware of one VP, driven on that VP. */
export class TimerDevice {
  readonly mode: TimerMode;
  private readonly driver: ViridianDriver;
  private readonly tscHz: bigint;
  private readonly tscAtBoot: bigint;
  /** Round deadlines down to the tick instead of up (only to build a broken adapter for the tests). */
  private readonly roundDown: boolean;

  constructor(driver: ViridianDriver, tscHz: bigint, tscAtBoot: bigint, roundDown = false) {
    this.driver = driver;
    this.tscHz = tscHz;
    this.tscAtBoot = tscAtBoot;
    this.roundDown = roundDown;
    const stimers = driver.has('eax', EAX.HV_MSR_SYNTIMER_AVAILABLE);
    if (stimers && driver.has('edx', EDX.HV_STIMER_DIRECT_MODE_AVAILABLE)) this.mode = 'stimer-direct';
    else if (stimers && driver.synic) this.mode = 'stimer-message';
    else this.mode = 'tsc-deadline';
  }

  /** Per-VP set-up (the TSC-deadline mode of the LVT timer). */
  initVp(vp: number): void {
    if (this.mode === 'tsc-deadline') this.driver.wrmsr(vp, IA32_X2APIC_LVT_TIMER, TSC_DEADLINE_MODE | BigInt(SHIM_VECTORS.timer));
  }

  /** Arms the VP's timer for `deadlineNs` (nanoseconds since boot), or disarms it. */
  program(vp: number, deadlineNs: bigint | undefined): void {
    if (this.mode === 'tsc-deadline') {
      // The TSC's value at the deadline's nanosecond: tscAtBoot + floor(ns * hz / 10^9). The TSC
      // counts floor(t * hz / 10^9) since boot (time 0), so it reaches this value at exactly
      // `ns`, and (at 1 GHz or more) one nanosecond earlier it is at least one count short:
      // never early, never late. (ceil would be one count late, a nanosecond after the deadline,
      // when the deadline is not a whole number of counts; found by xvc fuzz.)
      const ns = deadlineNs !== undefined && this.roundDown ? (deadlineNs / 100n) * 100n : deadlineNs;
      const value = ns === undefined ? 0n : this.tscAtBoot + (ns * this.tscHz) / 1_000_000_000n;
      this.driver.wrmsr(vp, IA32_TSC_DEADLINE, value === 0n && deadlineNs !== undefined ? 1n : value);
      return;
    }
    this.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_STIMER0_CONFIG, 0n);
    if (deadlineNs === undefined) return;
    // One-shot: Count is the absolute expiry in 100 ns reference time, rounded up (never early).
    const count = this.roundDown ? deadlineNs / 100n : (deadlineNs + 99n) / 100n;
    this.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_STIMER0_COUNT, count === 0n ? 1n : count);
    const config =
      this.mode === 'stimer-direct' ? STIMER_ENABLE | STIMER_DIRECT | (BigInt(SHIM_VECTORS.timer) << 4n) : STIMER_ENABLE | (BigInt(TIMER_SINT) << 16n);
    this.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_STIMER0_CONFIG, config);
  }
}
