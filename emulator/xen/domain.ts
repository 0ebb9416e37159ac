import { vcpu_info, SHARED_INFO, VCPU_INFO_TIME, XEN_LEGACY_MAX_VCPUS } from './abi/layouts';
import { RUNSTATE } from './abi/vcpu';
import { HVM_PARAM } from './abi/hvm_op';
import { isFault } from '../machine/memory';
import type { TimerHandle } from '../machine/clock';
import type { VcpuState } from '../machine/vcpu';
import type { GuestType } from './config';
import { ChannelTable, isUsable, type Channel } from './evtchn/channelTable';
import { GrantTable } from './grants/grantTable';
import { XenVcpu } from './xenVcpu';
import { startPeriodicWork, stopPeriodicTimer } from './timers';
import { writeVcpuTimeInfo } from './time';
import type { XenMachine, XenMemory } from './platform';

/** NR_HVM_DOMU_IRQS: the GSIs of a domU's virtual IO-APIC (xen/arch/x86/include/asm/hvm/irq.h). */
const NR_HVM_DOMU_IRQS = 48;

/** BITS_PER_EVTCHN_WORD for a domain with a 64-bit shared_info. */
export const BITS_PER_EVTCHN_WORD = 64;

/** Options for {@link XenDomain}. */
export type XenDomainInit = {
  readonly domid: number;
  readonly machine: XenMachine;
  readonly guestType: GuestType;
  readonly sharedInfoGpa: number;
  readonly maxEvtchnPort: number;
  readonly evtchnsPerBucket: number;
  readonly totPages: number;
  readonly maxPages: number;
  readonly grantTableGfn: number;
  readonly maxGrantFrames: number;
  /** Whether vCPU i starts initialised (all online vCPUs do). */
  readonly initialised: (vcpu: number) => boolean;
  /** Xen's dummy_vcpu_info, shared by every vCPU that has no vcpu_info of its own. */
  readonly dummyVcpuInfo: XenMemory;
  /** Frames reserved for Xen's own pages (shared_info and the grant frames): [first, first + count). */
  readonly xenFrames: { readonly first: number; readonly count: number };
};

/**
 * One Xen domain: its memory (the machine's), vCPUs, event channels in the 2-level ABI, grant
 * table, reservation counters, shutdown state and HVM parameters. The event delivery functions
 * follow xen/common/event_2l.c and xen/arch/x86/domain.c vcpu_mark_events_pending.
 */
export class XenDomain {
  readonly domid: number;
  readonly machine: XenMachine;
  readonly memory: XenMemory;
  readonly guestType: GuestType;
  readonly sharedInfoGpa: number;
  readonly vcpus: readonly XenVcpu[];
  readonly evtchn: ChannelTable;
  readonly grants: GrantTable;
  /** d->tot_pages: RAM pages the domain owns. */
  totPages: number;
  /** d->max_pages. */
  maxPages: number;
  /** d->shutdown_code (undefined: SHUTDOWN_CODE_INVALID). */
  shutdownCode: number | undefined;
  /** Whether domain_shutdown() ran. */
  shuttingDown = false;
  /** HVM parameters (d->arch.hvm.params). */
  readonly hvmParams = new Array<bigint>(HVM_PARAM.HVM_NR_PARAMS).fill(0n);
  /** d->vm_assist bits below 32 (VMASST_TYPE_*). */
  vmAssist = 0;
  /** d->vm_assist bit 32 (VMASST_TYPE_m2p_strict). */
  vmAssistM2pStrict = false;
  /** Per-domain console line buffer (d->console->buf). */
  consoleLine: number[] = [];
  /** Watchdog timers by id 1..2 (NR_DOMAIN_WATCHDOG_TIMERS). */
  readonly watchdogs: ({ timeoutS: number; timer: TimerHandle } | undefined)[] = [undefined, undefined];
  private readonly dummy: XenMemory;
  private readonly xenFrames: { readonly first: number; readonly count: number };

