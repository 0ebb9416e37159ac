import fc from 'fast-check';
import { HVCALL } from './abi/hypercalls';
import { HV_HYPERCALL } from './abi/input';
import { HV_CALL_INPUT } from './abi/calls';
import { HV_X64_MSR } from './abi/msrs';
import { hv_tlb_flush } from './abi/layouts';
import { decodeInput, decodeResult, encodeInput, encodeResult, withRepStart } from './control';
import { ViridianTestGuest } from './viridianTestkit';

const flushHeader = (flags: bigint, mask: bigint, space = 0x1000n) => ViridianTestGuest.struct(hv_tlb_flush, { address_space: space, flags, processor_mask: mask });
const ALL = BigInt(HV_CALL_INPUT.HV_FLUSH_ALL_PROCESSORS);

describe('input and result values', () => {
  test('encode / decode round trip for every field combination', () => {
    fc.assert(
      fc.property(
        fc.record({
          code: fc.integer({ min: 0, max: 0xffff }),
          fast: fc.boolean(),
          varHeadSize: fc.integer({ min: 0, max: 1023 }),
          nested: fc.boolean(),
          repCount: fc.integer({ min: 0, max: 4095 }),
          repStart: fc.integer({ min: 0, max: 4095 }),
          reserved: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => v & BigInt(HV_HYPERCALL.HV_HYPERCALL_RSVD_MASK) & ~BigInt(HV_HYPERCALL.HV_HYPERCALL_NESTED)),
        }),
        (fields) => {
          const value = encodeInput(fields);
          expect(decodeInput(value)).toEqual(fields);
          expect(encodeInput(decodeInput(value))).toBe(value);
        },
      ),
    );
  });

  test('any 64-bit value decodes and re-encodes to itself', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (value) => expect(encodeInput(decodeInput(value))).toBe(value)));
  });

  test('result values: status 15:0 and reps completed 43:32; reserved bits are ignored on decode', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 4095 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (status, repsCompleted, noise) => {
        const value = encodeResult({ status, repsCompleted });
        expect(value & ~0xfff0000ffffn).toBe(0n);
        const rsvd = noise & ~(BigInt(HV_HYPERCALL.HV_HYPERCALL_RESULT_MASK) | HV_HYPERCALL.HV_HYPERCALL_REP_COMP_MASK);
        expect(decodeResult(value | rsvd)).toEqual({ status, repsCompleted });
      }),
    );
  });

  test('fields that do not fit are a caller bug', () => {
    expect(() => encodeInput({ code: 0x10000 })).toThrow(RangeError);
    expect(() => encodeInput({ code: 2, repCount: 4096 })).toThrow(RangeError);
    expect(() => encodeInput({ code: 2, reserved: 1n })).toThrow(RangeError);
    expect(withRepStart(encodeInput({ code: 3, repCount: 10 }), 7)).toBe(encodeInput({ code: 3, repCount: 10, repStart: 7 }));
  });
});

