import fc from 'fast-check';
import { Machine } from '../machine/machine';
import { HV_X64_MSR as MSR } from './abi/msrs';
import { hv_reference_tsc_page } from './abi/layouts';
import type { ViridianOptions } from './config';
import { nextTscSequence, referenceCount, tscPageParams, tscPageTime } from './refTime';
import { ViridianModel } from './viridianModel';
import { ViridianTestGuest } from './viridianTestkit';

const TWO_64 = 1n << 64n;
const PAGE_GFN = 0x30;
const PAGE_GPA = BigInt(PAGE_GFN) << 12n;
const ENABLE = PAGE_GPA | 1n;

/** A one-VP partition on a machine with the given TSC. */
function partition(tscHz: bigint, tscAtZero: bigint, viridian: ViridianOptions = {}): ViridianModel {
  const machine = new Machine({ vcpus: 1, memory: { ramPages: 64 }, clock: { tscHz, tscAtZero } });
  return new ViridianModel(machine, viridian);
}

const page = (g: ViridianTestGuest) => g.get(hv_reference_tsc_page, PAGE_GPA);

describe('partition reference counter (TLFS timers.md "Partition Reference Counter")', () => {
  test('referenceCount is floor(ns / 100) and never decreases', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.bigInt({ min: 0n, max: 10n ** 6n }), (ns, dt) => {
        const r = referenceCount(ns);
        expect(r * 100n <= ns && ns < (r + 1n) * 100n).toBe(true);
        expect(referenceCount(ns + dt) >= r).toBe(true);
      }),
    );
  });

  test('TIME_REF_COUNT reads 0 at partition creation and floor(ns / 100) at any later virtual time', () => {
    expect(new ViridianTestGuest().rdmsrOk(MSR.HV_X64_MSR_TIME_REF_COUNT)).toBe(0n);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), (ns) => {
        const g = new ViridianTestGuest({ vcpus: 1, ramPages: 64 });
        g.model.advanceTo(ns);
        expect(g.rdmsrOk(MSR.HV_X64_MSR_TIME_REF_COUNT)).toBe(ns / 100n);
      }),
      { numRuns: 50 },
    );
  });

  test('TSC_FREQUENCY equals the clock frequency and APIC_FREQUENCY the configured one (TLFS "Frequency MSRs")', () => {
    for (const hz of [10_000_001n, 2_095_078_000n, 3_000_000_000n]) {
      const m = partition(hz, 0n, { apicHz: 123_456_789n });
      expect(m.rdmsr(0, MSR.HV_X64_MSR_TSC_FREQUENCY)).toEqual({ kind: 'ok', value: hz });
      expect(m.rdmsr(0, MSR.HV_X64_MSR_APIC_FREQUENCY)).toEqual({ kind: 'ok', value: 123_456_789n });
    }
    const g = new ViridianTestGuest();
    expect(g.rdmsrOk(MSR.HV_X64_MSR_TSC_FREQUENCY)).toBe(g.machine.clock.tscHz);
    expect(g.rdmsrOk(MSR.HV_X64_MSR_APIC_FREQUENCY)).toBe(200_000_000n);
    // KVM selftest: TSC_FREQUENCY and TIME_REF_COUNT agree (within 1 %; here within one tick over a second).
    const tsc0 = g.model.rdtsc();
    g.model.advanceTo(1_000_000_000n);
    const ticks = ((g.model.rdtsc() - tsc0) * 10_000_000n) / g.rdmsrOk(MSR.HV_X64_MSR_TSC_FREQUENCY);
    expect(ticks - g.rdmsrOk(MSR.HV_X64_MSR_TIME_REF_COUNT)).toBeGreaterThanOrEqual(-1n);
    expect(ticks - g.rdmsrOk(MSR.HV_X64_MSR_TIME_REF_COUNT)).toBeLessThanOrEqual(1n);
  });
});

