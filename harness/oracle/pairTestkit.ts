import { encodeStruct, isFault, xenAbi, type StructLayout, type WorldOptions, type XenHypercallName } from '../sut/index';
import type { Difference } from './compare';
import { WorldPair, type PairStep } from './pair';

const { SHARED_INFO, XenHypercall } = xenAbi;

/** First frame of the scratch area where differential tests place hypercall arguments. */
const SCRATCH_GFN = 0x100;

/** Formats differences the way failure reports do. */
export function formatDifferences(differences: readonly Difference[]): string {
  return differences.map((d) => `${d.field} [${d.relation}]: xen ${d.xen} | translated ${d.translated}`).join('\n');
}

/** Thrown when the worlds disagree in a differential test. */
export class Disagreement extends Error {
  override readonly name = 'Disagreement';
  readonly differences: readonly Difference[];
  constructor(what: string, differences: readonly Difference[]) {
    super(`${what}: the worlds disagree\n${formatDifferences(differences)}`);
    this.differences = differences;
  }
}

/**
 * A guest driving both worlds at once, for differential tests: arguments are placed in both
 * memories, every call runs in both, and any difference under the contract throws a
 * {@link Disagreement} naming the step. Test-only.
 */
export class PairGuest {
  readonly pair: WorldPair;
  private next = SCRATCH_GFN * 4096;
  /** Every step's differences are checked unless a test turns this off to look at them itself. */
  strict = true;

  constructor(options: WorldOptions = {}) {
    this.pair = new WorldPair(options);
  }

  private check<T>(what: string, step: PairStep<T>): PairStep<T> {
    if (this.strict && step.differences.length > 0) throw new Disagreement(what, step.differences);
    if (this.strict && step.illFormed.length > 0) throw new Error(`${what}: the adapter made ill-formed Viridian calls\n${step.illFormed.map((f) => `${f.what}: ${f.why}`).join('\n')}`);
    return step;
  }

  /** Allocates `len` bytes of guest RAM (8-byte aligned) in the scratch area. */
  alloc(len: number, align = 8): bigint {
    this.next = Math.ceil(this.next / align) * align;
    const at = this.next;
    this.next += Math.max(len, 1);
    return BigInt(at);
  }

  /** A guest store in both worlds. */
  write(at: bigint | number, bytes: Uint8Array, vcpu = 0): void {
    this.check(`store at 0x${at.toString(16)}`, this.pair.write(Number(at), bytes, vcpu));
  }

  /** Places a struct in both worlds and returns its address. */
  put<L extends StructLayout>(layout: L, value: Partial<Record<keyof L['fields'], number | bigint>>): bigint {
    const at = this.alloc(layout.size);
    this.write(at, encodeStruct(layout, value));
    return at;
  }

  /** Places 32-bit values in both worlds. */
  putU32s(values: readonly number[]): bigint {
    const at = this.alloc(4 * Math.max(values.length, 1));
    const bytes = new Uint8Array(4 * values.length);
    values.forEach((v, i) => new DataView(bytes.buffer).setUint32(4 * i, v >>> 0, true));
    this.write(at, bytes);
    return at;
  }

  /** Places 64-bit values in both worlds. */
  putU64s(values: readonly bigint[]): bigint {
    const at = this.alloc(8 * Math.max(values.length, 1));
    const bytes = new Uint8Array(8 * values.length);
    values.forEach((v, i) => new DataView(bytes.buffer).setBigUint64(8 * i, BigInt.asUintN(64, v), true));
    this.write(at, bytes);
    return at;
  }

  /** Reads the Xen world's memory (the two agree when no Disagreement was thrown). */
  read(at: bigint | number, len: number): Uint8Array {
    const bytes = this.pair.xen.machine.memory.readBytes(Number(at), len);
    if (isFault(bytes)) throw new Error(`test read at 0x${at.toString(16)} faulted`);
    return bytes;
  }