  constructor(init: XenDomainInit) {
    this.domid = init.domid;
    this.machine = init.machine;
    this.memory = init.machine.memory;
    this.guestType = init.guestType;
    this.sharedInfoGpa = init.sharedInfoGpa;
    this.dummy = init.dummyVcpuInfo;
    this.xenFrames = init.xenFrames;
    this.evtchn = new ChannelTable(init.maxEvtchnPort, init.evtchnsPerBucket);
    this.grants = new GrantTable(this, init.grantTableGfn, init.maxGrantFrames);
    this.totPages = init.totPages;
    this.maxPages = init.maxPages;
    this.vcpus = init.machine.vcpus.map(
      (hw) => new XenVcpu(hw.id, hw, hw.id < XEN_LEGACY_MAX_VCPUS ? init.sharedInfoGpa + SHARED_INFO.vcpu_info + 64 * hw.id : null, init.initialised(hw.id)),
    );
  }

  /** The vCPU with this id, or undefined (domain_vcpu()). */
  vcpu(id: number): XenVcpu | undefined {
    return Number.isInteger(id) && id >= 0 ? this.vcpus[id] : undefined;
  }

  /** Whether a frame is reserved for one of Xen's own pages (not RAM the guest owns). */
  isXenFrame(gfn: number): boolean {
    return gfn >= this.xenFrames.first && gfn < this.xenFrames.first + this.xenFrames.count;
  }

  /** Whether the domain uses HVM paging (paging_mode_translate / paging_mode_external). */
  get isHvm(): boolean {
    return this.guestType === 'pvhvm';
  }

  /** Current virtual time, Xen's NOW(). */
  get now(): bigint {
    return this.machine.clock.now;
  }

  // --- vcpu_info and shared_info access ----------------------------------------------------

  /** The memory and address that hold a vCPU's vcpu_info (the dummy for vCPUs without one). */
  vcpuInfo(v: XenVcpu): { readonly mem: XenMemory; readonly gpa: number } {
    return v.vcpuInfoGpa === null ? { mem: this.dummy, gpa: 0 } : { mem: this.memory, gpa: v.vcpuInfoGpa };
  }

  /** Reads evtchn_upcall_pending (0 when the page is not readable). */
  upcallPending(v: XenVcpu): number {
    const { mem, gpa } = this.vcpuInfo(v);
    const value = mem.read8(gpa + vcpu_info.fields.evtchn_upcall_pending.offset);
    return isFault(value) ? 0 : value;
  }

  /** Reads evtchn_upcall_mask (1 when the page is not readable). */
  upcallMask(v: XenVcpu): number {
    const { mem, gpa } = this.vcpuInfo(v);
    const value = mem.read8(gpa + vcpu_info.fields.evtchn_upcall_mask.offset);
    return isFault(value) ? 1 : value;
  }

  /** Writes evtchn_upcall_mask. */
  setUpcallMask(v: XenVcpu, value: number): void {
    const { mem, gpa } = this.vcpuInfo(v);
    mem.write8(gpa + vcpu_info.fields.evtchn_upcall_mask.offset, value);
  }

  /** Reads a bit of a shared_info bitmap (evtchn_pending or evtchn_mask). */
  private testBit(array: number, port: number): boolean {
    const byte = this.memory.read8(this.sharedInfoGpa + array + (port >> 3));
    return !isFault(byte) && ((byte >> (port & 7)) & 1) === 1;
  }

  /** Atomically sets a bit and returns its old value (guest_test_and_set_bit). */
  private testAndSetBit(mem: XenMemory, base: number, bit: number): boolean {
    const at = base + (bit >> 3);
    const byte = mem.read8(at);
    if (isFault(byte)) return false;
    const mask = 1 << (bit & 7);
    if (byte & mask) return true;
    mem.write8(at, byte | mask);
    return false;
  }

  /** Atomically clears a bit and returns its old value. */
  private testAndClearBit(mem: XenMemory, base: number, bit: number): boolean {
    const at = base + (bit >> 3);
    const byte = mem.read8(at);
    if (isFault(byte)) return false;
    const mask = 1 << (bit & 7);
    if (!(byte & mask)) return false;
    mem.write8(at, byte & ~mask);
    return true;
  }

  /** Whether a port's bit is set in evtchn_pending. */
  isPendingBit(port: number): boolean {
    return this.testBit(SHARED_INFO.evtchn_pending, port);
  }

  /** Whether a port's bit is set in evtchn_mask. */
  isMaskedBit(port: number): boolean {
    return this.testBit(SHARED_INFO.evtchn_mask, port);
  }

  // --- 2-level event channel operations (xen/common/event_2l.c) ---------------------------

