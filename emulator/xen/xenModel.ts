import { SHARED_INFO, XEN_LEGACY_MAX_VCPUS, vcpu_info } from './abi/layouts';
import { DOMID } from './abi/xen';
import { XenHypercall } from './abi/hypercalls';
import { GuestMemory } from '../machine/memory';
import { Machine } from '../machine/machine';
import { VirtualClock } from '../machine/clock';
import type { XenMachine } from './platform';
import type { Gfn } from '../machine/units';
import { resolveXenConfig, xenMemoryMap, type XenDomainConfig, type XenDomainOptions, type XenMemoryMap } from './config';
import { XenDomain } from './domain';
import { xenProfile, type XenProfile } from './profiles';
import { errno, type XenOutcome } from './outcome';
import { hypercallTable } from './table';
import type { HypercallArgs, HypercallContext, XenHypercallDefinition } from './hypercalls/types';
import { startPeriodicWork } from './timers';
import { PeerActions } from './peer';

/** The guest's own domain id is fixed by the config; the peer is always domain 0. */
export const PEER_DOMID = 0;

/**
 * The Xen reference model: the guest domain on the shared machine, a peer domain (dom0) on a
 * small machine of its own that shares the clock, and the hypercall table of the chosen Xen
 * profile and guest type. Pure and synchronous: time moves only through {@link advanceTo}.
 *
 * The machine is the shared Machine in the Xen world; the reference adapter runs the same logic
 * on a machine built from the Viridian guest interface (emulator/xen/platform.ts), and passes
 * the peer's machine in too.
 */
export class XenModel<M extends XenMachine = Machine> {
  readonly config: XenDomainConfig;
  readonly profile: XenProfile;
  readonly memoryMap: XenMemoryMap;
  readonly machine: M;
  readonly peerMachine: XenMachine;
  readonly guest: XenDomain;
  readonly peer: XenDomain;
  /** Actions of the peer domain (dom0), the other end of interdomain channels and grants. */
  readonly peerActions: PeerActions;
  private readonly table: readonly (XenHypercallDefinition | undefined)[];

  constructor(machine: M, options: XenDomainOptions = {}, peerMachine?: XenMachine) {
    this.machine = machine;
    this.config = resolveXenConfig(options, { ramPages: machine.memory.populatedPages, addressSpacePages: machine.memory.addressSpacePages });
    this.profile = xenProfile(this.config.profile);
    this.memoryMap = xenMemoryMap(this.config);
    this.table = hypercallTable(this.config.guestType);
    const dummyVcpuInfo = new GuestMemory({ ramPages: 1, addressSpacePages: 1 });

    // 1. The guest domain: shared_info (zeroed, every legacy vcpu_info masked as libxc's
    //    shared_info_x86_64 leaves it) and the first grant frame appear just above RAM.
    machine.memory.populate(this.memoryMap.sharedInfoGfn as Gfn);
    const online = new Set(machine.vcpus.filter((v) => v.state !== 'down').map((v) => v.id as number));
    this.guest = new XenDomain({
      domid: this.config.domid,
      machine,
      guestType: this.config.guestType,
      sharedInfoGpa: this.memoryMap.sharedInfoGfn * 4096,
      maxEvtchnPort: this.config.maxEvtchnPort,
      evtchnsPerBucket: this.config.evtchnsPerBucket,
      totPages: this.config.ramPages,
      maxPages: this.config.maxPages,
      grantTableGfn: this.memoryMap.grantTableGfn,
      maxGrantFrames: this.config.maxGrantFrames,
      initialised: (id) => online.has(id),
      dummyVcpuInfo,
      xenFrames: { first: this.memoryMap.sharedInfoGfn, count: 1 + this.config.maxGrantFrames },
    });

    // 2. The peer (dom0): a one-vCPU machine on the same clock, with its shared_info at frame 0
    //    and its grant table from frame 1.
    if (!peerMachine && !(machine.clock instanceof VirtualClock)) throw new Error('[xen] a machine without a VirtualClock needs its peer machine given');
    this.peerMachine =
      peerMachine ??
      new Machine({ vcpus: 1, memory: { ramPages: this.config.peerPages, addressSpacePages: this.config.peerPages * 2 }, clock: machine.clock as VirtualClock });
    this.peer = new XenDomain({
      domid: PEER_DOMID,
      machine: this.peerMachine,
      guestType: 'pv',
      sharedInfoGpa: 0,
      maxEvtchnPort: this.config.maxEvtchnPort,
      evtchnsPerBucket: this.config.evtchnsPerBucket,
      totPages: this.config.peerPages,
      maxPages: this.config.peerPages,
      grantTableGfn: 1,
      maxGrantFrames: 4,
      initialised: () => true,
      dummyVcpuInfo,
      xenFrames: { first: 0, count: 1 + 4 },
    });

    for (const d of [this.guest, this.peer]) {
      d.grants.grow(1);
      this.initSharedInfo(d);
      for (const v of d.vcpus) {
        // pv_vcpu_initialise gives every PV vCPU its 100 Hz ticker when it is created; the timer
        // runs while the vCPU does.
        v.periodicPeriod = d === this.guest ? this.config.initialPeriodNs : 0n;
        if (v.hw.state === 'running') startPeriodicWork(d, v);
      }
    }
    this.peerActions = new PeerActions(this);
    // Nothing the domain builder wrote is a guest-visible change of a step.
    machine.memory.takeDirty?.();
    this.peerMachine.memory.takeDirty?.();
    machine.takeEvents?.();
    this.peerMachine.takeEvents?.();
  }

