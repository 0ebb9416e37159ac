import fc from 'fast-check';
import { HVCALL } from './abi/hypercalls';
import { HV_MSR_BITS, HV_X64_MSR as MSR } from './abi/msrs';
import type { ViridianOptions } from './config';
import { implementedMsrs } from './msrs';
import { VIRIDIAN_PROFILES, type ViridianProfile } from './profiles';
import { TEST_GUEST_OS_ID, TEST_LAYOUT, ViridianTestGuest } from './viridianTestkit';

type Short<K> = K extends `HV_X64_MSR_${infer S}` ? S : never;
/** An MSR number by its name without the HV_X64_MSR_ prefix. */
const m = (name: Short<keyof typeof MSR>): number => MSR[`HV_X64_MSR_${name}`];
const { HV_CRASH_CTL_CRASH_NOTIFY: NOTIFY, HV_CRASH_CTL_CRASH_NOTIFY_MSG: MSG } = HV_MSR_BITS;
const GP = { kind: 'fault', vector: 'GP' };
const OK = { kind: 'ok' };
const ALL = 0xffff_ffff;
const HC_GFN = TEST_LAYOUT.hypercallGfn;
const HC_GPA = BigInt(HC_GFN) << 12n;
const HC_ON = HC_GPA | 1n;
const SPIN = { code: HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT, fast: true };
const U64 = (1n << 64n) - 1n;
const guest = (viridian: ViridianOptions = {}) => new ViridianTestGuest({ viridian });
const isForeign = (g: ViridianTestGuest, gfn: number) => g.machine.memory.isForeign(gfn);
const profile = (base: ViridianProfile, eax: number, edx: number): ViridianProfile => ({ ...base, privileges: { ...base.privileges, eax }, featuresEdx: edx });
const bare = (p: ViridianProfile | 'modern' = 'modern', compat: 'tlfs' | 'kvm' | 'xen' = 'tlfs') => new ViridianTestGuest({ hypercalls: false, viridian: { profile: p, compat } });

describe('gating (TLFS Appendix C privileges; KVM hv_check_msr_access)', () => {
  test.each(implementedMsrs().map((e) => [e.msr.toString(16), e] as const))('MSR 0x%s: #GP without its CPUID bit, reachable with it', (_hex, { msr, gate, readable }) => {
    const eax = gate.register === 'eax' ? gate.bit : 0;
    const edx = gate.register === 'edx' ? gate.bit : 0;
    const without = bare(profile(VIRIDIAN_PROFILES.modern, ALL & ~eax, ALL & ~edx));
    expect(without.rdmsr(msr)).toEqual(GP);
    expect(without.wrmsr(msr, 0n)).toEqual(GP);
    expect(bare(profile(VIRIDIAN_PROFILES.modern, eax, edx)).rdmsr(msr).kind).toBe(readable ? 'ok' : 'fault');
  });

  test('unknown synthetic MSRs #GP on read and write even with every CPUID bit granted (REENLIGHTENMENT, GUEST_IDLE, SIRBP are not modelled)', () => {
    const known = new Set(implementedMsrs().map((e) => e.msr));
    const g = bare(profile(VIRIDIAN_PROFILES.modern, ALL, ALL));
    for (const msr of [m('SIRBP'), m('GUEST_IDLE'), m('REENLIGHTENMENT_CONTROL'), m('TSC_INVARIANT_CONTROL'), 0x40000004]) {
      expect(known.has(msr)).toBe(false);
      expect(g.rdmsr(msr)).toEqual(GP);
      expect(g.wrmsr(msr, 0n)).toEqual(GP);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0x4000_0000, max: 0x4000_01ff }).filter((x) => !known.has(x)), fc.bigInt({ min: 0n, max: U64 }), (msr, v) => {
        expect(g.rdmsr(msr)).toEqual(GP);
        expect(g.wrmsr(msr, v)).toEqual(GP);
      }),
    );
  });

  test('read-only MSRs #GP on write (VP_RUNTIME, TIME_REF_COUNT, TSC/APIC_FREQUENCY, SVERSION: TLFS, KVM stages 7/10/33); EOI is write-only', () => {
    const g = guest();
    for (const msr of [m('VP_RUNTIME'), m('TIME_REF_COUNT'), m('TSC_FREQUENCY'), m('APIC_FREQUENCY'), m('SVERSION')]) {
      expect(g.rdmsr(msr).kind).toBe('ok');
      expect(g.wrmsr(msr, 1n)).toEqual(GP);
      expect(g.wrmsr(msr, 0n)).toEqual(GP);
    }
    expect(g.rdmsr(m('EOI'))).toEqual(GP);
    expect(g.wrmsr(m('EOI'), 0n)).toEqual(OK);
  });
});

