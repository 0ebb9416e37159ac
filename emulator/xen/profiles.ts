/**
 * Xen releases whose guest-visible behaviour the model reproduces. A profile is the base
 * behaviour (Xen 4.22, identical at xen-project/xen c447b7308b for every modelled path) plus the
 * deltas of older releases, in the manner of a base opcode table with per-fork changes. Each
 * delta names the commit or release that changed the behaviour.
 */
export type XenProfileName = 'xen-4.22' | 'xen-4.18' | 'xen-4.17';

/** Behaviour switches that differ between the modelled Xen releases. */
export type XenProfile = {
  readonly name: XenProfileName;
  /** What XENVER_version and XENVER_extraversion report. */
  readonly version: { readonly major: number; readonly minor: number; readonly extra: string };
  /**
   * VCPUOP_set_singleshot_timer with a deadline in the past.
   * - 'inject' (4.18+, commit 19c6cbd909 "xen/vcpu: ignore VCPU_SSHOTTMR_future"): flags are
   *   ignored; the timer is stopped, VIRQ_TIMER is sent at once, the call returns 0.
   * - 'etime-if-future' (4.17): with VCPU_SSHOTTMR_future the call returns -ETIME; without it the
   *   timer is armed in the past and fires at once.
   */
  readonly singleshotPast: 'inject' | 'etime-if-future';
  /**
   * VCPUOP_register_vcpu_info checks.
   * - 'map_guest_area' (4.18+, common_vcpu_op + map_guest_area): -EBUSY when already
   *   registered, -ENXIO for a page-crossing or misaligned area, any vCPU may be the target.
   * - 'map_vcpu_info' (4.17, map_vcpu_info): -ENXIO for offset > PAGE_SIZE - 64 or misaligned,
   *   -EINVAL when already registered or when the target is another running vCPU.
   */
  readonly registerVcpuInfo: 'map_guest_area' | 'map_vcpu_info';
  /**
   * XENVER_get_features submap 0 for a PV and an HVM (no PIRQ) domU, before the
   * pae_extended_cr3 vm_assist bit (xen/common/kernel.c do_xen_version). Bits 18/19 arrived in
   * 4.18, bit 20 (dm_msix_all_writes) in 4.20.
   */
  readonly features: { readonly pv: number; readonly hvm: number };
  /** XENVER_extraversion2 / capabilities2 / changeset2 / commandline2 / build_id through xenver_varbuf_op (4.20+); older: -ENOSYS (build_id: -EPERM). */
  readonly varbufOps: boolean;
  /**
   * GNTTABOP_copy with len == 0: 'okay' at once (commit a4a790f432, 4.19+) or 'validate' every
   * other field first (4.18 and older).
   */
  readonly grantCopyZeroLength: 'okay' | 'validate';
  /**
   * XENVER_platform_parameters virt_start for a 64-bit caller: 'release-pv' (4.18+: only PV
   * guests of a release build get HYPERVISOR_VIRT_START, everyone else 0) or 'always' (4.17).
   */
  readonly platformParameters: 'release-pv' | 'always';
  /** multicall nr_calls: `unsigned long` (commit d2bbb0d455, 4.20+) or `uint32_t` before (upper half ignored). */
  readonly multicallCountBits: 32 | 64;
  /** HVMOP_set_param of HVM_PARAM_ALTP2M by the guest: -EEXIST (read-only since 4.19) or -EPERM before. */
  readonly altp2mSet: 'XEN_EEXIST' | 'XEN_EPERM';
  /**
   * MMUEXT_FLUSH_CACHE_GLOBAL without cache-flush permission: -EACCES since commit bbaea9878b
   * ("x86/pv: fix MMUEXT_FLUSH_CACHE to flush all pCPU caches", 4.21), -EINVAL before.
   */
  readonly flushCacheGlobalDenied: 'XEN_EACCES' | 'XEN_EINVAL';
  /** Size of the per-domain console line buffer (d->console->buf[256] in 4.22; DOMAIN_PBUF_SIZE 200 before). */
  readonly consoleLineBuffer: number;
};

const BASE: XenProfile = {
  name: 'xen-4.22',
  version: { major: 4, minor: 22, extra: '.0' },
  singleshotPast: 'inject',
  registerVcpuInfo: 'map_guest_area',
  features: { pv: 0x001e_20e0, hvm: 0x001d_2305 },
  varbufOps: true,
  grantCopyZeroLength: 'okay',
  platformParameters: 'release-pv',
  multicallCountBits: 64,
  altp2mSet: 'XEN_EEXIST',
  flushCacheGlobalDenied: 'XEN_EACCES',
  consoleLineBuffer: 256,
};

const DELTAS: Readonly<Record<XenProfileName, Partial<XenProfile>>> = {
  'xen-4.22': {},
  'xen-4.18': {
    version: { major: 4, minor: 18, extra: '.0' },
    features: { pv: 0x000e_20e0, hvm: 0x000d_2305 },
    varbufOps: false,
    grantCopyZeroLength: 'validate',
    multicallCountBits: 32,
    altp2mSet: 'XEN_EPERM',
    flushCacheGlobalDenied: 'XEN_EINVAL',
    consoleLineBuffer: 200,
  },
  'xen-4.17': {
    version: { major: 4, minor: 17, extra: '.0' },
    singleshotPast: 'etime-if-future',
    registerVcpuInfo: 'map_vcpu_info',
    features: { pv: 0x0002_20e0, hvm: 0x0001_2305 },
    varbufOps: false,
    grantCopyZeroLength: 'validate',
    platformParameters: 'always',
    multicallCountBits: 32,
    altp2mSet: 'XEN_EPERM',
    flushCacheGlobalDenied: 'XEN_EINVAL',
    consoleLineBuffer: 200,
  },
};

/** Every Xen profile name, default first. */
export const XEN_PROFILE_NAMES: readonly XenProfileName[] = ['xen-4.22', 'xen-4.18', 'xen-4.17'];

/** The default Xen profile. */
export const DEFAULT_XEN_PROFILE: XenProfileName = 'xen-4.22';

/** Builds a profile from the base and its delta. */
export function xenProfile(name: XenProfileName): XenProfile {
  return Object.freeze({ ...BASE, ...DELTAS[name], name });
}

/** Whether a string names a Xen profile. */
export function isXenProfileName(name: string): name is XenProfileName {
  return (XEN_PROFILE_NAMES as readonly string[]).includes(name);
}
