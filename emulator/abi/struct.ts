import { isFault, type GuestMemory, type MemoryFault } from '../machine/memory';

/** The memory accessors struct reads and writes need. */
export type StructMemory = Pick<GuestMemory, 'readBytes' | 'write8' | 'write16' | 'write32' | 'write64'>;

/** A scalar field type as the C headers spell it. */
export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32';

/** A field of a C struct: its byte offset and type. */
export type Field = { readonly offset: number; readonly type: FieldType };

/** A C struct layout: total size and named fields (x86_64 offsets). */
export type StructLayout<F extends Readonly<Record<string, Field>> = Readonly<Record<string, Field>>> = {
  readonly name: string;
  readonly size: number;
  readonly fields: F;
};

/** The values of a struct read from memory: 64-bit fields are bigints, the rest numbers. */
export type StructValue<L extends StructLayout> = {
  [K in keyof L['fields']]: L['fields'][K] extends { readonly type: 'u64' } ? bigint : number;
};

const SIZES: Readonly<Record<FieldType, number>> = { u8: 1, u16: 2, u32: 4, u64: 8, s8: 1, s16: 2, s32: 4 };

/** Declares a struct layout; checks at load time that every field fits inside `size`. */
export function defineStruct<const F extends Record<string, Field>>(name: string, size: number, fields: F): StructLayout<Readonly<F>> {
  for (const [field, { offset, type }] of Object.entries(fields)) {
    if (offset < 0 || offset + SIZES[type] > size) throw new Error(`[abi] ${name}.${field} at ${offset} does not fit in ${size} bytes`);
  }
  return Object.freeze({ name, size, fields: Object.freeze(fields) });
}

/** Shorthands for field declarations. */
export const u8 = (offset: number) => ({ offset, type: 'u8' }) as const;
export const u16 = (offset: number) => ({ offset, type: 'u16' }) as const;
export const u32 = (offset: number) => ({ offset, type: 'u32' }) as const;
export const u64 = (offset: number) => ({ offset, type: 'u64' }) as const;
export const s8 = (offset: number) => ({ offset, type: 's8' }) as const;
export const s16 = (offset: number) => ({ offset, type: 's16' }) as const;
export const s32 = (offset: number) => ({ offset, type: 's32' }) as const;

/** Reads a whole struct (like copy_from_guest: nothing is read unless every byte is readable). */
export function readStruct<L extends StructLayout>(memory: StructMemory, gpa: number, layout: L): StructValue<L> | MemoryFault {
  const bytes = memory.readBytes(gpa, layout.size);
  if (isFault(bytes)) return bytes;
  return decodeStruct(bytes, layout);
}

/** Decodes a struct from its byte image. */
export function decodeStruct<L extends StructLayout>(bytes: Uint8Array, layout: L): StructValue<L> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, number | bigint> = {};
  for (const [name, field] of Object.entries(layout.fields)) out[name] = getField(view, field);
  return out as StructValue<L>;
}

/** Encodes a struct into a fresh byte image; omitted fields are zero. */
export function encodeStruct<L extends StructLayout>(layout: L, value: Partial<Record<keyof L['fields'], number | bigint>>): Uint8Array {
  return patchStruct(new Uint8Array(layout.size), layout, value);
}

/**
 * Returns a copy of a struct image with some fields replaced, the way C code assigns members of a
 * struct it copied in and then copies the whole struct back (padding and untouched union members
 * keep the caller's bytes). Fields are written in the order given.
 */
export function patchStruct<L extends StructLayout>(image: Uint8Array, layout: L, patch: Partial<Record<keyof L['fields'], number | bigint>>): Uint8Array {
  const bytes = image.slice(0, layout.size);
  const view = new DataView(bytes.buffer);
  for (const [name, v] of Object.entries(patch) as [string, number | bigint | undefined][]) {
    const field = (layout.fields as Record<string, Field | undefined>)[name];
    if (!field) throw new Error(`[abi] ${layout.name} has no field ${name}`);
    if (v !== undefined) setField(view, field, v);
  }
  return bytes;
}

/** Writes one field of a struct at `gpa` (like __copy_field_to_guest). */
export function writeField<L extends StructLayout>(memory: StructMemory, gpa: number, layout: L, field: keyof L['fields'] & string, value: number | bigint): MemoryFault | undefined {
  const f = layout.fields[field] as Field;
  const at = gpa + f.offset;
  switch (f.type) {
    case 'u8':
    case 's8':
      return memory.write8(at, Number(BigInt.asUintN(8, BigInt(value))));
    case 'u16':
    case 's16':
      return memory.write16(at, Number(BigInt.asUintN(16, BigInt(value))));
    case 'u32':
    case 's32':
      return memory.write32(at, Number(BigInt.asUintN(32, BigInt(value))));
    case 'u64':
      return memory.write64(at, BigInt(value));
    default:
      return f.type satisfies never;
  }
}

/** Reads one field of a struct at `gpa`. */
export function readField<L extends StructLayout>(memory: StructMemory, gpa: number, layout: L, field: keyof L['fields'] & string): number | bigint | MemoryFault {
  const f = layout.fields[field] as Field;
  const bytes = memory.readBytes(gpa + f.offset, SIZES[f.type]);
  if (isFault(bytes)) return bytes;
  return getField(new DataView(bytes.buffer), { offset: 0, type: f.type });
}

function getField(view: DataView, field: Field): number | bigint {
  switch (field.type) {
    case 'u8':
      return view.getUint8(field.offset);
    case 'u16':
      return view.getUint16(field.offset, true);
    case 'u32':
      return view.getUint32(field.offset, true);
    case 'u64':
      return view.getBigUint64(field.offset, true);
    case 's8':
      return view.getInt8(field.offset);
    case 's16':
      return view.getInt16(field.offset, true);
    case 's32':
      return view.getInt32(field.offset, true);
    default:
      return field.type satisfies never;
  }
}

function setField(view: DataView, field: Field, value: number | bigint): void {
  const v = BigInt(value);
  switch (field.type) {
    case 'u8':
    case 's8':
      return view.setUint8(field.offset, Number(BigInt.asUintN(8, v)));
    case 'u16':
    case 's16':
      return view.setUint16(field.offset, Number(BigInt.asUintN(16, v)), true);
    case 'u32':
    case 's32':
      return view.setUint32(field.offset, Number(BigInt.asUintN(32, v)), true);
    case 'u64':
      return view.setBigUint64(field.offset, BigInt.asUintN(64, v), true);
    default:
      return field.type satisfies never;
  }
}
