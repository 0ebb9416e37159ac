import type { VcpuState } from '../../machine/vcpu';
import { asVcpuId, type VcpuId } from '../../machine/units';
import type { XenTlb } from '../../xen/platform';
import type { ShimCore } from './shimCore';

/** A TLB operation the logic asked for on one vCPU; carried out by the flush planner when the call ends. */
export type FlushRequest =
  | { readonly kind: 'all' }
  | { readonly kind: 'non-global' }
  | { readonly kind: 'pages'; readonly va: bigint; readonly pages: bigint };

/** A vCPU's TLB as the logic sees it: each operation is queued for the flush planner. */
class ShimTlb implements XenTlb {
  private readonly core: ShimCore;
  private readonly vcpu: number;

  constructor(core: ShimCore, vcpu: number) {
    this.core = core;
    this.vcpu = vcpu;
  }

  flushAll(): void {
    this.core.flushes.request(this.vcpu, { kind: 'all' });
  }

  flushNonGlobal(): void {
    this.core.flushes.request(this.vcpu, { kind: 'non-global' });
  }

  /** A space's entries: for a remote vCPU the adapter does not know the space, so all its non-global entries go (a superset). */
  flushSpace(_space: bigint, nonGlobalOnly: boolean): void {
    this.core.flushes.request(this.vcpu, { kind: nonGlobalOnly ? 'non-global' : 'all' });
  }

  /** A page in one space (or every space): the adapter flushes it in every space (a superset). */
  flushPages(_space: bigint | undefined, va: bigint, pages = 1n): void {
    this.core.flushes.request(this.vcpu, { kind: 'pages', va, pages });
  }
}

/**
 * A Xen vCPU as the logic drives it, carried out on its Viridian VP:
 * - blocked (SCHEDOP_block, poll): the VP halts with interrupts enabled when the call returns;
 * - down (VCPUOP_down): the VP halts with interrupts disabled;
 * - up (VCPUOP_up): the VP is started (HvCallStartVirtualProcessor, or INIT and SIPI);
 * - an upcall, or the return of a blocked call, on another vCPU: that VP is sent an IPI and
 *   reports it when it takes the IPI (at the same instant).
 */
export class ShimVcpu {
  readonly id: VcpuId;
  private readonly core: ShimCore;
  private current: VcpuState;
  private blockedCall = false;
  readonly tlb: XenTlb;
  /** The logic's idea of the address space (unused: local flushes use the VP's own CR3). */
  space = 0n;

  constructor(core: ShimCore, id: number, initial: VcpuState) {
    this.core = core;
    this.id = asVcpuId(id);
    this.current = initial;
    this.tlb = new ShimTlb(core, id);
  }

  get state(): VcpuState {
    return this.current;
  }

  get running(): boolean {
    return this.current === 'running';
  }

  get inBlockedCall(): boolean {
    return this.blockedCall;
  }

  setState(next: VcpuState): void {
    const from = this.current;
    if (next === from) return;
    this.current = next;
    const id = this.id as number;
    if (next === 'down') {
      this.core.vcpuDown(id);
    } else if (next === 'running' && from === 'down') {
      this.core.vcpuUp(id);
    } else if (next === 'running' && from === 'blocked') {
      // Woken from another VP: an IPI wakes the halted VP; on its own VP it is awake already.
      if (this.core.currentVp !== id) this.core.post(id, { kind: 'kick' });
    }
    // 'blocked' takes effect when the adapter leaves the VP (ShimCore.leave halts it).
  }

  blockInCall(): void {
    this.blockedCall = true;
    this.setState('blocked');
  }

  resume(value: bigint): void {
    if (!this.blockedCall) return;
    this.blockedCall = false;
    if (this.current !== 'running') this.setState('running');
    this.core.report(this.id as number, { kind: 'resumed', value });
  }

  upcall(): void {
    this.core.report(this.id as number, { kind: 'upcall' });
  }
}