describe('hypercall validation order', () => {
  test('#UD before the hypercall page is enabled, and after the guest OS id is cleared', () => {
    const g = new ViridianTestGuest({ hypercalls: false });
    expect(g.status({ code: HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT, fast: true })).toBe('UD');
    g.enableHypercalls();
    expect(g.status({ code: HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT, fast: true })).toBe('HV_STATUS_SUCCESS');
    g.wrmsrOk(HV_X64_MSR.HV_X64_MSR_GUEST_OS_ID, 0n);
    expect(g.rdmsrOk(HV_X64_MSR.HV_X64_MSR_HYPERCALL) & 1n).toBe(0n);
    expect(g.status({ code: HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT, fast: true })).toBe('UD');
  });

  test('ACCESS_DENIED outranks reserved bits, which outrank an unknown code', () => {
    const g = new ViridianTestGuest({ viridian: { profile: 'minimal' } });
    // minimal recommends no remote flush: the access check fails first even with reserved bits set.
    expect(g.status({ code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, reserved: 1n << 60n, input: flushHeader(ALL, 0n) })).toBe('HV_STATUS_ACCESS_DENIED');
    expect(g.status({ code: 0xbeef, reserved: 1n << 44n })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
    expect(g.status({ code: 0xbeef })).toBe('HV_STATUS_INVALID_HYPERCALL_CODE');
  });

  test('any reserved input bit, Is Nested included, gives INVALID_HYPERCALL_INPUT (TLFS); xen compat ignores them', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).filter((v) => (v & BigInt(HV_HYPERCALL.HV_HYPERCALL_RSVD_MASK)) !== 0n), (noise) => {
        const g = new ViridianTestGuest();
        const rsvd = noise & BigInt(HV_HYPERCALL.HV_HYPERCALL_RSVD_MASK);
        const nested = (rsvd & BigInt(HV_HYPERCALL.HV_HYPERCALL_NESTED)) !== 0n;
        const call = { code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, reserved: rsvd & ~BigInt(HV_HYPERCALL.HV_HYPERCALL_NESTED), nested, input: flushHeader(ALL, 0n) };
        expect(g.status(call)).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
        const xen = new ViridianTestGuest({ viridian: { compat: 'xen' } });
        expect(xen.status(call)).toBe('HV_STATUS_SUCCESS');
      }),
      { numRuns: 50 },
    );
  });

  test('rep count and rep start index rules', () => {
    const g = new ViridianTestGuest();
    const list = HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST;
    const input = flushHeader(ALL, 0n);
    expect(g.status({ code: list, input })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT'); // rep call, count 0
    expect(g.status({ code: list, repCount: 2, repStart: 2, input })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
    expect(g.status({ code: list, repCount: 2, repStart: 1, input })).toBe('HV_STATUS_SUCCESS');
    expect(g.status({ code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, repCount: 1, input })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT'); // simple call
    expect(g.status({ code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, repStart: 1, input })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
    expect(g.status({ code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, varHeadSize: 1, input })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 200 }), (count, start) => {
        const expected = start < count ? 'HV_STATUS_SUCCESS' : 'HV_STATUS_INVALID_HYPERCALL_INPUT';
        expect(g.status({ code: list, repCount: count, repStart: start, input })).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });

  test('memory-form GPAs: 8-byte aligned, not crossing a page, inside the GPA space', () => {
    const g = new ViridianTestGuest();
    const code = HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE;
    const input = flushHeader(ALL, 0n);
    expect(g.status({ code, input, rdx: g.inputGpa + 4n })).toBe('HV_STATUS_INVALID_ALIGNMENT');
    expect(g.status({ code, input, rdx: g.inputGpa + 4096n - 16n })).toBe('HV_STATUS_INVALID_ALIGNMENT');
    expect(g.status({ code, input, rdx: 1n << 50n })).toBe('HV_STATUS_INVALID_ALIGNMENT');
    // Inside the space but unpopulated: a memory intercept to the parent.
    const unpopulated = BigInt(g.machine.memory.addressSpacePages - 1) << 12n;
    expect(g.call({ code, input, rdx: unpopulated })).toEqual({ kind: 'intercept', gpa: Number(unpopulated), access: 'read' });
    const kvm = new ViridianTestGuest({ viridian: { compat: 'kvm' } });
    expect(kvm.status({ code, input, rdx: unpopulated })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
  });

  test('fast calls: no fast form, plain fast within 16 bytes, XMM input only where CPUID offers it', () => {
    const modern = new ViridianTestGuest();
    expect(modern.status({ code: HVCALL.HVCALL_POST_MESSAGE, fast: true })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
    expect(modern.status({ code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, fast: true, input: flushHeader(ALL, 0n) })).toBe('HV_STATUS_SUCCESS');
    const ws2008 = new ViridianTestGuest({ viridian: { profile: 'ws2008' } });
    // 24 bytes of input need XMM0: #UD without CPUID 0x40000003 EDX bit 4.
    expect(ws2008.status({ code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, fast: true, input: flushHeader(ALL, 0n) })).toBe('UD');
    expect(ws2008.status({ code: HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT, fast: true })).toBe('HV_STATUS_SUCCESS');
    // A list whose elements do not fit in RDX, R8 and XMM0-5 (112 bytes).
    expect(modern.status({ code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, fast: true, repCount: 12, input: flushHeader(ALL, 0n) })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
    expect(modern.status({ code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, fast: true, repCount: 11, input: flushHeader(ALL, 0n) })).toBe('HV_STATUS_SUCCESS');
  });

  test('unknown call codes, and known codes a guest partition has no privilege for', () => {
    const g = new ViridianTestGuest();
    expect(g.status({ code: 0x0001, fast: true })).toBe('HV_STATUS_INVALID_HYPERCALL_CODE');
    expect(g.status({ code: HVCALL.HVCALL_CREATE_PARTITION })).toBe('HV_STATUS_ACCESS_DENIED');
    expect(g.status({ code: HVCALL.HVCALL_GET_VP_REGISTERS, repCount: 1 })).toBe('HV_STATUS_ACCESS_DENIED');
    expect(g.status({ code: 0x8002 })).toBe('HV_STATUS_INVALID_HYPERCALL_CODE');
    const minimal = new ViridianTestGuest({ viridian: { profile: 'minimal' } });
    expect(minimal.status({ code: 0x8002 })).toBe('HV_STATUS_ACCESS_DENIED');
  });
});

describe('partial completion and restart', () => {
  test('a rep call restarted from its reps-completed value ends in the same state as an uninterrupted one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.integer({ min: 0, max: 63 }), { minLength: 1, maxLength: 40 }),
        (count, budget, pages) => {
          const elements = Array.from({ length: count }, (_, i) => BigInt(0x40000 + (pages[i % pages.length] as number) * 0x1000) | BigInt(i % 3));
          const run = (repsPerCall: number | undefined): { entries: string[]; calls: number } => {
            const g = new ViridianTestGuest({ viridian: repsPerCall === undefined ? {} : { repsPerCall } });
            for (const vp of g.model.vps) for (let p = 0; p < 80; p++) vp.hw.tlb.fill(0x1000n, BigInt(0x40000 + p * 0x1000), p % 5 === 0);
            const input = new Uint8Array(24 + 8 * count);
            input.set(flushHeader(ALL, 0n));
            const view = new DataView(input.buffer);
            elements.forEach((e, i) => view.setBigUint64(24 + 8 * i, e, true));
            let start = 0;
            let calls = 0;
            while (start < count) {
              const outcome = g.call({ code: HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, repCount: count, repStart: start, input });
              calls++;
              if (outcome.kind !== 'result' || outcome.status !== 0) throw new Error(JSON.stringify(outcome, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
              expect(outcome.repsCompleted).toBeGreaterThan(start);
              expect(outcome.repsCompleted).toBeLessThanOrEqual(count);
              start = outcome.repsCompleted;
            }
            return { entries: g.model.vps.flatMap((vp) => vp.hw.tlb.snapshot().map((e) => `${vp.index}:${e.space}:${e.va}:${e.global}`)), calls };
          };
          const whole = run(undefined);
          const pieces = run(budget);
          expect(whole.calls).toBe(1);
          expect(pieces.calls).toBe(Math.ceil(count / budget));
          expect(pieces.entries).toEqual(whole.entries);
        },
      ),
      { numRuns: 60 },
    );
  });
});
