import type { TimerHandle } from '../../machine/clock';
import type { Ns } from '../../machine/units';

type Entry = { deadline: bigint; seq: number; label: string; fire: () => void; cancelled: boolean; scheduledAt: bigint };

/** What the clock needs: the TSC, and a way to arm the hardware timer for the earliest deadline. */
export type ShimClockHost = {
  readonly rdtsc: () => bigint;
  /** Arms (or, with undefined, disarms) the hardware timer that wakes the adapter at `deadline`. */
  readonly arm: (deadline: bigint | undefined) => void;
};

/**
 * Xen's NOW() and timers for the logic running in the adapter. NOW() is the TSC converted with
 * the TSC frequency from the hypervisor: since the TSC started at `tscAtBoot` when the domain was
 * built, ns = ceil((tsc - tscAtBoot) * 10^9 / hz), which is exact for a TSC faster than 1 GHz.
 * Xen's timers (one-shot, periodic, poll timeouts, watchdogs) are kept in software and the
 * earliest is put on the hardware timer. A timer runs with NOW() reading its deadline (or the
 * time it was armed, for a deadline already past then), as Xen's own timer would have: the
 * hardware may wake the adapter up to 100 ns late, and time kept by Xen's logic must not drift.
 */
export class ShimClock {
  readonly tscHz: bigint;
  private readonly tscAtBoot: bigint;
  private readonly host: ShimClockHost;
  private queue: Entry[] = [];
  private seq = 0;
  private armedFor: bigint | undefined;
  private callbackNow: bigint | undefined;
  /** How early a timer may count as due (0; more only to build a broken adapter for the tests). */
  private readonly earlyBy: bigint;

  constructor(host: ShimClockHost, tscHz: bigint, tscAtBoot: bigint, earlyBy = 0n) {
    this.host = host;
    this.tscHz = tscHz;
    this.tscAtBoot = tscAtBoot;
    this.earlyBy = earlyBy;
  }

  /** The exact time the TSC says. */
  get realNow(): bigint {
    const ticks = this.host.rdtsc() - this.tscAtBoot;
    return ticks <= 0n ? 0n : (ticks * 1_000_000_000n + this.tscHz - 1n) / this.tscHz;
  }

  /** Xen's NOW(). */
  get now(): Ns {
    return (this.callbackNow ?? this.realNow) as Ns;
  }

  /** RDTSC. */
  tsc(): bigint {
    return this.host.rdtsc();
  }

  /** set_timer: arms a software timer and keeps the hardware timer on the earliest. */
  schedule(deadline: bigint, label: string, fire: () => void): TimerHandle {
    const entry: Entry = { deadline, seq: this.seq++, label, fire, cancelled: false, scheduledAt: this.now };
    let i = this.queue.length;
    while (i > 0 && before(entry, this.queue[i - 1] as Entry)) i--;
    this.queue.splice(i, 0, entry);
    this.rearm();
    return entry;
  }

  /** stop_timer. */
  cancel(handle: TimerHandle | undefined): void {
    if (!handle || handle.cancelled) return;
    (handle as Entry).cancelled = true;
    const i = this.queue.indexOf(handle as Entry);
    if (i >= 0) this.queue.splice(i, 1);
    this.rearm();
  }

  /** Runs every timer whose deadline has passed (after a hypercall, and when the hardware timer fires). */
  runDue(): void {
    for (;;) {
      const top = this.queue[0];
      if (!top || top.deadline > this.realNow + this.earlyBy) break;
      this.queue.shift();
      top.cancelled = true;
      const outer = this.callbackNow;
      this.callbackNow = top.deadline > top.scheduledAt ? top.deadline : top.scheduledAt;
      try {
        top.fire();
      } finally {
        this.callbackNow = outer;
      }
    }
    this.rearm();
  }

  /**
   * The hardware timer fired: run what is due and arm it again for the earliest deadline left,
   * even if that is the one it was armed for (a timer that fired early is re-armed, not lost).
   */
  expire(): void {
    this.armedFor = undefined;
    this.runDue();
  }

  /** Number of armed timers. */
  get pending(): number {
    return this.queue.length;
  }

  /** The earliest deadline, if any. */
  nextDeadline(): bigint | undefined {
    return this.queue[0]?.deadline;
  }

  /** Forgets what the hardware was armed for (the timer moved to another VP). */
  forgetHardware(): void {
    this.armedFor = undefined;
    this.rearm();
  }

  private rearm(): void {
    const next = this.queue[0]?.deadline;
    if (next === this.armedFor) return;
    this.armedFor = next;
    this.host.arm(next);
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}
