import { isFault } from '../../machine/memory';
import { HV_CALL_INPUT } from '../../viridian/abi/calls';
import { HV_FEATURES_EDX as EDX, HV_PRIVILEGES_EAX as EAX, HV_PRIVILEGES_EBX as EBX, HV_RECOMMENDATIONS_EAX as REC, HYPERV_CPUID } from '../../viridian/abi/cpuid';
import { HVCALL } from '../../viridian/abi/hypercalls';
import { HV_X64_MSR } from '../../viridian/abi/msrs';
import { HV_SYNIC } from '../../viridian/abi/synic';
import { encodeInput, withRepStart } from '../../viridian/control';
import { describeStatus, type HypercallOutcome } from '../../viridian/outcome';
import type { ShimHost } from '../host';

/** The adapter's own interrupt vectors and SINTs. */
export const SHIM_VECTORS = {
  /** Cross-VP requests (kick, wake, flush, down, timer). */
  ipi: 0xf2,
  /** Timer expiry: synthetic timer in direct mode, or the TSC-deadline timer. */
  timer: 0xef,
  /** SynIC: synthetic timer expiry messages. */
  timerSint: 0xe3,
  /** SynIC: the peer's requests and sends. */
  peerSint: 0xe4,
} as const;

/** The SINT the adapter uses for synthetic timer messages (a free SINT, above HV_SYNIC_FIRST_UNUSED_SINT_INDEX). */
export const TIMER_SINT = 6;

/** A Linux-style guest OS id (open source, OS type 1, HV_LINUX_VENDOR_ID 0x8100 in 63:48). */
const GUEST_OS_ID = 0x8100_0006_0001_0000n;

/** CPUID facts the adapter decides with. */
export type ViridianFeatures = {
  readonly privilegesEax: number;
  readonly privilegesEbx: number;
  readonly featuresEdx: number;
  readonly recommendations: number;
  readonly spinRetries: number;
};

/** Frames the adapter uses for itself, at the top of the GPA space. */
export type PrivateLayout = {
  readonly hypercallGfn: number;
  inputGfn(vp: number): number;
  outputGfn(vp: number): number;
  simGfn(vp: number): number;
  siefGfn(vp: number): number;
  readonly all: readonly number[];
};

/** The adapter's frames: the hypercall page, then four per VP (input, output, SIM, SIEF). */
export function privateLayout(addressSpacePages: number, vps: number): PrivateLayout {
  const top = addressSpacePages - 1;
  const base = (vp: number): number => top - 1 - 4 * vp;
  const layout = {
    hypercallGfn: top,
    inputGfn: (vp: number) => base(vp),
    outputGfn: (vp: number) => base(vp) - 1,
    simGfn: (vp: number) => base(vp) - 2,
    siefGfn: (vp: number) => base(vp) - 3,
  };
  const all = [top];
  for (let vp = 0; vp < vps; vp++) all.push(layout.inputGfn(vp), layout.outputGfn(vp), layout.simGfn(vp), layout.siefGfn(vp));
  return { ...layout, all };
}

/** A hypercall to make: code, input bytes, and the input value's other fields. */
export type Call = {
  readonly code: number;
  readonly input: Uint8Array;
  readonly fast?: boolean;
  readonly repCount?: number;
  readonly varHeadSize?: number;
  /** Bytes of output to read back (memory form). */
  readonly outputBytes?: number;
};

/** A completed call: its status and output. */
export type CallDone = { readonly status: number; readonly output: Uint8Array };

/**
 * The adapter's use of the Viridian guest interface: discovery, the hypercall page, per-VP
 * SynIC set-up, and hypercalls made from private input pages, with rep calls restarted from
 * their reps completed until done (TLFS "Hypercall Continuation").
 */
export class ViridianDriver {
  readonly host: ShimHost;
  readonly layout: PrivateLayout;
  readonly features: ViridianFeatures;
  /** Every Viridian status other than success the adapter has seen (a correct adapter sees none). */
  readonly failures: string[] = [];

  constructor(host: ShimHost) {
    this.host = host;
    const v = host.viridian;
    this.layout = privateLayout(host.memory.addressSpacePages, v.vpCount);
    if (Math.min(...this.layout.all) < host.xen.guestFrames) {
      throw new Error(`[adapter] the machine keeps ${host.memory.addressSpacePages - host.xen.guestFrames} frames above the guest's space; the adapter needs ${this.layout.all.length}`);
    }
    const vendor = v.cpuid(0, HYPERV_CPUID.HYPERV_CPUID_VENDOR_AND_MAX_FUNCTIONS);
    const iface = v.cpuid(0, HYPERV_CPUID.HYPERV_CPUID_INTERFACE);
    if (iface.eax !== 0x3123_7648 || vendor.eax < HYPERV_CPUID.HYPERV_CPUID_MIN) throw new Error('[adapter] no "Hv#1" hypervisor interface');
    const l3 = v.cpuid(0, HYPERV_CPUID.HYPERV_CPUID_FEATURES);
    const l4 = v.cpuid(0, HYPERV_CPUID.HYPERV_CPUID_ENLIGHTMENT_INFO);
    this.features = { privilegesEax: l3.eax, privilegesEbx: l3.ebx, featuresEdx: l3.edx, recommendations: l4.eax, spinRetries: l4.ebx };
  }

