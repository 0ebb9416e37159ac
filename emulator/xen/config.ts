import type { XenProfileName } from './profiles';

/**
 * The kind of guest the Xen model presents.
 * - 'pv': a 64-bit paravirtualised domU (the default; what the 2008 Xen-enabled kernels were).
 * - 'pvhvm': a 64-bit HVM domU using the PV interfaces (hvm_op params, callback vector).
 * The two differ in which hypercalls exist (xen/include/hypercall-defs.c), in mmuext_op (an HVM
 * caller may only pin and unpin, xen/arch/x86/mm.c do_mmuext_op), in how upcalls are delivered
 * (xen/arch/x86/hvm/irq.c hvm_assert_evtchn_irq) and in XENVER_get_features.
 */
export type GuestType = 'pv' | 'pvhvm';

/** How the guest domain and its peer are set up. Every field has a documented default. */
export type XenDomainConfig = {
  /** Default: 'xen-4.22'. */
  readonly profile: XenProfileName;
  /** Default: 'pv'. */
  readonly guestType: GuestType;
  /** The guest's domain id. Default: 1 (the peer is domain 0). */
  readonly domid: number;
  /**
   * Highest event channel port the guest may use (struct domain max_evtchn_port). Default: 1023,
   * libxl's default `event_channels` (tools/libs/light/libxl_create.c).
   */
  readonly maxEvtchnPort: number;
  /**
   * Ports per event-channel bucket (EVTCHNS_PER_BUCKET = PAGE_SIZE / next_power_of_2(sizeof(struct
   * evtchn)), xen/include/xen/sched.h). struct evtchn is __attribute__((aligned(64))) and its
   * members fit in 64 bytes on a release build, so 64. It decides whether a never-allocated port
   * is "valid" (EVTCHNOP_status/unmask answer differently). Default: 64.
   */
  readonly evtchnsPerBucket: number;
  /** RAM frames [0, ramPages) populated at boot; the domain's initial tot_pages. Taken from the machine. */
  readonly ramPages: number;
  /** Guest-physical address space in frames. Taken from the machine. */
  readonly addressSpacePages: number;
  /** d->max_pages (XENMEM_maximum_reservation). Default: ramPages + 256. */
  readonly maxPages: number;
  /**
   * Largest extent order a domU may ask for in memory_op reservations (xen/common/memory.c
   * construct_memop_from_reservation: max_order(d), 9 = PAGETABLE_ORDER for a domU on x86). Default: 9.
   */
  readonly maxExtentOrder: number;
  /** Grant table frames the guest's own table may grow to (max_grant_frames). Default: 64. */
  readonly maxGrantFrames: number;
  /**
   * Period of the 100 Hz ticker PV vCPUs start with (xen/arch/x86/pv/domain.c: periodic_period =
   * MILLISECS(10)); 0 for none. HVM vCPUs start without one. Default: 10 ms for 'pv', 0 for 'pvhvm'.
   */
  readonly initialPeriodNs: bigint;
  /**
   * How Xen was built. A debug build (CONFIG_DEBUG, hence CONFIG_VERBOSE_DEBUG) lets a domU write
   * to the console (xen/include/xsm/dummy.h xsm_console_io), fills each processed multicall
   * entry with 0xAA before writing its result (xen/common/multicall.c), and reports
   * virt_start 0 to PV guests in XENVER_platform_parameters. A release build refuses console
   * writes with -EPERM. Default: 'debug', so that console output is observable.
   */
  readonly build: 'debug' | 'release';
  /** Frames of the peer domain (dom0) that the model keeps. Default: 64. */
  readonly peerPages: number;
  /** The host's max_page (highest RAM frame + 1) that XENMEM_maximum_ram_page reports. Default: 0x1000000 (64 GiB). */
  readonly hostMaxPage: number;
  /** Wall-clock seconds (Unix time) that correspond to system time 0 (shared_info wc_sec). Default: 1767225600 (2026-01-01). */
  readonly wallclockSec: number;
};

/** The parts of a config a caller may override (memory sizes come from the machine). */
export type XenDomainOptions = Partial<Omit<XenDomainConfig, 'ramPages' | 'addressSpacePages'>>;

/** Fills in every default (one place, documented above). */
export function resolveXenConfig(options: XenDomainOptions, machine: { readonly ramPages: number; readonly addressSpacePages: number }): XenDomainConfig {
  const guestType = options.guestType ?? 'pv';
  const ramPages = machine.ramPages;
  const config: XenDomainConfig = {
    profile: options.profile ?? 'xen-4.22',
    guestType,
    domid: options.domid ?? 1,
    maxEvtchnPort: options.maxEvtchnPort ?? 1023,
    evtchnsPerBucket: options.evtchnsPerBucket ?? 64,
    ramPages,
    addressSpacePages: machine.addressSpacePages,
    maxPages: options.maxPages ?? ramPages + 256,
    maxExtentOrder: options.maxExtentOrder ?? 9,
    maxGrantFrames: options.maxGrantFrames ?? 64,
    initialPeriodNs: options.initialPeriodNs ?? (guestType === 'pv' ? 10_000_000n : 0n),
    build: options.build ?? 'debug',
    peerPages: options.peerPages ?? 64,
    hostMaxPage: options.hostMaxPage ?? 0x100_0000,
    wallclockSec: options.wallclockSec ?? 1_767_225_600,
  };
  if (config.domid <= 0 || config.domid >= 0x7ff0) throw new RangeError(`guest domid must be in 1..0x7fef: ${config.domid}`);
  if (config.addressSpacePages < ramPages + 1 + config.maxGrantFrames) {
    throw new RangeError('address space too small for RAM, shared_info and the grant frames');
  }
  if (config.maxEvtchnPort < 1) throw new RangeError(`maxEvtchnPort must be at least 1: ${config.maxEvtchnPort}`);
  if (config.evtchnsPerBucket < 1) throw new RangeError(`evtchnsPerBucket must be positive: ${config.evtchnsPerBucket}`);
  return Object.freeze(config);
}

/**
 * Where Xen's own pages appear in the guest's physical address space. The model identifies PV
 * machine frames with guest frames (an identity p2m), so Xen pages get frames just above RAM.
 */
export type XenMemoryMap = {
  /** Frame of struct shared_info. */
  readonly sharedInfoGfn: number;
  /** First frame of the guest's own grant table (frame i of the table at grantTableGfn + i). */
  readonly grantTableGfn: number;
};

/** The memory map implied by a config. */
export function xenMemoryMap(config: XenDomainConfig): XenMemoryMap {
  return { sharedInfoGfn: config.ramPages, grantTableGfn: config.ramPages + 1 };
}
