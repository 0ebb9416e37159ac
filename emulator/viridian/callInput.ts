import { isFault, type GuestMemory, type MemoryFault } from '../machine/memory';

/**
 * A call's input parameters, wherever they are: in guest memory at the input GPA (memory form),
 * or in registers for a fast call, where the input block is RDX, R8 and then the halves of
 * XMM0..XMM5, low half first (TLFS hypercall-interface.md "XMM Fast Hypercall Input"; TLFS v2.0A
 * 4.7.1). Bytes past the end of a register block read as the registers' contents (zero when the
 * caller did not give them): the TLFS says such extra bytes are ignored.
 */
export class CallInput {
  private readonly memory: GuestMemory | undefined;
  private readonly base: number;
  private readonly block: Uint8Array | undefined;

  private constructor(memory: GuestMemory | undefined, base: number, block: Uint8Array | undefined) {
    this.memory = memory;
    this.base = base;
    this.block = block;
  }

  /** Input read from guest memory at `gpa`. */
  static fromMemory(memory: GuestMemory, gpa: number): CallInput {
    return new CallInput(memory, gpa, undefined);
  }

  /** Input taken from the fast-call registers. */
  static fromRegisters(block: Uint8Array): CallInput {
    return new CallInput(undefined, 0, block);
  }

  /** Where a memory-form input starts (for fault reports). */
  get gpa(): number | undefined {
    return this.memory ? this.base : undefined;
  }

  /** Reads `len` bytes at `offset`; a memory-form read may fault. */
  bytes(offset: number, len: number): Uint8Array | MemoryFault {
    if (this.memory) return this.memory.readBytes(this.base + offset, len);
    const out = new Uint8Array(len);
    const block = this.block as Uint8Array;
    if (offset < block.length) out.set(block.subarray(offset, Math.min(block.length, offset + len)));
    return out;
  }

  /** Reads a little-endian 64-bit value; a memory-form read may fault. */
  u64(offset: number): bigint | MemoryFault {
    const b = this.bytes(offset, 8);
    return isFault(b) ? b : new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  /** Reads a little-endian 32-bit value. */
  u32(offset: number): number | MemoryFault {
    const b = this.bytes(offset, 4);
    return isFault(b) ? b : new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  /** Reads a little-endian 16-bit value. */
  u16(offset: number): number | MemoryFault {
    const b = this.bytes(offset, 2);
    return isFault(b) ? b : new DataView(b.buffer, b.byteOffset, 2).getUint16(0, true);
  }

  /** Reads one byte. */
  u8(offset: number): number | MemoryFault {
    const b = this.bytes(offset, 1);
    return isFault(b) ? b : (b[0] as number);
  }
}

/** A memory-form call's output area at the output GPA. */
export class CallOutput {
  readonly memory: GuestMemory;
  readonly gpa: number;

  constructor(memory: GuestMemory, gpa: number) {
    this.memory = memory;
    this.gpa = gpa;
  }

  /** Writes bytes at `offset` of the output area. */
  write(offset: number, bytes: Uint8Array): MemoryFault | undefined {
    return this.memory.writeBytes(this.gpa + offset, bytes);
  }
}

/** Assembles the fast-call input block: RDX, R8, then up to twelve XMM halves. */
export function fastInputBlock(rdx: bigint, r8: bigint, xmm: readonly bigint[]): Uint8Array {
  const block = new Uint8Array(16 + 8 * xmm.length);
  const view = new DataView(block.buffer);
  view.setBigUint64(0, BigInt.asUintN(64, rdx), true);
  view.setBigUint64(8, BigInt.asUintN(64, r8), true);
  xmm.forEach((half, i) => view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, half), true));
  return block;
}
