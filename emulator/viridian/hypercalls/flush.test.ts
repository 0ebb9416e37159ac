import fc from 'fast-check';
import { HV_CALL_INPUT as C } from '../abi/calls';
import { HV_FEATURES_EDX, HV_RECOMMENDATIONS_EAX as REC } from '../abi/cpuid';
import { HVCALL } from '../abi/hypercalls';
import { fastInputBlock } from '../callInput';
import { VIRIDIAN_PROFILES, type ViridianCompat } from '../profiles';
import { encodeSparseVpSet } from '../vpSet';
import { ViridianTestGuest, type TestCall, type ViridianTestOptions } from '../viridianTestkit';

const [ALL_CPUS, ALL_SPACES, NON_GLOBAL, EXT_RANGES] = [C.HV_FLUSH_ALL_PROCESSORS, C.HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES, C.HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY, C.HV_FLUSH_USE_EXTENDED_RANGE_FORMAT].map(BigInt) as [bigint, bigint, bigint, bigint];
const SPARSE = BigInt(C.HV_GENERIC_SET_SPARSE_4K);
const SET_ALL = BigInt(C.HV_GENERIC_SET_ALL);
const CODES = [HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX] as const;
const [SPACE, LIST, SPACE_EX, LIST_EX] = CODES;
const isList = (code: number): boolean => code === LIST || code === LIST_EX;
const SPACES = [0x1000n, 0x2000n, 0x3000n] as const;
const [A, B] = SPACES;
const page = (n: number): bigint => 0x40000n + BigInt(n) * 0x1000n;
const U64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

/** Who a flush targets: a non-Ex processor mask, an Ex sparse set, or a raw Ex HV_VP_SET. */
type To = { readonly mask: bigint } | { readonly set: readonly number[] } | { readonly format: bigint; readonly validMask?: bigint; readonly banks?: readonly bigint[] };
type Flush = { readonly to: To; readonly list?: boolean; readonly space?: bigint; readonly flags?: bigint; readonly gvas?: readonly bigint[]; readonly fast?: boolean; readonly repStart?: number };

/** Builds the call: header, mask or HV_VP_SET (its banks are the variable header), then the GVA ranges. */
function flush(f: Flush): TestCall {
  const gvas = f.list ? (f.gvas ?? [page(0)]) : [];
  let body: bigint[];
  if ('mask' in f.to) body = [f.to.mask];
  else if ('set' in f.to) {
    const { mask, banks } = encodeSparseVpSet(f.to.set);
    body = [SPARSE, mask, ...banks];
  } else body = [f.to.format, f.to.validMask ?? 0n, ...(f.to.banks ?? [])];
  const ex = !('mask' in f.to);
  const code = ex ? (f.list ? LIST_EX : SPACE_EX) : f.list ? LIST : SPACE;
  return { code, fast: f.fast ?? false, varHeadSize: ex ? body.length - 2 : 0, repCount: gvas.length, repStart: f.repStart ?? 0, input: fastInputBlock(f.space ?? A, f.flags ?? 0n, [...body, ...gvas]) };
}

/** Any of the four codes with the given header, targeting VPs 0 and 1 by mask or sparse set. */
const anyForm = (code: number, space: bigint, flags: bigint): TestCall =>
  flush({ to: code === SPACE_EX || code === LIST_EX ? { set: [0, 1] } : { mask: 3n }, list: isList(code), space, flags });

/** Every VP gets pages 0..3 in spaces A and B (non-global) and one global page 8. */
function guest(options: ViridianTestOptions = {}): ViridianTestGuest {
  const g = new ViridianTestGuest(options);
  for (const vp of g.model.vps) {
    for (let p = 0; p < 4; p++) for (const s of [A, B]) vp.hw.tlb.fill(s, page(p), false);
    vp.hw.tlb.fill(A, page(8), true);
  }
  return g;
}
const keys = (g: ViridianTestGuest, vp: number): string[] => (g.model.vps[vp]?.hw.tlb.snapshot() ?? []).map((e) => `${e.global ? 'g' : e.space.toString(16)}:${e.va.toString(16)}`);
const all = (g: ViridianTestGuest): string[][] => g.model.vps.map((vp) => keys(g, vp.index));
const emptied = (g: ViridianTestGuest): boolean => g.model.vps.every((vp) => vp.hw.tlb.size === 0);
/** Issues a call; expects its status, and whether every TLB is left as it was. */
function expectCall(g: ViridianTestGuest, call: TestCall, status: string, untouched: boolean): void {
  const before = all(g);
  expect(g.status(call)).toBe(status);
  expect(JSON.stringify(all(g)) === JSON.stringify(before)).toBe(untouched);
}

