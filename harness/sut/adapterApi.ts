/**
 * The adapter API, version 1: how an adapter is plugged into xvc (docs/adapter-api.md).
 *
 * An adapter module's default export is an {@link AdapterFactory}. xvc builds the translated
 * world (a machine, the Viridian model, the root partition) and calls the factory once, at
 * virtual time 0, with an {@link AdapterHost}: the guest view of the Viridian machine and the few
 * platform services outside the TLFS. The adapter then answers the Xen guest's hypercalls and
 * takes the interrupts the Viridian machine delivers to it.
 */
import type { Frame, MemoryFault } from '../../emulator/machine/memory';
import type { XenDomainOptions } from '../../emulator/xen/config';
import type { CpuidResult } from '../../emulator/viridian/cpuidLeaves';
import type { HypercallRegisters } from '../../emulator/viridian/hypercall';
import type { HypercallOutcome, MsrRead, MsrWrite } from '../../emulator/viridian/outcome';

/** The version of this interface; a module may export `apiVersion` to say which it was written for. */
export const ADAPTER_API_VERSION = 1 as const;

/** The five argument registers of a 64-bit Xen hypercall: RDI, RSI, RDX, R10, R8. */
export type XenHypercallArgs = readonly [bigint, bigint, bigint, bigint, bigint];

/**
 * What a Xen hypercall does, as the calling vCPU sees it:
 * - returned: RAX, a C long (negative values are -errno);
 * - blocked: the vCPU is parked in the call (SCHEDOP_block, SCHEDOP_poll); when it returns the
 *   adapter calls {@link GuestSink.resumed} with the value;
 * - unimplemented: a path the adapter does not implement (the run reports it, never compares it).
 */
export type XenCallResult = { readonly kind: 'returned'; readonly value: bigint } | { readonly kind: 'blocked' } | { readonly kind: 'unimplemented'; readonly reason: string };

/**
 * The Viridian machine as guest code sees it. Every method is an instruction executed on the VP
 * named by its first argument, which must be running adapter code at that moment (the VP of the
 * hypercall being answered, or of the interrupt being taken).
 */
export interface ViridianGuest {
  /** Number of virtual processors (one per Xen vCPU, same index). */
  readonly vpCount: number;
  /** The hypercall instruction (through the hypercall page): RCX input value, RDX / R8 GPAs or fast input, XMM0-5. */
  hypercall(vp: number, regs: HypercallRegisters): HypercallOutcome;
  rdmsr(vp: number, msr: number): MsrRead;
  wrmsr(vp: number, msr: number, value: bigint): MsrWrite;
  cpuid(vp: number, leaf: number): CpuidResult;
  rdtsc(): bigint;
  /** HLT: with interrupts enabled the VP waits for an interrupt; with them disabled it stops until INIT. */
  halt(vp: number, interruptsEnabled: boolean): 'halted' | 'woken' | 'stopped';
  /** The local APIC's EOI register. */
  apicEoi(vp: number): void;
  /** The local APIC's ICR (xAPIC format: destination in bits 63:56). */
  apicIcrWrite(vp: number, icr: bigint): unknown;
  invlpg(vp: number, va: bigint): void;
  readCr3(vp: number): bigint;
  writeCr3(vp: number, cr3: bigint): void;
  /** A CR4.PGE toggle: every translation of the VP, global ones included. */
  flushTlbGlobal(vp: number): void;
}

