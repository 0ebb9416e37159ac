/**
 * Encoding rules of the adapter protocol (docs/adapter-protocol.md "Values"): 64-bit values as
 * hex strings, bytes as hex, and a field reader that checks what the other side sent.
 */
import type { HexBytes, U64 } from './protocol';

/** A U64 for a bigint: lowercase hex of the unsigned 64-bit two's complement. */
export function u64(value: bigint): U64 {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}

const U64_TEXT = /^(-?)0x([0-9a-fA-F]{1,16})$/;

/** The unsigned 64-bit value of a U64 ("-0x…" is taken as two's complement), or undefined when it is not one. */
export function parseU64(text: unknown): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  const m = U64_TEXT.exec(text);
  if (!m) return undefined;
  const magnitude = BigInt(`0x${m[2] as string}`);
  if (m[1] === '-' && magnitude > 1n << 63n) return undefined;
  return BigInt.asUintN(64, m[1] === '-' ? -magnitude : magnitude);
}

/** Bytes as hex. */
export function hexOf(bytes: Uint8Array): HexBytes {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX_TEXT = /^(?:[0-9a-fA-F]{2})*$/;

/** The bytes of a hex string, or undefined when it is not one. */
export function bytesOfHex(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string' || !HEX_TEXT.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** The other side broke the protocol; `message` says how (caught where a line is handled, never escapes the bridge). */
export class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';
}

/** A JSON object read from a line, or why the line is not one. */
export type ParsedLine = { readonly kind: 'object'; readonly value: Record<string, unknown> } | { readonly kind: 'bad'; readonly why: string };

/** Parses one line into a JSON object. */
export function parseLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { kind: 'bad', why: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'bad', why: 'not a JSON object' };
  return { kind: 'object', value: value as Record<string, unknown> };
}

/** A short, printable excerpt of a line for error messages. */
export function excerpt(text: string, max = 120): string {
  const s = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return text.length > max ? `${s} (${text.length} characters)` : s;
}

/** Reads and checks the fields of one message; a field that is missing or malformed is a {@link ProtocolViolation}. */
export class Fields {
  private readonly object: Record<string, unknown>;
  private readonly where: string;

  constructor(object: Record<string, unknown>, where: string) {
    this.object = object;
    this.where = where;
  }

  private fail(name: string, expected: string): never {
    const got = this.object[name];
    throw new ProtocolViolation(`${this.where}: "${name}" must be ${expected}, got ${got === undefined ? 'nothing' : excerpt(JSON.stringify(got), 60)}`);
  }

  has(name: string): boolean {
    return this.object[name] !== undefined;
  }

  /** A whole number in [min, max]. */
  int(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.object[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(name, `a whole number from ${min} to ${max}`);
    return v;
  }

  u64(name: string): bigint {
    const v = parseU64(this.object[name]);
    if (v === undefined) this.fail(name, 'a 64-bit value as a string ("0x" and 1 to 16 hex digits)');
    return v;
  }

  u64List(name: string, maxLength: number): bigint[] {
    const v = this.object[name];
    const list = Array.isArray(v) && v.length <= maxLength ? v.map(parseU64) : undefined;
    if (!list || list.some((x) => x === undefined)) this.fail(name, `a list of at most ${maxLength} 64-bit values as strings`);
    return list as bigint[];
  }

  bool(name: string): boolean {
    const v = this.object[name];
    if (typeof v !== 'boolean') this.fail(name, 'true or false');
    return v;
  }

  str(name: string, maxLength = 4096): string {
    const v = this.object[name];
    if (typeof v !== 'string' || v.length > maxLength) this.fail(name, `a string of at most ${maxLength} characters`);
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const v = this.object[name];
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) this.fail(name, `one of ${values.join(', ')}`);
    return v as T;
  }

  hex(name: string): Uint8Array {
    const v = bytesOfHex(this.object[name]);
    if (!v) this.fail(name, 'bytes as hex digits (two per byte)');
    return v;
  }

  intList(name: string, maxLength: number): number[] {
    const v = this.object[name];
    if (!Array.isArray(v) || v.length > maxLength || v.some((x) => typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)) this.fail(name, `a list of at most ${maxLength} whole numbers`);
    return v as number[];
  }

  /** A nested object, read with its own Fields. */
  nested(name: string): Fields {
    const v = this.object[name];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(name, 'an object');
    return new Fields(v as Record<string, unknown>, `${this.where}.${name}`);
  }

  raw(name: string): unknown {
    return this.object[name];
  }
}
