import { decodeStruct, encodeStruct, type StructLayout, type StructValue } from '../abi/struct';
import { Machine } from '../machine/machine';
import { isFault } from '../machine/memory';
import { HV_X64_MSR } from './abi/msrs';
import { HV_SYNIC } from './abi/synic';
import { hv_message_header } from './abi/layouts';
import type { ViridianOptions } from './config';
import { encodeInput, type HypercallInputFields } from './control';
import { describeStatus, type HypercallOutcome, type MsrRead, type MsrWrite } from './outcome';
import { ViridianModel } from './viridianModel';

/** Options for {@link ViridianTestGuest}. */
export type ViridianTestOptions = {
  readonly vcpus?: number;
  /** vCPUs running at creation (the rest are not started). Default: all. */
  readonly online?: readonly number[];
  readonly ramPages?: number;
  readonly viridian?: ViridianOptions;
  /** Enable the hypercall page at creation. Default: true. */
  readonly hypercalls?: boolean;
};

/** A Linux-style guest OS id (HV_LINUX_VENDOR_ID 0x8100 in 63:48, include/asm-generic/hyperv-tlfs.h). */
export const TEST_GUEST_OS_ID = 0x8100_0006_0001_0000n;

/** Frames of the test guest's layout: hypercall page, input and output pages, SIM/SIEF pages per VP. */
export const TEST_LAYOUT = { hypercallGfn: 0x10, inputGfn: 0x20, outputGfn: 0x21, simGfn: (vp: number) => 0x40 + 2 * vp, siefGfn: (vp: number) => 0x41 + 2 * vp } as const;

/** A hypercall as a test writes it: the input value's fields and the input bytes. */
export type TestCall = HypercallInputFields & {
  /** Input parameters: written to the input page (memory form) or packed into RDX, R8, XMM (fast). */
  readonly input?: Uint8Array;
  /** Override the GPAs (memory form) or registers (fast form). */
  readonly rdx?: bigint;
  readonly r8?: bigint;
  readonly xmm?: readonly bigint[];
  readonly vp?: number;
};

/**
 * A small enlightened guest for unit tests of the Viridian model: a machine, the model, the
 * hypercall page enabled at a fixed frame, one input and one output page, and shorthands for
 * MSRs, SynIC set-up and interrupt delivery. Test-only; the harness reaches the model through
 * harness/sut.
 */
export class ViridianTestGuest {
  readonly machine: Machine;
  readonly model: ViridianModel;
  /** Interrupts the guest's handler took: [vp, vector] in order. */
  readonly interrupts: [number, number][] = [];

  constructor(options: ViridianTestOptions = {}) {
    const ramPages = options.ramPages ?? 256;
    this.machine = new Machine({
      vcpus: options.vcpus ?? 2,
      ...(options.online ? { online: options.online } : {}),
      memory: { ramPages, addressSpacePages: ramPages * 4 },
    });
    this.model = new ViridianModel(this.machine, options.viridian ?? {});
    if (options.hypercalls ?? true) this.enableHypercalls();
  }

  /** Writes the guest OS id and enables the hypercall page; throws if either MSR faults. */
  enableHypercalls(vp = 0): void {
    this.wrmsrOk(HV_X64_MSR.HV_X64_MSR_GUEST_OS_ID, TEST_GUEST_OS_ID, vp);
    this.wrmsrOk(HV_X64_MSR.HV_X64_MSR_HYPERCALL, (BigInt(TEST_LAYOUT.hypercallGfn) << 12n) | 1n, vp);
  }

  /** RDMSR. */
  rdmsr(msr: number, vp = 0): MsrRead {
    return this.model.rdmsr(vp, msr);
  }

  /** WRMSR. */
  wrmsr(msr: number, value: bigint, vp = 0): MsrWrite {
    return this.model.wrmsr(vp, msr, value);
  }

  /** RDMSR that must succeed. */
  rdmsrOk(msr: number, vp = 0): bigint {
    const r = this.model.rdmsr(vp, msr);
    if (r.kind !== 'ok') throw new Error(`RDMSR 0x${msr.toString(16)} faulted`);
    return r.value;
  }

  /** WRMSR that must succeed. */
  wrmsrOk(msr: number, value: bigint, vp = 0): void {
    if (this.model.wrmsr(vp, msr, value).kind !== 'ok') throw new Error(`WRMSR 0x${msr.toString(16)} <- 0x${value.toString(16)} faulted`);
  }

  /** The input page's GPA. */
  get inputGpa(): bigint {
    return BigInt(TEST_LAYOUT.inputGfn) << 12n;
  }

  /** The output page's GPA. */
  get outputGpa(): bigint {
    return BigInt(TEST_LAYOUT.outputGfn) << 12n;
  }

