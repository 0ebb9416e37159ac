import fc from 'fast-check';
import { HV_CALL_INPUT, HV_DEBUG } from '../abi/calls';
import { HV_FEATURES_EDX as EDX, HV_PRIVILEGES_EBX as EBX, HV_RECOMMENDATIONS_EAX as REC } from '../abi/cpuid';
import { HVCALL } from '../abi/hypercalls';
import { HV_X64_MSR as MSR } from '../abi/msrs';
import { hv_notify_long_spin_wait, hv_post_debug_data, hv_post_debug_data_output, hv_reset_debug_session, hv_retrieve_debug_data, hv_retrieve_debug_data_output, hv_start_virtual_processor } from '../abi/layouts';
import type { ViridianOptions } from '../config';
import { VIRIDIAN_PROFILES, type ViridianProfile, type ViridianProfileName } from '../profiles';
import { ViridianTestGuest, type TestCall } from '../viridianTestkit';
import { NOT_MODELLED } from './notModelled';

const S = ViridianTestGuest.struct;
const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const modernWith = (change: Partial<ViridianProfile>): ViridianProfile => ({ ...VIRIDIAN_PROFILES.modern, ...change });
/** The test guest, with statuses reported without the HV_STATUS_ prefix. */
class Guest extends ViridianTestGuest {
  st(call: TestCall): string {
    return this.status(call).replace(/^HV_STATUS_/, '');
  }
}
const guest = (viridian: ViridianOptions = {}, extra: { vcpus?: number; online?: number[] } = {}) => new Guest({ ...extra, viridian });

