import { newFrame, type Frame } from '../machine/memory';
import type { Vcpu } from '../machine/vcpu';
import { HV_SYNIC } from './abi/synic';
import { ApicTimer } from './apicTimer';
import type { SyntheticTimer } from './stimer';
import type { QueuedMessage } from './synic';

/**
 * Where a virtual processor is, as the guest can tell.
 * - not-started: never started, or reset by INIT and waiting for a start (SIPI or
 *   HvCallStartVirtualProcessor).
 * - running: executing guest code.
 * - halted: in HLT with interrupts enabled; the next interrupt wakes it.
 * - stopped: in HLT with interrupts disabled; only INIT brings it back (how a guest takes a
 *   processor offline).
 */
export type VpRunState = 'not-started' | 'running' | 'halted' | 'stopped';

/** The initial register state a started VP begins with (the parts the model keeps). */
export type VpStartContext = { readonly rip: bigint; readonly rsp: bigint; readonly cr3: bigint; readonly via: 'HvCallStartVirtualProcessor' | 'SIPI' };

/** An overlay page the hypervisor owns (SIM, SIEF) and where it is mapped, if it is. */
export type OverlayPage = { readonly frame: Frame; mappedAt: number | undefined };

/** An overlay page whose storage is made when first used (most VPs never enable their SynIC pages). */
export function lazyOverlay(): OverlayPage {
  let frame: Frame | undefined;
  return {
    get frame(): Frame {
      frame ??= newFrame();
      return frame;
    },
    mappedAt: undefined,
  };
}

/**
 * One virtual processor of the partition: its SynIC registers and pages, its synthetic timers,
 * the in-service part of its local APIC (the pending part is the machine vCPU's IRR), and its
 * run state. Register reset values are the TLFS's (SCONTROL, SIEFP, SIMP 0; SINTx 0x10000).
 */
export class ViridianVp {
  readonly index: number;
  readonly hw: Vcpu;
  run: VpRunState;
  /** Set by INIT: the next SIPI starts the VP. */
  waitingForSipi = false;
  startContext: VpStartContext | undefined;

  scontrol = 0n;
  siefp = 0n;
  simp = 0n;
  readonly sints: bigint[] = Array.from({ length: HV_SYNIC.HV_SYNIC_SINT_COUNT }, () => BigInt(HV_SYNIC.HV_SYNIC_SINT_MASKED));
  /** Messages waiting for their SIM slot, per SINT, oldest first. */
  readonly queues: QueuedMessage[][] = Array.from({ length: HV_SYNIC.HV_SYNIC_SINT_COUNT }, () => []);
  readonly sim: OverlayPage = lazyOverlay();
  readonly sief: OverlayPage = lazyOverlay();
  readonly timers: SyntheticTimer[] = [];
  /** The architectural local APIC timer (TSC-deadline mode). */
  readonly apicTimer = new ApicTimer();

  vpAssist = 0n;
  icr = 0n;
  tpr = 0n;
  /** Vectors in service at the local APIC (accepted, not yet EOI'd). */
  readonly isr = new Uint8Array(256);
  /** HvCallNotifyLongSpinWait calls made from this VP. */
  spinWaitNotifications = 0;

  /** Virtual time (ns) the VP has spent running before the current stretch, and when that stretch began. */
  private runtimeNs = 0n;
  private runningSince: bigint | undefined;

  constructor(index: number, hw: Vcpu, startsRunning: boolean, now: bigint) {
    this.index = index;
    this.hw = hw;
    this.run = startsRunning ? 'running' : 'not-started';
    if (startsRunning) this.runningSince = now;
  }

  /** Moves the VP to a new run state and keeps the machine vCPU's state in step. */
  setRun(next: VpRunState, now: bigint): void {
    if (this.run === 'running' && next !== 'running' && this.runningSince !== undefined) {
      this.runtimeNs += now - this.runningSince;
      this.runningSince = undefined;
    }
    if (next === 'running' && this.run !== 'running') this.runningSince = now;
    this.run = next;
    this.hw.setState(next === 'running' ? 'running' : next === 'halted' ? 'blocked' : 'down');
  }

  /** HV_X64_MSR_VP_RUNTIME: time spent running, in 100 ns units. */
  runtime(now: bigint): bigint {
    const current = this.runningSince === undefined ? 0n : now - this.runningSince;
    return (this.runtimeNs + current) / 100n;
  }

  /** The highest vector in service, or -1. */
  highestInService(): number {
    for (let v = 255; v >= 16; v--) if (this.isr[v] === 1) return v;
    return -1;
  }
}
