import { GuestMemory, isFault } from '../machine/memory';
import { Tlb } from '../machine/tlb';
import { asVcpuId } from '../machine/units';
import type { VcpuState } from '../machine/vcpu';
import { HV_PRIVILEGES_EAX as EAX } from '../viridian/abi/cpuid';
import { HVCALL } from '../viridian/abi/hypercalls';
import { HV_X64_MSR } from '../viridian/abi/msrs';
import { HV_MESSAGE_FLAG_PENDING } from '../viridian/abi/layouts';
import { resolveXenConfig } from '../xen/config';
import { SCHEDOP } from '../xen/abi/sched';
import { errno, type XenOutcome } from '../xen/outcome';
import type { XenHwVcpu, XenMachine } from '../xen/platform';
import type { HypercallArgs, HypercallContext } from '../xen/hypercalls/types';
import { XenModel } from '../xen/xenModel';
import type { ShimCallResult, ShimHost } from './host';
import { PeerService } from './peerService';
import { ShimClock } from './platform/shimClock';
import { ShimCore } from './platform/shimCore';
import { ShimMemory } from './platform/shimMemory';
import { TimerDevice } from './platform/timerDevice';
import { SHIM_VECTORS, TIMER_SINT, ViridianDriver } from './platform/viridianDriver';
import { TRANSLATIONS } from './translations';

/**
 * Faults to inject, only to build deliberately broken adapters for xvc's own tests (the
 * contract and the fuzzer must catch them); xvc never sets them.
 */
export type ReferenceAdapterFaults = {
  /** Round timer deadlines down to the 100 ns tick and fire them there: up to 99 ns early. */
  readonly timerRoundsDown?: boolean;
  /** Leave VPs 64 and above out of every TLB flush, as an adapter that builds a 64-bit processor mask and drops the rest. */
  readonly flushDropsHighVps?: boolean;
  /** Ignore evtchn_mask when an event arrives: a masked port still sets the selector and raises the upcall. */
  readonly deliversMasked?: boolean;
};

/** The reference adapter's identity. */
export const REFERENCE_ADAPTER = { name: 'xvc-reference-adapter', version: '1.0.0' } as const;

/** The machine the Xen logic runs on inside the adapter. */
type ShimMachine = XenMachine & { readonly vcpus: ShimCore['vcpus'] };

/** dom0's copy inside the adapter: a vCPU that is always running and reports nothing. */
class PeerVcpu implements XenHwVcpu {
  readonly id = asVcpuId(0);
  state: VcpuState = 'running';
  readonly space = 0n;
  readonly tlb = new Tlb();
  get running(): boolean {
    return this.state === 'running';
  }
  get inBlockedCall(): boolean {
    return false;
  }
  setState(next: VcpuState): void {
    this.state = next;
  }
  blockInCall(): void {}
  resume(): void {}
  upcall(): void {}
}

/**
 * The Xen logic with the adapter's decisions in front of every dispatch (multicall entries
 * included): rejected numbers get Xen's answer at once, and SCHEDOP_yield also tells the
 * hypervisor about the long spin where it recommends that.
 */
class ShimXenModel extends XenModel<ShimMachine> {
  onYield: () => void = () => undefined;

  override dispatch(ctx: HypercallContext, nr: bigint, args: HypercallArgs): XenOutcome {
    const name = XenModel.hypercallName(Number(BigInt.asUintN(64, nr)));
    const decision = name === undefined || BigInt.asUintN(64, nr) > 0xffn ? undefined : TRANSLATIONS[name as keyof typeof TRANSLATIONS];
    if (decision?.kind === 'rejected') return errno(decision.errno);
    if (name === 'sched_op' && BigInt.asIntN(32, args[0]) === BigInt(SCHEDOP.SCHEDOP_yield)) this.onYield();
    return super.dispatch(ctx, nr, args);
  }
}

/**
 * The reference Xen-to-Viridian adapter. It runs Xen's guest-visible logic (the Xen model's
 * code, as Xen's pv-shim runs Xen's) on a machine made of the Viridian guest interface: Xen's
 * timers on synthetic timers, blocking on HLT, vCPU bring-up on HvCallStartVirtualProcessor or
 * INIT/SIPI, TLB flushes on the flush hypercalls, cross-vCPU wake-ups on IPIs, the peer domain
 * through the root partition, shutdown through the reset and crash MSRs. Every Viridian
 * operation goes through the host's guest view; nothing reaches into the model.
 */
export class ReferenceAdapter {
  readonly name = REFERENCE_ADAPTER.name;
  readonly version = REFERENCE_ADAPTER.version;
  /** The frames the adapter uses for itself (never to be handed to the guest). */
  readonly privateFrames: readonly number[];
  private readonly core: ShimCore;
  private readonly xen: ShimXenModel;
  private readonly peer: PeerService;
  private readonly host: ShimHost;