describe('guest debugging (TLFS v2.0A 20.3 "Return Values")', () => {
  const post = (count: number, options = 0, data = bytes(count)) => ({ code: HVCALL.HVCALL_POST_DEBUG_DATA, input: cat(S(hv_post_debug_data, { count, options }), data) });
  const retrieve = (count: number, options = 0) => ({ code: HVCALL.HVCALL_RETRIEVE_DEBUG_DATA, input: S(hv_retrieve_debug_data, { count, options, timeout: 10_000n }) });
  const reset = (options: number, fast = false) => ({ code: HVCALL.HVCALL_RESET_DEBUG_SESSION, fast, input: S(hv_reset_debug_session, { options }) });
  const calls = [post(4), retrieve(4), reset(3)];

  test('ACCESS_DENIED without the Debugging privilege (ws2008 lacks EBX.11)', () => {
    const g = guest({ profile: 'ws2008' });
    for (const c of calls) expect(g.st(c)).toBe('ACCESS_DENIED');
  });

  test('FEATURE_UNAVAILABLE without CPUID 0x40000003 EDX bit 1; OPERATION_DENIED without a debug channel id (20.1.1)', () => {
    const noFeature = guest({ profile: modernWith({ featuresEdx: VIRIDIAN_PROFILES.modern.featuresEdx & ~EDX.HV_X64_GUEST_DEBUGGING_AVAILABLE }) });
    const noChannel = guest({ profile: modernWith({ debugChannel: false }) });
    for (const c of calls) {
      expect(noFeature.st(c)).toBe('FEATURE_UNAVAILABLE');
      expect(noChannel.st(c)).toBe('OPERATION_DENIED');
    }
  });

  test('HvPostDebugData: INVALID_PARAMETER for Count > 4088, an unknown option, or Data crossing a page', () => {
    const g = guest();
    expect(g.st(post(HV_DEBUG.HV_DEBUG_MAXIMUM_DATA_SIZE + 1, 0, bytes(16)))).toBe('INVALID_PARAMETER');
    for (const options of [2, 4, 0x8000_0000]) expect(g.st(post(4, options))).toBe('INVALID_PARAMETER');
    const at = (count: number) => ({ ...post(count), input: cat(new Uint8Array(0x100), post(count).input), rdx: g.inputGpa + 0x100n });
    expect(g.st(at(4096 - 0x108 + 1))).toBe('INVALID_PARAMETER');
    expect(g.model.debug.pendingOutgoing).toBe(0);
    expect(g.st(at(4096 - 0x108))).toBe('SUCCESS');
    expect(g.model.debug.hostReceive()).toEqual(bytes(4096 - 0x108));
  });

  test('HvPostDebugData: posts whole blocks in order and reports PendingCount; Count 0 probes; INSUFFICIENT_BUFFERS posts nothing', () => {
    const g = guest();
    const pending = () => g.get(hv_post_debug_data_output, g.outputGpa).pending_count;
    expect(g.st(post(100, HV_DEBUG.HV_DEBUG_POST_LOOP))).toBe('SUCCESS');
    expect(pending()).toBe(100);
    expect(g.st(post(50, 0, bytes(50, 3)))).toBe('SUCCESS');
    expect(pending()).toBe(150);
    expect(g.st(post(0))).toBe('SUCCESS');
    expect(pending()).toBe(150);
    expect(g.model.debug.hostReceive()).toEqual(cat(bytes(100), bytes(50, 3)));
    expect(g.st(post(4088))).toBe('SUCCESS');
    expect(g.st(post(1))).toBe('INSUFFICIENT_BUFFERS');
    expect(g.model.debug.pendingOutgoing).toBe(4088);
    expect(g.model.debug.hostReceive().length).toBe(4088);
    expect(g.st(post(1))).toBe('SUCCESS');
  });

  test('HvRetrieveDebugData: INVALID_PARAMETER for Count > 4088, unknown options, or output Data crossing a page', () => {
    const g = guest();
    g.model.debug.hostSend(bytes(8));
    expect(g.st(retrieve(4089))).toBe('INVALID_PARAMETER');
    for (const options of [4, 0x100]) expect(g.st(retrieve(4, options))).toBe('INVALID_PARAMETER');
    expect(g.st({ ...retrieve(4096 - 0x108 + 1), r8: g.outputGpa + 0x100n })).toBe('INVALID_PARAMETER');
    expect(g.model.debug.pendingIncoming).toBe(8);
    expect(g.st({ ...retrieve(4096 - 0x108), r8: g.outputGpa + 0x100n })).toBe('SUCCESS');
    expect(g.get(hv_retrieve_debug_data_output, g.outputGpa + 0x100n)).toEqual({ retrieved_count: 8, remaining_count: 0 });
  });

  test('HvRetrieveDebugData: NO_DATA, INACTIVE with TEST_ACTIVITY, RetrievedCount / RemainingCount and the data (20.1.3, 20.1.5)', () => {
    const g = guest();
    const RETRIEVE_TEST = HV_DEBUG.HV_DEBUG_RETRIEVE_TEST_ACTIVITY;
    const out = () => g.get(hv_retrieve_debug_data_output, g.outputGpa);
    expect(g.st(retrieve(4088, HV_DEBUG.HV_DEBUG_RETRIEVE_LOOP))).toBe('NO_DATA');
    expect(g.st(retrieve(4088, RETRIEVE_TEST))).toBe('INACTIVE');
    g.model.debug.hostSend(bytes(10, 5));
    expect(g.st(retrieve(0))).toBe('SUCCESS'); // probe: data present, none returned
    expect(out()).toEqual({ retrieved_count: 0, remaining_count: 10 });
    expect(g.st(retrieve(4, RETRIEVE_TEST))).toBe('INACTIVE'); // the probe took the activity snapshot
    g.model.debug.hostSend(bytes(2, 100));
    expect(g.st(retrieve(4, RETRIEVE_TEST))).toBe('SUCCESS');
    expect(out()).toEqual({ retrieved_count: 4, remaining_count: 8 });
    expect(g.read(g.outputGpa + 8n, 4)).toEqual(bytes(10, 5).subarray(0, 4));
    expect(g.st(retrieve(4088))).toBe('SUCCESS');
    expect(out()).toEqual({ retrieved_count: 8, remaining_count: 0 });
    expect(g.read(g.outputGpa + 8n, 8)).toEqual(cat(bytes(10, 5).subarray(4), bytes(2, 100)));
    expect(g.st(retrieve(4088))).toBe('NO_DATA');
    g.model.debug.hostSend(bytes(3));
    expect(g.st(reset(HV_DEBUG.HV_DEBUG_PURGE_INCOMING_DATA))).toBe('SUCCESS');
    expect(g.st(retrieve(4088))).toBe('NO_DATA'); // an attempt to retrieve still takes the activity snapshot
    expect(g.st(retrieve(4088, RETRIEVE_TEST))).toBe('INACTIVE');
    expect(g.model.debug.hostSend(bytes(5000))).toBe(4088); // excess bytes are discarded
    expect(g.st(retrieve(4088))).toBe('SUCCESS');
    expect(out()).toEqual({ retrieved_count: 4088, remaining_count: 0 });
  });

  test('HvResetDebugSession: INVALID_PARAMETER for no or unknown flags, NO_DATA when nothing was purged, memory and fast forms', () => {
    const g = guest();
    for (const options of [0, 4, 7]) expect(g.st(reset(options))).toBe('INVALID_PARAMETER');
    for (const options of [1, 2, 3]) expect(g.st(reset(options, true))).toBe('NO_DATA');
    g.model.debug.hostSend(bytes(3));
    expect(g.st(post(5))).toBe('SUCCESS');
    expect(g.st(reset(HV_DEBUG.HV_DEBUG_PURGE_OUTGOING_DATA, true))).toBe('SUCCESS');
    expect([g.model.debug.pendingOutgoing, g.model.debug.pendingIncoming]).toEqual([0, 3]);
    expect(g.st(reset(HV_DEBUG.HV_DEBUG_PURGE_OUTGOING_DATA))).toBe('NO_DATA');
    expect(g.st(reset(3))).toBe('SUCCESS');
    expect(g.st(retrieve(4088))).toBe('NO_DATA');
  });

  test('Post and Retrieve have no fast form: INVALID_HYPERCALL_INPUT (TLFS compat)', () => {
    const g = guest();
    expect(g.st({ ...post(0), fast: true })).toBe('INVALID_HYPERCALL_INPUT');
    expect(g.st({ ...retrieve(0), fast: true })).toBe('INVALID_HYPERCALL_INPUT');
  });
});