  /** evtchn_port_set_pending(d, vcpu, chn) for a usable channel. */
  setPending(vcpuId: number, port: number): void {
    const chn = this.evtchn.get(port);
    if (!chn || !isUsable(chn)) return;
    const v = this.vcpus[vcpuId];
    if (!v) return;
    // evtchn_2l_set_pending: 1. test-and-set pending; already pending means nothing more.
    if (this.testAndSetBit(this.memory, this.sharedInfoGpa + SHARED_INFO.evtchn_pending, port)) return;
    // 2. unmasked: set the selector bit of the word on the notified vCPU; a 0->1 selector raises the upcall.
    if (!this.isMaskedBit(port)) {
      const { mem, gpa } = this.vcpuInfo(v);
      if (!this.testAndSetBit(mem, gpa + vcpu_info.fields.evtchn_pending_sel.offset, Math.floor(port / BITS_PER_EVTCHN_WORD))) {
        this.markEventsPending(v);
      }
    }
    // 3. wake pollers, masked or not.
    this.checkPollers(port);
  }

  /** evtchn_2l_clear_pending for a usable channel. */
  clearPending(port: number): void {
    const chn = this.evtchn.get(port);
    if (!chn || !isUsable(chn)) return;
    this.testAndClearBit(this.memory, this.sharedInfoGpa + SHARED_INFO.evtchn_pending, port);
  }

  /** evtchn_2l_unmask for a usable channel: re-raises a notification that arrived while masked. */
  unmask(port: number): void {
    const chn = this.evtchn.get(port);
    if (!chn || !isUsable(chn)) return;
    const v = this.vcpus[chn.notifyVcpu];
    if (!v) return;
    if (
      this.testAndClearBit(this.memory, this.sharedInfoGpa + SHARED_INFO.evtchn_mask, port) &&
      this.isPendingBit(port)
    ) {
      const { mem, gpa } = this.vcpuInfo(v);
      if (!this.testAndSetBit(mem, gpa + vcpu_info.fields.evtchn_pending_sel.offset, Math.floor(port / BITS_PER_EVTCHN_WORD))) {
        this.markEventsPending(v);
      }
    }
  }

  /** evtchn_is_pending for a channel (false when not usable). */
  channelPending(port: number, chn: Channel): boolean {
    return isUsable(chn) && this.isPendingBit(port);
  }

  /** vcpu_mark_events_pending (xen/arch/x86/domain.c): set upcall_pending; on 0->1 assert the callback / kick. */
  markEventsPending(v: XenVcpu): void {
    const { mem, gpa } = this.vcpuInfo(v);
    if (this.testAndSetBit(mem, gpa + vcpu_info.fields.evtchn_upcall_pending.offset, 0)) return;
    // PV: vcpu_kick. HVM (hvm_assert_evtchn_irq): a per-vCPU vector is injected; the callback
    // vector kicks; a GSI/INTx callback is a level on vCPU0 only. In every case a vCPU blocked
    // in the hypervisor is woken when its interrupt (or kick) arrives.
    if (!this.isHvm || this.hvmCallbackReaches(v)) this.unblock(v);
    this.deliverUpcall(v);
  }

  /**
   * Whether an HVM vCPU has a configured way to receive the event callback: its own upcall
   * vector, or the domain's callback via as hvm_set_callback_via decodes HVM_PARAM_CALLBACK_IRQ
   * (xen/arch/x86/hvm/irq.c): type + 1 as a u8 (1 GSI, 2 PCI INTx, 3 vector, else none); a GSI
   * is (uint8_t)via and must be non-zero and below nr_gsis (NR_HVM_DOMU_IRQS, 48). GSI and INTx
   * are a level on vCPU0 only; the vector reaches every vCPU.
   */
  hvmCallbackReaches(v: XenVcpu): boolean {
    if (v.upcallVector !== 0) return true;
    const via = this.hvmParams[HVM_PARAM.HVM_PARAM_CALLBACK_IRQ] ?? 0n;
    const viaType = (Number((via >> 56n) & 0xffn) + 1) & 0xff;
    switch (viaType) {
      case 1: {
        const gsi = Number(via & 0xffn);
        return via !== 0n && gsi !== 0 && gsi < NR_HVM_DOMU_IRQS && v.id === 0;
      }
      case 2:
        return v.id === 0;
      case 3:
        return true;
      default:
        return false;
    }
  }

