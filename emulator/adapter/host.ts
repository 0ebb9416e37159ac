import type { Frame, MemoryFault } from '../machine/memory';
import type { XenDomainOptions } from '../xen/config';
import type { HypercallArgs } from '../xen/hypercalls/types';
import type { CpuidResult } from '../viridian/cpuidLeaves';
import type { HypercallRegisters } from '../viridian/hypercall';
import type { HypercallOutcome, MsrRead, MsrWrite } from '../viridian/outcome';

/*
 * What the reference adapter needs from whoever runs it. These are structural types: the harness
 * owns the public adapter API (harness/sut/adapterApi.ts, docs/adapter-api.md), and its host
 * satisfies them; the emulator does not import the harness.
 */

/** The Viridian machine as guest code sees it: instructions executed on a VP. */
export type ShimViridian = {
  readonly vpCount: number;
  hypercall(vp: number, regs: HypercallRegisters): HypercallOutcome;
  rdmsr(vp: number, msr: number): MsrRead;
  wrmsr(vp: number, msr: number, value: bigint): MsrWrite;
  cpuid(vp: number, leaf: number): CpuidResult;
  rdtsc(): bigint;
  halt(vp: number, interruptsEnabled: boolean): 'halted' | 'woken' | 'stopped';
  apicEoi(vp: number): void;
  apicIcrWrite(vp: number, icr: bigint): unknown;
  invlpg(vp: number, va: bigint): void;
  readCr3(vp: number): bigint;
  writeCr3(vp: number, cr3: bigint): void;
  flushTlbGlobal(vp: number): void;
};

/** Guest physical memory: loads and stores. */
export type ShimMemoryView = {
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
  writeBytesPartial(gpa: number, data: Uint8Array): MemoryFault | undefined;
};

/** Platform services outside the TLFS: the serial port, power, and the root's p2m changes. */
export type ShimPlatform = {
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
};

/** What the adapter tells the Xen guest: event upcalls, and the return of calls that blocked. */
export type ShimGuestSink = {
  upcall(vcpu: number): void;
  resumed(vcpu: number, value: bigint): void;
};

/** The root partition's endpoints for the peer domain (emulator/adapter/peerProtocol.ts). */
export type ShimRootEndpoints = {
  /** The VP where peer requests (messages) and peer sends (event flags) arrive, or HV_ANY_VP (0xFFFFFFFF): the lowest VP whose SynIC is on. */
  readonly vp: number;
  readonly sint: number;
  /** HvCallPostMessage connection for replies. */
  readonly replyConnection: number;
  /** HvCallSignalEvent connection for notifications to the peer (flag = peer port). */
  readonly notifyConnection: number;
};

/** The Xen guest the adapter presents: the same options the Xen world's domain was built with. */
export type ShimXenSetup = {
  readonly options: XenDomainOptions;
  /** The vCPUs online when the domain is built (the rest start down). */
  readonly online: readonly number[];
  /**
   * Frames of the guest's physical address space: [0, guestFrames). The machine's frames above
   * them are the adapter's own, which the Xen guest never sees.
   */
  readonly guestFrames: number;
};

/** Everything the reference adapter is given. */
export type ShimHost = {
  readonly xen: ShimXenSetup;
  readonly viridian: ShimViridian;
  readonly memory: ShimMemoryView;
  readonly platform: ShimPlatform;
  readonly guest: ShimGuestSink;
  readonly root: ShimRootEndpoints;
};

/** What a Xen hypercall does, as the adapter answers it. */
export type ShimCallResult = { readonly kind: 'returned'; readonly value: bigint } | { readonly kind: 'blocked' } | { readonly kind: 'unimplemented'; readonly reason: string };

export type { HypercallArgs };
