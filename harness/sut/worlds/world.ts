import type { ClockOptions } from '../../../emulator/machine/clock';
import type { Machine } from '../../../emulator/machine/machine';
import type { MemoryFault } from '../../../emulator/machine/memory';
import type { XenDomainOptions } from '../../../emulator/xen/config';
import type { ViridianOptions } from '../../../emulator/viridian/config';
import type { PeerRequest, PeerResult } from '../../../emulator/adapter/peerProtocol';
import type { AdapterFactory, XenCallResult, XenHypercallArgs } from '../adapterApi';

/** How both worlds' machines and domains are built; the same options give the same guest. */
export type WorldOptions = {
  readonly vcpus?: number;
  /** vCPUs online at boot. Default: all. */
  readonly online?: readonly number[];
  readonly ramPages?: number;
  /** Default: 4 x ramPages. */
  readonly addressSpacePages?: number;
  readonly clock?: ClockOptions;
  readonly xen?: XenDomainOptions;
  readonly viridian?: ViridianOptions;
  /** The adapter of the translated world. Default: the reference adapter. */
  readonly adapter?: AdapterFactory;
};

/**
 * Frames the translated world's machine keeps above the guest's physical address space for the
 * adapter's own use (docs/adapter-api.md): 16, plus 4 per vCPU.
 */
export function adapterReserveFrames(vcpus: number): number {
  return 16 + 4 * vcpus;
}

/** The resolved machine shape. */
export type MachineShape = { readonly vcpus: number; readonly online: readonly number[]; readonly ramPages: number; readonly addressSpacePages: number };

/** Fills in the machine defaults. */
export function machineShape(options: WorldOptions): MachineShape {
  const vcpus = options.vcpus ?? 2;
  const ramPages = options.ramPages ?? 1024;
  return { vcpus, online: options.online ?? [...Array(vcpus).keys()], ramPages, addressSpacePages: options.addressSpacePages ?? ramPages * 4 };
}

/**
 * One world as the guest (a scenario step, the fuzzer) drives it. Both worlds offer the same
 * operations; the oracle compares what they leave behind.
 */
export interface World {
  readonly kind: 'xen' | 'translated';
  readonly machine: Machine;
  /** Frames not compared (the adapter's own; none in the Xen world). */
  readonly privateFrames: ReadonlySet<number>;
  /** A Xen hypercall from a running vCPU. */
  hypercall(vcpu: number, nr: bigint, args: XenHypercallArgs): XenCallResult;
  /** A guest store to its own memory. */
  write(gpa: number, bytes: Uint8Array): MemoryFault | undefined;
  /** The guest returns to normal execution after writing its shared_info / vcpu_info. */
  returnToGuest(vcpu: number): void;
  /** The guest touches a page on a vCPU (a TLB fill). */
  touch(vcpu: number, space: bigint, va: bigint, global: boolean): void;
  /** Virtual time moves to `ns`. */
  advanceTo(ns: bigint): void;
  /** The peer domain acts. */
  peer(request: PeerRequest): PeerResult;
  /** The peer domain sends on one of its ports (EVTCHNOP_send by dom0). */
  peerSend(port: number): PeerResult;
}
