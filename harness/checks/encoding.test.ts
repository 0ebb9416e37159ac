import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  decodeInput,
  decodeResult,
  decodeStruct,
  encodeInput,
  encodeResult,
  encodeSparseVpSet,
  encodeStruct,
  viridianAbi,
  type HypercallInputFields,
  type StructLayout,
} from '../sut/index';
import { STRUCTS } from '../spec/symbols';
import { REPO_ROOT } from './repoRoot';

/*
 * The encoding vectors (vectors/encoding/hypercall-values.json, struct-images.json) against the
 * model's own encoders and decoders, in both directions: decode(raw) gives the listed fields, and
 * encode(fields) gives the raw value or image back, byte for byte.
 */

const HEX64 = /^0x[0-9a-f]{16}$/;
const U64 = (1n << 64n) - 1n;

function readVector<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'vectors/encoding', name), 'utf8')) as T;
}

/** Every `key: detail` segment of a source string names one of the file's sources. */
function unknownSources(source: string, known: Readonly<Record<string, unknown>>): string[] {
  return source
    .split('; ')
    .map((segment) => /^([a-z-]+): \S/.exec(segment)?.[1] ?? `(no key) ${segment}`)
    .filter((key) => !(key in known));
}

// --- hypercall-values.json ---------------------------------------------------------------------

type DecodedInput = { code: number; fast: boolean; varHeadSize: number; nested: boolean; repCount: number; repStart: number; reserved: string };
type InputVector = { value: string; call: string | null; decoded: DecodedInput; note: string; source: string };
type UnencodableVector = {
  fields: { code: number; fast?: boolean; varHeadSize?: number; nested?: boolean; repCount?: number; repStart?: number; reserved?: string };
  note: string;
  source: string;
};
type ResultVector = {
  value: string;
  status: string | null;
  decoded: { status: number; repsCompleted: number };
  reservedBits: string;
  canonical: string;
  note: string;
  source: string;
};
type ValuesFile = { sources: Record<string, unknown>; inputs: InputVector[]; unencodable: UnencodableVector[]; results: ResultVector[] };

const values = readVector<ValuesFile>('hypercall-values.json');

/** The decoded fields in the shape decodeInput returns (reserved as a bigint). */
const inputFields = (d: DecodedInput) => ({ ...d, reserved: BigInt(d.reserved) });

/** Bits of the result value that are not status (15:0) or reps completed (43:32). */
const RESULT_RESERVED = U64 & ~(0xffffn | (0xfffn << 32n));

