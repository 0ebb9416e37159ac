import fc from 'fast-check';
import { IA32_TSC_DEADLINE, IA32_X2APIC_LVT_TIMER } from './apicTimer';
import { ViridianTestGuest } from './viridianTestkit';

const TSC_DEADLINE_MODE = 2n << 17n;

describe('the architectural interface every x86 guest has (Intel SDM)', () => {
  test('CPUID leaf 1 advertises the TSC-deadline timer (ECX bit 24) and leaf 0x15 the TSC frequency', () => {
    const g = new ViridianTestGuest({ viridian: { profile: 'minimal' } });
    expect((g.model.cpuid(0, 1).ecx >>> 24) & 1).toBe(1);
    const l15 = g.model.cpuid(0, 0x15);
    expect(BigInt(l15.ecx) * BigInt(l15.ebx) / BigInt(l15.eax)).toBe(g.machine.clock.tscHz);
  });

  test('TSC-deadline timer: fires on the first instant the TSC reaches the deadline, never before', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10_000_000n }), (ticks) => {
        const g = new ViridianTestGuest({ viridian: { profile: 'minimal' } });
        g.wrmsrOk(IA32_X2APIC_LVT_TIMER, TSC_DEADLINE_MODE | 0xeen);
        const deadline = g.model.rdtsc() + ticks;
        g.wrmsrOk(IA32_TSC_DEADLINE, deadline);
        expect(g.rdmsrOk(IA32_TSC_DEADLINE)).toBe(deadline);
        const due = g.machine.clock.nextDeadline() as bigint;
        expect(g.machine.clock.tscAt(due)).toBeGreaterThanOrEqual(deadline);
        expect(g.machine.clock.tscAt(due - 1n)).toBeLessThan(deadline);
        expect(g.advanceTo(due - 1n)).toEqual([]);
        expect(g.advanceTo(due)).toEqual([[0, 0xee]]);
        expect(g.rdmsrOk(IA32_TSC_DEADLINE)).toBe(0n);
      }),
      { numRuns: 50 },
    );
  });

  test('TSC-deadline timer: a past deadline fires at once; 0 disarms; masked LVT loses it; other modes ignore the MSR', () => {
    const g = new ViridianTestGuest({ viridian: { profile: 'minimal' } });
    g.wrmsrOk(IA32_TSC_DEADLINE, g.model.rdtsc() + 100n); // not in TSC-deadline mode: ignored
    expect(g.machine.clock.pending).toBe(0);
    g.wrmsrOk(IA32_X2APIC_LVT_TIMER, TSC_DEADLINE_MODE | 0x40n);
    g.wrmsrOk(IA32_TSC_DEADLINE, 1n);
    expect(g.advanceTo(0n)).toEqual([[0, 0x40]]);
    g.wrmsrOk(IA32_TSC_DEADLINE, g.model.rdtsc() + 1000n);
    g.wrmsrOk(IA32_TSC_DEADLINE, 0n);
    expect(g.advanceTo(10_000n)).toEqual([]);
    g.wrmsrOk(IA32_X2APIC_LVT_TIMER, TSC_DEADLINE_MODE | (1n << 16n) | 0x40n);
    g.wrmsrOk(IA32_TSC_DEADLINE, g.model.rdtsc() + 10n);
    expect(g.advanceTo(20_000n)).toEqual([]);
    expect(g.wrmsr(IA32_X2APIC_LVT_TIMER, 3n << 17n)).toEqual({ kind: 'fault', vector: 'GP' }); // reserved mode
    expect(g.wrmsr(IA32_X2APIC_LVT_TIMER, 1n << 20n)).toEqual({ kind: 'fault', vector: 'GP' });
  });

  test('INVLPG, MOV CR3 and a CR4.PGE toggle flush the issuing VP only', () => {
    const g = new ViridianTestGuest({ vcpus: 2 });
    const [v0, v1] = g.model.vps.map((vp) => vp.hw.tlb);
    for (const tlb of [v0, v1]) {
      tlb?.fill(0x1000n, 0x5000n, false);
      tlb?.fill(0x1000n, 0x6000n, false);
      tlb?.fill(0n, 0x7000n, true);
    }
    g.model.vps[0]!.hw.space = 0x1000n;
    g.model.invlpg(0, 0x5123n);
    expect(v0?.has(0x1000n, 0x5000n)).toBe(false);
    expect(v0?.has(0x1000n, 0x6000n)).toBe(true);
    expect(v1?.has(0x1000n, 0x5000n)).toBe(true);
    g.model.writeCr3(0, 0x2000n);
    expect(g.model.vps[0]!.hw.space).toBe(0x2000n);
    expect(v0?.has(0x1000n, 0x6000n)).toBe(false);
    expect(v0?.has(0x2000n, 0x7000n)).toBe(true); // global survives
    g.model.flushTlbGlobal(0);
    expect(v0?.size).toBe(0);
    expect(v1?.size).toBe(3);
  });

  test('INIT empties the target TLB; serial port bytes reach the console', () => {
    const g = new ViridianTestGuest({ vcpus: 2 });
    g.model.vps[1]!.hw.tlb.fill(0n, 0x9000n, true);
    g.model.apicIcrWrite(0, (1n << 56n) | (5n << 8n) | (1n << 14n));
    expect(g.model.vps[1]!.hw.tlb.size).toBe(0);
    g.model.serialWrite(new TextEncoder().encode('hi'));
    expect(g.machine.console.text()).toBe('hi');
  });
});
