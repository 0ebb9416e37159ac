import fc from 'fast-check';
import { GuestMemory, isFault } from '../machine/memory';
import { HV_CALL_INPUT as C } from './abi/calls';
import { CallInput } from './callInput';
import { encodeSparseVpSet, maskVps, popcount64, readVpSet } from './vpSet';

const SPARSE = BigInt(C.HV_GENERIC_SET_SPARSE_4K);
const SET_ALL = BigInt(C.HV_GENERIC_SET_ALL);
const U64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const MAX_VP = C.HV_MAX_SPARSE_VCPU_BANKS * C.HV_VCPUS_PER_SPARSE_BANK - 1;

const words = (...values: readonly bigint[]): Uint8Array => {
  const bytes = new Uint8Array(8 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigUint64(8 * i, BigInt.asUintN(64, v), true));
  return bytes;
};

/** An HV_VP_SET at byte `offset` of a register block (fast call) or of guest memory at GPA 0x3000 (memory form). */
function inputAt(where: 'registers' | 'memory', offset: number, set: readonly bigint[]): CallInput {
  const bytes = new Uint8Array(offset + 8 * set.length);
  bytes.fill(0xa5, 0, offset);
  bytes.set(words(...set), offset);
  if (where === 'registers') return CallInput.fromRegisters(bytes);
  const memory = new GuestMemory({ ramPages: 16 });
  expect(memory.writeBytes(0x3000, bytes)).toBeUndefined();
  return CallInput.fromMemory(memory, 0x3000);
}

const naivePopcount = (v: bigint): number => [...BigInt.asUintN(64, v).toString(2)].filter((b) => b === '1').length;

