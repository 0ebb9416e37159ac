import { HV_FEATURES_EDX as EDX, HV_PRIVILEGES_EAX as EAX, HV_PRIVILEGES_EBX as EBX, HV_RECOMMENDATIONS_EAX as REC } from './abi/cpuid';
import { HV_STATUS } from './abi/status';
import type { ViridianKnownCalls } from './knownCalls';

// Re-exported so that the package entry, which exports this module, carries the known-call sets.
export { KNOWN_CALL_CODES, knowsCall, type ViridianKnownCalls } from './knownCalls';

/** Named capability profiles of the Viridian model. */
export type ViridianProfileName = 'minimal' | 'ws2008' | 'modern';

/**
 * Which implementation the model follows where the TLFS, KVM and Xen disagree
 * (docs/decisions.md, V1..V16): the TLFS by default, or KVM's or Xen's behaviour.
 */
export type ViridianCompat = 'tlfs' | 'kvm' | 'xen';

/** What a partition is offered: the CPUID leaves 0x40000000..6 and the behaviour behind them. */
export type ViridianProfile = {
  readonly name: ViridianProfileName;
  readonly description: string;
  /** CPUID 0x40000002. */
  readonly version: { readonly build: number; readonly major: number; readonly minor: number; readonly servicePack: number; readonly serviceBranch: number; readonly serviceNumber: number };
  /** CPUID 0x40000000 EAX. */
  readonly maxLeaf: number;
  /** HV_PARTITION_PRIVILEGE_MASK: CPUID 0x40000003 EAX (bits 31:0) and EBX (63:32). */
  readonly privileges: { readonly eax: number; readonly ebx: number };
  /** CPUID 0x40000003 EDX. */
  readonly featuresEdx: number;
  /** CPUID 0x40000004 EAX. */
  readonly recommendations: number;
  /** CPUID 0x40000004 EBX: spinlock retries before HvCallNotifyLongSpinWait (0xFFFFFFFF: never notify). */
  readonly spinRetries: number;
  /** CPUID 0x40000005 EAX / EBX. */
  readonly limits: { readonly maxVps: number; readonly maxLps: number };
  /** Whether the partition's debug channel identifier is assigned (TLFS v2.0A 20.1.1). */
  readonly debugChannel: boolean;
};

const BASIC_MSRS = EAX.HV_MSR_HYPERCALL_AVAILABLE | EAX.HV_MSR_VP_INDEX_AVAILABLE;