  /** A hypercall from `vcpu` in both worlds; returns the Xen world's result (equal in both). */
  callOn(vcpu: number, name: XenHypercallName | number, ...args: (bigint | number)[]): PairStep<ReturnType<WorldPair['hypercall']>['xen']> {
    const nr = typeof name === 'number' ? name : XenHypercall[name];
    const regs = [0, 1, 2, 3, 4].map((i) => (args[i] === undefined ? 0n : BigInt.asUintN(64, BigInt(args[i] as bigint | number)))) as unknown as [bigint, bigint, bigint, bigint, bigint];
    return this.check(`${String(name)}(${args.join(', ')}) on vCPU ${vcpu}`, this.pair.hypercall(vcpu, BigInt(nr), regs));
  }

  /** A hypercall from vCPU 0 that must return; its value. */
  ret(name: XenHypercallName | number, ...args: (bigint | number)[]): bigint {
    return this.retOn(0, name, ...args);
  }

  /** A hypercall from `vcpu` that must return; its value. */
  retOn(vcpu: number, name: XenHypercallName | number, ...args: (bigint | number)[]): bigint {
    const step = this.callOn(vcpu, name, ...args);
    if (step.xen.kind !== 'returned') throw new Error(`${String(name)} did not return: ${step.xen.kind}`);
    return step.xen.value;
  }

  /** Moves time forward by `ns` in both worlds. */
  advance(ns: bigint | number): void {
    const target = this.pair.now + BigInt(ns);
    this.check(`advance to ${target} ns`, this.pair.advanceTo(target));
  }

  /** Sets or clears an evtchn_mask bit (a guest store to shared_info). */
  setMask(port: number, masked: boolean): void {
    this.setBit(SHARED_INFO.evtchn_mask, port, masked);
  }

  /** Writes a vCPU's evtchn_upcall_mask (only for vCPUs whose vcpu_info is in shared_info). */
  setUpcallMask(vcpu: number, mask: number): void {
    this.write(this.sharedInfo + 64 * vcpu + 1, Uint8Array.of(mask), vcpu);
  }

  /**
   * What a Linux guest's upcall handler does on `vcpu` (its vcpu_info in shared_info): clear
   * upcall_pending, take the selector, take every pending-and-unmasked port of the selected
   * words. Returns the ports.
   */
  handleUpcall(vcpu: number): number[] {
    const info = this.sharedInfo + 64 * vcpu;
    this.write(info, Uint8Array.of(0), vcpu);
    const sel = new DataView(this.read(info + 8, 8).buffer).getBigUint64(0, true);
    this.write(info + 8, new Uint8Array(8), vcpu);
    const ports: number[] = [];
    for (let w = 0; w < 64; w++) {
      if (((sel >> BigInt(w)) & 1n) === 0n) continue;
      const pend = new DataView(this.read(this.sharedInfo + SHARED_INFO.evtchn_pending + 8 * w, 8).buffer).getBigUint64(0, true);
      const mask = new DataView(this.read(this.sharedInfo + SHARED_INFO.evtchn_mask + 8 * w, 8).buffer).getBigUint64(0, true);
      const take = pend & ~mask;
      const left = new Uint8Array(8);
      new DataView(left.buffer).setBigUint64(0, pend & ~take, true);
      this.write(this.sharedInfo + SHARED_INFO.evtchn_pending + 8 * w, left, vcpu);
      for (let b = 0; b < 64; b++) if ((take >> BigInt(b)) & 1n) ports.push(w * 64 + b);
    }
    return ports;
  }

  private get sharedInfo(): number {
    return this.pair.xen.xen.memoryMap.sharedInfoGfn * 4096;
  }

  private setBit(array: number, port: number, on: boolean): void {
    const at = this.sharedInfo + array + (port >> 3);
    const byte = this.read(at, 1)[0] as number;
    this.write(at, Uint8Array.of(on ? byte | (1 << (port & 7)) : byte & ~(1 << (port & 7))));
  }
}