  has(kind: 'eax' | 'ebx' | 'edx' | 'rec', bit: number): boolean {
    const word = { eax: this.features.privilegesEax, ebx: this.features.privilegesEbx, edx: this.features.featuresEdx, rec: this.features.recommendations }[kind];
    return (word & bit) === bit;
  }

  /** Whether the SynIC is there (every profile of the model has it; a minimal "Hv#1" hypervisor might not). */
  get synic(): boolean {
    return this.has('eax', EAX.HV_MSR_SYNIC_AVAILABLE);
  }

  /** Reports the guest OS, enables the hypercall page and claims the private pages (TLFS "Establishing the Hypercall Interface"). */
  boot(): void {
    const { platform } = this.host;
    for (const gfn of this.layout.all) if (gfn !== this.layout.hypercallGfn && !this.isOverlay(gfn)) platform.populate(gfn);
    this.wrmsr(0, HV_X64_MSR.HV_X64_MSR_GUEST_OS_ID, GUEST_OS_ID);
    this.wrmsr(0, HV_X64_MSR.HV_X64_MSR_HYPERCALL, (BigInt(this.layout.hypercallGfn) << 12n) | 1n);
  }

  private isOverlay(gfn: number): boolean {
    for (let vp = 0; vp < this.host.viridian.vpCount; vp++) if (gfn === this.layout.simGfn(vp) || gfn === this.layout.siefGfn(vp)) return true;
    return false;
  }