describe('HvCallStartVirtualProcessor (TLFS hypercalls/HvCallStartVirtualProcessor.md)', () => {
  const RIP = 0xffff_8000_0010_0000n;
  const start = (f: { vp?: number; partition?: bigint; vtl?: number; rip?: bigint; rsp?: bigint; cr3?: bigint } = {}) => {
    const input = new Uint8Array(hv_start_virtual_processor.size);
    input.set(S(hv_start_virtual_processor, { partition_id: f.partition ?? HV_CALL_INPUT.HV_PARTITION_ID_SELF, vp_index: f.vp ?? 1, target_vtl: f.vtl ?? 0 }));
    const view = new DataView(input.buffer);
    view.setBigUint64(16, f.rip ?? RIP, true); // Rip
    view.setBigUint64(24, f.rsp ?? 0x7000n, true); // Rsp
    view.setBigUint64(16 + 200, f.cr3 ?? 0x5_3123n, true); // Cr3 after Rip..Rflags, 8 segments, 2 tables, Efer, Cr0
    return { code: HVCALL.HVCALL_START_VP, input };
  };
  const twoVps = (profile: ViridianProfileName = 'modern') => guest({ profile }, { vcpus: 3, online: [0] });

  test('starts a VP that has not started with RIP, RSP and CR3; it then runs', () => {
    const g = twoVps();
    expect(g.st(start())).toBe('SUCCESS');
    const vp = g.model.vps[1]!;
    expect(vp.run).toBe('running');
    expect(vp.startContext).toEqual({ rip: RIP, rsp: 0x7000n, cr3: 0x5_3123n, via: 'HvCallStartVirtualProcessor' });
    expect(vp.hw.space).toBe(0x5_3000n);
    expect(g.rdmsrOk(MSR.HV_X64_MSR_VP_INDEX, 1)).toBe(1n);
    expect(g.model.vps[2]!.run).toBe('not-started');
  });

  test('error statuses leave the target not started: INVALID_PARTITION_ID, INVALID_VP_INDEX, INVALID_PARAMETER (VTL), INVALID_REGISTER_VALUE', () => {
    const g = twoVps();
    const cases: [Parameters<typeof start>[0], string][] = [
      [{ partition: 0n }, 'INVALID_PARTITION_ID'],
      [{ partition: 1n }, 'INVALID_PARTITION_ID'],
      [{ vp: 3 }, 'INVALID_VP_INDEX'],
      [{ vp: 4095 }, 'INVALID_VP_INDEX'],
      [{ vtl: 1 }, 'INVALID_PARAMETER'],
      [{ rip: 0x0000_8000_0000_0000n }, 'INVALID_REGISTER_VALUE'],
      [{ rip: 0xfff0_0000_0000_0000n }, 'INVALID_REGISTER_VALUE'],
      [{ rsp: 0x1234_5678_9abc_def0n }, 'INVALID_REGISTER_VALUE'],
    ];
    for (const [f, want] of cases) expect([f, g.st(start(f))]).toEqual([f, want]);
    expect(g.model.vps[1]!.run).toBe('not-started');
    expect(g.st(start({ rip: 0x0000_7fff_ffff_f000n }))).toBe('SUCCESS');
  });

  test('INVALID_VP_STATE for a VP that runs or has started; after INIT it can be started again', () => {
    const g = twoVps();
    expect(g.st(start({ vp: 0 }))).toBe('INVALID_VP_STATE');
    expect(g.st(start())).toBe('SUCCESS');
    expect(g.st(start())).toBe('INVALID_VP_STATE');
    expect(g.model.halt(1, true)).toBe('halted');
    expect(g.st(start())).toBe('INVALID_VP_STATE');
    g.model.initVp(g.model.vps[1]!);
    expect(g.st(start({ rip: 0x1000n }))).toBe('SUCCESS');
    expect(g.model.vps[1]!.startContext?.rip).toBe(0x1000n);
  });

  test('ACCESS_DENIED without the StartVirtualProcessor privilege (EBX bit 21): ws2008, minimal', () => {
    for (const p of ['ws2008', 'minimal'] as const) {
      const g = twoVps(p);
      expect(g.st(start())).toBe('ACCESS_DENIED');
      expect(g.model.vps[1]!.run).toBe('not-started');
    }
  });
});

