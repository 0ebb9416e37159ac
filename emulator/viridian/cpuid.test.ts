import fc from 'fast-check';
import { HV_FEATURES_EDX as EDX, HV_PRIVILEGES_EAX as EAX, HV_PRIVILEGES_EBX as EBX, HV_RECOMMENDATIONS_EAX as REC } from './abi/cpuid';
import { HV_X64_MSR as MSR } from './abi/msrs';
import { cpuidLeaf } from './cpuidLeaves';
import { isViridianProfileName, VIRIDIAN_PROFILE_NAMES, VIRIDIAN_PROFILES, type ViridianProfile, type ViridianProfileName } from './profiles';
import { TEST_GUEST_OS_ID, ViridianTestGuest } from './viridianTestkit';

const ZERO = { eax: 0, ebx: 0, ecx: 0, edx: 0 };
const ascii = (...regs: number[]) => String.fromCharCode(...regs.flatMap((r) => [r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, r >>> 24]));
const guest = (profile: ViridianProfileName | ViridianProfile, hypercalls = false) => new ViridianTestGuest({ hypercalls, viridian: { profile } });

/** What each profile's description promises, spelled out bit by bit (TLFS feature-discovery.md). */
const EXPECTED: Readonly<Record<ViridianProfileName, { maxLeaf: number; l2: typeof ZERO; l3: typeof ZERO; l4: typeof ZERO; l5: typeof ZERO }>> = {
  minimal: {
    maxLeaf: 0x4000_0005,
    l2: ZERO,
    l3: { eax: 0x64, ebx: 0x30, ecx: 0, edx: 0 }, // SynIC, hypercall MSRs, VP index; PostMessages, SignalEvents
    l4: { eax: 0, ebx: 0xffff_ffff, ecx: 0, edx: 0 },
    l5: ZERO,
  },
  ws2008: {
    maxLeaf: 0x4000_0005,
    l2: { eax: 6001, ebx: 0x0006_0000, ecx: 1, edx: 0 },
    l3: { eax: 0x7f, ebx: 0x30, ecx: 0, edx: 0 },
    l4: { eax: 0xc, ebx: 0xfff, ecx: 0, edx: 0 }, // remote flush, APIC MSRs
    l5: { eax: 64, ebx: 64, ecx: 0, edx: 0 },
  },
  modern: {
    maxLeaf: 0x4000_0006,
    l2: { eax: 20348, ebx: 0x000a_0000, ecx: 0, edx: 0 },
    l3: { eax: 0xaff, ebx: 0x30_0830, ecx: 0, edx: 0xa_0512 },
    l4: { eax: 0xc2c, ebx: 0xfff, ecx: 0, edx: 0 },
    l5: { eax: 1024, ebx: 1024, ecx: 0, edx: 0 },
  },
};

