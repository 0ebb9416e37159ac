import { HV_FEATURES_EDX as EDX, HV_PRIVILEGES_EAX as EAX } from './abi/cpuid';
import { HV_MSR_BITS, HV_X64_MSR } from './abi/msrs';
import { HV_SYNIC } from './abi/synic';
import { GP, msrValue, WRITTEN, type MsrRead, type MsrWrite } from './outcome';
import { referenceCount } from './refTime';
import { deliverQueued, rescanQueues } from './synic';
import type { ViridianModel } from './viridianModel';
import type { ViridianVp } from './vp';

/*
 * The synthetic MSRs (TLFS Appendix C of v6.0b; hypercall-interface.md, inter-partition-
 * communication.md, timers.md, virtual-interrupts.md, vp-properties.md). Each is reachable only
 * when the partition has its privilege or feature bit (KVM hv_check_msr_access; hyperv_features
 * MSR stages); otherwise, and for any MSR not listed, RDMSR and WRMSR raise #GP.
 */

type Gate = { readonly register: 'eax' | 'edx'; readonly bit: number };
type Handler = {
  readonly gate: Gate;
  readonly read?: (m: ViridianModel, vp: ViridianVp) => MsrRead;
  readonly write?: (m: ViridianModel, vp: ViridianVp, value: bigint) => MsrWrite;
};

const eax = (bit: number): Gate => ({ register: 'eax', bit });
const edx = (bit: number): Gate => ({ register: 'edx', bit });
const U64 = (1n << 64n) - 1n;

/** SINTx bits 63:19 and 15:8 are RsvdP (stored); the vector is 7:0. */
function writeSint(m: ViridianModel, vp: ViridianVp, sint: number, value: bigint): MsrWrite {
  const vector = Number(value & 0xffn);
  const masked = (value & BigInt(HV_SYNIC.HV_SYNIC_SINT_MASKED)) !== 0n;
  // "Valid values for vector are 16-255 inclusive. Specifying an invalid vector number results
  // in #GP" (TLFS); KVM lets a masked SINT keep vector 0 so the reset value can be written back (V10).
  if (vector < HV_SYNIC.HV_SYNIC_FIRST_VALID_VECTOR && (m.quirks.sintLowVector === 'gp' || !masked)) return GP;
  vp.sints[sint] = value;
  deliverQueued(m.synicHost, vp, sint);
  return WRITTEN;
}

/** SIMP / SIEFP: bit 0 Enable, 11:1 RsvdP, 63:12 the page; the page is an overlay while enabled. */
function writeSynicPage(m: ViridianModel, vp: ViridianVp, which: 'simp' | 'siefp', value: bigint): MsrWrite {
  vp[which] = value;
  m.placeOverlay(which === 'simp' ? vp.sim : vp.sief, (value & 1n) === 1n ? value >> 12n : undefined, true);
  if (which === 'simp') rescanQueues(m.synicHost, vp);
  return WRITTEN;
}

function timerMsr(index: number, kind: 'config' | 'count'): Handler {
  return {
    gate: eax(EAX.HV_MSR_SYNTIMER_AVAILABLE),
    read: (_m, vp) => {
      const t = vp.timers[index];
      return t ? msrValue(kind === 'config' ? t.config : t.count) : GP;
    },
    write: (m, vp, value) => {
      const t = vp.timers[index];
      if (!t) return GP;
      return kind === 'config' ? t.writeConfig(m.timerHost, vp, value) : t.writeCount(m.timerHost, vp, value);
    },
  };
}