describe('HvExtCallQueryCapabilities (TLFS hypercall-interface.md "Extended Hypercall Interface")', () => {
  const code = HVCALL.HV_EXT_CALL_QUERY_CAPABILITIES;

  test('writes Capabilities = 0 (no extended call beyond the query) and nothing past it', () => {
    const g = guest();
    const out = 0x30000n;
    g.write(out, new Uint8Array(16).fill(0xff));
    expect(g.st({ code, r8: out })).toBe('SUCCESS');
    expect([...g.read(out, 9)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0xff]);
    expect(g.st({ code, r8: out + 4n })).toBe('INVALID_ALIGNMENT');
  });

  test('ACCESS_DENIED without EnableExtendedHypercalls (EBX bit 20), for the whole 0x8001-0x8041 range; 0x8042 is just unknown', () => {
    const noExt = guest({ profile: modernWith({ privileges: { ...VIRIDIAN_PROFILES.modern.privileges, ebx: VIRIDIAN_PROFILES.modern.privileges.ebx & ~EBX.HV_ENABLE_EXTENDED_HYPERCALLS } }) });
    for (const g of [noExt, guest({ profile: 'ws2008' }), guest({ profile: 'minimal' })]) {
      expect(g.st({ code })).toBe('ACCESS_DENIED');
      expect(g.st({ code: 0x8041 })).toBe('ACCESS_DENIED');
      expect(g.st({ code: 0x8042 })).toBe('INVALID_HYPERCALL_CODE');
    }
    expect(guest().st({ code: 0x8041 })).toBe('INVALID_HYPERCALL_CODE');
  });

  test('the fast form: INVALID_HYPERCALL_INPUT (TLFS compat), INVALID_PARAMETER with compat kvm (KVM stage 20)', () => {
    expect(guest().st({ code, fast: true })).toBe('INVALID_HYPERCALL_INPUT');
    expect(guest({ compat: 'kvm' }).st({ code, fast: true })).toBe('INVALID_PARAMETER');
  });
});

describe('HvCallNotifyLongSpinWait (TLFS hypercalls/HvCallNotifyLongSpinWait.md)', () => {
  const notify = (spin_count: number, reserved = 0, fast = true) => ({ code: HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT, fast, input: S(hv_notify_long_spin_wait, { spin_count, reserved }) });

  test('TLFS compat: SUCCESS for any input in every profile (even spin retries 0xFFFFFFFF), counted per VP; time does not move', () => {
    for (const profile of ['minimal', 'ws2008', 'modern'] as const) {
      const g = guest({ profile });
      let n = 0;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 0xffff_ffff }), fc.boolean(), (spin, rsvd, fast) => {
          expect(g.st(notify(spin, rsvd, fast))).toBe('SUCCESS');
          expect(g.model.vps[0]!.spinWaitNotifications).toBe(++n);
        }),
        { numRuns: 30 },
      );
      expect(g.model.vps[1]!.spinWaitNotifications).toBe(0);
      expect(g.machine.clock.now).toBe(0n);
    }
  });

  test('compat kvm: ACCESS_DENIED when CPUID 0x40000004 EBX is 0 or 0xFFFFFFFF, not counted; SUCCESS otherwise (KVM stages 15/16)', () => {
    for (const spinRetries of [0, 0xffff_ffff]) {
      const g = guest({ compat: 'kvm', profile: modernWith({ spinRetries }) });
      expect(g.st(notify(1))).toBe('ACCESS_DENIED');
      expect(g.model.vps[0]!.spinWaitNotifications).toBe(0);
    }
    for (const spinRetries of [1, 0xfff, 0xffff_fffe]) expect(guest({ compat: 'kvm', profile: modernWith({ spinRetries }) }).st(notify(1))).toBe('SUCCESS');
  });
});