  /** Per-VP set-up, run on the VP: SynIC with its pages, the timer SINT, and the peer SINT on the peer's VP. */
  initVp(vp: number): void {
    if (!this.synic) return;
    this.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_SIMP, (BigInt(this.layout.simGfn(vp)) << 12n) | 1n);
    this.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_SIEFP, (BigInt(this.layout.siefGfn(vp)) << 12n) | 1n);
    this.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_SINT0 + TIMER_SINT, BigInt(SHIM_VECTORS.timerSint));
    if (vp === this.host.root.vp || this.host.root.vp === HV_CALL_INPUT.HV_ANY_VP) this.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_SINT0 + this.host.root.sint, BigInt(SHIM_VECTORS.peerSint));
    this.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_SCONTROL, 1n);
  }

  /**
   * A VP going offline turns its SynIC off, so that the root's deliveries to "any VP" go to a VP
   * that can take them (TLFS: a VP whose SynIC is disabled is not a potential target).
   */
  offlineVp(vp: number): void {
    if (this.synic) this.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_SCONTROL, 0n);
  }

  /** WRMSR that must succeed (a #GP here is the adapter's own bug). */
  wrmsr(vp: number, msr: number, value: bigint): void {
    const r = this.host.viridian.wrmsr(vp, msr, value);
    if (r.kind !== 'ok') throw new Error(`[adapter] WRMSR 0x${msr.toString(16)} <- 0x${value.toString(16)} on VP ${vp} faulted`);
  }

  /** RDMSR that must succeed. */
  rdmsr(vp: number, msr: number): bigint {
    const r = this.host.viridian.rdmsr(vp, msr);
    if (r.kind !== 'ok') throw new Error(`[adapter] RDMSR 0x${msr.toString(16)} on VP ${vp} faulted`);
    return r.value;
  }

  /**
   * Makes a hypercall from `vp`. Memory form: the input goes to the VP's input page and the
   * output comes back from its output page. Rep calls are restarted until every rep is done.
   */
  call(vp: number, call: Call): CallDone {
    const fields = { code: call.code, fast: call.fast ?? false, repCount: call.repCount ?? 0, varHeadSize: call.varHeadSize ?? 0 };
    let rcx = encodeInput(fields);
    let rdx: bigint;
    let r8: bigint;
    let xmm: bigint[] = [];
    if (call.fast) {
      const words = toWords(call.input);
      rdx = words[0] ?? 0n;
      r8 = words[1] ?? 0n;
      xmm = words.slice(2);
    } else {
      const inGpa = this.layout.inputGfn(vp) * 4096;
      const fault = this.host.memory.writeBytes(inGpa, call.input);
      if (fault) throw new Error(`[adapter] cannot write the input page of VP ${vp}`);
      rdx = BigInt(inGpa);
      r8 = BigInt(this.layout.outputGfn(vp) * 4096);
    }
    for (;;) {
      const outcome = this.host.viridian.hypercall(vp, { rcx, rdx, r8, xmm });
      const result = expectResult(outcome, call.code);
      if (result.status !== 0) {
        this.failures.push(`${callName(call.code)}: ${describeStatus(result.status)}`);
        return { status: result.status, output: new Uint8Array(0) };
      }
      if (fields.repCount === 0 || result.repsCompleted >= fields.repCount) break;
      rcx = withRepStart(rcx, result.repsCompleted);
    }
    const outputBytes = call.outputBytes ?? 0;
    const output = outputBytes > 0 ? this.host.memory.readBytes(this.layout.outputGfn(vp) * 4096, outputBytes) : new Uint8Array(0);
    return { status: 0, output: isFault(output) ? new Uint8Array(0) : output };
  }

  /** Whether the profile recommends the remote-flush hypercalls (and KVM-style access allows them). */
  get flushHypercalls(): boolean {
    return this.has('rec', REC.HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED);
  }

  /** Whether the Ex (sparse VP set) forms are recommended. */
  get exMasks(): boolean {
    return this.has('rec', REC.HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED);
  }

  /** Whether synthetic cluster IPIs are recommended. */
  get clusterIpi(): boolean {
    return this.has('rec', REC.HV_X64_CLUSTER_IPI_RECOMMENDED);
  }

  /** Whether XMM fast input is available. */
  get xmmInput(): boolean {
    return this.has('edx', EDX.HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE);
  }

  /** Whether the APIC MSRs (EOI, ICR) are available. */
  get apicMsrs(): boolean {
    return this.has('eax', EAX.HV_MSR_APIC_ACCESS_AVAILABLE);
  }

  /** Whether HvCallStartVirtualProcessor is available. */
  get startVp(): boolean {
    return this.has('ebx', 1 << 21);
  }

  /** Whether messages can be posted and events signalled. */
  get ipc(): boolean {
    return this.has('ebx', EBX.HV_POST_MESSAGES | EBX.HV_SIGNAL_EVENTS);
  }

  /** HvCallPostMessage from `vp`. */
  postMessage(vp: number, connection: number, type: number, payload: Uint8Array): number {
    const input = new Uint8Array(16 + payload.length + ((8 - (payload.length % 8)) % 8));
    const view = new DataView(input.buffer);
    view.setUint32(0, connection, true);
    view.setUint32(8, type, true);
    view.setUint32(12, payload.length, true);
    input.set(payload, 16);
    return this.call(vp, { code: HVCALL.HVCALL_POST_MESSAGE, input }).status;
  }

  /** HvCallSignalEvent from `vp`, fast form (RDX = connection id | flag << 32). */
  signalEvent(vp: number, connection: number, flag: number): number {
    const input = new Uint8Array(8);
    new DataView(input.buffer).setBigUint64(0, BigInt(connection) | (BigInt(flag) << 32n), true);
    return this.call(vp, { code: HVCALL.HVCALL_SIGNAL_EVENT, input, fast: true }).status;
  }

  /** The guest physical address of a VP's SIM slot for a SINT. */
  simSlot(vp: number, sint: number): number {
    return this.layout.simGfn(vp) * 4096 + sint * HV_SYNIC.HV_MESSAGE_SIZE;
  }

  /** The guest physical address of a VP's SIEF area for a SINT. */
  siefArea(vp: number, sint: number): number {
    return this.layout.siefGfn(vp) * 4096 + sint * 256;
  }

  /** A processor set in the Ex encoding: Format, ValidBanksMask, then the banks (the variable header). */
  static vpSet(vps: readonly number[]): { readonly words: bigint[]; readonly banks: number } {
    const byBank = new Map<number, bigint>();
    for (const vp of vps) byBank.set(Math.floor(vp / 64), (byBank.get(Math.floor(vp / 64)) ?? 0n) | (1n << BigInt(vp % 64)));
    const order = [...byBank.keys()].sort((a, b) => a - b);
    const mask = order.reduce((m, b) => m | (1n << BigInt(b)), 0n);
    return { words: [BigInt(HV_CALL_INPUT.HV_GENERIC_SET_SPARSE_4K), mask, ...order.map((b) => byBank.get(b) as bigint)], banks: order.length };
  }
}

/** Little-endian 64-bit words of a byte array (zero-padded). */
export function toWords(bytes: Uint8Array): bigint[] {
  const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  return Array.from({ length: padded.length / 8 }, (_, i) => view.getBigUint64(8 * i, true));
}

/** Bytes of little-endian 64-bit words. */
export function fromWords(words: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(8 * words.length);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setBigUint64(8 * i, BigInt.asUintN(64, w), true));
  return out;
}

function callName(code: number): string {
  return (Object.entries(HVCALL) as [string, number][]).find(([, c]) => c === code)?.[0] ?? `call 0x${code.toString(16)}`;
}

function expectResult(outcome: HypercallOutcome, code: number): { status: number; repsCompleted: number } {
  switch (outcome.kind) {
    case 'result':
      return outcome;
    case 'fault':
      throw new Error(`[adapter] ${callName(code)} raised #${outcome.vector}`);
    case 'intercept':
      throw new Error(`[adapter] ${callName(code)} hit an unmapped GPA 0x${outcome.gpa.toString(16)}`);
    case 'unimplemented':
      throw new Error(`[adapter] ${callName(code)}: ${outcome.reason}`);
    default:
      return outcome satisfies never;
  }
}
