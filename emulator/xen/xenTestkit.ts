import { decodeStruct, encodeStruct, type StructLayout, type StructValue } from '../abi/struct';
import { Machine } from '../machine/machine';
import { isFault } from '../machine/memory';
import { SHARED_INFO, vcpu_info } from './abi/layouts';
import { XenHypercall } from './abi/hypercalls';
import { XEN_ERRNO, type XenErrnoName } from './abi/errno';
import type { XenDomainOptions } from './config';
import type { XenOutcome } from './outcome';
import type { HypercallArgs, XenHypercallName } from './hypercalls/types';
import { XenModel } from './xenModel';

/** The value of -errno as a hypercall returns it. */
export function E(name: XenErrnoName): bigint {
  return -BigInt(XEN_ERRNO[name]);
}

/** Options for {@link XenTestGuest}. */
export type TestGuestOptions = {
  readonly vcpus?: number;
  readonly online?: readonly number[];
  readonly ramPages?: number;
  readonly xen?: XenDomainOptions;
};

/** First frame of the scratch area where tests place hypercall arguments. */
const SCRATCH_GFN = 0x100;

/**
 * A small guest for unit tests of the Xen model: a machine, the model, a bump allocator for
 * argument buffers in guest RAM, and shorthands for issuing hypercalls and reading shared_info.
 * Test-only; the harness drives the model through harness/sut.
 */
export class XenTestGuest {
  readonly machine: Machine;
  readonly xen: XenModel;
  private next = SCRATCH_GFN * 4096;

  constructor(options: TestGuestOptions = {}) {
    const ramPages = options.ramPages ?? 1024;
    this.machine = new Machine({
      vcpus: options.vcpus ?? 2,
      ...(options.online ? { online: options.online } : {}),
      memory: { ramPages, addressSpacePages: ramPages * 4 },
    });
    this.xen = new XenModel(this.machine, options.xen ?? {});
  }

  /** Allocates `len` zeroed bytes of guest RAM (8-byte aligned) and returns the address. */
  alloc(len: number, align = 8): bigint {
    this.next = Math.ceil(this.next / align) * align;
    const at = this.next;
    this.next += Math.max(len, 1);
    return BigInt(at);
  }

  /** Allocates a struct in guest RAM and writes its fields. */
  put<L extends StructLayout>(layout: L, value: Partial<Record<keyof L['fields'], number | bigint>>): bigint {
    const at = this.alloc(layout.size);
    this.write(at, encodeStruct(layout, value));
    return at;
  }

  /** Writes bytes into guest memory (a guest action; throws if the memory is not writable). */
  write(at: bigint, bytes: Uint8Array): void {
    const fault = this.machine.memory.writeBytes(Number(at), bytes);
    if (fault) throw new Error(`test write faulted: ${JSON.stringify(fault)}`);
  }

  /** Reads a struct from guest memory. */
  get<L extends StructLayout>(layout: L, at: bigint, index = 0): StructValue<L> {
    const bytes = this.machine.memory.readBytes(Number(at) + index * layout.size, layout.size);
    if (isFault(bytes)) throw new Error(`test read faulted: ${JSON.stringify(bytes)}`);
    return decodeStruct(bytes, layout);
  }

  /** An array of 32-bit values in guest memory. */
  putU32s(values: readonly number[]): bigint {
    const at = this.alloc(4 * Math.max(values.length, 1));
    values.forEach((v, i) => this.machine.memory.write32(Number(at) + 4 * i, v));
    return at;
  }

  /** An array of 64-bit values in guest memory. */
  putU64s(values: readonly bigint[]): bigint {
    const at = this.alloc(8 * Math.max(values.length, 1));
    values.forEach((v, i) => this.machine.memory.write64(Number(at) + 8 * i, v));
    return at;
  }

  /** Reads 64-bit values back. */
  getU64s(at: bigint, count: number): bigint[] {
    return Array.from({ length: count }, (_, i) => {
      const v = this.machine.memory.read64(Number(at) + 8 * i);
      if (isFault(v)) throw new Error('test read faulted');
      return v;
    });
  }

  /** Issues hypercall `name` from vCPU `vcpu` with up to five arguments. */
  callOn(vcpu: number, name: XenHypercallName | number, ...args: (bigint | number)[]): XenOutcome {
    const nr = typeof name === 'number' ? name : XenHypercall[name];
    const regs = [0n, 0n, 0n, 0n, 0n].map((z, i) => (args[i] === undefined ? z : BigInt.asUintN(64, BigInt(args[i] as bigint | number)))) as unknown as HypercallArgs;
    return this.xen.hypercall(vcpu, BigInt(nr), regs);
  }

  /** Issues hypercall `name` from vCPU 0. */
  call(name: XenHypercallName | number, ...args: (bigint | number)[]): XenOutcome {
    return this.callOn(0, name, ...args);
  }

