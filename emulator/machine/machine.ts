import { VirtualClock, type ClockOptions } from './clock';
import { ConsoleSink } from './console';
import { GuestMemory, type GuestMemoryOptions } from './memory';
import { Vcpu, type VcpuListener, type VcpuState } from './vcpu';
import { asVcpuId } from './units';

/** A guest-visible occurrence with the virtual time it happened at. */
export type MachineEvent =
  | { readonly kind: 'upcall'; readonly vcpu: number; readonly time: bigint }
  | { readonly kind: 'vcpu-state'; readonly vcpu: number; readonly from: VcpuState; readonly to: VcpuState; readonly time: bigint }
  | { readonly kind: 'resumed'; readonly vcpu: number; readonly value: bigint; readonly time: bigint }
  | { readonly kind: 'shutdown'; readonly reason: number; readonly time: bigint };

/** How the guest left the machine, if it did. */
export type ShutdownState = { readonly reason: number; readonly time: bigint };

/** Options for {@link Machine}. */
export type MachineOptions = {
  /** Number of vCPUs. */
  readonly vcpus: number;
  /** vCPUs that start running; the rest start down. Default: all. */
  readonly online?: readonly number[];
  readonly memory: GuestMemoryOptions;
  /** Clock settings, or a clock shared with another machine (a peer domain's). */
  readonly clock?: ClockOptions | VirtualClock;
};

/**
 * What both worlds share the shape of: guest memory, vCPUs, the virtual clock and TSC, the
 * console, and a log of guest-visible events. Each world owns one Machine; a scenario's guest
 * actions are applied to both machines alike, and observations are read from them.
 */
export class Machine {
  readonly memory: GuestMemory;
  readonly clock: VirtualClock;
  readonly console = new ConsoleSink();
  readonly vcpus: readonly Vcpu[];
  private log: MachineEvent[] = [];
  private shutdownState: ShutdownState | null = null;

  constructor(options: MachineOptions) {
    if (!Number.isInteger(options.vcpus) || options.vcpus < 1 || options.vcpus > 4096) {
      throw new RangeError(`bad vCPU count ${options.vcpus}`);
    }
    this.memory = new GuestMemory(options.memory);
    this.clock = options.clock instanceof VirtualClock ? options.clock : new VirtualClock(options.clock);
    const online = new Set(options.online ?? [...Array(options.vcpus).keys()]);
    const listener: VcpuListener = {
      stateChanged: (vcpu, from, to) => this.record({ kind: 'vcpu-state', vcpu: vcpu.id, from, to, time: this.clock.now }),
      upcall: (vcpu) => this.record({ kind: 'upcall', vcpu: vcpu.id, time: this.clock.now }),
      resumed: (vcpu, value) => this.record({ kind: 'resumed', vcpu: vcpu.id, value, time: this.clock.now }),
    };
    this.vcpus = Array.from({ length: options.vcpus }, (_, i) => new Vcpu(asVcpuId(i), online.has(i) ? 'running' : 'down', listener));
  }

  /** The vCPU with this index, or undefined. */
  vcpu(id: number): Vcpu | undefined {
    return this.vcpus[id];
  }

  /** Whether the guest has shut down (and why). */
  get shutdown(): ShutdownState | null {
    return this.shutdownState;
  }

  /** Records the guest's shutdown; the first reason wins. Every vCPU stops. */
  shutDown(reason: number): void {
    if (this.shutdownState) return;
    this.shutdownState = { reason, time: this.clock.now };
    this.record({ kind: 'shutdown', reason, time: this.clock.now });
  }

  /**
   * Logs the return of a call that blocked on a vCPU, for a world whose blocked calls are
   * reported by an adapter rather than by the vCPU itself (the translated world).
   */
  recordResumed(vcpu: number, value: bigint): void {
    this.record({ kind: 'resumed', vcpu, value, time: this.clock.now });
  }

  /** Events logged since the last call; the log is cleared. */
  takeEvents(): MachineEvent[] {
    const out = this.log;
    this.log = [];
    return out;
  }

  /** Number of events waiting in the log. */
  get eventCount(): number {
    return this.log.length;
  }

  private record(event: MachineEvent): void {
    this.log.push(event);
  }
}