describe('TLB effects (TLFS HvCallFlushVirtualAddressSpace / List; v6.0b 9.3)', () => {
  test('the processor mask selects VPs by index: 0x51 flushes VPs 0, 4 and 6 only', () => {
    const g = guest({ vcpus: 8 });
    const before = all(g);
    expect(g.status(flush({ to: { mask: 0x51n } }))).toBe('HV_STATUS_SUCCESS');
    expect(all(g).map((tlb, i) => tlb.length === before[i]!.length)).toEqual([false, true, true, true, false, true, false, true]);
  });

  test.each([
    ['0 (one space, global entries too)', 0n, [false, true, false]],
    ['NON_GLOBAL_MAPPINGS_ONLY (one space, globals kept)', NON_GLOBAL, [false, true, true]],
    ['ALL_VIRTUAL_ADDRESS_SPACES', ALL_SPACES, [false, false, false]],
    ['ALL_VIRTUAL_ADDRESS_SPACES | NON_GLOBAL_MAPPINGS_ONLY', ALL_SPACES | NON_GLOBAL, [false, false, true]],
  ])('space flush with flags %s: [space A, space B, global] entries left', (_name, flags, left) => {
    for (const to of [{ mask: 0n }, { format: SET_ALL }] as const) {
      const g = guest({ vcpus: 3 });
      expect(g.status(flush({ to, flags: flags | ALL_CPUS }))).toBe('HV_STATUS_SUCCESS');
      for (const { hw } of g.model.vps) expect([hw.tlb.has(A, page(1)), hw.tlb.has(B, page(1)), hw.tlb.has(0x7000n, page(8))]).toEqual(left);
    }
  });

  test('TLFS GVA range: bits 63:12 the page, bits 11:0 the number of additional pages (1 to 4096 pages)', () => {
    const g = new ViridianTestGuest({ vcpus: 1 });
    const tlb = g.model.vps[0]!.hw.tlb;
    for (const p of [0, 1, 2, 3, 4, 5, 6, 4095, 4096]) tlb.fill(A, page(p), false);
    expect(g.status(flush({ to: { mask: 1n }, list: true, gvas: [page(2) | 2n, page(6) | 0n] }))).toBe('HV_STATUS_SUCCESS');
    expect([0, 1, 2, 3, 4, 5, 6].map((p) => tlb.has(A, page(p)))).toEqual([true, true, false, false, false, true, false]);
    expect(g.status(flush({ to: { mask: 1n }, list: true, gvas: [page(0) | 0xfffn] }))).toBe('HV_STATUS_SUCCESS');
    expect(tlb.snapshot().map((e) => e.va)).toEqual([page(4096)]);
  });

  test('list flush of one space removes its entries and global ones in range; ALL_VIRTUAL_ADDRESS_SPACES every space', () => {
    const one = guest({ vcpus: 1 });
    expect(one.call(flush({ to: { mask: 1n }, list: true, gvas: [page(1), page(8)] }))).toMatchObject({ kind: 'result', status: 0, repsCompleted: 2 });
    expect(keys(one, 0)).toEqual(['1000:40000', '1000:42000', '1000:43000', '2000:40000', '2000:41000', '2000:42000', '2000:43000']);
    const every = guest({ vcpus: 1 });
    expect(every.status(flush({ to: { mask: 1n }, list: true, flags: ALL_SPACES, gvas: [page(1) | 1n] }))).toBe('HV_STATUS_SUCCESS');
    expect(keys(every, 0)).toEqual(['g:48000', '1000:40000', '1000:43000', '2000:40000', '2000:43000']);
  });
});

