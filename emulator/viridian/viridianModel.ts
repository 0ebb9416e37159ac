import type { Machine } from '../machine/machine';
import { newFrame } from '../machine/memory';
import { asGfn } from '../machine/units';
import { sendIcr } from './apic';
import { resolveViridianConfig, type ViridianConfig, type ViridianOptions } from './config';
import { cpuidLeaf, type CpuidResult } from './cpuidLeaves';
import { DebugSession } from './debugSession';
import { issueHypercall, type HypercallRegisters } from './hypercall';
import { readMsr, writeMsr } from './msrs';
import { GP, WRITTEN, type HypercallOutcome, type MsrRead, type MsrWrite } from './outcome';
import { HV_SINT_POLLING_AVAILABLE, type ViridianProfile, type ViridianQuirks } from './profiles';
import { ReferenceTscPage } from './refTime';
import { RootSide } from './root';
import { SyntheticTimer, type StimerHost, type TimerExpiry } from './stimer';
import { rescanQueues, sintAutoEoi, sintVector, type SynicHost } from './synic';
import { ViridianVp, type OverlayPage, type VpStartContext } from './vp';
import { isApicTimerMsr, type ApicTimerHost } from './apicTimer';
import { HV_FEATURES_EDX } from './abi/cpuid';
import { HV_SYNIC } from './abi/synic';

/** What a guest's interrupt handler is given: the VP and the vector it accepted. */
export type InterruptHandler = (vp: number, vector: number) => void;

/** How the partition ended, if it did: the guest's crash report (CRASH_CTL and P0-P4). */
export type CrashReport = { readonly ctl: bigint; readonly params: readonly bigint[]; readonly time: bigint };

/** HLT: the VP waits for an interrupt ('halted'), had one pending ('woken'), or stopped with interrupts off ('stopped'). */
export type HaltResult = 'halted' | 'woken' | 'stopped';

/** Interrupts one deliverInterrupts() call may hand to the guest before it is called a storm (a guest bug). */
const INTERRUPT_STORM = 100_000;

/** The hypercall page's code: VMCALL (0F 01 C1) and RET (C3); the rest is INT3 (0xCC), as Xen fills it. */
const HYPERCALL_CODE = Uint8Array.of(0x0f, 0x01, 0xc1, 0xc3);

/**
 * The Viridian reference model: one partition on a machine, with the guest-visible interface of
 * Microsoft's hypervisor per the TLFS (hypercalls, synthetic MSRs, SynIC, synthetic timers,
 * reference time, CPUID), the root partition's ports for messages and events, and a debug host.
 * Pure and synchronous: time moves only through {@link advanceTo}.
 *
 * The guest-facing methods (hypercall, rdmsr, wrmsr, cpuid, rdtsc, halt, apicEoi, apicIcrWrite,
 * memory) are what an adapter may use; the rest is the environment's (tests, the root side).
 */
export class ViridianModel {
  readonly machine: Machine;
  readonly config: ViridianConfig;
  readonly vps: readonly ViridianVp[];
  readonly root: RootSide;
  readonly debug: DebugSession;
  readonly refTsc: ReferenceTscPage;
  readonly synicHost: SynicHost;
  readonly timerHost: StimerHost;
  readonly apicTimerHost: ApicTimerHost;
  /** HV_X64_MSR_GUEST_OS_ID (partition-wide). */
  guestOsId = 0n;
  /** HV_X64_MSR_HYPERCALL (partition-wide) as the guest reads it. */
  hypercallMsr = 0n;
  /** HV_X64_MSR_CRASH_P0..P4. */
  readonly crashParams: bigint[] = [0n, 0n, 0n, 0n, 0n];
  /** The crash the guest reported, if it did. */
  crash: CrashReport | undefined;
  private readonly hypercallPage: OverlayPage = { frame: newFrame(), mappedAt: undefined };
  private expiries: TimerExpiry[] = [];

  constructor(machine: Machine, options: ViridianOptions = {}) {
    this.machine = machine;
    this.config = resolveViridianConfig(options);
    const now = machine.clock.now;
    this.vps = machine.vcpus.map((hw, i) => new ViridianVp(i, hw, hw.state !== 'down', now));
    this.synicHost = {
      now: () => this.machine.clock.now,
      raise: (vp, vector) => this.raiseInterrupt(vp, vector),
      pollingAvailable: (this.profile.featuresEdx & HV_SINT_POLLING_AVAILABLE) !== 0,
    };
    this.timerHost = {
      ...this.synicHost,
      clock: machine.clock,
      directModeAvailable: (this.profile.featuresEdx & HV_FEATURES_EDX.HV_STIMER_DIRECT_MODE_AVAILABLE) !== 0,
      expired: (expiry) => this.expiries.push(expiry),
    };
    this.apicTimerHost = { clock: machine.clock, raise: (vp, vector) => this.raiseInterrupt(vp, vector) };
    for (const vp of this.vps) for (let i = 0; i < HV_SYNIC.HV_SYNIC_STIMER_COUNT; i++) vp.timers.push(new SyntheticTimer(i));
    this.root = new RootSide({ ...this.synicHost, vps: this.vps, buffersPerPort: this.config.messageBuffersPerPort });
    this.debug = new DebugSession(this.config.debugBufferBytes);
    this.refTsc = new ReferenceTscPage(this.config.firstTscSequence);
    this.hypercallPage.frame.bytes.fill(0xcc);
    this.hypercallPage.frame.bytes.set(HYPERCALL_CODE);
  }

