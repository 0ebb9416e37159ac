import type { TimerHandle } from '../machine/clock';
import type { XenHwVcpu } from './platform';
import { VIRQ } from './abi/event_channel';
import { RUNSTATE } from './abi/vcpu';

/** A vcpu_runstate_info as Xen keeps it (struct vcpu runstate). */
export type Runstate = {
  state: number;
  entryTime: bigint;
  /** Time spent in RUNSTATE_running, _runnable, _blocked, _offline. */
  readonly time: [bigint, bigint, bigint, bigint];
};

/**
 * Xen's per-vCPU state (struct vcpu in xen/include/xen/sched.h), next to the machine vCPU that
 * holds the run state the guest can see.
 */
export class XenVcpu {
  /**
   * Guest-physical address of this vCPU's vcpu_info: inside shared_info for vCPUs below
   * XEN_LEGACY_MAX_VCPUS, the registered area after VCPUOP_register_vcpu_info, or null while the
   * vCPU uses Xen's dummy_vcpu_info (xen/common/domain.c).
   */
  vcpuInfoGpa: number | null;
  /** Whether VCPUOP_register_vcpu_info succeeded (vcpu_info_area.pg in 4.18+). */
  vcpuInfoRegistered = false;
  /** v->is_initialised. */
  initialised: boolean;
  /** v->virq_to_evtchn[]. 0 means unbound. */
  readonly virqToEvtchn = new Int32Array(VIRQ.NR_VIRQS);
  /** v->singleshot_timer. */
  singleshot: TimerHandle | undefined;
  /** v->periodic_period (0: off). */
  periodicPeriod = 0n;
  /** v->periodic_last_event. */
  periodicLast = 0n;
  /** v->periodic_timer, armed only while the vCPU runs (xen/common/sched/core.c sched_context_switch). */
  periodicTimer: TimerHandle | undefined;
  /** v->poll_evtchn: 0 not polling, -1 any port, else the one port polled. */
  pollEvtchn = 0;
  /** Whether the vCPU's bit is set in d->poll_mask. */
  inPollMask = false;
  /** v->poll_timer. */
  pollTimer: TimerHandle | undefined;
  /** MCSF_in_multicall. */
  inMulticall = false;
  /** HVM per-vCPU upcall vector (HVMOP_set_evtchn_upcall_vector); 0 when unset. */
  upcallVector = 0;
  /**
   * Whether the guest's event callback has been entered for the current setting of
   * evtchn_upcall_pending; cleared when the guest clears the flag. See XenDomain.deliverUpcall.
   */
  upcallDelivered = false;
  /**
   * The work to finish when a blocked call resumes: returns the call's value, or undefined when
   * the continuation blocked the vCPU again (a later multicall entry blocking). Unset: returns 0.
   */
  onResume: (() => bigint | undefined) | undefined;
  readonly runstate: Runstate;

  readonly id: number;
  /** The machine vCPU whose run state the guest sees. */
  readonly hw: XenHwVcpu;

  constructor(id: number, hw: XenHwVcpu, vcpuInfoGpa: number | null, initialised: boolean) {
    this.id = id;
    this.hw = hw;
    this.vcpuInfoGpa = vcpuInfoGpa;
    this.initialised = initialised;
    this.runstate = {
      state: hw.state === 'down' ? RUNSTATE.RUNSTATE_offline : RUNSTATE.RUNSTATE_running,
      entryTime: 0n,
      time: [0n, 0n, 0n, 0n],
    };
  }

  /** vcpu_runstate_change(): accounts the time spent in the old state. */
  changeRunstate(state: number, now: bigint): void {
    if (state === this.runstate.state) return;
    const delta = now - this.runstate.entryTime;
    if (delta > 0n) this.runstate.time[this.runstate.state] = (this.runstate.time[this.runstate.state] as bigint) + delta;
    this.runstate.state = state;
    this.runstate.entryTime = now;
  }
}
