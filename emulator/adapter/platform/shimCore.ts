import { HV_MSR_BITS, HV_X64_MSR } from '../../viridian/abi/msrs';
import { HV_FEATURES_EDX as EDX, HV_PRIVILEGES_EAX as EAX } from '../../viridian/abi/cpuid';
import { HV_CALL_INPUT } from '../../viridian/abi/calls';
import { HVCALL } from '../../viridian/abi/hypercalls';
import type { ShimHost } from '../host';
import { FlushPlanner } from './flushPlanner';
import type { FlushRequest } from './shimVcpu';
import { ShimVcpu } from './shimVcpu';
import type { ShimClock } from './shimClock';
import type { TimerDevice } from './timerDevice';
import { SHIM_VECTORS, ViridianDriver } from './viridianDriver';

/** Something one VP asks of another through the adapter's IPI. */
export type Mail =
  | { readonly kind: 'kick' }
  | { readonly kind: 'report'; readonly event: GuestEvent }
  | { readonly kind: 'down' }
  | { readonly kind: 'flush'; readonly op: FlushRequest }
  | { readonly kind: 'timer' };

/** A guest-visible event the adapter reports on a vCPU. */
export type GuestEvent = { readonly kind: 'upcall' } | { readonly kind: 'resumed'; readonly value: bigint };

/** ICR: fixed delivery to a destination (bits 63:56), INIT (101b, level assert), start-up (110b). */
const ICR_INIT = (5n << 8n) | (1n << 14n);
const ICR_STARTUP = 6n << 8n;
/** The start-up page the adapter's AP entry would live at (vector 0x9A: 0x9A000). */
const AP_START_PAGE = 0x9an;

/**
 * The state the adapter keeps about its processors: which VP its code is running on, which VPs
 * the hypervisor has started, mailboxes for cross-VP requests, the VP that hosts the timer, and
 * the report queue. Every cross-VP effect goes through an IPI, so a VP only ever touches its own
 * MSRs and TLB.
 */
export class ShimCore {
  readonly host: ShimHost;
  readonly driver: ViridianDriver;
  readonly flushes: FlushPlanner;
  readonly vcpus: ShimVcpu[];
  clock!: ShimClock;
  device!: TimerDevice;
  /** The VP whose code is running (the caller of the hypercall, or the interrupted VP). */
  currentVp = -1;
  private readonly stack: number[] = [];
  /** VPs the hypervisor has started at least once. */
  private readonly started: boolean[];
  private readonly mail: Mail[][];
  /** VPs that have mail and have not been sent an IPI yet. */
  private readonly toSignal = new Set<number>();
  /** The VP whose hardware timer carries the clock. */
  timerVp = 0;
  /** The domain has shut down: the partition is gone and nothing more runs on it. */
  stopped = false;
  /** VPs the adapter has halted (HLT) and that have not taken an interrupt since. */
  private readonly parked: boolean[];

  constructor(host: ShimHost, driver: ViridianDriver, online: readonly boolean[]) {
    this.host = host;
    this.driver = driver;
    this.flushes = new FlushPlanner(this);
    this.vcpus = online.map((up, i) => new ShimVcpu(this, i, up ? 'running' : 'down'));
    this.started = [...online];
    this.mail = online.map(() => []);
    this.parked = online.map(() => false);
    this.timerVp = Math.max(0, online.indexOf(true));
  }

  /** Runs adapter code on a VP. */
  enter(vp: number): void {
    this.stack.push(this.currentVp);
    this.currentVp = vp;
  }

  /** The VP took an interrupt: it is executing again. */
  woke(vp: number): void {
    this.parked[vp] = false;
  }

  /**
   * Leaves a VP: carries out queued flushes, sends the IPIs for queued mail, and halts the VP
   * when its vCPU is blocked (interrupts on) or down (interrupts off).
   */
  leave(): void {
    const vp = this.currentVp;
    if (this.stopped) {
      this.currentVp = this.stack.pop() ?? -1;
      return;
    }
    this.flushes.execute(vp);
    this.sendIpis(vp);
    const state = this.vcpus[vp]?.state;
    if (this.started[vp] && !this.parked[vp] && (state === 'blocked' || state === 'down')) {
      if (state === 'down') {
        if (vp === this.timerVp) this.moveTimer(vp);
        this.driver.offlineVp(vp);
      }
      this.parked[vp] = this.host.viridian.halt(vp, state === 'blocked') !== 'woken';
    }
    this.currentVp = this.stack.pop() ?? -1;
  }

  /** Queues a request for a VP; its IPI goes out when the current VP leaves. */
  post(vp: number, mail: Mail): void {
    if (this.stopped) return;
    (this.mail[vp] as Mail[]).push(mail);
    this.toSignal.add(vp);
  }

  /** Reports a guest event: at once on the current VP, through its IPI on another. */
  report(vcpu: number, event: GuestEvent): void {
    if (vcpu === this.currentVp) this.deliverEvent(vcpu, event);
    else this.post(vcpu, { kind: 'report', event });
  }

  private deliverEvent(vcpu: number, event: GuestEvent): void {
    if (event.kind === 'upcall') this.host.guest.upcall(vcpu);
    else this.host.guest.resumed(vcpu, event.value);
  }

  /** The adapter's IPI arrived on `vp`: works through its mail. */
  takeMail(vp: number): void {
    const box = this.mail[vp] as Mail[];
    while (box.length > 0) {
      const mail = box.shift() as Mail;
      switch (mail.kind) {
        case 'kick':
        case 'down':
          break; // waking is all a kick does; a down VP halts when the adapter leaves it
        case 'report':
          this.deliverEvent(vp, mail.event);
          break;
        case 'flush':
          this.flushes.local(vp, mail.op);
          break;
        case 'timer':
          this.clock.forgetHardware();
          break;
        default:
          mail satisfies never;
      }
    }
  }