/** Guest physical memory: the guest's own loads and stores (faults are values). */
export interface GuestMemoryView {
  readonly addressSpacePages: number;
  readonly populatedPages: number;
  inSpace(gfn: number): boolean;
  isPopulated(gfn: number): boolean;
  check(gpa: number, len: number, access: 'read' | 'write'): MemoryFault | undefined;
  read8(gpa: number): number | MemoryFault;
  read16(gpa: number): number | MemoryFault;
  read32(gpa: number): number | MemoryFault;
  read64(gpa: number): bigint | MemoryFault;
  write8(gpa: number, value: number): MemoryFault | undefined;
  write16(gpa: number, value: number): MemoryFault | undefined;
  write32(gpa: number, value: number): MemoryFault | undefined;
  write64(gpa: number, value: bigint): MemoryFault | undefined;
  readBytes(gpa: number, len: number): Uint8Array | MemoryFault;
  writeBytes(gpa: number, data: Uint8Array): MemoryFault | undefined;
  /** Writes what fits before the first fault (copy_to_guest semantics). */
  writeBytesPartial(gpa: number, data: Uint8Array): MemoryFault | undefined;
}

/**
 * Platform services outside the TLFS, each the stand-in for a real mechanism: the serial port
 * (COM1), ACPI power-off and reset, and the root partition's changes to the guest's physical
 * address space (Hyper-V dynamic memory and the root's GPA mappings).
 */
export interface PlatformServices {
  serialWrite(bytes: Uint8Array): void;
  powerOff(): void;
  reset(): void;
  populate(gfn: number): boolean;
  depopulate(gfn: number): boolean;
  frameOf(gfn: number): Frame | undefined;
  mapForeign(gfn: number, frame: Frame, writable: boolean): boolean;
  unmapForeign(gfn: number, restore: boolean): boolean;
  isForeign(gfn: number): boolean;
  foreignMapping(gfn: number): { readonly frame: Frame; readonly writable: boolean } | undefined;
}

/** What the adapter tells the Xen guest. */
export interface GuestSink {
  /** The guest's event callback (upcall) runs on this vCPU now. */
  upcall(vcpu: number): void;
  /** A call that blocked on this vCPU returns `value` now. */
  resumed(vcpu: number, value: bigint): void;
}

/** Where the root partition talks to the adapter about the peer domain (docs/adapter-api.md "The peer protocol"). */
export interface RootEndpoints {
  /** The VP the root delivers to, or HV_ANY_VP (0xFFFFFFFF): the lowest-numbered VP whose SynIC and SIM / SIEF pages are on. */
  readonly vp: number;
  readonly sint: number;
  readonly replyConnection: number;
  readonly notifyConnection: number;
}

/** The Xen guest to present: the options its domain is built with (the Xen world uses the same), and the vCPUs online at boot. */
export interface XenGuestSetup {
  readonly options: XenDomainOptions;
  readonly online: readonly number[];
  /**
   * Frames of the guest's physical address space, [0, guestFrames): the Xen world's whole space.
   * The machine's frames from guestFrames to `memory.addressSpacePages` are the adapter's own (its
   * hypercall page, SynIC pages, parameter pages); the guest never sees them and they are never
   * compared.
   */
  readonly guestFrames: number;
}

/** Everything an adapter is given. */
export interface AdapterHost {
  readonly apiVersion: typeof ADAPTER_API_VERSION;
  readonly xen: XenGuestSetup;
  readonly viridian: ViridianGuest;
  readonly memory: GuestMemoryView;
  readonly platform: PlatformServices;
  readonly guest: GuestSink;
  readonly root: RootEndpoints;
}

/** An adapter. */
export interface Adapter {
  readonly name: string;
  readonly version: string;
  /** The frames the adapter keeps for itself; they are not compared and the guest is never given them. */
  readonly privateFrames: readonly number[];
  /** A Xen hypercall from a vCPU that is running. */
  hypercall(vcpu: number, nr: bigint, args: XenHypercallArgs): XenCallResult;
  /** An interrupt the VP accepted; the adapter EOIs it (unless its SINT is auto-EOI). */
  interrupt(vp: number, vector: number): void;
  /** The guest wrote its shared_info or vcpu_info: re-check event delivery (Xen's return to guest). */
  returnToGuest(vcpu: number): void;
}

/** The default export of an adapter module. */
export type AdapterFactory = (host: AdapterHost) => Adapter;