describe('GUEST_OS_ID and HYPERCALL (TLFS hypercall-interface.md "Establishing the Hypercall Interface")', () => {
  test('without a guest OS id the enable bit stays clear and no page appears; with one the page is enabled', () => {
    const g = bare();
    expect(g.wrmsr(m('HYPERCALL'), HC_ON)).toEqual(OK);
    expect(g.rdmsrOk(m('HYPERCALL'))).toBe(HC_GPA);
    expect(isForeign(g, HC_GFN)).toBe(false);
    expect(g.status(SPIN)).toBe('UD');
    g.wrmsrOk(m('GUEST_OS_ID'), TEST_GUEST_OS_ID);
    expect(g.rdmsrOk(m('GUEST_OS_ID'))).toBe(TEST_GUEST_OS_ID);
    g.wrmsrOk(m('HYPERCALL'), HC_ON);
    expect(g.rdmsrOk(m('HYPERCALL'))).toBe(HC_ON);
    expect(g.rdmsrOk(m('HYPERCALL'), 1)).toBe(HC_ON); // partition-wide
    expect(g.status(SPIN)).toBe('HV_STATUS_SUCCESS');
  });

  test('V17: compat kvm ignores the write without an OS id; compat xen stores it', () => {
    const kvm = bare('modern', 'kvm');
    expect(kvm.wrmsr(m('HYPERCALL'), HC_ON)).toEqual(OK);
    expect(kvm.rdmsrOk(m('HYPERCALL'))).toBe(0n);
    const xen = bare('modern', 'xen');
    expect(xen.wrmsr(m('HYPERCALL'), HC_ON)).toEqual(OK);
    expect(xen.rdmsrOk(m('HYPERCALL'))).toBe(HC_ON);
    expect(xen.model.hypercallsEnabled).toBe(false);
    xen.wrmsrOk(m('GUEST_OS_ID'), TEST_GUEST_OS_ID);
    expect(xen.status(SPIN)).toBe('HV_STATUS_SUCCESS');
  });

  test('V17 compat kvm: with OS id 0 every HYPERCALL write is ignored, enable clear or GPFN beyond the space (KVM kvm_hv_set_msr_pw; hyperv-tlfs.md 1.8)', () => {
    const kvm = bare('modern', 'kvm');
    expect(kvm.wrmsr(m('HYPERCALL'), HC_GPA)).toEqual(OK);
    expect(kvm.rdmsrOk(m('HYPERCALL'))).toBe(0n);
    expect(kvm.wrmsr(m('HYPERCALL'), (BigInt(kvm.machine.memory.addressSpacePages) << 12n) | 1n)).toEqual(OK);
  });

  test('a GPFN beyond the GPA space #GPs and leaves the MSR unchanged; the Locked bit is not kept (no CPUID EDX bit 18)', () => {
    const g = guest();
    const pages = BigInt(g.machine.memory.addressSpacePages);
    expect(g.wrmsr(m('HYPERCALL'), (pages << 12n) | 1n)).toEqual(GP);
    expect(g.wrmsr(m('HYPERCALL'), (1n << 63n) | 1n)).toEqual(GP);
    expect(g.rdmsrOk(m('HYPERCALL'))).toBe(HC_ON);
    expect(g.wrmsr(m('HYPERCALL'), ((pages - 1n) << 12n) | 1n)).toEqual(OK);
    expect(isForeign(g, Number(pages - 1n))).toBe(true);
    g.wrmsrOk(m('HYPERCALL'), HC_GPA | 3n);
    expect(g.rdmsrOk(m('HYPERCALL'))).toBe(HC_ON);
  });

  test('the page is a readable overlay holding 0F 01 C1 C3 then 0xCC; guest writes to it fault read-only', () => {
    const g = guest();
    const page = g.read(HC_GPA, 4096);
    expect([...page.subarray(0, 4)]).toEqual([0x0f, 0x01, 0xc1, 0xc3]);
    expect(page.subarray(4).every((b) => b === 0xcc)).toBe(true);
    const fault = g.machine.memory.writeBytes(Number(HC_GPA) + 4, Uint8Array.of(0x90));
    expect(fault).toMatchObject({ kind: 'memory-fault', access: 'write', reason: 'read-only' });
    expect(g.read(HC_GPA + 4n, 1)[0]).toBe(0xcc);
  });

  test('moving the page moves the overlay; clearing the OS id disables the page and the RAM underneath comes back', () => {
    const g = bare();
    g.write(HC_GPA, Uint8Array.of(1, 2, 3, 4));
    g.enableHypercalls();
    expect([...g.read(HC_GPA, 4)]).toEqual([0x0f, 0x01, 0xc1, 0xc3]);
    g.wrmsrOk(m('HYPERCALL'), HC_GPA + 0x1000n + 1n);
    expect(isForeign(g, HC_GFN)).toBe(false);
    expect(isForeign(g, HC_GFN + 1)).toBe(true);
    expect([...g.read(HC_GPA, 4)]).toEqual([1, 2, 3, 4]);
    g.wrmsrOk(m('HYPERCALL'), HC_ON);
    g.wrmsrOk(m('GUEST_OS_ID'), 0n);
    expect(g.rdmsrOk(m('HYPERCALL')) & 1n).toBe(0n);
    expect(isForeign(g, HC_GFN)).toBe(false);
    expect([...g.read(HC_GPA, 4)]).toEqual([1, 2, 3, 4]);
    expect(g.status(SPIN)).toBe('UD');
  });
});