describe('which VPs a flush reaches', () => {
  test('VP indices the partition does not have are ignored (KVM, Xen; TLFS silent), in masks and sparse sets', () => {
    const g = guest({ vcpus: 4 });
    expectCall(g, flush({ to: { mask: (1n << 63n) | (1n << 4n) } }), 'HV_STATUS_SUCCESS', true);
    expectCall(g, flush({ to: { set: [100, 4095] } }), 'HV_STATUS_SUCCESS', true);
    expect(g.status(flush({ to: { set: [2, 64, 4095] } }))).toBe('HV_STATUS_SUCCESS');
    expect(g.model.vps.map((vp) => vp.hw.tlb.has(A, page(0)))).toEqual([true, true, false, true]);
  });

  test('TLFS HV_VP_SET: VPs 64 and above are reached only by Ex sparse or ALL sets, or ALL_PROCESSORS (130 vCPUs)', () => {
    const g = guest({ vcpus: 130 });
    const flushed = (s: bigint) => g.model.vps.filter((vp) => !vp.hw.tlb.has(s, page(0))).map((vp) => vp.index);
    expect(g.status(flush({ to: { mask: ~0n } }))).toBe('HV_STATUS_SUCCESS');
    expect(flushed(A)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    // ListEx: the GVA ranges follow the banks (offset 32 + 8 x 2 here).
    expect(g.status(flush({ to: { set: [64, 129] }, list: true, space: B, gvas: [page(0)] }))).toBe('HV_STATUS_SUCCESS');
    expect(flushed(B)).toEqual([64, 129]);
    expect(g.status(flush({ to: { set: [64, 127, 128, 129] }, space: B }))).toBe('HV_STATUS_SUCCESS');
    expect(flushed(B)).toEqual([64, 127, 128, 129]);
    expect(g.status(flush({ to: { format: SET_ALL }, flags: ALL_SPACES }))).toBe('HV_STATUS_SUCCESS');
    expect(emptied(g)).toBe(true);
    // HV_FLUSH_ALL_PROCESSORS: the mask is ignored, VPs 64 and above included.
    const h = guest({ vcpus: 70 });
    expect(h.status(flush({ to: { mask: 2n }, flags: ALL_CPUS | ALL_SPACES }))).toBe('HV_STATUS_SUCCESS');
    expect(emptied(h)).toBe(true);
  });

  test.each<[ViridianCompat, string, boolean]>([
    ['tlfs', 'HV_STATUS_INVALID_PARAMETER', false],
    ['kvm', 'HV_STATUS_SUCCESS', true],
    ['xen', 'HV_STATUS_SUCCESS', false],
  ])('empty processor set without ALL_PROCESSORS, compat %s: %s, flushes all VPs: %s (TLFS v6.0b 9.4; KVM WS2012 workaround; Xen)', (compat, status, flushesAll) => {
    const forms: Flush[] = [{ to: { mask: 0n } }, { to: { mask: 0n }, list: true }];
    // Upstream KVM returns SUCCESS without flushing for an empty Ex set; the 'kvm' column models the non-Ex rule only.
    if (compat !== 'kvm') forms.push({ to: { set: [] } }, { to: { format: SPARSE, validMask: 1n, banks: [0n] }, list: true });
    for (const f of forms) {
      const g = guest({ vcpus: 3, viridian: { compat } });
      expectCall(g, flush({ ...f, flags: ALL_SPACES }), status, !flushesAll);
      if (flushesAll) expect(g.model.vps.map((vp) => vp.hw.tlb.has(B, page(0)))).toEqual([false, false, false]);
    }
  });
});

describe('status paths (TLFS v6.0b 9.4 "Return Values")', () => {
  test('reserved flag bits (63:4) give INVALID_PARAMETER on all four calls and flush nothing', () => {
    fc.assert(
      fc.property(U64.filter((v) => v >> 4n !== 0n), fc.constantFrom(...CODES), (flags, code) => {
        expectCall(guest(), anyForm(code, A, flags), 'HV_STATUS_INVALID_PARAMETER', true);
      }),
      { numRuns: 120 },
    );
  });

  test('HV_FLUSH_USE_EXTENDED_RANGE_FORMAT without CPUID 0x40000003 EDX bit 14: INVALID_PARAMETER; with it: not modelled', () => {
    const ext = { ...VIRIDIAN_PROFILES.modern, featuresEdx: VIRIDIAN_PROFILES.modern.featuresEdx | HV_FEATURES_EDX.HV_FEATURE_EXT_GVA_RANGES_FLUSH };
    for (const code of CODES) {
      expectCall(guest(), anyForm(code, A, EXT_RANGES), 'HV_STATUS_INVALID_PARAMETER', true);
      expectCall(guest({ viridian: { profile: ext } }), anyForm(code, A, EXT_RANGES), 'unimplemented', true);
    }
  });

  test('TLFS HvCallFlushVirtualAddressList: NON_GLOBAL_MAPPINGS_ONLY is an invalid option for List and ListEx only', () => {
    for (const code of CODES) expectCall(guest(), anyForm(code, A, NON_GLOBAL), isList(code) ? 'HV_STATUS_INVALID_PARAMETER' : 'HV_STATUS_SUCCESS', isList(code));
  });

  test('reserved CR3 bits 63:52 give INVALID_PARAMETER unless HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES is set', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 0xfffn }), fc.constantFrom(...CODES), fc.boolean(), (high, code, allSpaces) => {
        const call = anyForm(code, (high << 52n) | A, allSpaces ? ALL_SPACES : 0n);
        expectCall(guest(), call, allSpaces ? 'HV_STATUS_SUCCESS' : 'HV_STATUS_INVALID_PARAMETER', !allSpaces);
      }),
      { numRuns: 80 },
    );
    expectCall(guest(), anyForm(SPACE, (1n << 52n) - 0x1000n, NON_GLOBAL), 'HV_STATUS_SUCCESS', true);
  });

  test('a list flush failing its checks reports the rep start index as reps completed (TLFS "Hypercall Continuation")', () => {
    const out = guest().call(flush({ to: { mask: 1n }, list: true, flags: 1n << 9n, gvas: [page(0), page(1), page(2)], repStart: 1 }));
    expect(out).toMatchObject({ kind: 'result', status: 5, repsCompleted: 1 });
  });

  test('Ex: a Format other than SPARSE_4K (0) or ALL (1) gives INVALID_PARAMETER (TLFS HV_VP_SET)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 2n, max: (1n << 64n) - 1n }), fc.boolean(), (format, list) => {
        expectCall(guest(), flush({ to: { format }, list }), 'HV_STATUS_INVALID_PARAMETER', true);
      }),
      { numRuns: 60 },
    );
  });

  test('Ex: variable header size differing from popcount(ValidBanksMask) gives INVALID_HYPERCALL_INPUT', () => {
    fc.assert(
      fc.property(U64, fc.integer({ min: 0, max: 9 }), fc.boolean(), (validMask, varHeadSize, list) => {
        fc.pre([...validMask.toString(2)].filter((b) => b === '1').length !== varHeadSize);
        const banks = Array.from({ length: varHeadSize }, () => 3n);
        expectCall(guest(), flush({ to: { format: SPARSE, validMask, banks }, list, flags: ALL_SPACES }), 'HV_STATUS_INVALID_HYPERCALL_INPUT', true);
      }),
      { numRuns: 80 },
    );
  });
});