describe('reference TSC page (TLFS timers.md "Partition Reference Time Enlightenment")', () => {
  test('the MSR resets to 0; written with Enable clear it is stored and no page appears (KVM selftest: page stays zero)', () => {
    const g = new ViridianTestGuest();
    expect(g.rdmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC)).toBe(0n);
    g.wrmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC, PAGE_GPA | 0xffen);
    expect(g.rdmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC)).toBe(PAGE_GPA | 0xffen);
    expect(g.machine.memory.isForeign(PAGE_GFN)).toBe(false);
    expect(g.read(PAGE_GPA, 4096).every((b) => b === 0)).toBe(true);
    expect(g.model.refTsc.sequence).toBe(0);
  });

  test('enabled: a read-only overlay at the GPA with TscSequence != 0, TscScale and TscOffset per hv_reference_tsc_page', () => {
    const g = new ViridianTestGuest();
    g.wrmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC, ENABLE);
    expect(g.machine.memory.isForeign(PAGE_GFN)).toBe(true);
    const clock = g.machine.clock;
    const scale = (10_000_000n * TWO_64) / clock.tscHz;
    const p = page(g);
    expect(p.tsc_sequence).not.toBe(0);
    expect(p.tsc_sequence).toBe(1);
    expect(p.reserved1).toBe(0);
    expect(p.tsc_scale).toBe(scale);
    expect(BigInt.asIntN(64, p.tsc_offset)).toBe(-((clock.tscAtZero * scale) / TWO_64));
    expect(g.read(PAGE_GPA + 24n, 4096 - 24).every((b) => b === 0)).toBe(true);
    expect(g.machine.memory.writeBytes(Number(PAGE_GPA), Uint8Array.of(0))).toMatchObject({ reason: 'read-only', access: 'write' });
    g.wrmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC, PAGE_GPA);
    expect(g.machine.memory.isForeign(PAGE_GFN)).toBe(false);
  });

  test('a guest reading the page computes TIME_REF_COUNT within one tick (KVM selftest allows 10 ms)', () => {
    const g = new ViridianTestGuest();
    g.wrmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC, ENABLE);
    for (const ns of [0n, 99n, 1_000_000n, 123_456_789_012n]) {
      g.model.advanceTo(ns);
      const p = page(g);
      const fromPage = tscPageTime(g.model.rdtsc(), p.tsc_scale, p.tsc_offset);
      const msr = g.rdmsrOk(MSR.HV_X64_MSR_TIME_REF_COUNT);
      expect(fromPage - msr <= 1n && msr - fromPage <= 1n).toBe(true);
    }
  });

  test('PROPERTY: for any TSC above 10 MHz, any tscAtZero < 2^63 and any time, the page formula is within one tick of the reference count', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 10_000_001n, max: 10_000_000_000n }),
        fc.bigInt({ min: 0n, max: 1n << 63n }),
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        (tscHz, tscAtZero, ns) => {
          const m = partition(tscHz, tscAtZero);
          const params = tscPageParams(m.machine.clock);
          expect(params).toBeDefined();
          const { scale, offset } = params!;
          expect(scale < TWO_64).toBe(true);
          const diff = tscPageTime(m.machine.clock.tscAt(ns), scale, offset) - referenceCount(ns);
          expect(diff >= -1n && diff <= 1n).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a TSC of 10 MHz or slower cannot be scaled: the page is published with TscSequence 0', () => {
    for (const hz of [10_000_000n, 9_999_999n, 1_000_000n, 1n]) {
      const m = partition(hz, 5n);
      expect(tscPageParams(m.machine.clock)).toBeUndefined();
      expect(m.wrmsr(0, MSR.HV_X64_MSR_REFERENCE_TSC, ENABLE)).toEqual({ kind: 'ok' });
      expect(m.memory.isForeign(PAGE_GFN)).toBe(true);
      expect(m.memory.read32(Number(PAGE_GPA))).toBe(0);
      expect(m.refTsc.sequence).toBe(0);
    }
  });

  test('a GPFN beyond the GPA space is accepted; the page is just not accessible (TLFS timers.md, unlike the hypercall MSR)', () => {
    const g = new ViridianTestGuest();
    const beyond = (BigInt(g.machine.memory.addressSpacePages) << 12n) | 1n;
    expect(g.wrmsr(MSR.HV_X64_MSR_REFERENCE_TSC, beyond)).toEqual({ kind: 'ok' });
    expect(g.rdmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC)).toBe(beyond);
  });
});

describe('TscSequence (TLFS timers.md; TLFS v2.0A 15.4.3.2; KVM kvm_hv_setup_tsc_page)', () => {
  test('PROPERTY: nextTscSequence never yields 0 or 0xFFFFFFFF and otherwise increments', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (seq) => {
        const next = nextTscSequence(seq);
        expect(next).not.toBe(0);
        expect(next).not.toBe(0xffff_ffff);
        expect(next).toBe(seq + 1 >= 0xffff_ffff ? 1 : seq + 1);
      }),
    );
    expect([nextTscSequence(0xffff_fffd), nextTscSequence(0xffff_fffe), nextTscSequence(0xffff_ffff)]).toEqual([0xffff_fffe, 1, 1]);
  });

  test('republishing bumps the sequence; an invalid publication writes 0 and the next valid one never repeats an old value', () => {
    const g = new ViridianTestGuest();
    g.wrmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC, ENABLE);
    expect(page(g).tsc_sequence).toBe(1);
    g.model.republishTscPage(true);
    expect(page(g).tsc_sequence).toBe(2);
    g.model.republishTscPage(false);
    expect(page(g).tsc_sequence).toBe(0);
    expect(g.model.refTsc.sequence).toBe(0);
    g.model.republishTscPage(true);
    expect(page(g).tsc_sequence).toBe(3);
    g.wrmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC, ENABLE);
    expect(page(g).tsc_sequence).toBe(4);
  });

  test('config tscPageValid: false publishes TscSequence 0 ("fall back to the reference counter MSR")', () => {
    const g = new ViridianTestGuest({ viridian: { tscPageValid: false } });
    g.wrmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC, ENABLE);
    expect(g.machine.memory.isForeign(PAGE_GFN)).toBe(true);
    expect(page(g).tsc_sequence).toBe(0);
  });

  test('firstTscSequence near the wrap: 0xFFFFFFFE then 1, skipping 0xFFFFFFFF and 0; out-of-range values are rejected', () => {
    const g = new ViridianTestGuest({ viridian: { firstTscSequence: 0xffff_fffe } });
    g.wrmsrOk(MSR.HV_X64_MSR_REFERENCE_TSC, ENABLE);
    expect(page(g).tsc_sequence).toBe(0xffff_fffe);
    g.model.republishTscPage(true);
    expect(page(g).tsc_sequence).toBe(1);
    for (const bad of [0, 0xffff_ffff, 1.5]) expect(() => new ViridianTestGuest({ viridian: { firstTscSequence: bad } })).toThrow(RangeError);
  });
});