describe('hypercall input and result values (vectors/encoding/hypercall-values.json)', () => {
  test('the file has enough entries and each says what it is and where it comes from', () => {
    expect(values.inputs.length).toBeGreaterThanOrEqual(30);
    expect(values.results.length).toBeGreaterThanOrEqual(15);
    const entries = [...values.inputs, ...values.unencodable, ...values.results];
    const bad = entries.filter((e) => typeof e.note !== 'string' || e.note.length < 10 || typeof e.source !== 'string' || unknownSources(e.source, values.sources).length > 0);
    expect(bad).toEqual([]);
    const malformed = [...values.inputs, ...values.results].map((e) => e.value).filter((v) => !HEX64.test(v));
    expect(malformed).toEqual([]);
    expect(values.results.map((r) => r.canonical).filter((v) => !HEX64.test(v))).toEqual([]);
  });

  test('call and status names are the model constants with the decoded numbers', () => {
    const calls = viridianAbi.HVCALL as Readonly<Record<string, number>>;
    const statuses = viridianAbi.HV_STATUS as Readonly<Record<string, number>>;
    const wrongCalls = values.inputs.filter((i) => i.call !== null && calls[i.call] !== i.decoded.code).map((i) => `${i.value} ${i.call}`);
    const wrongStatuses = values.results.filter((r) => r.status !== null && statuses[r.status] !== r.decoded.status).map((r) => `${r.value} ${r.status}`);
    expect({ wrongCalls, wrongStatuses }).toEqual({ wrongCalls: [], wrongStatuses: [] });
  });

  test('the edge values are there: each RsvdZ region, Is Nested, field maxima, bad rep starts, fast and memory forms', () => {
    type Input = { v: bigint; d: DecodedInput };
    const inputs: Input[] = values.inputs.map((i) => ({ v: BigInt(i.value), d: i.decoded }));
    const rsvdOnly = (mask: bigint) => (i: Input) => (i.v & 0xf000f000f8000000n) === mask;
    const wanted: [string, (i: Input) => boolean][] = [
      ['bits 30:27 only', rsvdOnly(0x78000000n)],
      ['bit 31 (Is Nested) only', rsvdOnly(0x80000000n)],
      ['bits 47:44 only', rsvdOnly(0xf00000000000n)],
      ['bits 63:60 only', rsvdOnly(0xf000000000000000n)],
      ['every reserved bit', rsvdOnly(0xf000f000f8000000n)],
      ['rep count 4095', (i) => i.d.repCount === 0xfff],
      ['rep start equal to the rep count', (i) => i.d.repCount > 0 && i.d.repStart === i.d.repCount],
      ['rep start above the rep count', (i) => i.d.repStart > i.d.repCount],
      ['variable header size 1023', (i) => i.d.varHeadSize === 0x3ff],
      ['memory form with a variable header', (i) => !i.d.fast && i.d.varHeadSize > 0],
      ['fast form with a variable header', (i) => i.d.fast && i.d.varHeadSize > 0],
      ['fast rep call', (i) => i.d.fast && i.d.repCount > 0],
    ];
    const missing = wanted.filter(([, pred]) => !inputs.some(pred)).map(([what]) => what);
    const results = values.results.map((r) => BigInt(r.value));
    if (!results.some((v) => (v & 0xffff0000n) !== 0n)) missing.push('result with bits 31:16 set');
    if (!results.some((v) => (v >> 44n) !== 0n)) missing.push('result with bits 63:44 set');
    if (!results.some((v) => ((v >> 32n) & 0xfffn) === 0xfffn)) missing.push('result with 4095 reps completed');
    expect(missing).toEqual([]);
  });

  test.each(values.inputs.map((i) => [i.value, i.call ?? '-', i] as const))('input %s (%s) decodes to its fields', (_v, _c, vector) => {
    expect(decodeInput(BigInt(vector.value))).toEqual(inputFields(vector.decoded));
  });

  test.each(values.inputs.map((i) => [i.value, i.call ?? '-', i] as const))('input %s (%s) encodes from its fields', (_v, _c, vector) => {
    const fields: HypercallInputFields = inputFields(vector.decoded);
    expect(`0x${encodeInput(fields).toString(16).padStart(16, '0')}`).toBe(vector.value);
  });

  test.each(values.unencodable.map((u) => [u.note, u] as const))('encodeInput refuses: %s', (_n, vector) => {
    const { reserved, ...rest } = vector.fields;
    const fields: HypercallInputFields = reserved === undefined ? rest : { ...rest, reserved: BigInt(reserved) };
    expect(() => encodeInput(fields)).toThrow(RangeError);
  });

  test.each(values.results.map((r) => [r.value, r.status ?? '-', r] as const))('result %s (%s) decodes, ignoring the reserved bits', (_v, _s, vector) => {
    expect(decodeResult(BigInt(vector.value))).toEqual(vector.decoded);
    // The vector's own bookkeeping: value = canonical | reservedBits, and reservedBits only in 31:16 and 63:44.
    expect(BigInt(vector.reservedBits) & ~RESULT_RESERVED).toBe(0n);
    expect(BigInt(vector.canonical) | BigInt(vector.reservedBits)).toBe(BigInt(vector.value));
  });

  test.each(values.results.map((r) => [r.value, r.status ?? '-', r] as const))('result %s (%s) encodes to its canonical value', (_v, _s, vector) => {
    expect(`0x${encodeResult(vector.decoded).toString(16).padStart(16, '0')}`).toBe(vector.canonical);
  });
});