const TABLE = new Map<number, Handler>([
  [
    HV_X64_MSR.HV_X64_MSR_GUEST_OS_ID,
    {
      gate: eax(EAX.HV_MSR_HYPERCALL_AVAILABLE),
      read: (m) => msrValue(m.guestOsId),
      write: (m, _vp, value) => {
        m.setGuestOsId(value & U64);
        return WRITTEN;
      },
    },
  ],
  [
    HV_X64_MSR.HV_X64_MSR_HYPERCALL,
    {
      gate: eax(EAX.HV_MSR_HYPERCALL_AVAILABLE),
      read: (m) => msrValue(m.hypercallMsr),
      write: (m, _vp, value) => m.writeHypercallMsr(value & U64),
    },
  ],
  [
    HV_X64_MSR.HV_X64_MSR_VP_INDEX,
    {
      gate: eax(EAX.HV_MSR_VP_INDEX_AVAILABLE),
      read: (_m, vp) => msrValue(BigInt(vp.index)),
      // Read-only per the TLFS; Xen ignores the write (V13).
      write: (m) => (m.quirks.vpIndexWrite === 'ignore' ? WRITTEN : GP),
    },
  ],
  [
    HV_X64_MSR.HV_X64_MSR_RESET,
    {
      gate: eax(EAX.HV_MSR_RESET_AVAILABLE),
      read: () => msrValue(0n),
      write: (m, _vp, value) => {
        if ((value & 1n) === 1n) m.platformReset();
        return WRITTEN;
      },
    },
  ],
  [HV_X64_MSR.HV_X64_MSR_VP_RUNTIME, { gate: eax(EAX.HV_MSR_VP_RUNTIME_AVAILABLE), read: (m, vp) => msrValue(vp.runtime(m.now)) }],
  [HV_X64_MSR.HV_X64_MSR_TIME_REF_COUNT, { gate: eax(EAX.HV_MSR_TIME_REF_COUNT_AVAILABLE), read: (m) => msrValue(referenceCount(m.now)) }],
  [
    HV_X64_MSR.HV_X64_MSR_REFERENCE_TSC,
    {
      gate: eax(EAX.HV_MSR_REFERENCE_TSC_AVAILABLE),
      read: (m) => msrValue(m.refTsc.msr),
      write: (m, _vp, value) => m.writeReferenceTscMsr(value & U64),
    },
  ],
  [HV_X64_MSR.HV_X64_MSR_TSC_FREQUENCY, { gate: eax(EAX.HV_ACCESS_FREQUENCY_MSRS), read: (m) => msrValue(m.machine.clock.tscHz) }],
  [HV_X64_MSR.HV_X64_MSR_APIC_FREQUENCY, { gate: eax(EAX.HV_ACCESS_FREQUENCY_MSRS), read: (m) => msrValue(m.config.apicHz) }],
  [
    HV_X64_MSR.HV_X64_MSR_EOI,
    {
      gate: eax(EAX.HV_MSR_APIC_ACCESS_AVAILABLE),
      // Write-only; 63:32 RsvdZ (TLFS virtual-interrupts.md "EOI Register").
      write: (m, vp, value) => {
        if (value >> 32n !== 0n) return GP;
        m.eoi(vp);
        return WRITTEN;
      },
    },
  ],
  [
    HV_X64_MSR.HV_X64_MSR_ICR,
    {
      gate: eax(EAX.HV_MSR_APIC_ACCESS_AVAILABLE),
      read: (_m, vp) => msrValue(vp.icr),
      write: (m, vp, value) => {
        m.apicIcrWrite(vp, value & U64);
        return WRITTEN;
      },
    },
  ],
  [
    HV_X64_MSR.HV_X64_MSR_TPR,
    {
      gate: eax(EAX.HV_MSR_APIC_ACCESS_AVAILABLE),
      read: (_m, vp) => msrValue(vp.tpr),
      write: (_m, vp, value) => {
        if (value >> 8n !== 0n) return GP;
        vp.tpr = value;
        return WRITTEN;
      },
    },
  ],
  [
    HV_X64_MSR.HV_X64_MSR_VP_ASSIST_PAGE,
    {
      gate: eax(EAX.HV_MSR_APIC_ACCESS_AVAILABLE),
      read: (_m, vp) => msrValue(vp.vpAssist),
      write: (_m, vp, value) => {
        vp.vpAssist = value & U64;
        return WRITTEN;
      },
    },
  ],
  [
    HV_X64_MSR.HV_X64_MSR_SCONTROL,
    {
      gate: eax(EAX.HV_MSR_SYNIC_AVAILABLE),
      read: (_m, vp) => msrValue(vp.scontrol),
      write: (m, vp, value) => {
        vp.scontrol = value & U64;
        rescanQueues(m.synicHost, vp);
        return WRITTEN;
      },
    },
  ],
  [HV_X64_MSR.HV_X64_MSR_SVERSION, { gate: eax(EAX.HV_MSR_SYNIC_AVAILABLE), read: () => msrValue(BigInt(HV_SYNIC.HV_SYNIC_VERSION_1)) }],
  [
    HV_X64_MSR.HV_X64_MSR_SIEFP,
    { gate: eax(EAX.HV_MSR_SYNIC_AVAILABLE), read: (_m, vp) => msrValue(vp.siefp), write: (m, vp, value) => writeSynicPage(m, vp, 'siefp', value & U64) },
  ],
  [
    HV_X64_MSR.HV_X64_MSR_SIMP,
    { gate: eax(EAX.HV_MSR_SYNIC_AVAILABLE), read: (_m, vp) => msrValue(vp.simp), write: (m, vp, value) => writeSynicPage(m, vp, 'simp', value & U64) },
  ],
  [
    HV_X64_MSR.HV_X64_MSR_EOM,
    {
      gate: eax(EAX.HV_MSR_SYNIC_AVAILABLE),
      // "Reads from the EOM register always returns zeros"; any written value triggers the rescan.
      read: () => msrValue(0n),
      write: (m, vp) => {
        rescanQueues(m.synicHost, vp);
        return WRITTEN;
      },
    },
  ],
  ...Array.from({ length: HV_SYNIC.HV_SYNIC_SINT_COUNT }, (_, sint): [number, Handler] => [
    HV_X64_MSR.HV_X64_MSR_SINT0 + sint,
    { gate: eax(EAX.HV_MSR_SYNIC_AVAILABLE), read: (_m, vp) => msrValue(vp.sints[sint] ?? 0n), write: (m, vp, value) => writeSint(m, vp, sint, value & U64) },
  ]),
  ...Array.from({ length: HV_SYNIC.HV_SYNIC_STIMER_COUNT }, (_, i): [number, Handler][] => [
    [HV_X64_MSR.HV_X64_MSR_STIMER0_CONFIG + 2 * i, timerMsr(i, 'config')],
    [HV_X64_MSR.HV_X64_MSR_STIMER0_COUNT + 2 * i, timerMsr(i, 'count')],
  ]).flat(),
  ...Array.from({ length: 5 }, (_, i): [number, Handler] => [
    HV_X64_MSR.HV_X64_MSR_CRASH_P0 + i,
    {
      gate: edx(EDX.HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE),
      read: (m) => msrValue(m.crashParams[i] ?? 0n),
      write: (m, _vp, value) => {
        m.crashParams[i] = value & U64;
        return WRITTEN;
      },
    },
  ]),
  [
    HV_X64_MSR.HV_X64_MSR_CRASH_CTL,
    {
      gate: edx(EDX.HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE),
      // Reading reports the supported actions: CrashNotify and CrashMessage (datatypes/hv_crash_ctl_reg_contents.md).
      read: () => msrValue(HV_MSR_BITS.HV_CRASH_CTL_CRASH_NOTIFY | HV_MSR_BITS.HV_CRASH_CTL_CRASH_NOTIFY_MSG),
      write: (m, _vp, value) => {
        // Bits 57:0 are reserved.
        if ((value & ((1n << 58n) - 1n)) !== 0n) return GP;
        if ((value & HV_MSR_BITS.HV_CRASH_CTL_CRASH_NOTIFY) !== 0n) m.crashNotify(value & U64);
        return WRITTEN;
      },
    },
  ],
]);

function gateOpen(m: ViridianModel, gate: Gate): boolean {
  return ((gate.register === 'eax' ? m.profile.privileges.eax : m.profile.featuresEdx) & gate.bit) !== 0;
}

/** RDMSR of a synthetic MSR. */
export function readMsr(m: ViridianModel, vp: ViridianVp, msr: number): MsrRead {
  const handler = TABLE.get(msr);
  if (!handler || !handler.read || !gateOpen(m, handler.gate)) return GP;
  return handler.read(m, vp);
}

/** WRMSR of a synthetic MSR. */
export function writeMsr(m: ViridianModel, vp: ViridianVp, msr: number, value: bigint): MsrWrite {
  const handler = TABLE.get(msr);
  if (!handler || !handler.write || !gateOpen(m, handler.gate)) return GP;
  return handler.write(m, vp, BigInt.asUintN(64, value));
}

/** The MSR numbers the model implements, with their gates (for coverage and the documentation). */
export function implementedMsrs(): readonly { readonly msr: number; readonly gate: Gate; readonly readable: boolean; readonly writable: boolean }[] {
  return [...TABLE.entries()].map(([msr, h]) => ({ msr, gate: h.gate, readable: h.read !== undefined, writable: h.write !== undefined }));
}