/** The profiles, by name. */
export const VIRIDIAN_PROFILES: Readonly<Record<ViridianProfileName, ViridianProfile>> = {
  minimal: {
    name: 'minimal',
    description:
      'The smallest "Hv#1" interface ("Requirements for Implementing the Microsoft Hypervisor Interface"): guest OS ID, hypercall page and VP index MSRs, plus the SynIC with message posting and event signalling. No timers, no reference time, no recommended hypercalls.',
    version: { build: 0, major: 0, minor: 0, servicePack: 0, serviceBranch: 0, serviceNumber: 0 },
    maxLeaf: 0x4000_0005,
    privileges: { eax: BASIC_MSRS | EAX.HV_MSR_SYNIC_AVAILABLE, ebx: EBX.HV_POST_MESSAGES | EBX.HV_SIGNAL_EVENTS },
    featuresEdx: 0,
    recommendations: 0,
    spinRetries: 0xffff_ffff,
    limits: { maxVps: 0, maxLps: 0 },
    debugChannel: false,
  },
  ws2008: {
    name: 'ws2008',
    description:
      'Like the first Windows Server 2008 hypervisor (version 6.0, build 6001), with the facilities of TLFS v2.0A that predate Windows Server 2008 R2: VP runtime, reference counter, SynIC, synthetic timers, APIC MSRs; remote flushes by hypercall recommended; no reference TSC page, frequency MSRs, crash MSRs, cluster IPIs, Ex processor masks or XMM fast calls.',
    version: { build: 6001, major: 6, minor: 0, servicePack: 1, serviceBranch: 0, serviceNumber: 0 },
    maxLeaf: 0x4000_0005,
    privileges: {
      eax:
        BASIC_MSRS |
        EAX.HV_MSR_VP_RUNTIME_AVAILABLE |
        EAX.HV_MSR_TIME_REF_COUNT_AVAILABLE |
        EAX.HV_MSR_SYNIC_AVAILABLE |
        EAX.HV_MSR_SYNTIMER_AVAILABLE |
        EAX.HV_MSR_APIC_ACCESS_AVAILABLE,
      ebx: EBX.HV_POST_MESSAGES | EBX.HV_SIGNAL_EVENTS,
    },
    featuresEdx: 0,
    recommendations: REC.HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED | REC.HV_X64_APIC_ACCESS_RECOMMENDED,
    spinRetries: 0xfff,
    limits: { maxVps: 64, maxLps: 64 },
    debugChannel: false,
  },
  modern: {
    name: 'modern',
    description:
      'A current hypervisor: everything of ws2008 plus the reset MSR, the reference TSC page, frequency and crash MSRs, cluster IPIs and Ex processor masks (recommended), XMM fast input, SINT polling, direct-mode synthetic timers, guest debugging, extended hypercalls and HvCallStartVirtualProcessor; 1024 VPs. (It reports a VP limit, not -1: "Requirements for Implementing the Microsoft Hypervisor Interface" forbids recommending the non-Ex flushes with no limit, and KVM gates the Ex flushes on that recommendation.)',
    version: { build: 20348, major: 10, minor: 0, servicePack: 0, serviceBranch: 0, serviceNumber: 0 },
    maxLeaf: 0x4000_0006,
    privileges: {
      eax:
        BASIC_MSRS |
        EAX.HV_MSR_VP_RUNTIME_AVAILABLE |
        EAX.HV_MSR_TIME_REF_COUNT_AVAILABLE |
        EAX.HV_MSR_SYNIC_AVAILABLE |
        EAX.HV_MSR_SYNTIMER_AVAILABLE |
        EAX.HV_MSR_APIC_ACCESS_AVAILABLE |
        EAX.HV_MSR_RESET_AVAILABLE |
        EAX.HV_MSR_REFERENCE_TSC_AVAILABLE |
        EAX.HV_ACCESS_FREQUENCY_MSRS,
      // EBX bit 21: StartVirtualProcessor (TLFS HV_PARTITION_PRIVILEGE_MASK).
      ebx: EBX.HV_POST_MESSAGES | EBX.HV_SIGNAL_EVENTS | EBX.HV_DEBUGGING | EBX.HV_ENABLE_EXTENDED_HYPERCALLS | (1 << 21),
    },
    featuresEdx:
      EDX.HV_X64_GUEST_DEBUGGING_AVAILABLE |
      EDX.HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE |
      EDX.HV_FEATURE_FREQUENCY_MSRS_AVAILABLE |
      EDX.HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE |
      (1 << 17) | // SintPollingModeAvailable (TLFS Feature Discovery)
      EDX.HV_STIMER_DIRECT_MODE_AVAILABLE,
    recommendations:
      REC.HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED |
      REC.HV_X64_APIC_ACCESS_RECOMMENDED |
      REC.HV_X64_RELAXED_TIMING_RECOMMENDED |
      REC.HV_X64_CLUSTER_IPI_RECOMMENDED |
      REC.HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED,
    spinRetries: 0xfff,
    limits: { maxVps: 1024, maxLps: 1024 },
    debugChannel: true,
  },
};

/** Profile names, default first. */
export const VIRIDIAN_PROFILE_NAMES: readonly ViridianProfileName[] = ['modern', 'ws2008', 'minimal'];

/** Whether a string names a Viridian profile. */
export function isViridianProfileName(name: string): name is ViridianProfileName {
  return (VIRIDIAN_PROFILE_NAMES as readonly string[]).includes(name);
}

/** CPUID 0x40000003 EDX bit 17: SINT polling mode available. */
export const HV_SINT_POLLING_AVAILABLE = 1 << 17;
/** HV_PARTITION_PRIVILEGE_MASK bit 53 (EBX bit 21): StartVirtualProcessor. */
export const HV_START_VIRTUAL_PROCESSOR = 1 << 21;

/** An HV_STATUS name. */
export type HvStatusName = keyof typeof HV_STATUS;

/**
 * The behaviour at each point where the sources disagree (docs/decisions.md). The TLFS column is
 * the default; 'kvm' follows arch/x86/kvm/hyperv.c and QEMU; 'xen' follows
 * xen/arch/x86/hvm/viridian/.
 */