  /** Current virtual time (Xen's NOW()). */
  get now(): bigint {
    return this.machine.clock.now;
  }

  /**
   * Issues a 64-bit hypercall from a guest vCPU: RAX = nr, RDI, RSI, RDX, R10, R8 = args.
   * The vCPU must be running guest code; issuing a call from a blocked or down vCPU is a harness
   * bug and throws.
   */
  hypercall(vcpuId: number, nr: bigint, args: HypercallArgs): XenOutcome {
    const v = this.guest.vcpu(vcpuId);
    if (!v) throw new Error(`[xen] no vCPU ${vcpuId}`);
    if (!v.hw.running) throw new Error(`[xen] vCPU ${vcpuId} is ${v.hw.state}; it cannot issue a hypercall`);
    if (this.guest.shuttingDown) throw new Error('[xen] the domain has shut down; its vCPUs are paused');
    const outcome = this.dispatch({ xen: this, d: this.guest, v }, nr, args);
    this.settle();
    return outcome;
  }

  /** Dispatches a hypercall number through the guest type's table (also used by multicall). */
  dispatch(ctx: HypercallContext, nr: bigint, args: HypercallArgs): XenOutcome {
    const index = BigInt.asUintN(64, nr);
    const definition = index < BigInt(this.table.length) ? this.table[Number(index)] : undefined;
    if (!definition) return errno('XEN_ENOSYS');
    return definition.handler(ctx, args);
  }

  /** The hypercall definition behind a number for this guest type, if any. */
  definition(nr: number): XenHypercallDefinition | undefined {
    return this.table[nr];
  }

  /** Moves virtual time to `target`, firing Xen's timers on the way (the Xen world's machine only). */
  advanceTo(target: bigint): void {
    const clock = this.machine.clock;
    if (!(clock instanceof VirtualClock)) throw new Error('[xen] advanceTo needs the machine\'s VirtualClock');
    clock.advanceTo(target);
    this.settle();
  }

  /**
   * Re-evaluates event delivery on every guest vCPU, e.g. after the guest wrote its vcpu_info
   * (cleared evtchn_upcall_pending, unmasked events): Xen checks on every return to the guest.
   */
  checkEvents(): void {
    for (const v of this.guest.vcpus) this.guest.deliverUpcall(v);
    for (const v of this.peer.vcpus) this.peer.deliverUpcall(v);
  }

  /** rcu_lock_domain_by_id(): a real domain id, DOMID_SELF not accepted. */
  domainById(domid: number): XenDomain | undefined {
    if (domid === this.guest.domid) return this.guest;
    if (domid === PEER_DOMID) return this.peer;
    return undefined;
  }

  /** rcu_lock_domain_by_any_id(): DOMID_SELF means the caller. */
  domainByAnyId(domid: number, caller: XenDomain): XenDomain | undefined {
    return domid === DOMID.DOMID_SELF ? caller : this.domainById(domid);
  }

  /** get_global_virq_handler(): the hardware domain unless another was set (never, here). */
  globalVirqHandler(_virq: number): XenDomain {
    return this.peer;
  }

  /** The name of a hypercall number, if it has one. */
  static hypercallName(nr: number): string | undefined {
    return (Object.entries(XenHypercall) as [string, number][]).find(([, n]) => n === nr)?.[0];
  }

  private settle(): void {
    this.machine.clock.runDue();
    this.checkEvents();
  }

  private initSharedInfo(d: XenDomain): void {
    const base = d.sharedInfoGpa;
    for (let i = 0; i < Math.min(d.vcpus.length, XEN_LEGACY_MAX_VCPUS); i++) {
      d.memory.write8(base + SHARED_INFO.vcpu_info + 64 * i + vcpu_info.fields.evtchn_upcall_mask.offset, 1);
    }
    // update_domain_wallclock_time (xen/common/time.c): version protocol, wall time at system time 0.
    d.memory.write32(base + SHARED_INFO.wc_version, 2);
    d.memory.write32(base + SHARED_INFO.wc_sec, this.config.wallclockSec >>> 0);
    d.memory.write32(base + SHARED_INFO.wc_nsec, 0);
    d.memory.write32(base + SHARED_INFO.wc_sec_hi, Math.floor(this.config.wallclockSec / 2 ** 32));
    for (const v of d.vcpus) if (v.hw.state !== 'down') d.updateVcpuTime(v);
  }
}

/** A Xen model on any machine (what the hypervisor logic takes). */
export type AnyXenModel = XenModel<XenMachine>;