  get profile(): ViridianProfile {
    return this.config.profile;
  }

  get quirks(): ViridianQuirks {
    return this.config.quirks;
  }

  /** Guest physical memory (the guest's own view: overlay pages included). */
  get memory(): Machine['memory'] {
    return this.machine.memory;
  }

  /** Current virtual time in ns. */
  get now(): bigint {
    return this.machine.clock.now;
  }

  /** Whether the hypercall page is enabled (which needs a guest OS id). */
  get hypercallsEnabled(): boolean {
    return (this.hypercallMsr & 1n) === 1n && this.guestOsId !== 0n;
  }

  // ---- The guest's instructions ----

  /** The hypercall instruction on a running VP. */
  hypercall(vpIndex: number, regs: HypercallRegisters): HypercallOutcome {
    return issueHypercall(this, this.runningVp(vpIndex, 'a hypercall'), regs);
  }

  /** RDMSR on a running VP: a synthetic MSR, or the architectural APIC timer's. */
  rdmsr(vpIndex: number, msr: number): MsrRead {
    const vp = this.runningVp(vpIndex, 'RDMSR');
    return isApicTimerMsr(msr) ? vp.apicTimer.read(msr) : readMsr(this, vp, msr);
  }

  /** WRMSR on a running VP. */
  wrmsr(vpIndex: number, msr: number, value: bigint): MsrWrite {
    const vp = this.runningVp(vpIndex, 'WRMSR');
    return isApicTimerMsr(msr) ? vp.apicTimer.write(this.apicTimerHost, vp, msr, BigInt.asUintN(64, value)) : writeMsr(this, vp, msr, value);
  }

  /** CPUID on a running VP. */
  cpuid(vpIndex: number, leaf: number): CpuidResult {
    this.runningVp(vpIndex, 'CPUID');
    return cpuidLeaf(this.profile, leaf >>> 0, this.guestOsId !== 0n, this.machine.clock.tscHz);
  }

  /** INVLPG on a running VP: the page's translations in the current address space, and its global ones. */
  invlpg(vpIndex: number, va: bigint): void {
    const vp = this.runningVp(vpIndex, 'INVLPG');
    vp.hw.tlb.flushPages(vp.hw.space, BigInt.asUintN(64, va));
  }

  /** MOV to CR3 on a running VP: switches the address space and drops the non-global translations. */
  writeCr3(vpIndex: number, cr3: bigint): void {
    const vp = this.runningVp(vpIndex, 'MOV CR3');
    vp.hw.space = BigInt.asUintN(64, cr3) & ~0xfffn;
    vp.hw.tlb.flushNonGlobal();
  }

  /** MOV from CR3 on a running VP. */
  readCr3(vpIndex: number): bigint {
    return this.runningVp(vpIndex, 'MOV from CR3').hw.space;
  }

  /** Toggling CR4.PGE on a running VP: drops every translation, global ones included. */
  flushTlbGlobal(vpIndex: number): void {
    this.runningVp(vpIndex, 'a CR4.PGE toggle').hw.tlb.flushAll();
  }

  /** Bytes written to the platform's serial port (COM1), which is the machine's console. */
  serialWrite(bytes: Uint8Array): void {
    this.machine.console.write(bytes);
  }

  /** RDTSC. */
  rdtsc(): bigint {
    return this.machine.clock.tsc();
  }

  /**
   * HLT on a running VP. With interrupts enabled it waits for the next interrupt that can be
   * accepted (returns 'woken' at once when one is pending); with interrupts disabled the VP
   * stops until INIT.
   */
  halt(vpIndex: number, interruptsEnabled: boolean): HaltResult {
    const vp = this.runningVp(vpIndex, 'HLT');
    if (!interruptsEnabled) {
      vp.setRun('stopped', this.now);
      return 'stopped';
    }
    if (this.canAccept(vp)) return 'woken';
    vp.setRun('halted', this.now);
    return 'halted';
  }

  /** A write to the local APIC's EOI register (the memory-mapped one, or HV_X64_MSR_EOI). */
  apicEoi(vpIndex: number): void {
    this.eoi(this.runningVp(vpIndex, 'EOI'));
  }