  /**
   * local_events_need_delivery() for `v`: PV checks upcall_pending and upcall_mask
   * (xen/arch/x86/include/asm/event.h); HVM checks for a deliverable callback interrupt.
   */
  eventsNeedDelivery(v: XenVcpu): boolean {
    if (this.upcallPending(v) === 0) return false;
    return this.isHvm ? this.hvmCallbackReaches(v) : this.upcallMask(v) === 0;
  }

  /**
   * Enters the guest's event callback on `v` when Xen would: evtchn_upcall_pending set, events
   * deliverable (PV: upcall_mask clear), vCPU running. One entry is reported per time the
   * condition becomes true; clearing upcall_pending re-arms it (the guest's handler does that).
   */
  deliverUpcall(v: XenVcpu): void {
    if (this.upcallPending(v) === 0) {
      v.upcallDelivered = false;
      return;
    }
    // A vCPU parked inside a hypercall takes the callback only after the call returns (unblock).
    if (v.upcallDelivered || !v.hw.running || v.hw.inBlockedCall || this.shuttingDown) return;
    if (!this.eventsNeedDelivery(v)) return;
    v.upcallDelivered = true;
    v.hw.upcall();
  }

  /** evtchn_check_pollers: wake vCPUs polling this port (or any port). */
  checkPollers(port: number): void {
    for (const v of this.vcpus) {
      if (!v.inPollMask) continue;
      if (v.pollEvtchn <= 0 || v.pollEvtchn === port) {
        v.inPollMask = false;
        v.pollEvtchn = 0;
        this.unblock(v);
      }
    }
  }

  // --- run state ---------------------------------------------------------------------------

  /** vcpu_unblock: a vCPU blocked in SCHEDOP_block / poll resumes; its call returns. */
  unblock(v: XenVcpu): void {
    if (v.hw.state !== 'blocked' || !v.hw.inBlockedCall) return;
    // Polling ends when a vCPU is unblocked (xen/common/sched/core.c vcpu_unblock).
    if (v.pollEvtchn !== 0) {
      v.pollEvtchn = 0;
      v.inPollMask = false;
    }
    // The poll timer is not stopped (vcpu_unblock leaves it armed); it only wakes a vCPU that is
    // in the poll mask when it fires.
    const finish = v.onResume;
    v.onResume = undefined;
    this.setRunState(v, 'running');
    const value = finish ? finish() : 0n;
    if (value === undefined) return; // the continuation blocked the vCPU again (a multicall entry)
    v.hw.resume(value);
    this.deliverUpcall(v);
  }

  /**
   * Moves a vCPU between running, blocked and down, keeping the runstate accounting and the
   * periodic timer (which only runs while the vCPU is scheduled) in step.
   */
  setRunState(v: XenVcpu, state: VcpuState, blockedInCall = false): void {
    const now = this.now;
    const wasRunning = v.hw.state === 'running';
    if (state === 'blocked' && blockedInCall) v.hw.blockInCall();
    else v.hw.setState(state);
    v.changeRunstate(state === 'running' ? RUNSTATE.RUNSTATE_running : state === 'blocked' ? RUNSTATE.RUNSTATE_blocked : RUNSTATE.RUNSTATE_offline, now);
    if (wasRunning && state !== 'running') stopPeriodicTimer(this, v);
    if (!wasRunning && state === 'running') startPeriodicWork(this, v);
  }

  /** domain_shutdown(): the first latched reason wins; every vCPU stops. */
  shutdown(reason: number): void {
    if (this.shutdownCode === undefined) this.shutdownCode = reason & 0xff;
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const v of this.vcpus) {
      stopPeriodicTimer(this, v);
      this.machine.clock.cancel(v.singleshot);
      this.machine.clock.cancel(v.pollTimer);
    }
    for (const w of this.watchdogs) this.machine.clock.cancel(w?.timer);
    this.machine.shutDown(this.shutdownCode);
  }

  /** Writes vcpu_time_info into a vCPU's vcpu_info (force_update_vcpu_system_time). */
  updateVcpuTime(v: XenVcpu): void {
    const { mem, gpa } = this.vcpuInfo(v);
    if (mem === this.dummy) return; // !v->vcpu_info_area.map
    writeVcpuTimeInfo(mem, gpa + VCPU_INFO_TIME, this.machine.clock);
  }
}