describe('calls the model knows but does not model (notModelled.ts)', () => {
  const names = NOT_MODELLED.map((d) => d.name).filter((n) => n !== 'HVCALL_GET_VP_ID_FROM_APIC_ID');

  test.each(['minimal', 'ws2008', 'modern'] as const)('%s: every one is ACCESS_DENIED (the partition lacks the privilege)', (profile) => {
    const g = guest({ profile });
    for (const name of names) expect([name, g.st({ code: HVCALL[name] })]).toEqual([name, 'ACCESS_DENIED']);
  });

  test('minimal and ws2008 deny HvCallGetVpIndexFromApicId', () => {
    for (const profile of ['minimal', 'ws2008'] as const) expect(guest({ profile }).st({ code: HVCALL.HVCALL_GET_VP_ID_FROM_APIC_ID })).toBe('ACCESS_DENIED');
  });

  test('modern grants StartVirtualProcessor, whose TLFS page directs guests to HvCallGetVpIndexFromApicId: the call must not be unimplemented', () => {
    expect(guest().st({ code: HVCALL.HVCALL_GET_VP_ID_FROM_APIC_ID })).not.toBe('unimplemented');
  });

  test('a custom profile granting every privilege and MMIO recommendation reaches the handler: outcome kind unimplemented', () => {
    const g = guest({ profile: modernWith({ privileges: { eax: VIRIDIAN_PROFILES.modern.privileges.eax, ebx: 0xffff_ffff }, recommendations: VIRIDIAN_PROFILES.modern.recommendations | REC.HV_X64_USE_MMIO_HYPERCALLS }) });
    for (const d of NOT_MODELLED) {
      const outcome = g.call({ code: HVCALL[d.name] });
      expect(outcome.kind).toBe('unimplemented');
      if (outcome.kind === 'unimplemented') expect(outcome.reason).toContain(d.name);
    }
  });
});

describe('HvCallGetVpIndexFromApicId (TLFS hypercalls/HvCallGetVpIndexFromApicId.md)', () => {
  const header = (partition: bigint = HV_CALL_INPUT.HV_PARTITION_ID_SELF, vtl = 0) => {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, partition, true);
    v.setUint8(8, vtl);
    return b;
  };
  const ids = (list: number[]) => {
    const b = new Uint8Array(8 * list.length);
    list.forEach((id, i) => new DataView(b.buffer).setUint32(8 * i, id, true));
    return b;
  };
  const call = (list: number[], partition?: bigint, vtl?: number) => ({ code: HVCALL.HVCALL_GET_VP_ID_FROM_APIC_ID, repCount: list.length, input: cat(header(partition, vtl), ids(list)) });

  test('each APIC id maps to the VP with that index; reps completed = rep count', () => {
    const g = guest({}, { vcpus: 4 });
    const outcome = g.call(call([3, 0, 2]));
    expect(outcome).toMatchObject({ kind: 'result', status: 0, repsCompleted: 3 });
    const out = g.read(g.outputGpa, 24);
    const view = new DataView(out.buffer, out.byteOffset);
    expect([0, 8, 16].map((o) => view.getUint32(o, true))).toEqual([3, 0, 2]);
  });

  test('an unknown APIC id: INVALID_PARAMETER after the elements before it', () => {
    const g = guest({}, { vcpus: 2 });
    expect(g.call(call([1, 7, 0]))).toMatchObject({ kind: 'result', status: HV_STATUS_INVALID_PARAMETER, repsCompleted: 1 });
  });

  test('INVALID_PARTITION_ID for another partition; INVALID_PARAMETER for a non-zero TargetVtl; ACCESS_DENIED in ws2008', () => {
    expect(guest().st(call([0], 5n))).toBe('INVALID_PARTITION_ID');
    expect(guest().st(call([0], undefined, 1))).toBe('INVALID_PARAMETER');
    expect(guest({ profile: 'ws2008' }).st(call([0]))).toBe('ACCESS_DENIED');
    expect(guest().st({ ...call([0]), repCount: 0 })).toBe('INVALID_HYPERCALL_INPUT');
  });
});

const HV_STATUS_INVALID_PARAMETER = 5;
