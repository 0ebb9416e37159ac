import { HYPERV_CPUID } from './abi/cpuid';
import type { ViridianProfile } from './profiles';

/** The four registers CPUID returns. */
export type CpuidResult = { readonly eax: number; readonly ebx: number; readonly ecx: number; readonly edx: number };

const ZERO: CpuidResult = Object.freeze({ eax: 0, ebx: 0, ecx: 0, edx: 0 });

/** "Microsoft Hv" as EBX, ECX, EDX of leaf 0x40000000 (TLFS feature-discovery.md). */
const VENDOR = { ebx: 0x7263_694d, ecx: 0x666f_736f, edx: 0x7648_2074 } as const;
/** "Hv#1" (TLFS feature-discovery.md, leaf 0x40000001 EAX). */
const INTERFACE_HV1 = 0x3123_7648;
/** CPUID.1:ECX bit 24, TSC-deadline timer supported. */
const TSC_DEADLINE_BIT = 1 << 24;

/**
 * CPUID as a guest of the profile sees it (TLFS feature-discovery.md; TLFS v6.0b 2.4):
 * - leaf 1 ECX: bit 31, a hypervisor is present, and bit 24, the TSC-deadline timer; leaf 0x15:
 *   the TSC frequency (the architectural leaves a guest without frequency MSRs uses);
 * - 0x40000000: highest leaf and the vendor; 0x40000001: interface "Hv#1";
 * - 0x40000002: version, zero until the guest has written HV_X64_MSR_GUEST_OS_ID (TLFS v6.0b 2.4.3);
 * - 0x40000003: privileges (EAX, EBX) and features (EDX); 0x40000004: recommendations and the
 *   spinlock retry count; 0x40000005: limits; 0x40000006: hardware features in use (none);
 * - any other leaf up to HYPERV_CPUID_MAX, or above the profile's highest leaf: zeros.
 */
export function cpuidLeaf(profile: ViridianProfile, leaf: number, guestOsIdSet: boolean, tscHz: bigint): CpuidResult {
  // Leaf 1 ECX: bit 31 hypervisor present, bit 24 TSC-deadline timer (Intel SDM vol. 2 CPUID).
  if (leaf === 1) return { eax: 0, ebx: 0, ecx: (HYPERV_CPUID.HYPERV_HYPERVISOR_PRESENT_BIT | TSC_DEADLINE_BIT) >>> 0, edx: 0 };
  // Leaf 0x15: TSC frequency = ECX * EBX / EAX (Intel SDM vol. 2 CPUID "Time Stamp Counter and
  // Nominal Core Crystal Clock"); ECX 0 when the frequency does not fit in 32 bits.
  if (leaf === 0x15) return { eax: 1, ebx: 1, ecx: tscHz <= 0xffff_ffffn ? Number(tscHz) : 0, edx: 0 };
  if (leaf < HYPERV_CPUID.HYPERV_CPUID_VENDOR_AND_MAX_FUNCTIONS || leaf > profile.maxLeaf) return ZERO;
  switch (leaf) {
    case HYPERV_CPUID.HYPERV_CPUID_VENDOR_AND_MAX_FUNCTIONS:
      return { eax: profile.maxLeaf, ...VENDOR };
    case HYPERV_CPUID.HYPERV_CPUID_INTERFACE:
      return { eax: INTERFACE_HV1, ebx: 0, ecx: 0, edx: 0 };
    case HYPERV_CPUID.HYPERV_CPUID_VERSION: {
      if (!guestOsIdSet) return ZERO;
      const v = profile.version;
      return { eax: v.build >>> 0, ebx: ((v.major << 16) | v.minor) >>> 0, ecx: v.servicePack >>> 0, edx: ((v.serviceBranch << 24) | (v.serviceNumber & 0xff_ffff)) >>> 0 };
    }
    case HYPERV_CPUID.HYPERV_CPUID_FEATURES:
      return { eax: profile.privileges.eax >>> 0, ebx: profile.privileges.ebx >>> 0, ecx: 0, edx: profile.featuresEdx >>> 0 };
    case HYPERV_CPUID.HYPERV_CPUID_ENLIGHTMENT_INFO:
      return { eax: profile.recommendations >>> 0, ebx: profile.spinRetries >>> 0, ecx: 0, edx: 0 };
    case HYPERV_CPUID.HYPERV_CPUID_IMPLEMENT_LIMITS:
      return { eax: profile.limits.maxVps >>> 0, ebx: profile.limits.maxLps >>> 0, ecx: 0, edx: 0 };
    default:
      return ZERO;
  }
}