  /** Arms the timer VP's hardware timer: directly when running there, else by asking it. */
  armTimer(deadline: bigint | undefined): void {
    if (this.stopped) return;
    if (this.currentVp === this.timerVp) this.device.program(this.timerVp, deadline);
    else this.post(this.timerVp, { kind: 'timer' });
  }

  /** The timer VP is going down: disarm its timer and hand the clock to the lowest VP still up. */
  private moveTimer(from: number): void {
    this.device.program(from, undefined);
    const next = this.vcpus.findIndex((v, i) => i !== from && v.state !== 'down');
    if (next < 0) return;
    this.timerVp = next;
    this.post(next, { kind: 'timer' });
    this.sendIpis(from);
  }

  /** VCPUOP_down on another vCPU: its VP is asked to stop. */
  vcpuDown(vcpu: number): void {
    if (vcpu !== this.currentVp) this.post(vcpu, { kind: 'down' });
  }

  /**
   * VCPUOP_up: starts the VP. A VP never started is started with HvCallStartVirtualProcessor
   * where the profile offers it; otherwise (and after it was stopped) with INIT and a start-up
   * IPI. The new VP then runs the adapter's per-VP set-up.
   */
  vcpuUp(vcpu: number): void {
    const from = this.currentVp;
    if (!this.started[vcpu] && this.driver.startVp) {
      const input = new Uint8Array(240);
      const view = new DataView(input.buffer);
      view.setBigUint64(0, HV_CALL_INPUT.HV_PARTITION_ID_SELF, true);
      view.setUint32(8, vcpu, true);
      view.setBigUint64(16, AP_START_PAGE << 12n, true); // RIP: the AP entry
      this.driver.call(from, { code: HVCALL.HVCALL_START_VP, input });
    } else {
      const dest = BigInt(vcpu) << 56n;
      this.icr(from, dest | ICR_INIT);
      this.icr(from, dest | ICR_STARTUP | AP_START_PAGE);
    }
    this.started[vcpu] = true;
    this.parked[vcpu] = false;
    this.enter(vcpu);
    this.driver.initVp(vcpu);
    this.device.initVp(vcpu);
    if (vcpu < this.timerVp || this.vcpus[this.timerVp]?.state === 'down') {
      this.timerVp = vcpu;
      this.clock.forgetHardware();
    }
    this.leave();
  }

  /** Writes the ICR: through HV_X64_MSR_ICR where the profile has the APIC MSRs, else the APIC's own register. */
  icr(vp: number, value: bigint): void {
    if (this.driver.apicMsrs) this.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_ICR, value);
    else this.host.viridian.apicIcrWrite(vp, value);
  }

  /** EOI: HV_X64_MSR_EOI where the profile recommends the APIC MSRs, else the APIC's register. */
  eoi(vp: number): void {
    if (this.stopped) return;
    if (this.driver.apicMsrs) this.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_EOI, 0n);
    else this.host.viridian.apicEoi(vp);
  }

  /**
   * Sends the adapter's IPI to every VP with mail: one synthetic cluster IPI (the Ex form for
   * VPs at 64 and above) where recommended, else one fixed IPI per VP through the ICR.
   */
  private sendIpis(from: number): void {
    if (this.toSignal.size === 0) return;
    const targets = [...this.toSignal].filter((vp) => this.started[vp]);
    this.toSignal.clear();
    if (targets.length === 0) return;
    if (this.driver.clusterIpi && targets.every((vp) => vp < 64)) {
      const input = new Uint8Array(16);
      const view = new DataView(input.buffer);
      view.setUint32(0, SHIM_VECTORS.ipi, true);
      view.setBigUint64(8, targets.reduce((m, vp) => m | (1n << BigInt(vp)), 0n), true);
      this.driver.call(from, { code: HVCALL.HVCALL_SEND_IPI, input, fast: true });
    } else if (this.driver.clusterIpi && this.driver.exMasks) {
      const set = ViridianDriver.vpSet(targets);
      const input = new Uint8Array(8 + 8 * set.words.length);
      const view = new DataView(input.buffer);
      view.setUint32(0, SHIM_VECTORS.ipi, true);
      set.words.forEach((w, i) => view.setBigUint64(8 + 8 * i, w, true));
      this.driver.call(from, { code: HVCALL.HVCALL_SEND_IPI_EX, input, varHeadSize: set.banks, fast: this.driver.xmmInput && input.length <= 112 });
    } else {
      for (const vp of targets) this.icr(from, (BigInt(vp) << 56n) | BigInt(SHIM_VECTORS.ipi));
    }
  }

  /**
   * Ends the domain the way the platform can say why: power-off and reboot through their own
   * paths (HV_X64_MSR_RESET where offered); every other reason through the crash MSRs with the
   * Xen reason in CRASH_P0, or, without crash MSRs, power-off (docs/semantics.md "Shutdown").
   */
  shutDown(reason: number): void {
    if (this.stopped) return;
    const vp = Math.max(this.currentVp, 0);
    if (reason === 0) this.host.platform.powerOff();
    else if (reason === 1) {
      if (this.driver.has('eax', EAX.HV_MSR_RESET_AVAILABLE)) this.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_RESET, 1n);
      else this.host.platform.reset();
    } else if (this.driver.has('edx', EDX.HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE)) {
      this.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_CRASH_P0, BigInt(reason));
      this.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_CRASH_CTL, HV_MSR_BITS.HV_CRASH_CTL_CRASH_NOTIFY);
    } else this.host.platform.powerOff();
    this.stopped = true;
  }
}
