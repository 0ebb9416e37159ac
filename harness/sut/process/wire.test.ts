import { bytesOfHex, Fields, hexOf, parseLine, parseU64, ProtocolViolation, u64 } from './wire';

/* The protocol's value encodings (docs/adapter-protocol.md "Values") and the field checks. */

describe('64-bit values as strings', () => {
  test('u64 writes lowercase unsigned two\'s complement, parseU64 reads it back exactly', () => {
    expect(u64(0n)).toBe('0x0');
    expect(u64(-22n)).toBe('0xffffffffffffffea');
    expect(u64(0xdead_beef_0000_0001n)).toBe('0xdeadbeef00000001');
    for (const v of [0n, 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) expect(parseU64(u64(v))).toBe(v);
  });

  test('parseU64 takes "-0x…" as two\'s complement and refuses everything else', () => {
    expect(parseU64('-0x16')).toBe(2n ** 64n - 22n);
    expect(parseU64('0XAbC')).toBeUndefined();
    expect(parseU64('0xABC')).toBe(0xabcn);
    for (const bad of [17, '17', '0x', '0x10000000000000000', '-0x8000000000000001', ' 0x1', null, undefined]) expect(parseU64(bad)).toBeUndefined();
    expect(parseU64('-0x8000000000000000')).toBe(2n ** 63n);
  });
});

test('bytes travel as hex, two digits a byte', () => {
  expect(hexOf(Uint8Array.of(0, 0x7f, 0xff))).toBe('007fff');
  expect(bytesOfHex('007FFF')).toEqual(Uint8Array.of(0, 0x7f, 0xff));
  for (const bad of ['0', 'zz', 12, '0x00']) expect(bytesOfHex(bad)).toBeUndefined();
});

test('a line is one JSON object', () => {
  expect(parseLine('{"type":"done","re":3}')).toEqual({ kind: 'object', value: { type: 'done', re: 3 } });
  expect(parseLine('[1]')).toEqual({ kind: 'bad', why: 'not a JSON object' });
  expect(parseLine('oops')).toMatchObject({ kind: 'bad', why: expect.stringMatching(/^not JSON \(/) });
});

test('a malformed field is a ProtocolViolation that names the field, what was due and what came', () => {
  const f = new Fields({ vp: -1, rcx: 12, data: 'abc' }, 'op viridian.hypercall');
  expect(() => f.int('vp', 0, 10)).toThrow(new ProtocolViolation('op viridian.hypercall: "vp" must be a whole number from 0 to 10, got "-1"'));
  expect(() => f.u64('rcx')).toThrow('op viridian.hypercall: "rcx" must be a 64-bit value as a string ("0x" and 1 to 16 hex digits), got "12"');
  expect(() => f.hex('data')).toThrow('"data" must be bytes as hex digits (two per byte), got "\\"abc\\""');
  expect(() => f.bool('writable')).toThrow('"writable" must be true or false, got nothing');
});