describe('VP_INDEX, RESET, crash MSRs', () => {
  test('VP_INDEX reads the VP index; a write #GPs (TLFS, KVM) and is ignored with compat xen (V13)', () => {
    const g = new ViridianTestGuest({ vcpus: 3 });
    for (const vp of [0, 1, 2]) expect(g.rdmsrOk(m('VP_INDEX'), vp)).toBe(BigInt(vp));
    expect(g.wrmsr(m('VP_INDEX'), 0n)).toEqual(GP);
    expect(g.wrmsr(m('VP_INDEX'), 5n, 1)).toEqual(GP);
    const xen = guest({ compat: 'xen' });
    expect(xen.wrmsr(m('VP_INDEX'), 7n, 1)).toEqual(OK);
    expect(xen.rdmsrOk(m('VP_INDEX'), 1)).toBe(1n);
  });

  test('RESET reads 0; writing 1 reboots the machine (shutdown reason 1), writing 0 does nothing (KVM stage 16)', () => {
    const g = guest();
    expect(g.rdmsrOk(m('RESET'))).toBe(0n);
    g.wrmsrOk(m('RESET'), 0n);
    expect(g.machine.shutdown).toBeNull();
    g.wrmsrOk(m('RESET'), 1n);
    expect(g.machine.shutdown).toEqual({ reason: 1, time: 0n });
  });

  test('CRASH_P0-P4 store 64-bit values; CRASH_CTL reads CrashNotify | CrashMessage (hv_crash_ctl_reg_contents)', () => {
    const g = guest();
    const values = [0x1n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0x1234_5678_9abc_def0n, 4096n];
    values.forEach((v, i) => g.wrmsrOk(m('CRASH_P0') + i, v));
    values.forEach((v, i) => expect(g.rdmsrOk(m('CRASH_P0') + i)).toBe(v));
    expect(g.rdmsrOk(m('CRASH_CTL'))).toBe(NOTIFY | MSG);
  });

  test('CRASH_CTL: any reserved bit 57:0 #GPs; bits 62:58 alone do not crash', () => {
    const g = guest();
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 58n) - 1n }), fc.bigInt({ min: 0n, max: 63n }), (rsvd, high) => {
        expect(g.wrmsr(m('CRASH_CTL'), rsvd | (high << 58n))).toEqual(GP);
      }),
    );
    for (const bit of [0n, 1n, 31n, 57n]) expect(g.wrmsr(m('CRASH_CTL'), NOTIFY | (1n << bit))).toEqual(GP);
    for (const bits of [0n, 1n << 58n, 1n << 61n, MSG]) expect(g.wrmsr(m('CRASH_CTL'), bits)).toEqual(OK);
    expect(g.model.crash).toBeUndefined();
    expect(g.machine.shutdown).toBeNull();
  });

  test('CRASH_CTL with CrashNotify records the crash with P0-P4 and shuts down with reason 3', () => {
    const g = guest();
    for (let i = 0; i < 5; i++) g.wrmsrOk(m('CRASH_P0') + i, BigInt(0x100 + i));
    g.advanceTo(5000n);
    const ctl = NOTIFY | MSG;
    g.wrmsrOk(m('CRASH_CTL'), ctl);
    expect(g.model.crash).toEqual({ ctl, params: [0x100n, 0x101n, 0x102n, 0x103n, 0x104n], time: 5000n });
    expect(g.machine.shutdown).toEqual({ reason: 3, time: 5000n });
  });
});