  /** Issues a hypercall from vCPU 0 and returns its value; fails the test if it did not return. */
  ret(name: XenHypercallName | number, ...args: (bigint | number)[]): bigint {
    const outcome = this.call(name, ...args);
    if (outcome.kind !== 'returned') throw new Error(`${String(name)} did not return: ${JSON.stringify(outcome)}`);
    return outcome.value;
  }

  /** Like {@link ret}, from another vCPU. */
  retOn(vcpu: number, name: XenHypercallName | number, ...args: (bigint | number)[]): bigint {
    const outcome = this.callOn(vcpu, name, ...args);
    if (outcome.kind !== 'returned') throw new Error(`${String(name)} did not return: ${JSON.stringify(outcome)}`);
    return outcome.value;
  }

  private get sharedInfo(): number {
    return this.xen.guest.sharedInfoGpa;
  }

  /** Whether `port` is set in shared_info.evtchn_pending. */
  pending(port: number): boolean {
    return this.xen.guest.isPendingBit(port);
  }

  /** Whether `port` is set in shared_info.evtchn_mask. */
  masked(port: number): boolean {
    return this.xen.guest.isMaskedBit(port);
  }

  /** Sets or clears a mask bit as the guest does (a guest write to shared_info). */
  setMask(port: number, masked: boolean): void {
    this.setBit(SHARED_INFO.evtchn_mask, port, masked);
  }

  /** Clears a pending bit as the guest does. */
  clearPendingBit(port: number): void {
    this.setBit(SHARED_INFO.evtchn_pending, port, false);
  }

  private setBit(array: number, port: number, on: boolean): void {
    const at = this.sharedInfo + array + (port >> 3);
    const byte = this.machine.memory.read8(at) as number;
    this.machine.memory.write8(at, on ? byte | (1 << (port & 7)) : byte & ~(1 << (port & 7)));
  }

  /** A vCPU's vcpu_info fields. */
  vcpuInfo(vcpu: number): { pending: number; mask: number; sel: bigint } {
    const { mem, gpa } = this.xen.guest.vcpuInfo(this.xen.guest.vcpus[vcpu] as never);
    const v = decodeStruct(mem.readBytes(gpa, vcpu_info.size) as Uint8Array, vcpu_info);
    return { pending: v.evtchn_upcall_pending, mask: v.evtchn_upcall_mask, sel: v.evtchn_pending_sel };
  }

  /** Writes a vCPU's evtchn_upcall_mask (the guest enabling or disabling events) and lets Xen react. */
  setUpcallMask(vcpu: number, mask: number): void {
    const { mem, gpa } = this.xen.guest.vcpuInfo(this.xen.guest.vcpus[vcpu] as never);
    mem.write8(gpa + vcpu_info.fields.evtchn_upcall_mask.offset, mask);
    this.xen.checkEvents();
  }

  /**
   * What a Linux guest's upcall handler does: clear upcall_pending, take the selector, and
   * take every pending-and-unmasked port of the selected words. Returns the ports.
   */
  handleUpcall(vcpu: number): number[] {
    const { mem, gpa } = this.xen.guest.vcpuInfo(this.xen.guest.vcpus[vcpu] as never);
    mem.write8(gpa, 0);
    const sel = mem.read64(gpa + 8) as bigint;
    mem.write64(gpa + 8, 0n);
    const ports: number[] = [];
    for (let w = 0; w < 64; w++) {
      if (((sel >> BigInt(w)) & 1n) === 0n) continue;
      const pend = this.machine.memory.read64(this.sharedInfo + SHARED_INFO.evtchn_pending + 8 * w) as bigint;
      const mask = this.machine.memory.read64(this.sharedInfo + SHARED_INFO.evtchn_mask + 8 * w) as bigint;
      const take = pend & ~mask;
      this.machine.memory.write64(this.sharedInfo + SHARED_INFO.evtchn_pending + 8 * w, pend & ~take);
      for (let b = 0; b < 64; b++) if ((take >> BigInt(b)) & 1n) ports.push(w * 64 + b);
    }
    this.xen.checkEvents();
    return ports;
  }

  /** Guest-visible events logged since the last call. */
  events(): ReturnType<Machine['takeEvents']> {
    return this.machine.takeEvents();
  }

  /** The kinds of the events logged since the last call, as "upcall v0" style strings. */
  eventLog(): string[] {
    return this.events().map((e) => {
      switch (e.kind) {
        case 'upcall':
          return `upcall v${e.vcpu} @${e.time}`;
        case 'vcpu-state':
          return `v${e.vcpu} ${e.from}->${e.to} @${e.time}`;
        case 'resumed':
          return `v${e.vcpu} resumed ${e.value} @${e.time}`;
        case 'shutdown':
          return `shutdown ${e.reason} @${e.time}`;
        default:
          return e satisfies never;
      }
    });
  }

  /** Advances virtual time by `ns`. */
  advance(ns: bigint | number): void {
    this.xen.advanceTo(this.machine.clock.now + BigInt(ns));
  }
}