  /** A write to the local APIC's ICR (the memory-mapped one, or HV_X64_MSR_ICR). */
  apicIcrWrite(vp: ViridianVp | number, icr: bigint): MsrWrite {
    const sender = typeof vp === 'number' ? this.runningVp(vp, 'an ICR write') : vp;
    sender.icr = BigInt.asUintN(64, icr);
    sendIcr(this, sender, sender.icr);
    return WRITTEN;
  }

  // ---- Interrupts ----

  /**
   * Sets a vector pending at a VP's local APIC; a halted VP that can take it wakes. Vectors 0-15
   * are illegal at the local APIC whatever their source (ICR, LVT, SINT, direct timer): it
   * records an illegal-vector error and accepts nothing (Intel SDM vol. 3 10.5.2; docs/decisions.md V32).
   */
  raiseInterrupt(vp: ViridianVp, vector: number): void {
    if (vp.run === 'not-started' || vp.run === 'stopped' || vector < 16) return;
    vp.hw.raiseInterrupt(vector);
    if (vp.run === 'halted' && this.canAccept(vp)) vp.setRun('running', this.now);
  }

  /** Whether the highest pending vector outranks the highest one in service (Intel SDM 10.8.3.1; TPR not modelled). */
  canAccept(vp: ViridianVp): boolean {
    const pending = vp.hw.peekInterrupt();
    if (pending === undefined) return false;
    const inService = vp.highestInService();
    return inService < 0 || pending >> 4 > inService >> 4;
  }

  /**
   * The VP accepts its highest pending vector: it moves to in-service, unless it is the vector of
   * an auto-EOI SINT, which the hypervisor EOIs at once ("SINTx Registers", AutoEOI).
   */
  acceptInterrupt(vp: ViridianVp): number | undefined {
    if (!this.canAccept(vp)) return undefined;
    const vector = vp.hw.takeInterrupt() as number;
    let autoEoi = false;
    for (let sint = 0; sint < HV_SYNIC.HV_SYNIC_SINT_COUNT; sint++) if (sintAutoEoi(vp, sint) && sintVector(vp, sint) === vector) autoEoi = true;
    if (autoEoi) rescanQueues(this.synicHost, vp);
    else vp.isr[vector] = 1;
    return vector;
  }

  /** EOI: ends the highest in-service vector and rescans the VP's message queues ("Messages": EOI is a rescan point). */
  eoi(vp: ViridianVp): void {
    const vector = vp.highestInService();
    if (vector >= 0) vp.isr[vector] = 0;
    rescanQueues(this.synicHost, vp);
  }

  /**
   * Hands every interrupt that running (or just woken) VPs can accept to the guest's handler, in
   * VP order, until none is left. The handler may make hypercalls, EOI, and so on.
   */
  deliverInterrupts(handler: InterruptHandler): number {
    // A partition that has shut down runs nothing more.
    if (this.machine.shutdown) return 0;
    let delivered = 0;
    for (let progress = true; progress; ) {
      progress = false;
      for (const vp of this.vps) {
        if (vp.run !== 'running') continue;
        const vector = this.acceptInterrupt(vp);
        if (vector === undefined) continue;
        if (++delivered > INTERRUPT_STORM) throw new Error(`[viridian] interrupt storm: more than ${INTERRUPT_STORM} interrupts in one delivery`);
        handler(vp.index, vector);
        progress = true;
      }
    }
    return delivered;
  }

  /**
   * Moves virtual time to `target`, stopping at every timer deadline on the way so that the
   * handler (if given) takes the interrupts of that instant at that instant.
   */
  advanceTo(target: bigint, handler?: InterruptHandler): void {
    const clock = this.machine.clock;
    for (let next = clock.nextDeadline(); next !== undefined && next <= target; next = clock.nextDeadline()) {
      clock.advanceTo(next);
      if (handler) this.deliverInterrupts(handler);
    }
    clock.advanceTo(target);
    if (handler) this.deliverInterrupts(handler);
  }

  /** Timer expiries since the last call (the log is cleared). */
  takeExpiries(): TimerExpiry[] {
    const out = this.expiries;
    this.expiries = [];
    return out;
  }

  // ---- Processors ----

  /** Starts a VP that has not started (HvCallStartVirtualProcessor, or SIPI after INIT). */
  startVp(vp: ViridianVp, context: VpStartContext): void {
    vp.startContext = context;
    vp.hw.tlb.flushAll();
    vp.waitingForSipi = false;
    vp.hw.space = context.cr3 & ~0xfffn;
    vp.setRun('running', this.now);
  }

  /** INIT: the VP drops what it was doing and waits for a start-up IPI; INIT also empties its TLB (Intel SDM vol. 3 9.1). */
  initVp(vp: ViridianVp): void {
    vp.hw.clearInterrupts();
    vp.hw.tlb.flushAll();
    vp.isr.fill(0);
    vp.waitingForSipi = true;
    vp.setRun('not-started', this.now);
  }

