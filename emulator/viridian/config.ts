import { VIRIDIAN_PROFILES, VIRIDIAN_QUIRKS, type ViridianCompat, type ViridianProfile, type ViridianProfileName, type ViridianQuirks } from './profiles';

/** How a Viridian partition is set up. Every field has a documented default. */
export type ViridianConfig = {
  /** Capability profile. Default: 'modern'. */
  readonly profile: ViridianProfile;
  /** Which implementation to follow where the sources disagree. Default: 'tlfs'. */
  readonly compat: ViridianCompat;
  /** The behaviour at each disagreement point: the compat column, with per-point overrides. */
  readonly quirks: ViridianQuirks;
  /**
   * Most rep elements one invocation processes before it returns HV_STATUS_SUCCESS with fewer
   * reps completed than asked, so that the guest restarts it (TLFS "Hypercall Continuation":
   * the hypervisor may return before finishing a rep list). Default: undefined (never partial),
   * which is what KVM does for the flush calls.
   */
  readonly repsPerCall: number | undefined;
  /** APIC timer frequency HV_X64_MSR_APIC_FREQUENCY reports, in Hz. Default: 200 MHz (Hyper-V's virtual APIC timer). */
  readonly apicHz: bigint;
  /** TscSequence the first publication of the reference TSC page uses. Default: 1. */
  readonly firstTscSequence: number;
  /**
   * Whether the reference TSC page is usable. false publishes TscSequence 0 ("fall back to the
   * reference counter MSR", TLFS Timers), as a host without an invariant TSC does. Default: true.
   */
  readonly tscPageValid: boolean;
  /** Guest message buffers per port (TLFS "Guest Message Buffers": sixteen). Default: 16. */
  readonly messageBuffersPerPort: number;
  /** Bytes of the debug session's outgoing and incoming buffers. Default: 4088 (HV_DEBUG_MAXIMUM_DATA_SIZE, the minimum TLFS v2.0A 20.1.1 allows). */
  readonly debugBufferBytes: number;
};

/** What a caller may choose (the rest follows from the profile). */
export type ViridianOptions = {
  readonly profile?: ViridianProfileName | ViridianProfile;
  readonly compat?: ViridianCompat;
  readonly quirks?: Partial<ViridianQuirks>;
  readonly repsPerCall?: number;
  readonly apicHz?: bigint;
  readonly firstTscSequence?: number;
  readonly tscPageValid?: boolean;
  readonly messageBuffersPerPort?: number;
  readonly debugBufferBytes?: number;
};

/** Fills in every default (one place, documented above). */
export function resolveViridianConfig(options: ViridianOptions = {}): ViridianConfig {
  const profile = typeof options.profile === 'object' ? options.profile : VIRIDIAN_PROFILES[options.profile ?? 'modern'];
  if (!profile) throw new RangeError(`unknown Viridian profile ${String(options.profile)}`);
  const compat = options.compat ?? 'tlfs';
  const repsPerCall = options.repsPerCall;
  if (repsPerCall !== undefined && (!Number.isInteger(repsPerCall) || repsPerCall < 1)) throw new RangeError(`repsPerCall must be a positive integer: ${repsPerCall}`);
  const firstTscSequence = options.firstTscSequence ?? 1;
  if (!Number.isInteger(firstTscSequence) || firstTscSequence < 1 || firstTscSequence > 0xffff_fffe) {
    throw new RangeError(`firstTscSequence must be in 1..0xFFFFFFFE: ${firstTscSequence}`);
  }
  return {
    profile,
    compat,
    quirks: { ...VIRIDIAN_QUIRKS[compat], ...options.quirks },
    repsPerCall,
    apicHz: options.apicHz ?? 200_000_000n,
    firstTscSequence,
    tscPageValid: options.tscPageValid ?? true,
    messageBuffersPerPort: options.messageBuffersPerPort ?? 16,
    debugBufferBytes: options.debugBufferBytes ?? 4088,
  };
}