describe('access (TLFS feature discovery; KVM hv_check_hypercall_access)', () => {
  test.each([
    ['minimal', [false, false, false, false]],
    ['ws2008', [true, true, false, false]],
    ['modern', [true, true, true, true]],
  ] as const)('profile %s: which of 0x0002, 0x0003, 0x0013, 0x0014 are allowed', (profile, allowed) => {
    CODES.forEach((code, i) => expectCall(guest({ viridian: { profile } }), anyForm(code, A, 0n), allowed[i] ? 'HV_STATUS_SUCCESS' : 'HV_STATUS_ACCESS_DENIED', !allowed[i]));
  });

  test('the Ex calls need both ExProcessorMasks and remote-flush recommendations; xen compat does not gate', () => {
    const exOnly = { ...VIRIDIAN_PROFILES.modern, recommendations: REC.HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED };
    for (const code of CODES) {
      expectCall(guest({ viridian: { profile: exOnly } }), anyForm(code, A, 0n), 'HV_STATUS_ACCESS_DENIED', true);
      expectCall(guest({ viridian: { profile: 'minimal', compat: 'xen' } }), anyForm(code, A, 0n), 'HV_STATUS_SUCCESS', false);
    }
  });
});

/** Random flushes on 6 VPs whose TLBs hold entries of three spaces, some global. */
const scenario = fc.record({
  fills: fc.array(fc.record({ vp: fc.nat(5), space: fc.constantFrom(...SPACES), page: fc.nat(15), global: fc.boolean() }), { maxLength: 60 }),
  ex: fc.boolean(),
  list: fc.boolean(),
  space: fc.constantFrom(...SPACES),
  pcid: fc.nat(0xfff), // CR3 bits 11:0 (PCID) do not name another space
  flags: fc.subarray([ALL_CPUS, ALL_SPACES, NON_GLOBAL]).map((f) => f.reduce((a, b) => a | b, 0n)),
  mask: fc.bigInt({ min: 1n, max: 0x3fn }).map((m) => m | (1n << 40n)),
  gvas: fc.array(fc.record({ page: fc.nat(15), more: fc.nat(3) }), { minLength: 1, maxLength: 6 }),
  fast: fc.boolean(),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;
const flagsOf = (s: Scenario): bigint => (s.list ? s.flags & ~NON_GLOBAL : s.flags);

function run(s: Scenario, fast: boolean): { status: string; before: string[][]; after: string[][] } {
  const g = new ViridianTestGuest({ vcpus: 6 });
  for (const f of s.fills) g.model.vps[f.vp]!.hw.tlb.fill(f.space, page(f.page), f.global);
  const vps = Array.from({ length: 64 }, (_, i) => i).filter((i) => ((s.mask >> BigInt(i)) & 1n) === 1n);
  const before = all(g);
  const call = flush({ to: s.ex ? { set: vps } : { mask: s.mask }, list: s.list, space: s.space | BigInt(s.pcid), flags: flagsOf(s), fast, gvas: s.gvas.map((r) => page(r.page) | BigInt(r.more)) });
  return { status: g.status(call), before, after: all(g) };
}

describe('properties', () => {
  test('a flush never leaves an entry it was asked to remove, and only removes entries (TLB after is a subset of before)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { status, before, after } = run(s, s.fast);
        expect(status).toBe('HV_STATUS_SUCCESS');
        const flags = flagsOf(s);
        const inRange = (va: bigint) => s.gvas.some((r) => va >= page(r.page) && va < page(r.page + r.more + 1));
        const targeted = (key: string): boolean => {
          const [tag, hex] = key.split(':') as [string, string];
          const global = tag === 'g';
          const sameSpace = (flags & ALL_SPACES) !== 0n || (!global && BigInt(`0x${tag}`) === s.space);
          if (s.list) return inRange(BigInt(`0x${hex}`)) && (global || sameSpace);
          return global ? (flags & NON_GLOBAL) === 0n : sameSpace;
        };
        before.forEach((entries, vp) => {
          const targetVp = (flags & ALL_CPUS) !== 0n || ((s.mask >> BigInt(vp)) & 1n) === 1n;
          const left = new Set(after[vp]);
          for (const key of left) expect(entries).toContain(key);
          // No targeted entry survives; and the model is exact: every other entry does.
          for (const key of entries) expect(left.has(key)).toBe(!(targetVp && targeted(key)));
        });
      }),
      { numRuns: 300 },
    );
  });

  test('fast (XMM) forms give the same status and TLB state as the memory forms, reserved flags included', () => {
    fc.assert(
      fc.property(scenario, fc.bigInt({ min: 0n, max: 0xffn }), (s, extra) => {
        const withFlags = { ...s, flags: s.flags | (extra & ~0x7n) };
        const memory = run(withFlags, false);
        const fast = run(withFlags, true);
        expect(fast.status).toBe(memory.status);
        expect(fast.after).toEqual(memory.after);
      }),
      { numRuns: 150 },
    );
  });
});