  // ---- Partition-wide MSR state ----

  /** HV_X64_MSR_GUEST_OS_ID: clearing it disables the hypercall page (TLFS "Establishing the Hypercall Interface"). */
  setGuestOsId(value: bigint): void {
    this.guestOsId = value;
    if (value === 0n && (this.hypercallMsr & 1n) === 1n) {
      this.hypercallMsr &= ~1n;
      this.placeOverlay(this.hypercallPage, undefined, false);
    }
  }

  /**
   * HV_X64_MSR_HYPERCALL: bit 0 enable, bit 1 Locked (the model offers no lock, CPUID EDX bit
   * 18, so the bit is not kept), 11:2 RsvdP, 63:12 the page, which must be inside the GPA space
   * (#GP otherwise). Without a guest OS id the enable bit stays clear (TLFS; V17 for KVM and Xen).
   */
  writeHypercallMsr(value: bigint): MsrWrite {
    // KVM kvm_hv_set_msr_pw drops every write while the guest OS id is 0.
    if (this.guestOsId === 0n && this.quirks.hypercallWithoutOsId === 'write-ignored') return WRITTEN;
    if (value >> 12n >= BigInt(this.memory.addressSpacePages)) return GP;
    let next = value & ~2n;
    if (this.guestOsId === 0n && (next & 1n) === 1n) {
      switch (this.quirks.hypercallWithoutOsId) {
        case 'enable-stays-clear':
          next &= ~1n;
          break;
        case 'write-ignored':
        case 'stored':
          break;
        default:
          return this.quirks.hypercallWithoutOsId satisfies never;
      }
    }
    this.hypercallMsr = next;
    this.placeOverlay(this.hypercallPage, (next & 1n) === 1n ? next >> 12n : undefined, false);
    return WRITTEN;
  }

  /**
   * HV_X64_MSR_REFERENCE_TSC: bit 0 enable, 11:1 RsvdP, 63:12 the page. Enabling publishes the
   * page (a new TscSequence) as a read-only overlay. A page beyond the GPA space "will not be
   * accessible to the guest" (TLFS timers.md): the value is kept and nothing is mapped.
   */
  writeReferenceTscMsr(value: bigint): MsrWrite {
    this.refTsc.msr = value;
    const enabled = (value & 1n) === 1n;
    if (enabled) this.refTsc.publish(this.machine.clock, this.config.tscPageValid);
    this.placeOverlay(this.refTsc, enabled ? value >> 12n : undefined, false);
    return WRITTEN;
  }

  /** The environment republishes the reference TSC page (as after a migration): a new sequence, or 0 for "use the MSR". */
  republishTscPage(valid: boolean): void {
    this.refTsc.publish(this.machine.clock, valid);
  }

  /**
   * Maps (or moves, or removes) a hypervisor-owned overlay page. Where the GPA already holds
   * another overlay the TLFS calls the result undefined; the model leaves the page unmapped.
   */
  placeOverlay(page: OverlayPage, gfn: bigint | undefined, writable: boolean): void {
    if (page.mappedAt !== undefined && BigInt(page.mappedAt) === gfn) return;
    if (page.mappedAt !== undefined) {
      this.memory.unmapForeign(asGfn(page.mappedAt), true);
      page.mappedAt = undefined;
    }
    if (gfn === undefined || gfn >= BigInt(this.memory.addressSpacePages)) return;
    if (this.memory.mapForeign(asGfn(Number(gfn)), page.frame, writable)) page.mappedAt = Number(gfn);
  }

  // ---- How the partition ends ----

  /** HV_X64_MSR_RESET, or the platform's reset: the machine reboots (SHUTDOWN_reboot). */
  platformReset(): void {
    this.machine.shutDown(1);
  }

  /** The platform's power-off (ACPI S5): the machine powers off (SHUTDOWN_poweroff). */
  platformPowerOff(): void {
    this.machine.shutDown(0);
  }

  /** CRASH_CTL with CrashNotify: the guest reports a crash (SHUTDOWN_crash) with P0-P4. */
  crashNotify(ctl: bigint): void {
    this.crash ??= { ctl, params: [...this.crashParams], time: this.now };
    this.machine.shutDown(3);
  }

  // ---- Helpers ----

  private runningVp(index: number, what: string): ViridianVp {
    const vp = this.vps[index];
    if (!vp) throw new Error(`[viridian] no VP ${index}`);
    if (this.machine.shutdown) throw new Error(`[viridian] the partition has shut down; VP ${index} cannot run ${what}`);
    if (vp.run !== 'running') throw new Error(`[viridian] VP ${index} is ${vp.run}; it cannot run ${what}`);
    return vp;
  }
}
