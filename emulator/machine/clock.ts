import type { Ns } from './units';

/** A timer registered with the {@link VirtualClock}. */
export type TimerHandle = {
  /** Absolute virtual time (ns) at which the timer fires. */
  readonly deadline: bigint;
  /** What it is, for traces and failure reports. */
  readonly label: string;
  /** Whether it was cancelled before firing. */
  readonly cancelled: boolean;
};

type Entry = { deadline: bigint; seq: number; label: string; fire: () => void; cancelled: boolean };

/** Options for {@link VirtualClock}. */
export type ClockOptions = {
  /** TSC frequency in Hz. Default: 2 095 078 000 (a 2095.078 MHz part, so that conversions round). */
  readonly tscHz?: bigint;
  /** TSC value at virtual time 0. Default: 1 000 000 007. */
  readonly tscAtZero?: bigint;
  /** Most timers one advanceTo or runDue may fire (default {@link MAX_FIRES_PER_MOVE}). */
  readonly maxFiresPerMove?: number;
};

/**
 * The most timers one move of the clock fires by default. A step that asks for more (a periodic
 * timer left running across hours of virtual time) is refused rather than left to exhaust the
 * process's memory and time: the scenario that asked for it fails, not the run.
 */
export const MAX_FIRES_PER_MOVE = 200_000;

/** Thrown when one move of the clock would fire more timers than its budget. */
export class ClockBudgetError extends RangeError {
  override readonly name = 'ClockBudgetError';
}

/** Default TSC frequency: deliberately not a round number, so that unit conversions must round. */
export const DEFAULT_TSC_HZ = 2_095_078_000n;
/** Default TSC value at time 0: non-zero, so that code which forgets the TSC's origin is caught. */
export const DEFAULT_TSC_AT_ZERO = 1_000_000_007n;

/**
 * The virtual clock both worlds share the shape of: nanoseconds since the machine was created, a
 * TSC running at a fixed frequency, and a deterministic timer queue. Timers with equal deadlines
 * fire in the order they were armed. Time only moves when {@link advanceTo} is called.
 */
export class VirtualClock {
  readonly tscHz: bigint;
  readonly tscAtZero: bigint;
  private nowNs: bigint = 0n;
  private seq = 0;
  private heap: Entry[] = [];
  private cancelledCount = 0;
  private readonly maxFires: number;

  constructor(options: ClockOptions = {}) {
    this.maxFires = options.maxFiresPerMove ?? MAX_FIRES_PER_MOVE;
    this.tscHz = options.tscHz ?? DEFAULT_TSC_HZ;
    this.tscAtZero = options.tscAtZero ?? DEFAULT_TSC_AT_ZERO;
    if (this.tscHz <= 0n) throw new RangeError(`TSC frequency must be positive: ${this.tscHz}`);
  }

  /** Current virtual time in ns. */
  get now(): Ns {
    return this.nowNs as Ns;
  }

  /** TSC value at the current time: tscAtZero + floor(now * tscHz / 10^9), modulo 2^64. */
  tsc(): bigint {
    return this.tscAt(this.nowNs);
  }

  /** TSC value at a given virtual time. */
  tscAt(ns: bigint): bigint {
    return BigInt.asUintN(64, this.tscAtZero + (ns * this.tscHz) / 1_000_000_000n);
  }

  /** Arms a timer; it fires during the {@link advanceTo} or {@link runDue} that reaches its deadline. */
  schedule(deadline: bigint, label: string, fire: () => void): TimerHandle {
    const entry: Entry = { deadline, seq: this.seq++, label, fire, cancelled: false };
    this.push(entry);
    return entry;
  }

  /** Cancels a timer that has not fired yet; cancelling twice or after it fired does nothing. */
  cancel(handle: TimerHandle | undefined): void {
    if (!handle || handle.cancelled) return;
    (handle as Entry).cancelled = true;
    this.cancelledCount++;
    if (this.cancelledCount > 64 && this.cancelledCount * 2 > this.heap.length) this.compact();
  }

  /** Earliest live deadline, if any. */
  nextDeadline(): bigint | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.deadline;
  }

  /** Number of armed, uncancelled timers. */
  get pending(): number {
    return this.heap.length - this.cancelledCount;
  }

  /** Fires every timer whose deadline is at or before the current time, in order. */
  runDue(): void {
    this.fireUntil(this.nowNs);
  }

  /**
   * Moves time forward to `target`, firing each timer at its own deadline (the clock reads the
   * deadline while the timer's callback runs). Timers armed by a callback fire in the same call
   * when they fall due before `target`. Moving backwards is a harness bug.
   */
  advanceTo(target: bigint): void {
    if (target < this.nowNs) throw new RangeError(`virtual time cannot go backwards: ${target} < ${this.nowNs}`);
    this.fireUntil(target);
    this.nowNs = target;
  }

  private fireUntil(limit: bigint): void {
    for (let fired = 0; ; fired++) {
      this.dropCancelledTop();
      const top = this.heap[0];
      if (!top || top.deadline > limit) return;
      if (fired >= this.maxFires) {
        throw new ClockBudgetError(`more than ${this.maxFires} timers fall due before ${limit} ns (the next: ${top.label} at ${top.deadline} ns): the step asks for more virtual work than one step may do; stop periodic timers or advance less`);
      }
      this.pop();
      top.cancelled = true; // fired: a later cancel() is a no-op and is not counted.
      if (top.deadline > this.nowNs) this.nowNs = top.deadline;
      top.fire();
    }
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && (this.heap[0] as Entry).cancelled && this.cancelledCount > 0) {
      this.pop();
      this.cancelledCount--;
    }
  }

  private compact(): void {
    const live = this.heap.filter((e) => !e.cancelled);
    this.heap = [];
    this.cancelledCount = 0;
    for (const entry of live) this.push(entry);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as Entry)) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as Entry;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Entry, heap[left] as Entry) ? right : left;
      if (!before(heap[child] as Entry, last)) break;
      heap[i] = heap[child] as Entry;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}