describe('APIC and SynIC MSRs', () => {
  test('TPR keeps 7:0 and #GPs on 63:8; EOI #GPs on 63:32 and ends the highest in-service vector (TLFS virtual-interrupts.md)', () => {
    const g = guest();
    g.wrmsrOk(m('TPR'), 0xffn);
    expect(g.rdmsrOk(m('TPR'))).toBe(0xffn);
    fc.assert(fc.property(fc.bigInt({ min: 0x100n, max: U64 }), (v) => expect(g.wrmsr(m('TPR'), v)).toEqual(GP)));
    expect(g.rdmsrOk(m('TPR'))).toBe(0xffn);
    const vp = g.model.vps[0]!;
    g.model.raiseInterrupt(vp, 0x50);
    expect(g.model.acceptInterrupt(vp)).toBe(0x50);
    expect(vp.isr[0x50]).toBe(1);
    expect(g.wrmsr(m('EOI'), 1n << 32n)).toEqual(GP);
    expect(vp.isr[0x50]).toBe(1);
    g.wrmsrOk(m('EOI'), 0n);
    expect(vp.isr[0x50]).toBe(0);
  });

  test('ICR reads back and sends the IPI; VP_ASSIST_PAGE and SCONTROL read back; SVERSION is 1; EOM reads 0', () => {
    const g = guest();
    const icr = 0x40n | (1n << 14n) | (1n << 18n); // fixed, assert, self
    g.wrmsrOk(m('ICR'), icr);
    expect(g.rdmsrOk(m('ICR'))).toBe(icr);
    expect(g.model.vps[0]!.hw.peekInterrupt()).toBe(0x40);
    g.wrmsrOk(m('VP_ASSIST_PAGE'), 0x33001n);
    expect(g.rdmsrOk(m('VP_ASSIST_PAGE'))).toBe(0x33001n);
    g.wrmsrOk(m('SCONTROL'), 1n);
    expect(g.rdmsrOk(m('SCONTROL'))).toBe(1n);
    expect(g.rdmsrOk(m('SVERSION'))).toBe(1n);
    g.wrmsrOk(m('EOM'), 0xdeadn);
    expect(g.rdmsrOk(m('EOM'))).toBe(0n);
  });

  test('SINTx reset 0x10000; vector < 16 #GPs (TLFS), masked vector < 16 allowed with compat kvm (V10); SIMP/SIEFP enable an overlay', () => {
    const g = guest();
    for (let s = 0; s < 16; s++) expect(g.rdmsrOk(m('SINT0') + s)).toBe(0x10000n);
    expect(g.wrmsr(m('SINT0') + 3, 0x0fn)).toEqual(GP);
    expect(g.wrmsr(m('SINT0') + 3, 0x10000n)).toEqual(GP);
    g.wrmsrOk(m('SINT0') + 3, 0x20030n);
    expect(g.rdmsrOk(m('SINT0') + 3)).toBe(0x20030n);
    const kvm = guest({ compat: 'kvm' });
    expect(kvm.wrmsr(m('SINT0'), 0x10000n)).toEqual(OK);
    expect(kvm.wrmsr(m('SINT0'), 0x05n)).toEqual(GP);
    g.wrmsrOk(m('SIMP'), (0x50n << 12n) | 1n);
    g.wrmsrOk(m('SIEFP'), (0x51n << 12n) | 1n);
    expect([isForeign(g, 0x50), isForeign(g, 0x51)]).toEqual([true, true]);
    g.wrmsrOk(m('SIMP'), 0x50n << 12n);
    expect(isForeign(g, 0x50)).toBe(false);
  });
});

test('VP_RUNTIME counts only the time a VP runs (TLFS vp-properties.md, 100 ns units)', () => {
  const g = new ViridianTestGuest({ vcpus: 3, online: [0, 1] });
  g.advanceTo(1000n);
  expect(g.model.halt(1, true)).toBe('halted');
  g.advanceTo(1_000_000n);
  g.model.raiseInterrupt(g.model.vps[1]!, 0x40);
  expect(g.rdmsrOk(m('VP_RUNTIME'), 0)).toBe(10_000n);
  expect(g.rdmsrOk(m('VP_RUNTIME'), 1)).toBe(10n);
  g.advanceTo(2_000_050n);
  expect(g.rdmsrOk(m('VP_RUNTIME'), 0)).toBe(20_000n);
  expect(g.rdmsrOk(m('VP_RUNTIME'), 1)).toBe(10_010n);
  g.model.startVp(g.model.vps[2]!, { rip: 0n, rsp: 0n, cr3: 0n, via: 'SIPI' });
  expect(g.rdmsrOk(m('VP_RUNTIME'), 2)).toBe(0n);
  g.advanceTo(2_000_350n);
  expect(g.rdmsrOk(m('VP_RUNTIME'), 2)).toBe(3n);
});