describe.each(['minimal', 'ws2008', 'modern'] as const)('CPUID leaves of profile %s (TLFS feature-discovery.md)', (name) => {
  const want = EXPECTED[name];

  test('leaf 1 ECX bit 31: a hypervisor is present', () => {
    expect((guest(name).model.cpuid(0, 1).ecx & 0x8000_0000) >>> 0).toBe(0x8000_0000);
  });

  test('0x40000000: highest leaf (at least 0x40000005) and vendor "Microsoft Hv"; 0x40000001: "Hv#1"', () => {
    const g = guest(name);
    const l0 = g.model.cpuid(0, 0x4000_0000);
    expect(l0.eax).toBe(want.maxLeaf);
    expect(l0.eax).toBeGreaterThanOrEqual(0x4000_0005);
    expect(ascii(l0.ebx, l0.ecx, l0.edx)).toBe('Microsoft Hv');
    const l1 = g.model.cpuid(0, 0x4000_0001);
    expect(ascii(l1.eax)).toBe('Hv#1');
    expect(l1).toEqual({ eax: 0x3123_7648, ebx: 0, ecx: 0, edx: 0 });
  });

  test('0x40000002 is zero until the guest OS id is written, and again after it is cleared (TLFS v6.0b 2.4.3)', () => {
    const g = guest(name);
    expect(g.model.cpuid(0, 0x4000_0002)).toEqual(ZERO);
    g.wrmsrOk(MSR.HV_X64_MSR_GUEST_OS_ID, TEST_GUEST_OS_ID);
    expect(g.model.cpuid(0, 0x4000_0002)).toEqual(want.l2);
    g.wrmsrOk(MSR.HV_X64_MSR_GUEST_OS_ID, 0n);
    expect(g.model.cpuid(0, 0x4000_0002)).toEqual(ZERO);
  });

  test('0x40000003 privileges and features, 0x40000004 recommendations and spin retries, 0x40000005 limits; the same on every VP', () => {
    const g = new ViridianTestGuest({ vcpus: 3, viridian: { profile: name } });
    for (const vp of [0, 1, 2]) {
      expect(g.model.cpuid(vp, 0x4000_0003)).toEqual(want.l3);
      expect(g.model.cpuid(vp, 0x4000_0004)).toEqual(want.l4);
      expect(g.model.cpuid(vp, 0x4000_0005)).toEqual(want.l5);
    }
    const p = VIRIDIAN_PROFILES[name];
    expect(want.l3).toEqual({ eax: p.privileges.eax, ebx: p.privileges.ebx, ecx: 0, edx: p.featuresEdx });
  });

  test('0x40000006 (hardware features in use) and every leaf above the highest one read as zeros', () => {
    const g = guest(name);
    expect(g.model.cpuid(0, 0x4000_0006)).toEqual(ZERO);
    fc.assert(
      fc.property(fc.integer({ min: want.maxLeaf + 1, max: 0x4001_0000 }), (leaf) => {
        expect(g.model.cpuid(0, leaf)).toEqual(ZERO);
      }),
      { numRuns: 200 },
    );
  });
});

describe('0x40000002 encoding (TLFS feature-discovery.md "Hypervisor System Identity")', () => {
  test('EBX = major 31:16 | minor 15:0, EDX = service branch 31:24 | service number 23:0, as unsigned values', () => {
    const version = { build: 0xfedc_ba98, major: 0xffff, minor: 0x8001, servicePack: 7, serviceBranch: 0x92, serviceNumber: 0x34_5678 };
    const p: ViridianProfile = { ...VIRIDIAN_PROFILES.modern, version };
    expect(cpuidLeaf(p, 0x4000_0002, true, 2_000_000_000n)).toEqual({ eax: 0xfedc_ba98, ebx: 0xffff_8001, ecx: 7, edx: 0x9234_5678 });
    expect(cpuidLeaf(p, 0x4000_0002, false, 2_000_000_000n)).toEqual(ZERO);
  });

  test('leaves 0x40000003-5 follow a custom profile, and a larger maxLeaf still answers 0x40000006 with zeros', () => {
    const p: ViridianProfile = { ...VIRIDIAN_PROFILES.minimal, maxLeaf: 0x4000_000a, privileges: { eax: 0x7fff, ebx: 0x10_0030 }, featuresEdx: 0x1234, recommendations: 0x40c, spinRetries: 17, limits: { maxVps: 8, maxLps: 4 } };
    const g = guest(p);
    expect(g.model.cpuid(0, 0x4000_0000).eax).toBe(0x4000_000a);
    expect(g.model.cpuid(0, 0x4000_0003)).toEqual({ eax: 0x7fff, ebx: 0x10_0030, ecx: 0, edx: 0x1234 });
    expect(g.model.cpuid(0, 0x4000_0004)).toEqual({ eax: 0x40c, ebx: 17, ecx: 0, edx: 0 });
    expect(g.model.cpuid(0, 0x4000_0005)).toEqual({ eax: 8, ebx: 4, ecx: 0, edx: 0 });
    for (const leaf of [0x4000_0006, 0x4000_0007, 0x4000_000a]) expect(g.model.cpuid(0, leaf)).toEqual(ZERO);
  });
});