  /**
   * Issues a hypercall. Memory form: the input bytes go to the start of the input page and the
   * output page is zeroed first. Fast form: the input bytes fill RDX, R8 and then XMM halves.
   */
  call(call: TestCall): HypercallOutcome {
    const rcx = encodeInput(call);
    const input = call.input ?? new Uint8Array(0);
    let rdx: bigint;
    let r8: bigint;
    let xmm: readonly bigint[] = call.xmm ?? [];
    if (call.fast) {
      const padded = new Uint8Array(Math.max(16, Math.ceil(input.length / 8) * 8));
      padded.set(input);
      const view = new DataView(padded.buffer);
      const words = Array.from({ length: padded.length / 8 }, (_, i) => view.getBigUint64(8 * i, true));
      rdx = call.rdx ?? (words[0] as bigint);
      r8 = call.r8 ?? (words[1] as bigint);
      if (!call.xmm) xmm = words.slice(2);
    } else {
      this.write(this.inputGpa, new Uint8Array(4096));
      this.write(this.inputGpa, input);
      this.write(this.outputGpa, new Uint8Array(4096));
      rdx = call.rdx ?? this.inputGpa;
      r8 = call.r8 ?? this.outputGpa;
    }
    return this.model.hypercall(call.vp ?? 0, { rcx, rdx, r8, xmm });
  }

  /** Issues a hypercall and returns its status name, or 'UD' / 'intercept' / 'unimplemented'. */
  status(call: TestCall): string {
    const outcome = this.call(call);
    switch (outcome.kind) {
      case 'result':
        return describeStatus(outcome.status);
      case 'fault':
        return outcome.vector;
      case 'intercept':
        return 'intercept';
      case 'unimplemented':
        return 'unimplemented';
      default:
        return outcome satisfies never;
    }
  }

  /** Writes guest memory; throws on a fault (a test bug). */
  write(gpa: bigint, bytes: Uint8Array): void {
    const fault = this.machine.memory.writeBytes(Number(gpa), bytes);
    if (fault) throw new Error(`test write faulted: ${JSON.stringify(fault)}`);
  }

  /** Reads guest memory; throws on a fault. */
  read(gpa: bigint, len: number): Uint8Array {
    const bytes = this.machine.memory.readBytes(Number(gpa), len);
    if (isFault(bytes)) throw new Error(`test read faulted: ${JSON.stringify(bytes)}`);
    return bytes;
  }

  /** Reads a struct from guest memory. */
  get<L extends StructLayout>(layout: L, gpa: bigint): StructValue<L> {
    return decodeStruct(this.read(gpa, layout.size), layout);
  }

  /** Encodes a struct (shorthand). */
  static struct<L extends StructLayout>(layout: L, value: Partial<Record<keyof L['fields'], number | bigint>>): Uint8Array {
    return encodeStruct(layout, value);
  }

  /**
   * Turns on a VP's SynIC: SCONTROL, SIMP and SIEFP at the layout's frames, and the given SINTs
   * with their vectors (unmasked unless `flags` says otherwise).
   */
  enableSynic(vp = 0, sints: Readonly<Record<number, { readonly vector: number; readonly flags?: bigint }>> = {}): void {
    this.wrmsrOk(HV_X64_MSR.HV_X64_MSR_SCONTROL, 1n, vp);
    this.wrmsrOk(HV_X64_MSR.HV_X64_MSR_SIMP, (BigInt(TEST_LAYOUT.simGfn(vp)) << 12n) | 1n, vp);
    this.wrmsrOk(HV_X64_MSR.HV_X64_MSR_SIEFP, (BigInt(TEST_LAYOUT.siefGfn(vp)) << 12n) | 1n, vp);
    for (const [sint, { vector, flags }] of Object.entries(sints)) this.wrmsrOk(HV_X64_MSR.HV_X64_MSR_SINT0 + Number(sint), BigInt(vector) | (flags ?? 0n), vp);
  }

  /** The message in a SIM slot: its header and payload bytes. */
  slot(vp: number, sint: number): { header: StructValue<typeof hv_message_header>; payload: Uint8Array } {
    const base = (BigInt(TEST_LAYOUT.simGfn(vp)) << 12n) + BigInt(sint * HV_SYNIC.HV_MESSAGE_SIZE);
    const header = this.get(hv_message_header, base);
    return { header, payload: this.read(base + 16n, header.payload_size) };
  }

  /** The guest empties a SIM slot (MessageType = HvMessageTypeNone), as its ISR should. */
  clearSlot(vp: number, sint: number): void {
    const base = (BigInt(TEST_LAYOUT.simGfn(vp)) << 12n) + BigInt(sint * HV_SYNIC.HV_MESSAGE_SIZE);
    this.write(base, new Uint8Array(4));
  }

  /** Whether event flag `flag` of a SINT is set in a VP's SIEF page. */
  eventFlag(vp: number, sint: number, flag: number): boolean {
    const at = (BigInt(TEST_LAYOUT.siefGfn(vp)) << 12n) + BigInt(sint * 256 + (flag >>> 3));
    return ((this.read(at, 1)[0] as number) & (1 << (flag & 7))) !== 0;
  }

  /** Hands pending interrupts to a recording handler (which EOIs nothing) and returns what it took. */
  deliver(): [number, number][] {
    const taken: [number, number][] = [];
    this.model.deliverInterrupts((vp, vector) => taken.push([vp, vector]));
    this.interrupts.push(...taken);
    return taken;
  }

  /** Advances virtual time to `ns`, delivering interrupts at each deadline; returns what was taken. */
  advanceTo(ns: bigint): [number, number][] {
    const taken: [number, number][] = [];
    this.model.advanceTo(ns, (vp, vector) => taken.push([vp, vector]));
    this.interrupts.push(...taken);
    return taken;
  }
}