export type ViridianQuirks = {
  /** V1: Is Nested (bit 31) and the other reserved input bits. */
  readonly reservedInputBits: 'reject' | 'ignore';
  /** V4: status for an IPI vector outside 0x10..0xff. */
  readonly ipiBadVector: HvStatusName;
  /** V5: a flush with an empty processor set and no HV_FLUSH_ALL_PROCESSORS. */
  readonly flushEmptySet: 'invalid-parameter' | 'flush-all' | 'flush-none';
  /** V6: status for HvCallPostMessage with PayloadSize > 240. */
  readonly postMessageTooLong: HvStatusName;
  /** V7: status for HvCallSignalEvent on an unknown connection, and whether FlagNumber may be non-zero. */
  readonly signalUnknownConnection: HvStatusName;
  readonly signalFlagNumbers: 'port-range' | 'zero-only';
  /** V8: which rep-start checks run: every rep call (rep start < rep count), only list flushes (start 0), or none. */
  readonly repStart: 'less-than-count' | 'list-flush-zero' | 'none';
  /** V10: SINT writes with a vector below 16. */
  readonly sintLowVector: 'gp' | 'gp-if-unmasked';
  /** V13: a guest write to HV_X64_MSR_VP_INDEX. */
  readonly vpIndexWrite: 'gp' | 'ignore';
  /** V17: HV_X64_MSR_HYPERCALL written while the guest OS ID is 0. */
  readonly hypercallWithoutOsId: 'enable-stays-clear' | 'write-ignored' | 'stored';
  /** V11: HvCallNotifyLongSpinWait: always allowed, or refused when CPUID 0x40000004 EBX is 0 or 0xFFFFFFFF. */
  readonly spinWaitGate: 'none' | 'ebx';
  /** V18: whether hypercalls are gated on privileges and recommendations. */
  readonly hypercallGating: 'privileges' | 'none';
  /** V19: an input GPA inside the GPA space with no page behind it. */
  readonly unreadableInput: 'intercept' | HvStatusName;
  /** V20: the fast bit on a call that has no fast form. */
  readonly fastNotSupported: HvStatusName;
  /** V20: Xen has no fast form of the flushes and of the Ex IPI and answers HV_STATUS_INVALID_PARAMETER. */
  readonly fastFlushAndIpiEx: 'allowed' | 'invalid-parameter';
  /** V33: which call codes the dispatcher recognises; any other code is HV_STATUS_INVALID_HYPERCALL_CODE (emulator/viridian/knownCalls.ts). */
  readonly knownCalls: ViridianKnownCalls;
  /**
   * V33: what HvCallNotifyLongSpinWait looks at besides its code: the whole input (TLFS generic
   * checks), only the input value's rep and variable-header fields (KVM, whose handler reads no
   * parameter), or nothing (Xen's viridian_hypercall yields and succeeds).
   */
  readonly spinWaitInput: 'checked' | 'input-value-only' | 'ignored';
};

/** The quirk table for each compatibility mode. */
export const VIRIDIAN_QUIRKS: Readonly<Record<ViridianCompat, ViridianQuirks>> = {
  tlfs: {
    reservedInputBits: 'reject',
    ipiBadVector: 'HV_STATUS_INVALID_PARAMETER',
    flushEmptySet: 'invalid-parameter',
    postMessageTooLong: 'HV_STATUS_INVALID_PARAMETER',
    signalUnknownConnection: 'HV_STATUS_INVALID_CONNECTION_ID',
    signalFlagNumbers: 'port-range',
    repStart: 'less-than-count',
    sintLowVector: 'gp',
    vpIndexWrite: 'gp',
    hypercallWithoutOsId: 'enable-stays-clear',
    spinWaitGate: 'none',
    hypercallGating: 'privileges',
    unreadableInput: 'intercept',
    fastNotSupported: 'HV_STATUS_INVALID_HYPERCALL_INPUT',
    fastFlushAndIpiEx: 'allowed',
    knownCalls: 'all',
    spinWaitInput: 'checked',
  },
  kvm: {
    reservedInputBits: 'reject',
    ipiBadVector: 'HV_STATUS_INVALID_HYPERCALL_INPUT',
    flushEmptySet: 'flush-all',
    postMessageTooLong: 'HV_STATUS_INVALID_HYPERCALL_INPUT',
    signalUnknownConnection: 'HV_STATUS_INVALID_PORT_ID',
    signalFlagNumbers: 'zero-only',
    repStart: 'list-flush-zero',
    sintLowVector: 'gp-if-unmasked',
    vpIndexWrite: 'gp',
    hypercallWithoutOsId: 'write-ignored',
    spinWaitGate: 'ebx',
    hypercallGating: 'privileges',
    unreadableInput: 'HV_STATUS_INVALID_HYPERCALL_INPUT',
    fastNotSupported: 'HV_STATUS_INVALID_PARAMETER',
    fastFlushAndIpiEx: 'allowed',
    knownCalls: 'kvm',
    spinWaitInput: 'input-value-only',
  },
  xen: {
    reservedInputBits: 'ignore',
    ipiBadVector: 'HV_STATUS_INVALID_PARAMETER',
    flushEmptySet: 'flush-none',
    postMessageTooLong: 'HV_STATUS_INVALID_PARAMETER',
    signalUnknownConnection: 'HV_STATUS_INVALID_CONNECTION_ID',
    signalFlagNumbers: 'port-range',
    repStart: 'none',
    sintLowVector: 'gp',
    vpIndexWrite: 'ignore',
    hypercallWithoutOsId: 'stored',
    spinWaitGate: 'none',
    hypercallGating: 'none',
    unreadableInput: 'HV_STATUS_INVALID_PARAMETER',
    fastNotSupported: 'HV_STATUS_INVALID_PARAMETER',
    fastFlushAndIpiEx: 'invalid-parameter',
    knownCalls: 'xen',
    spinWaitInput: 'ignored',
  },
};
