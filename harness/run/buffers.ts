import { encodeStruct } from '../sut/index';
import type { BufferSpec } from '../spec/scenario';
import { STRUCTS } from '../spec/symbols';
import { evalScalar, type Vars } from '../spec/values';

/** The bytes a buffer holds (a raw pointer holds none). */
export function bufferBytes(buf: BufferSpec, vars: Vars): Uint8Array {
  if (buf.struct !== undefined) {
    const layout = STRUCTS.get(buf.struct);
    if (!layout) throw new Error(`[run] unknown struct ${buf.struct}`);
    const values: Record<string, bigint> = {};
    for (const [key, value] of Object.entries(buf)) if (key in layout.fields) values[key] = evalScalar(value, vars);
    return encodeStruct(layout, values);
  }
  if (buf.u32s) {
    const out = new Uint8Array(4 * buf.u32s.length);
    buf.u32s.forEach((v, i) => new DataView(out.buffer).setUint32(4 * i, Number(BigInt.asUintN(32, evalScalar(v, vars))), true));
    return out;
  }
  if (buf.u64s) {
    const out = new Uint8Array(8 * buf.u64s.length);
    buf.u64s.forEach((v, i) => new DataView(out.buffer).setBigUint64(8 * i, BigInt.asUintN(64, evalScalar(v, vars)), true));
    return out;
  }
  if (buf.bytes !== undefined) return Uint8Array.from((buf.bytes.match(/../g) ?? []).map((h) => parseInt(h, 16)));
  if (buf.zeros !== undefined) return new Uint8Array(buf.zeros);
  return new Uint8Array(0);
}

/** A bump allocator for argument buffers in guest RAM (8-byte aligned). */
export class Scratch {
  private next: number;
  private readonly end: number;
  constructor(startGfn: number, endGfn: number) {
    this.next = startGfn * 4096;
    this.end = endGfn * 4096;
  }
  alloc(len: number): number {
    const at = Math.ceil(this.next / 8) * 8;
    if (at + len > this.end) throw new Error(`[run] the scenario's arguments do not fit in the scratch area (${len} bytes)`);
    this.next = at + Math.max(len, 1);
    return at;
  }
}

/** The bytes of a guest store step: hex bytes, or one little-endian value of 1, 2, 4 or 8 bytes. */
export function storeBytes(st: { readonly bytes?: string; readonly u8?: unknown; readonly u16?: unknown; readonly u32?: unknown; readonly u64?: unknown }, vars: Vars): Uint8Array {
  if (st.bytes !== undefined) return bufferBytes({ bytes: st.bytes }, vars);
  for (const [key, size] of [['u8', 1], ['u16', 2], ['u32', 4], ['u64', 8]] as const) {
    const v = st[key];
    if (v === undefined) continue;
    const out = new Uint8Array(size);
    let value = BigInt.asUintN(8 * size, evalScalar(v, vars));
    for (let i = 0; i < size; i++) {
      out[i] = Number(value & 0xffn);
      value >>= 8n;
    }
    return out;
  }
  return new Uint8Array(0);
}
