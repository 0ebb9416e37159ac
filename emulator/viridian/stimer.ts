import type { TimerHandle, VirtualClock } from '../machine/clock';
import { encodeStruct } from '../abi/struct';
import { HVMSG } from './abi/synic';
import { hv_timer_message_payload } from './abi/layouts';
import { GP, WRITTEN, type MsrWrite } from './outcome';
import { enqueueMessage, type SynicHost } from './synic';
import type { ViridianVp } from './vp';

/*
 * Synthetic timers (TLFS timers.md "Synthetic Timers"; TLFS v6.0b 12.5): four per VP, counted
 * in 100 ns units of the partition reference counter.
 */

/** HV_X64_MSR_STIMERx_CONFIG fields (TLFS timers.md; Linux union hv_stimer_config). */
export const STIMER_CONFIG = {
  enable: 1n << 0n,
  periodic: 1n << 1n,
  lazy: 1n << 2n,
  autoEnable: 1n << 3n,
  apicVectorShift: 4n,
  apicVectorMask: 0xffn << 4n,
  directMode: 1n << 12n,
  sintShift: 16n,
  sintMask: 0xfn << 16n,
  /** RsvdZ: bits 15:13 and 63:20. */
  reserved: (0x7n << 13n) | (((1n << 64n) - 1n) & ~((1n << 20n) - 1n)),
} as const;

/** One expiry as the guest saw it (for observations and tests). */
export type TimerExpiry = { readonly vp: number; readonly timer: number; readonly expected: bigint; readonly at: bigint; readonly delivery: 'message' | 'direct' | 'dropped' };

/** What a synthetic timer needs from the partition. */
export type StimerHost = SynicHost & {
  readonly clock: VirtualClock;
  readonly directModeAvailable: boolean;
  readonly expired: (expiry: TimerExpiry) => void;
};

/** One synthetic timer: its two MSRs and its dedicated message buffer. */
export class SyntheticTimer {
  readonly index: number;
  config = 0n;
  count = 0n;
  /** Expected expiry of the armed timer, in ns. */
  private expectedNs = 0n;
  private handle: TimerHandle | undefined;
  /** The timer's message buffer holds an expiry message not yet in the SIM slot. */
  messagePending = false;

  constructor(index: number) {
    this.index = index;
  }

  get enabled(): boolean {
    return (this.config & STIMER_CONFIG.enable) !== 0n;
  }

  get armedAt(): bigint | undefined {
    return this.handle && !this.handle.cancelled ? this.handle.deadline : undefined;
  }

  /** WRMSR STIMERx_CONFIG. */
  writeConfig(host: StimerHost, vp: ViridianVp, value: bigint): MsrWrite {
    const v = BigInt.asUintN(64, value);
    if ((v & STIMER_CONFIG.reserved) !== 0n) return GP;
    // KVM hyperv_features stage 27: DirectMode without CPUID 0x40000003 EDX bit 19 is #GP.
    if ((v & STIMER_CONFIG.directMode) !== 0n && !host.directModeAvailable) return GP;
    this.stop(host);
    this.config = v;
    // "When a timer is enabled with SINTx = 0 and not in direct mode, it is marked disabled."
    if (this.enabled && !this.direct && this.sint === 0) this.config &= ~STIMER_CONFIG.enable;
    if (this.enabled) this.start(host, vp);
    return WRITTEN;
  }

  /** WRMSR STIMERx_COUNT. */
  writeCount(host: StimerHost, vp: ViridianVp, value: bigint): MsrWrite {
    this.count = BigInt.asUintN(64, value);
    this.stop(host);
    // "Writing 0 to the Count register stops the timer regardless of AutoEnable"; a non-zero
    // count with AutoEnable sets Enable.
    if (this.count === 0n) this.config &= ~STIMER_CONFIG.enable;
    else if ((this.config & STIMER_CONFIG.autoEnable) !== 0n && (this.direct || this.sint !== 0)) this.config |= STIMER_CONFIG.enable;
    if (this.enabled) this.start(host, vp);
    return WRITTEN;
  }

  private get direct(): boolean {
    return (this.config & STIMER_CONFIG.directMode) !== 0n;
  }

  private get sint(): number {
    return Number((this.config & STIMER_CONFIG.sintMask) >> STIMER_CONFIG.sintShift);
  }

  private get periodic(): boolean {
    return (this.config & STIMER_CONFIG.periodic) !== 0n;
  }

  /**
   * Arms the timer. One-shot: Count is the absolute expiry in reference time; a count already
   * past expires at once. Periodic: the first period starts now. A zero count does not run
   * (KVM stimer_start; the TLFS leaves it open).
   */
  private start(host: StimerHost, vp: ViridianVp): void {
    if (this.count === 0n) return;
    const now = host.clock.now;
    const deadline = this.periodic ? now + this.count * 100n : this.count * 100n;
    this.arm(host, vp, deadline < now ? now : deadline, deadline);
  }

  private arm(host: StimerHost, vp: ViridianVp, fireAt: bigint, expected: bigint): void {
    this.expectedNs = expected;
    this.handle = host.clock.schedule(fireAt, `stimer${this.index} vp${vp.index}`, () => this.fire(host, vp));
  }

  /** Cancels a pending expiry. */
  stop(host: StimerHost): void {
    host.clock.cancel(this.handle);
    this.handle = undefined;
  }

  private fire(host: StimerHost, vp: ViridianVp): void {
    this.handle = undefined;
    const expected = this.expectedNs;
    const now = host.clock.now;
    let delivery: TimerExpiry['delivery'];
    if (this.direct) {
      host.raise(vp, Number((this.config & STIMER_CONFIG.apicVectorMask) >> STIMER_CONFIG.apicVectorShift));
      delivery = 'direct';
    } else if (this.messagePending) {
      // "Associated with each virtual processor are four dedicated timer message buffers": while
      // the previous expiry message still waits for its SIM slot, this expiry has no buffer.
      delivery = 'dropped';
    } else {
      this.messagePending = true;
      const index = this.index;
      enqueueMessage(host, vp, this.sint, {
        type: HVMSG.HVMSG_TIMER_EXPIRED,
        sender: 0n,
        payload: (deliveredAt) =>
          encodeStruct(hv_timer_message_payload, { timer_index: index, expiration_time: expected / 100n, delivery_time: deliveredAt / 100n }),
        released: () => {
          this.messagePending = false;
        },
      });
      delivery = 'message';
    }
    host.expired({ vp: vp.index, timer: this.index, expected: expected / 100n, at: now, delivery });
    if (this.periodic && this.enabled) {
      // Virtual time never runs late, so each period follows the last expected expiry exactly.
      const next = expected + this.count * 100n;
      this.arm(host, vp, next > now ? next : now, next);
    } else if (!this.periodic) {
      this.config &= ~STIMER_CONFIG.enable;
    }
  }
}