  constructor(host: ShimHost, faults: ReferenceAdapterFaults = {}) {
    this.host = host;
    const driver = new ViridianDriver(host);
    this.privateFrames = driver.layout.all;
    const vps = host.viridian.vpCount;
    const online = Array.from({ length: vps }, (_, i) => host.xen.online.includes(i));
    const core = new ShimCore(host, driver, online);
    this.core = core;
    core.enter(0);
    driver.boot();
    const tscHz = driver.has('eax', EAX.HV_ACCESS_FREQUENCY_MSRS) ? driver.rdmsr(0, HV_X64_MSR.HV_X64_MSR_TSC_FREQUENCY) : cpuidTscHz(host);
    // The domain is built at time 0: the TSC read now is the TSC at Xen's system time 0.
    const tscAtBoot = host.viridian.rdtsc();
    const early = faults.timerRoundsDown === true;
    core.device = new TimerDevice(driver, tscHz, tscAtBoot, early);
    core.clock = new ShimClock({ rdtsc: () => host.viridian.rdtsc(), arm: (deadline) => core.armTimer(deadline) }, tscHz, tscAtBoot, early ? 99n : 0n);
    for (let vp = 0; vp < vps; vp++) {
      if (!online[vp]) continue;
      core.enter(vp);
      driver.initVp(vp);
      core.device.initVp(vp);
      core.leave();
    }
    const memory = new ShimMemory(host.memory, host.platform, host.xen.guestFrames);
    const machine: ShimMachine = {
      memory,
      clock: core.clock,
      vcpus: core.vcpus,
      console: { write: (bytes) => host.platform.serialWrite(bytes) },
      shutDown: (reason) => core.shutDown(reason),
    };
    const config = resolveXenConfig(host.xen.options, { ramPages: memory.populatedPages, addressSpacePages: memory.addressSpacePages });
    const peerMachine: XenMachine = {
      memory: new GuestMemory({ ramPages: config.peerPages, addressSpacePages: config.peerPages * 2 }),
      clock: core.clock,
      vcpus: [new PeerVcpu()],
      console: { write: () => undefined },
      shutDown: () => undefined,
    };
    this.xen = new ShimXenModel(machine, host.xen.options, peerMachine);
    this.xen.onYield = () => this.notifyLongSpinWait();
    if (faults.deliversMasked === true) this.xen.guest.isMaskedBit = () => false;
    core.flushes.dropHighVps = faults.flushDropsHighVps === true;
    this.peer = new PeerService(core, this.xen.peer, this.xen.peerActions, host.root);
    this.settle();
    core.leave();
  }

  /** A Xen hypercall from vCPU `vcpu`. */
  hypercall(vcpu: number, nr: bigint, args: HypercallArgs): ShimCallResult {
    this.core.enter(vcpu);
    try {
      const outcome = this.xen.hypercall(vcpu, nr, args);
      this.settle();
      return outcome;
    } finally {
      this.core.leave();
    }
  }

  /** An interrupt taken on VP `vp`. */
  interrupt(vp: number, vector: number): void {
    const core = this.core;
    if (core.stopped) return;
    core.woke(vp);
    core.enter(vp);
    try {
      switch (vector) {
        case SHIM_VECTORS.ipi:
          core.takeMail(vp);
          break;
        case SHIM_VECTORS.timer:
          core.clock.expire();
          break;
        case SHIM_VECTORS.timerSint:
          this.takeTimerMessage(vp);
          core.clock.expire();
          break;
        case SHIM_VECTORS.peerSint:
          this.peer.onSint(vp);
          break;
        default:
          throw new Error(`[adapter] unexpected interrupt vector 0x${vector.toString(16)} on VP ${vp}`);
      }
      core.eoi(vp);
      this.settle();
    } finally {
      core.leave();
    }
  }

  /** The guest changed its vcpu_info or shared_info: re-check event delivery, as Xen does on every return to the guest. */
  returnToGuest(vcpu: number): void {
    this.core.enter(vcpu);
    try {
      this.settle();
    } finally {
      this.core.leave();
    }
  }

  /** The Viridian statuses the adapter got back that were not success (a correct adapter sees none). */
  get viridianFailures(): readonly string[] {
    return this.core.driver.failures;
  }

  private settle(): void {
    if (this.core.stopped) return;
    this.core.clock.runDue();
    this.xen.checkEvents();
    this.peer.sync(this.core.currentVp);
  }

  /** An expiry message in the timer SINT's slot: free the slot, and EOM when more wait. */
  private takeTimerMessage(vp: number): void {
    const slot = this.core.driver.simSlot(vp, TIMER_SINT);
    const mem = this.host.memory;
    const flags = mem.read8(slot + 5);
    mem.write32(slot, 0);
    if (!isFault(flags) && (flags & HV_MESSAGE_FLAG_PENDING) !== 0) this.core.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_EOM, 0n);
  }

  /** SCHEDOP_yield: HvCallNotifyLongSpinWait where CPUID 0x40000004 EBX asks for it (neither 0 nor 0xFFFFFFFF). */
  private notifyLongSpinWait(): void {
    const retries = this.core.driver.features.spinRetries >>> 0;
    if (retries === 0 || retries === 0xffff_ffff) return;
    const input = new Uint8Array(8);
    new DataView(input.buffer).setUint32(0, retries, true);
    this.core.driver.call(this.core.currentVp, { code: HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT, input, fast: true });
  }
}

/** The TSC frequency from CPUID leaf 0x15 (ECX * EBX / EAX), for profiles without the frequency MSRs. */
function cpuidTscHz(host: ShimHost): bigint {
  const l = host.viridian.cpuid(0, 0x15);
  if (l.eax === 0 || l.ebx === 0 || l.ecx === 0) throw new Error('[adapter] the TSC frequency is not reported (no HV_X64_MSR_TSC_FREQUENCY, no CPUID 0x15)');
  return (BigInt(l.ecx) * BigInt(l.ebx)) / BigInt(l.eax);
}