describe('profile sanity ("Requirements for Implementing the Microsoft Hypervisor Interface"; hyperv-tlfs.md 9)', () => {
  const all = VIRIDIAN_PROFILE_NAMES.map((n) => [n, VIRIDIAN_PROFILES[n]] as const);

  test('the profile names list every profile once, default first', () => {
    expect([...VIRIDIAN_PROFILE_NAMES].sort()).toEqual(Object.keys(VIRIDIAN_PROFILES).sort());
    expect(VIRIDIAN_PROFILE_NAMES[0]).toBe('modern');
    for (const n of VIRIDIAN_PROFILE_NAMES) expect(isViridianProfileName(n) && VIRIDIAN_PROFILES[n].name === n).toBe(true);
    expect(isViridianProfileName('kvm')).toBe(false);
  });

  test.each(all)('%s grants AccessHypercallMsrs and AccessVpIndex (EAX bits 5, 6) and the MSRs behind them work', (_n, p) => {
    expect(p.privileges.eax & (EAX.HV_MSR_HYPERCALL_AVAILABLE | EAX.HV_MSR_VP_INDEX_AVAILABLE)).toBe(0x60);
    const g = guest(p, true);
    expect(g.rdmsrOk(MSR.HV_X64_MSR_VP_INDEX)).toBe(0n);
    expect(g.model.hypercallsEnabled).toBe(true);
  });

  test.each(all)('%s gives no privilege a non-root guest must not have (EBX bits 0, 1, 2, 3, 6, 8, 12, 13)', (_n, p) => {
    const forbidden = EBX.HV_CREATE_PARTITIONS | EBX.HV_ACCESS_PARTITION_ID | EBX.HV_ACCESS_MEMORY_POOL | EBX.HV_ADJUST_MESSAGE_BUFFERS | EBX.HV_CREATE_PORT | EBX.HV_ACCESS_STATS | EBX.HV_CPU_MANAGEMENT | (1 << 13);
    expect(p.privileges.ebx & forbidden).toBe(0);
    expect(p.privileges.ebx & EBX.HV_ISOLATION).toBe(0);
    expect(p.recommendations & REC.HV_X64_HYPERV_NESTED).toBe(0);
  });

  test.each(all)('%s: every CPUID word fits in 32 bits and the debug facility is offered only as a whole (EBX.11, EDX.1, channel)', (_n, p) => {
    for (const word of [p.privileges.eax, p.privileges.ebx, p.featuresEdx, p.recommendations, p.spinRetries, p.limits.maxVps, p.limits.maxLps]) {
      expect(Number.isInteger(word) && word >= 0 && word <= 0xffff_ffff).toBe(true);
    }
    const debugging = [(p.privileges.ebx & EBX.HV_DEBUGGING) !== 0, (p.featuresEdx & EDX.HV_X64_GUEST_DEBUGGING_AVAILABLE) !== 0, p.debugChannel];
    expect(new Set(debugging).size).toBe(1);
    // Frequency MSRs: EDX bit 8 advertises what EAX bit 11 grants.
    expect((p.featuresEdx & EDX.HV_FEATURE_FREQUENCY_MSRS_AVAILABLE) !== 0).toBe((p.privileges.eax & EAX.HV_ACCESS_FREQUENCY_MSRS) !== 0);
  });

  test('modern recommends Ex processor masks and cluster IPIs, offers XMM fast input, and reports a VP limit (no -1 while it recommends the non-Ex flushes, as the Requirements document demands)', () => {
    const m = VIRIDIAN_PROFILES.modern;
    const want = REC.HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED | REC.HV_X64_CLUSTER_IPI_RECOMMENDED | REC.HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED;
    expect(m.recommendations & want).toBe(want);
    expect(m.featuresEdx & EDX.HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE).toBe(EDX.HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE);
    expect(m.limits.maxVps).not.toBe(0xffff_ffff);
    expect(m.recommendations & REC.HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED).not.toBe(0);
  });

  test('ws2008 predates the reference TSC page, frequency and crash MSRs, cluster IPIs, Ex masks and XMM input; it caps at 64 VPs', () => {
    const w = VIRIDIAN_PROFILES.ws2008;
    expect(w.privileges.eax & (EAX.HV_MSR_REFERENCE_TSC_AVAILABLE | EAX.HV_ACCESS_FREQUENCY_MSRS | EAX.HV_MSR_RESET_AVAILABLE)).toBe(0);
    expect(w.featuresEdx).toBe(0);
    expect(w.recommendations & (REC.HV_X64_CLUSTER_IPI_RECOMMENDED | REC.HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED)).toBe(0);
    expect(w.privileges.ebx & (EBX.HV_DEBUGGING | EBX.HV_ENABLE_EXTENDED_HYPERCALLS | (1 << 21))).toBe(0);
    expect(w.limits.maxVps).toBe(64);
    expect(w.version).toMatchObject({ major: 6, minor: 0, build: 6001 });
  });
});