// --- struct-images.json ------------------------------------------------------------------------

type FieldValue = number | string;
type FollowingPart =
  | { offset: number; struct: string; fields: Record<string, FieldValue>; note?: string }
  | { offset: number; u64: string[]; what: string }
  | { offset: number; bytes: string; what: string };
type ImageVector = {
  name: string;
  struct: string;
  hex: string;
  fields: Record<string, FieldValue>;
  following?: FollowingPart[];
  vpSet?: { vps: number[]; minimal: boolean };
  exempt?: string[];
  note: string;
  source: string;
};
type ImagesFile = { sources: Record<string, unknown>; images: ImageVector[] };

const images = readVector<ImagesFile>('struct-images.json').images;

function hexBytes(hex: string): Uint8Array {
  const h = hex.replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/.test(h)) throw new Error(`bad hex image ${hex}`);
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}
const bytesHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function layoutOf(name: string): StructLayout {
  const layout = STRUCTS.get(name);
  if (!layout) throw new Error(`no struct layout ${name}`);
  return layout;
}

/** The vector's field values in the form decodeStruct returns them (u64 as bigint). */
function structValue(layout: StructLayout, fields: Record<string, FieldValue>): Record<string, number | bigint> {
  // u64 fields are hex strings in the vector; a number there stays a number and fails the comparison.
  return Object.fromEntries(Object.entries(fields).map(([name, v]) => [name, layout.fields[name]?.type === 'u64' && typeof v === 'string' ? BigInt(v) : Number(v)]));
}

/** The image the vector describes, built with the model's encoder from the fields alone. */
function buildImage(image: ImageVector): Uint8Array {
  const layout = layoutOf(image.struct);
  const out = new Uint8Array(hexBytes(image.hex).length);
  out.set(encodeStruct(layout, structValue(layout, image.fields)));
  const view = new DataView(out.buffer);
  for (const part of image.following ?? []) {
    if ('struct' in part) {
      const l = layoutOf(part.struct);
      out.set(encodeStruct(l, structValue(l, part.fields)), part.offset);
    } else if ('u64' in part) {
      part.u64.forEach((v, i) => view.setBigUint64(part.offset + 8 * i, BigInt(v), true));
    } else {
      out.set(hexBytes(part.bytes), part.offset);
    }
  }
  return out;
}

const bankContents = (image: ImageVector): bigint[] =>
  (image.following ?? []).flatMap((p) => ('u64' in p && p.what === 'bank_contents' ? p.u64.map((v) => BigInt(v)) : []));

/** The TLFS HV_VP_SET rule (datatypes/hv_vp_set.md): one bank per set bit of the mask, ascending. */
function sparseVps(mask: bigint, banks: readonly bigint[]): number[] {
  const vps: number[] = [];
  let slot = 0;
  for (let bank = 0; bank < 64; bank++) {
    if (((mask >> BigInt(bank)) & 1n) === 0n) continue;
    const bits = banks[slot++] ?? 0n;
    for (let bit = 0; bit < 64; bit++) if (((bits >> BigInt(bit)) & 1n) === 1n) vps.push(bank * 64 + bit);
  }
  return vps;
}

const FIELD_SIZES: Readonly<Record<string, number>> = { u8: 1, s8: 1, u16: 2, s16: 2, u32: 4, s32: 4, u64: 8 };

const popcount = (v: bigint) => [...v.toString(2)].filter((c) => c === '1').length;

