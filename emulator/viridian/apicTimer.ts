import type { TimerHandle, VirtualClock } from '../machine/clock';
import { GP, msrValue, WRITTEN, type MsrRead, type MsrWrite } from './outcome';
import type { ViridianVp } from './vp';

/*
 * The local APIC timer in TSC-deadline mode (Intel SDM vol. 3 10.5.4.1): the architectural
 * timer every x86 virtual machine has, which a guest uses where the hypervisor offers no
 * synthetic timers. The LVT timer register is reached through its x2APIC MSR.
 */

/** IA32_TSC_DEADLINE. */
export const IA32_TSC_DEADLINE = 0x6e0;
/** The x2APIC LVT timer register (IA32_X2APIC_LVT_TIMER). */
export const IA32_X2APIC_LVT_TIMER = 0x832;
/** LVT timer: vector 7:0, mask 16, mode 18:17 (10b = TSC-deadline); the rest reserved. */
const LVT_MASKED = 1n << 16n;
const LVT_MODE_SHIFT = 17n;
const LVT_MODE_TSC_DEADLINE = 2n;
const LVT_WRITABLE = 0xffn | LVT_MASKED | (3n << LVT_MODE_SHIFT);

/** What the timer needs from the partition. */
export type ApicTimerHost = {
  readonly clock: VirtualClock;
  readonly raise: (vp: ViridianVp, vector: number) => void;
};

/** One VP's APIC timer. */
export class ApicTimer {
  /** LVT timer register; masked at reset. */
  lvt = LVT_MASKED;
  deadline = 0n;
  private handle: TimerHandle | undefined;

  private get tscDeadlineMode(): boolean {
    return ((this.lvt >> LVT_MODE_SHIFT) & 3n) === LVT_MODE_TSC_DEADLINE;
  }

  /** RDMSR of one of the timer's MSRs. */
  read(msr: number): MsrRead {
    if (msr === IA32_X2APIC_LVT_TIMER) return msrValue(this.lvt);
    // Reads of IA32_TSC_DEADLINE return 0 outside TSC-deadline mode (SDM 10.5.4.1).
    return msrValue(this.tscDeadlineMode ? this.deadline : 0n);
  }

  /** WRMSR of one of the timer's MSRs. */
  write(host: ApicTimerHost, vp: ViridianVp, msr: number, value: bigint): MsrWrite {
    if (msr === IA32_X2APIC_LVT_TIMER) {
      if ((value & ~LVT_WRITABLE) !== 0n || (value & (3n << LVT_MODE_SHIFT)) === 3n << LVT_MODE_SHIFT) return GP;
      const wasDeadline = this.tscDeadlineMode;
      this.lvt = value;
      // Leaving TSC-deadline mode disarms the timer.
      if (wasDeadline && !this.tscDeadlineMode) this.disarm(host);
      return WRITTEN;
    }
    // Writes are ignored outside TSC-deadline mode; 0 disarms; a past deadline fires at once.
    if (!this.tscDeadlineMode) return WRITTEN;
    this.disarm(host);
    this.deadline = BigInt.asUintN(64, value);
    if (this.deadline === 0n) return WRITTEN;
    const clock = host.clock;
    const ticks = this.deadline - clock.tscAtZero;
    const due = ticks <= 0n ? clock.now : (ticks * 1_000_000_000n + clock.tscHz - 1n) / clock.tscHz;
    this.handle = clock.schedule(due < clock.now ? clock.now : due, `tsc-deadline vp${vp.index}`, () => {
      this.handle = undefined;
      this.deadline = 0n;
      if ((this.lvt & LVT_MASKED) === 0n) host.raise(vp, Number(this.lvt & 0xffn));
    });
    return WRITTEN;
  }

  private disarm(host: ApicTimerHost): void {
    host.clock.cancel(this.handle);
    this.handle = undefined;
    this.deadline = 0n;
  }
}

/** Whether an MSR is one of the APIC timer's. */
export function isApicTimerMsr(msr: number): boolean {
  return msr === IA32_TSC_DEADLINE || msr === IA32_X2APIC_LVT_TIMER;
}