describe('encodeSparseVpSet / readVpSet (TLFS datatypes/hv_vp_set.md)', () => {
  test('TLFS example: {0, 5, 130} is ValidBanksMask 0x05 with BankContents {0x21, 0x04}', () => {
    const { mask, banks } = encodeSparseVpSet([130, 5, 0]);
    expect(mask).toBe(0x5n);
    expect(banks).toEqual([0x21n, 0x4n]);
    expect(readVpSet(inputAt('registers', 0, [SPARSE, mask, ...banks]), 0, banks.length)).toEqual({ kind: 'sparse', vps: [0, 5, 130] });
  });

  test('round trip: reading an encoded set gives its VPs ascending without duplicates (registers and memory, any offset)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: MAX_VP }), { maxLength: 80 }), fc.constantFrom(0, 8, 16), fc.constantFrom('registers', 'memory'), (vps, offset, where) => {
        const { mask, banks } = encodeSparseVpSet(vps);
        const expected = [...new Set(vps)].sort((a, b) => a - b);
        const usedBanks = [...new Set(expected.map((vp) => Math.floor(vp / 64)))];
        expect(popcount64(mask)).toBe(banks.length);
        expect(maskVps(mask)).toEqual(usedBanks);
        expect(banks.every((bank) => bank !== 0n)).toBe(true);
        expect(readVpSet(inputAt(where, offset, [SPARSE, mask, ...banks]), offset, banks.length)).toEqual({ kind: 'sparse', vps: expected });
      }),
      { numRuns: 300 },
    );
  });

  test('banks are taken in ascending bank order, one per set bit of ValidBanksMask; an all-zero bank is valid', () => {
    fc.assert(
      fc.property(U64, fc.array(U64, { minLength: 64, maxLength: 64 }), (mask, contents) => {
        const present = maskVps(mask);
        const banks = present.map((bank) => contents[bank] as bigint);
        const expected = present.flatMap((bank) => maskVps(contents[bank] as bigint).map((bit) => 64 * bank + bit));
        expect(readVpSet(inputAt('registers', 16, [SPARSE, mask, ...banks]), 16, banks.length)).toEqual({ kind: 'sparse', vps: expected });
      }),
      { numRuns: 100 },
    );
    expect(readVpSet(inputAt('registers', 8, [SPARSE, 0b110n, 0n, 1n]), 8, 2)).toEqual({ kind: 'sparse', vps: [128] });
    expect(readVpSet(inputAt('registers', 8, [SPARSE, 0n]), 8, 0)).toEqual({ kind: 'sparse', vps: [] });
  });

  test('Format 1 (HV_GENERIC_SET_ALL) is every VP whatever follows; any Format but 0 and 1 is bad', () => {
    fc.assert(
      fc.property(U64, U64, fc.nat(4), (format, mask, varHead) => {
        const result = readVpSet(inputAt('memory', 8, [format, mask]), 8, varHead);
        if (format === SET_ALL) expect(result).toEqual({ kind: 'all' });
        else if (format !== SPARSE) expect(result).toEqual({ kind: 'bad-format', format });
        else if (naivePopcount(mask) !== varHead) expect(result).toEqual({ kind: 'bank-count-mismatch', banks: naivePopcount(mask), varHead });
        else expect(result).toEqual({ kind: 'sparse', vps: [] }); // the banks read as zeros
      }),
      { numRuns: 200 },
    );
    expect(readVpSet(inputAt('registers', 0, [2n, 1n, 1n]), 0, 1)).toEqual({ kind: 'bad-format', format: 2n });
  });

  test('the number of banks must equal the variable header size (KVM: var_cnt == hweight64(valid_bank_mask))', () => {
    fc.assert(
      fc.property(U64, fc.nat(64), (mask, varHead) => {
        const banks = naivePopcount(mask);
        const result = readVpSet(inputAt('registers', 16, [SPARSE, mask, ...Array.from({ length: 64 }, () => 1n)]), 16, varHead);
        if (banks === varHead) expect(result).toEqual({ kind: 'sparse', vps: maskVps(mask).map((bank) => 64 * bank) });
        else expect(result).toEqual({ kind: 'bank-count-mismatch', banks, varHead });
      }),
      { numRuns: 200 },
    );
  });

  test('memory form: a header or bank with no page behind it is a fault, not a set', () => {
    const memory = new GuestMemory({ ramPages: 4, addressSpacePages: 8 });
    const end = 4 * 4096;
    expect(memory.writeBytes(end - 16, words(SPARSE, 1n))).toBeUndefined();
    const bank = readVpSet(CallInput.fromMemory(memory, end - 16), 0, 1);
    expect(isFault(bank) && bank.gpa).toBe(end);
    expect(isFault(readVpSet(CallInput.fromMemory(memory, end), 0, 0))).toBe(true);
    expect(readVpSet(CallInput.fromMemory(memory, end - 16), 0, 0)).toEqual({ kind: 'bank-count-mismatch', banks: 1, varHead: 0 });
  });

  test('encodeSparseVpSet refuses indices a sparse set cannot hold (0..4095 only)', () => {
    for (const bad of [-1, MAX_VP + 1, 1.5, Number.NaN]) expect(() => encodeSparseVpSet([0, bad])).toThrow(RangeError);
    expect(encodeSparseVpSet([MAX_VP])).toEqual({ mask: 1n << 63n, banks: [1n << 63n] });
    expect(encodeSparseVpSet([])).toEqual({ mask: 0n, banks: [] });
  });
});

describe('popcount64 and maskVps', () => {
  test('popcount64 counts the set bits of the value as an unsigned 64-bit number', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), (v) => expect(popcount64(v)).toBe(naivePopcount(v))));
    expect([popcount64(0n), popcount64(-1n), popcount64(1n << 64n), popcount64(0x8000_0000_0000_0001n)]).toEqual([0, 64, 0, 2]);
  });

  test('maskVps: bit n of the processor mask is VP n (TLFS: 0x51 is VPs 0, 4 and 6); bits above 63 do not exist', () => {
    expect(maskVps(0x51n)).toEqual([0, 4, 6]);
    expect(maskVps(1n << 64n)).toEqual([]);
    fc.assert(
      fc.property(U64, (mask) => {
        const vps = maskVps(mask);
        expect(vps.length).toBe(popcount64(mask));
        expect([...vps].sort((a, b) => a - b)).toEqual(vps);
        expect(vps.reduce((m, vp) => m | (1n << BigInt(vp)), 0n)).toBe(mask);
      }),
    );
  });
});
