import type { VirtualClock } from '../machine/clock';
import type { ConsoleSink } from '../machine/console';
import type { GuestMemory } from '../machine/memory';
import type { Tlb } from '../machine/tlb';
import type { Vcpu } from '../machine/vcpu';

/*
 * What the Xen model's hypervisor logic needs from the machine it runs on. The Xen world gives
 * it the shared machine itself (Machine, VirtualClock, Vcpu and GuestMemory satisfy these types
 * structurally); the reference adapter gives it a machine built on the Viridian guest interface,
 * the way Xen's own pv-shim runs Xen's code on another hypervisor.
 */

/** Guest memory as the logic uses it: accessors and the p2m operations memory_op and grant maps make. */
export type XenMemory = Pick<
  GuestMemory,
  | 'addressSpacePages'
  | 'populatedPages'
  | 'inSpace'
  | 'isPopulated'
  | 'populate'
  | 'depopulate'
  | 'frameOf'
  | 'mapForeign'
  | 'isForeign'
  | 'foreignMapping'
  | 'unmapForeign'
  | 'check'
  | 'read8'
  | 'read16'
  | 'read32'
  | 'read64'
  | 'write8'
  | 'write16'
  | 'write32'
  | 'write64'
  | 'readBytes'
  | 'writeBytes'
  | 'writeBytesPartial'
> & {
  /** Forgets the pages written so far (the domain builder's writes are not a step's changes). */
  takeDirty?(): unknown;
};

/** Xen's NOW(), its timers and the TSC that vcpu_time_info describes. */
export type XenClock = Pick<VirtualClock, 'now' | 'tscHz' | 'tsc' | 'schedule' | 'cancel' | 'runDue'>;

/** The TLB operations of mmuext_op. */
export type XenTlb = Pick<Tlb, 'flushAll' | 'flushNonGlobal' | 'flushPages' | 'flushSpace'>;

/** A vCPU as the logic drives it: run state, blocked calls, the event upcall, its TLB. */
export type XenHwVcpu = Pick<Vcpu, 'id' | 'state' | 'running' | 'inBlockedCall' | 'setState' | 'blockInCall' | 'resume' | 'upcall'> & {
  /** Current address space (CR3 base) for local flushes. */
  readonly space: bigint;
  readonly tlb: XenTlb;
};

/** The machine a Xen domain runs on. */
export type XenMachine = {
  readonly memory: XenMemory;
  readonly clock: XenClock;
  readonly vcpus: readonly XenHwVcpu[];
  readonly console: Pick<ConsoleSink, 'write'>;
  /** The domain has shut down with this SHUTDOWN_* reason. */
  shutDown(reason: number): void;
  /** Forgets the events logged so far (the domain builder's are not a step's). */
  takeEvents?(): unknown;
};
