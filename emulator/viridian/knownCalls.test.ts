import fc from 'fast-check';
import { HVCALL } from './abi/hypercalls';
import { hv_notify_long_spin_wait } from './abi/layouts';
import { KNOWN_CALL_CODES, knowsCall } from './knownCalls';
import { VIRIDIAN_PROFILES, VIRIDIAN_QUIRKS, type ViridianProfile } from './profiles';
import { CALLS_BY_CODE } from './hypercalls/table';
import { ViridianTestGuest } from './viridianTestkit';

/** Every privilege, every recommendation: the access check refuses nothing the profile could grant. */
const GENEROUS: ViridianProfile = { ...VIRIDIAN_PROFILES.modern, privileges: { eax: VIRIDIAN_PROFILES.modern.privileges.eax, ebx: 0xffff_ffff }, recommendations: 0xffff_ffff };
const CODES = [...CALLS_BY_CODE.keys()];
const SPIN = HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT;
const NO_PAGE = 0x20_0000n; // inside the GPA space, no RAM behind it (viridianTestkit: 256 pages of RAM)

describe('quirk knownCalls (docs/decisions.md V33)', () => {
  test('the compat columns: TLFS knows every code, KVM and Xen their dispatchers\' cases', () => {
    expect(VIRIDIAN_QUIRKS.tlfs.knownCalls).toBe('all');
    expect(VIRIDIAN_QUIRKS.kvm.knownCalls).toBe('kvm');
    expect(VIRIDIAN_QUIRKS.xen.knownCalls).toBe('xen');
    for (const code of KNOWN_CALL_CODES.xen) expect(KNOWN_CALL_CODES.kvm.has(code)).toBe(true);
    for (const set of Object.values(KNOWN_CALL_CODES)) for (const code of set) expect(CALLS_BY_CODE.has(code)).toBe(true);
    expect(knowsCall('kvm', HVCALL.HVCALL_START_VP)).toBe(false);
    expect(knowsCall('kvm', HVCALL.HVCALL_GET_VP_ID_FROM_APIC_ID)).toBe(false);
    expect(knowsCall('xen', HVCALL.HVCALL_POST_MESSAGE)).toBe(false);
    expect(knowsCall('xen', HVCALL.HV_EXT_CALL_QUERY_CAPABILITIES)).toBe(false);
  });

  test.each(['kvm', 'xen'] as const)('compat %s: a code its dispatcher lacks is INVALID_HYPERCALL_CODE whatever the fast, rep and varhead fields and the GPAs, even where every privilege is granted', (compat) => {
    const g = new ViridianTestGuest({ viridian: { compat, profile: GENEROUS } });
    const unknown = CODES.filter((c) => !KNOWN_CALL_CODES[compat].has(c));
    expect(unknown.length).toBeGreaterThan(40);
    fc.assert(
      fc.property(
        fc.constantFrom(...unknown),
        fc.boolean(),
        fc.integer({ min: 0, max: 4095 }),
        fc.integer({ min: 0, max: 4095 }),
        fc.integer({ min: 0, max: 1023 }),
        fc.constantFrom(NO_PAGE, NO_PAGE + 4n, 1n << 50n, 0n),
        (code, fast, repCount, repStart, varHeadSize, gpa) => {
          expect(g.status({ code, fast, repCount, repStart, varHeadSize, rdx: gpa, r8: gpa })).toBe('HV_STATUS_INVALID_HYPERCALL_CODE');
        },
      ),
      { numRuns: 200 },
    );
  });

  test('compat kvm: reserved input bits still come first (HV_STATUS_INVALID_HYPERCALL_INPUT), as KVM checks them before its code switch', () => {
    const g = new ViridianTestGuest({ viridian: { compat: 'kvm' } });
    expect(g.status({ code: HVCALL.HVCALL_START_VP, nested: true })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
    expect(g.status({ code: HVCALL.HVCALL_CREATE_PARTITION, reserved: 1n << 60n })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
  });

  test('an override can give Xen every code back (the quirk columns behind it stay testable)', () => {
    const g = new ViridianTestGuest({ viridian: { compat: 'xen', quirks: { knownCalls: 'all' } } });
    expect(g.status({ code: HVCALL.HVCALL_START_VP, fast: true })).toBe('HV_STATUS_INVALID_PARAMETER');
  });
});

describe('quirk spinWaitInput (docs/decisions.md V33)', () => {
  const forms = [
    { name: 'no page', call: { code: SPIN, rdx: NO_PAGE } },
    { name: 'misaligned', call: { code: SPIN, rdx: 0x3_0004n } },
    { name: 'outside the GPA space', call: { code: SPIN, rdx: 1n << 50n } },
  ];
  const inputValue = [
    { name: 'rep count', call: { code: SPIN, repCount: 1 } },
    { name: 'rep start', call: { code: SPIN, fast: true, repStart: 1 } },
    { name: 'variable header', call: { code: SPIN, fast: true, varHeadSize: 1 } },
  ];

  test('TLFS: the generic checks apply (intercept, INVALID_ALIGNMENT, INVALID_HYPERCALL_INPUT)', () => {
    const g = new ViridianTestGuest();
    expect(g.call(forms[0]!.call).kind).toBe('intercept');
    expect(g.status(forms[1]!.call)).toBe('HV_STATUS_INVALID_ALIGNMENT');
    for (const f of inputValue) expect([f.name, g.status(f.call)]).toEqual([f.name, 'HV_STATUS_INVALID_HYPERCALL_INPUT']);
  });

  test('compat kvm: no parameter is read (SUCCESS for any GPA), the input value is checked', () => {
    const g = new ViridianTestGuest({ viridian: { compat: 'kvm' } });
    for (const f of forms) expect([f.name, g.status(f.call)]).toEqual([f.name, 'HV_STATUS_SUCCESS']);
    for (const f of inputValue) expect([f.name, g.status(f.call)]).toEqual([f.name, 'HV_STATUS_INVALID_HYPERCALL_INPUT']);
    expect(g.model.vps[0]!.spinWaitNotifications).toBe(forms.length);
  });

  test('compat xen: nothing is checked; every form succeeds with no reps completed and is counted', () => {
    const g = new ViridianTestGuest({ viridian: { compat: 'xen' } });
    for (const f of [...forms, ...inputValue]) expect([f.name, g.call(f.call)]).toEqual([f.name, expect.objectContaining({ kind: 'result', status: 0, repsCompleted: 0 })]);
    expect(g.status({ code: SPIN, input: ViridianTestGuest.struct(hv_notify_long_spin_wait, { spin_count: 1 }) })).toBe('HV_STATUS_SUCCESS');
    expect(g.model.vps[0]!.spinWaitNotifications).toBe(forms.length + inputValue.length + 1);
  });
});