describe('KVM hyperv_features MSR stages (hyperv-tlfs.md 10.3; cumulative CPUID bits from none)', () => {
  type Bit = readonly ['eax' | 'edx', number] | null;
  const R = undefined; // RDMSR
  // [stage, CPUID bit added at this stage, MSR, value written or R, expectation]
  const STAGES: readonly (readonly [number, Bit, Short<keyof typeof MSR>, bigint | undefined, 'GP' | 'OK' | 'reset'])[] = [
    [0, null, 'GUEST_OS_ID', R, 'GP'],
    [1, null, 'HYPERCALL', R, 'GP'],
    [2, ['eax', 5], 'GUEST_OS_ID', TEST_GUEST_OS_ID, 'OK'],
    [3, null, 'GUEST_OS_ID', R, 'OK'],
    [4, null, 'HYPERCALL', R, 'OK'],
    [5, null, 'VP_RUNTIME', R, 'GP'],
    [6, ['eax', 0], 'VP_RUNTIME', R, 'OK'],
    [7, null, 'VP_RUNTIME', 1n, 'GP'],
    [8, null, 'TIME_REF_COUNT', R, 'GP'],
    [9, ['eax', 1], 'TIME_REF_COUNT', R, 'OK'],
    [10, null, 'TIME_REF_COUNT', 1n, 'GP'],
    [11, null, 'VP_INDEX', R, 'GP'],
    [12, ['eax', 6], 'VP_INDEX', R, 'OK'],
    [13, null, 'VP_INDEX', 1n, 'GP'],
    [14, null, 'RESET', R, 'GP'],
    [15, ['eax', 7], 'RESET', R, 'OK'],
    [16, null, 'RESET', 1n, 'reset'],
    [17, null, 'REFERENCE_TSC', R, 'GP'],
    [18, ['eax', 9], 'REFERENCE_TSC', R, 'OK'],
    [19, null, 'REFERENCE_TSC', 0n, 'OK'],
    [20, null, 'EOM', R, 'GP'],
    [21, null, 'EOM', R, 'GP'], // KVM enables the SynIC2 capability here; CPUID still lacks EAX.2
    [22, ['eax', 2], 'EOM', R, 'OK'],
    [23, null, 'EOM', 0n, 'OK'],
    [24, null, 'STIMER0_CONFIG', R, 'GP'],
    [25, ['eax', 3], 'STIMER0_CONFIG', R, 'OK'],
    [26, null, 'STIMER0_CONFIG', 0n, 'OK'],
    [27, null, 'STIMER0_CONFIG', 1n << 12n, 'GP'], // DirectMode without EDX.19
    [28, ['edx', 19], 'STIMER0_CONFIG', 1n << 12n, 'OK'],
    [29, null, 'EOI', R, 'GP'],
    [30, ['eax', 4], 'EOI', 1n, 'OK'],
    [31, null, 'TSC_FREQUENCY', R, 'GP'],
    [32, ['eax', 11], 'TSC_FREQUENCY', R, 'OK'],
    [33, null, 'TSC_FREQUENCY', 1n, 'GP'],
    // Stages 34-37 (reenlightenment) and 41-47 (SynDbg, TSC invariant) concern MSRs the model does not implement.
    [38, null, 'CRASH_P0', R, 'GP'],
    [39, ['edx', 10], 'CRASH_P0', R, 'OK'],
    [40, null, 'CRASH_P0', 1n, 'OK'],
  ];
  const base: ViridianProfile = { ...VIRIDIAN_PROFILES.minimal, privileges: { eax: 0, ebx: 0 }, featuresEdx: 0, recommendations: 0 };
  const bits = { eax: 0, edx: 0 };
  const cases = STAGES.map(([stage, add, name, write, want]) => {
    if (add) bits[add[0]] |= 1 << add[1];
    return [stage, write === undefined ? 'RD' : `WR 0x${write.toString(16)}`, name, want, { msr: m(name), write, p: profile(base, bits.eax, bits.edx) }] as const;
  });
  test.each(cases)('stage %i: %s %s -> %s', (_n, _op, _name, want, { msr, write, p }) => {
    const g = bare(p);
    const outcome = write === undefined ? g.rdmsr(msr) : g.wrmsr(msr, write);
    expect(outcome.kind).toBe(want === 'GP' ? 'fault' : 'ok');
    expect(g.machine.shutdown?.reason).toBe(want === 'reset' ? 1 : undefined);
  });
});
