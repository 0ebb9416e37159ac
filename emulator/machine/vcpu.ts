import { Tlb } from './tlb';
import type { VcpuId } from './units';

/**
 * What a vCPU is doing, as a guest (and the Xen ABI) can tell: running guest code, blocked in the
 * hypervisor waiting for an event (SCHEDOP_block / poll, or HLT), or down (offline).
 */
export type VcpuState = 'running' | 'blocked' | 'down';

/** Receives a vCPU's guest-visible changes; the machine implements it to keep its event log. */
export type VcpuListener = {
  stateChanged(vcpu: Vcpu, from: VcpuState, to: VcpuState): void;
  upcall(vcpu: Vcpu): void;
  resumed(vcpu: Vcpu, value: bigint): void;
};

/**
 * One virtual CPU of the shared machine: its run state, its current address space and TLB, the
 * interrupt vectors pending at its local APIC (used by the Viridian side), and the upcall entry
 * through which event-channel notifications reach the guest kernel.
 */
export class Vcpu {
  /** Current address space (CR3 base) used by local flushes and TLB fills. */
  space = 0n;
  /** The vCPU's TLB. */
  readonly tlb = new Tlb();
  private current: VcpuState;
  private readonly irr = new Uint8Array(256);
  private irrCount = 0;
  /** A hypercall that blocked this vCPU and has not returned yet. */
  private blockedCall = false;

  readonly id: VcpuId;
  private readonly listener: VcpuListener;

  constructor(id: VcpuId, initial: VcpuState, listener: VcpuListener) {
    this.id = id;
    this.listener = listener;
    this.current = initial;
  }

  /** The vCPU's run state. */
  get state(): VcpuState {
    return this.current;
  }

  /** Whether the vCPU is executing guest code. */
  get running(): boolean {
    return this.current === 'running';
  }

  /** Changes the run state; no-op when unchanged. */
  setState(next: VcpuState): void {
    if (next === this.current) return;
    const from = this.current;
    this.current = next;
    this.listener.stateChanged(this, from, next);
  }

  /** Marks that the vCPU is parked inside a hypercall that will return later. */
  blockInCall(): void {
    this.blockedCall = true;
    this.setState('blocked');
  }

  /** Whether the vCPU is parked inside a hypercall. */
  get inBlockedCall(): boolean {
    return this.blockedCall;
  }

  /** Wakes a vCPU parked in a hypercall; the call returns `value` to the guest. */
  resume(value: bigint): void {
    if (!this.blockedCall) return;
    this.blockedCall = false;
    this.setState('running');
    this.listener.resumed(this, value);
  }

  /** The guest's event upcall (callback) runs on this vCPU. */
  upcall(): void {
    this.listener.upcall(this);
  }

  /** Sets an interrupt vector pending at the local APIC. */
  raiseInterrupt(vector: number): void {
    if (vector < 0 || vector > 255) throw new RangeError(`bad interrupt vector ${vector}`);
    if (this.irr[vector] === 0) {
      this.irr[vector] = 1;
      this.irrCount++;
    }
  }

  /** Whether any interrupt vector is pending. */
  get hasPendingInterrupt(): boolean {
    return this.irrCount > 0;
  }

  /** The highest pending vector without taking it, if any. */
  peekInterrupt(): number | undefined {
    if (this.irrCount === 0) return undefined;
    for (let vector = 255; vector >= 0; vector--) if (this.irr[vector] === 1) return vector;
    return undefined;
  }

  /** Drops every pending vector (INIT clears the IRR). */
  clearInterrupts(): void {
    this.irr.fill(0);
    this.irrCount = 0;
  }

  /** Takes the highest pending vector (the local APIC's priority order), if any. */
  takeInterrupt(): number | undefined {
    if (this.irrCount === 0) return undefined;
    for (let vector = 255; vector >= 0; vector--) {
      if (this.irr[vector] === 1) {
        this.irr[vector] = 0;
        this.irrCount--;
        return vector;
      }
    }
    return undefined;
  }

  /** The pending vectors, ascending (for observation and traces). */
  pendingInterrupts(): number[] {
    const out: number[] = [];
    for (let vector = 0; vector < 256; vector++) if (this.irr[vector] === 1) out.push(vector);
    return out;
  }
}