describe('struct byte images (vectors/encoding/struct-images.json)', () => {
  const sources = readVector<ImagesFile>('struct-images.json').sources;

  test('the file has enough images and each says what it is and where its layout comes from', () => {
    expect(images.length).toBeGreaterThanOrEqual(20);
    const bad = images.filter((i) => !i.name || typeof i.note !== 'string' || i.note.length < 10 || typeof i.source !== 'string' || unknownSources(i.source, sources).length > 0);
    expect(bad.map((i) => i.name)).toEqual([]);
    expect(new Set(images.map((i) => i.name)).size).toBe(images.length);
  });

  test('the images cover the structs the models use', () => {
    const covered = new Set(images.flatMap((i) => [i.struct, ...(i.following ?? []).flatMap((p) => ('struct' in p ? [p.struct] : []))]));
    const wanted = [
      'evtchn_alloc_unbound',
      'evtchn_bind_interdomain',
      'evtchn_status',
      'sched_poll',
      'vcpu_set_singleshot_timer',
      'vcpu_runstate_info',
      'mmuext_op',
      'multicall_entry',
      'xen_memory_reservation',
      'gnttab_map_grant_ref',
      'gnttab_copy',
      'grant_entry_v1',
      'vcpu_time_info',
      'hv_send_ipi',
      'hv_send_ipi_ex',
      'hv_tlb_flush',
      'hv_tlb_flush_ex',
      'hv_message_header',
      'hv_timer_message_payload',
      'hv_reference_tsc_page',
      'hv_post_message',
      'hv_signal_event',
    ];
    expect(wanted.filter((s) => !covered.has(s))).toEqual([]);
    // Every evtchn_status state (EVTCHNSTAT_closed .. EVTCHNSTAT_ipi) has an image.
    const states = new Set(images.filter((i) => i.struct === 'evtchn_status').map((i) => i.fields.status));
    expect([0, 1, 2, 3, 4, 5].filter((s) => !states.has(s))).toEqual([]);
    // Sparse VP sets with banks, and the all-VPs format.
    expect(images.filter((i) => i.vpSet && bankContents(i).length >= 2).length).toBeGreaterThanOrEqual(2);
    expect(images.some((i) => i.struct === 'hv_send_ipi_ex' && i.fields.format === '0x1')).toBe(true);
  });

  test('every image names a known layout, gives every field of it with the right JSON type, and is long enough', () => {
    const problems: string[] = [];
    for (const image of images) {
      const layout = STRUCTS.get(image.struct);
      if (!layout) {
        problems.push(`${image.name}: no layout ${image.struct}`);
        continue;
      }
      const parts: { at: string; layout: StructLayout; fields: Record<string, FieldValue>; offset: number }[] = [{ at: image.struct, layout, fields: image.fields, offset: 0 }];
      for (const p of image.following ?? []) {
        const l = 'struct' in p ? STRUCTS.get(p.struct) : undefined;
        if ('struct' in p && !l) problems.push(`${image.name}: no layout ${p.struct}`);
        if (l && 'struct' in p) parts.push({ at: `${p.struct}@${p.offset}`, layout: l, fields: p.fields, offset: p.offset });
        // A part may sit inside the struct (the payload area of hv_post_message) but not on a field.
        const partEnd = p.offset + ('struct' in p ? (l?.size ?? 0) : 'u64' in p ? 8 * p.u64.length : p.bytes.length / 2);
        for (const [name, f] of Object.entries(layout.fields)) {
          if (p.offset < f.offset + (FIELD_SIZES[f.type] ?? 8) && f.offset < partEnd) problems.push(`${image.name}: part at ${p.offset} overlaps ${image.struct}.${name}`);
        }
      }
      const length = hexBytes(image.hex).length;
      for (const { at, layout: l, fields, offset } of parts) {
        if (offset + l.size > length) problems.push(`${image.name}: ${at} runs past the ${length}-byte image`);
        const names = Object.keys(l.fields).sort();
        if (JSON.stringify(Object.keys(fields).sort()) !== JSON.stringify(names)) problems.push(`${image.name}: ${at} fields ${Object.keys(fields).join(',')} != ${names.join(',')}`);
        for (const [name, v] of Object.entries(fields)) {
          const type = l.fields[name]?.type;
          if (type === 'u64' ? typeof v !== 'string' || !/^0x[0-9a-f]+$/.test(v) : typeof v !== 'number' || !Number.isInteger(v)) problems.push(`${image.name}: ${at}.${name} = ${JSON.stringify(v)} for ${type}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('fields hold distinct non-zero values unless listed as exempt, and each struct has an image with none exempt', () => {
    const problems: string[] = [];
    for (const image of images) {
      const exempt = new Set(image.exempt ?? []);
      for (const name of exempt) if (!(name in image.fields)) problems.push(`${image.name}: exempt ${name} is not a field`);
      const probed = Object.entries(image.fields).filter(([name]) => !exempt.has(name));
      const raw = probed.map(([, v]) => BigInt.asUintN(64, BigInt(v)));
      if (raw.some((v) => v === 0n)) problems.push(`${image.name}: zero in ${probed.filter(([, v]) => BigInt(v) === 0n).map(([n]) => n).join(',')}`);
      if (new Set(raw).size !== raw.length) problems.push(`${image.name}: repeated values`);
    }
    const structs = new Set(images.map((i) => i.struct));
    for (const s of structs) if (!images.some((i) => i.struct === s && (i.exempt ?? []).length === 0)) problems.push(`${s}: every image exempts a field`);
    expect(problems).toEqual([]);
  });

  test.each(images.map((i) => [i.name, i] as const))('%s: decodes to its fields', (_n, image) => {
    const bytes = hexBytes(image.hex);
    const layout = layoutOf(image.struct);
    expect(decodeStruct(bytes.subarray(0, layout.size), layout)).toEqual(structValue(layout, image.fields));
    const view = new DataView(bytes.buffer);
    for (const part of image.following ?? []) {
      if ('struct' in part) {
        const l = layoutOf(part.struct);
        expect(decodeStruct(bytes.subarray(part.offset, part.offset + l.size), l)).toEqual(structValue(l, part.fields));
      } else if ('u64' in part) {
        expect(part.u64.map((_, i) => `0x${view.getBigUint64(part.offset + 8 * i, true).toString(16)}`)).toEqual(part.u64);
      } else {
        expect(bytesHex(bytes.subarray(part.offset, part.offset + part.bytes.length / 2))).toBe(part.bytes);
      }
    }
  });

  test.each(images.map((i) => [i.name, i] as const))('%s: encodes from its fields to the same bytes', (_n, image) => {
    expect(bytesHex(buildImage(image))).toBe(bytesHex(hexBytes(image.hex)));
  });

  const vpSets = images.filter((i): i is ImageVector & { vpSet: { vps: number[]; minimal: boolean } } => i.vpSet !== undefined);

  test.each(vpSets.map((i) => [i.name, i] as const))('%s: the sparse VP set matches its banks and encodeSparseVpSet', (_n, image) => {
    expect(image.fields.format).toBe(`0x${viridianAbi.HV_CALL_INPUT.HV_GENERIC_SET_SPARSE_4K.toString(16)}`);
    const mask = BigInt(image.fields.valid_bank_mask ?? Number.NaN);
    const banks = bankContents(image);
    // One bank per set bit of ValidBanksMask: the variable header size of the Ex call.
    expect(banks.length).toBe(popcount(mask));
    expect(sparseVps(mask, banks)).toEqual(image.vpSet.vps);
    const encoded = encodeSparseVpSet(image.vpSet.vps);
    if (image.vpSet.minimal) {
      expect({ mask: encoded.mask, banks: [...encoded.banks] }).toEqual({ mask, banks });
    } else {
      // A valid but non-minimal encoding (an all-zero bank): the model's encoding names the same VPs with fewer banks.
      expect(encoded.banks.length).toBeLessThan(banks.length);
      expect(sparseVps(encoded.mask, encoded.banks)).toEqual(image.vpSet.vps);
    }
  });
});
