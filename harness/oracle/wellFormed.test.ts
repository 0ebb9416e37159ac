import { VIRIDIAN_PROFILES, xenAbi, type TraceEntry } from '../sut/index';
import { nestedBitSet } from './brokenAdapters';
import { PairGuest } from './pairTestkit';
import { checkWellFormed } from './wellFormed';

const { EVTCHNOP, evtchn_bind_ipi, evtchn_port_arg } = xenAbi;

const call = (fields: Partial<Extract<TraceEntry, { kind: 'hypercall' }>>): TraceEntry => ({
  kind: 'hypercall',
  vp: 0,
  time: '0',
  call: 'x',
  input: '0x0',
  rdx: '0x20000',
  r8: '0x21000',
  fast: false,
  repCount: 0,
  repStart: 0,
  varHeadSize: 0,
  result: 'HV_STATUS_SUCCESS',
  ...fields,
});

describe('well-formedness of the adapter\'s Viridian calls (TLFS hypercall-interface.md; no Xen world needed)', () => {
  const modern = VIRIDIAN_PROFILES.modern;
  const why = (e: TraceEntry, profile = modern) => checkWellFormed([e], profile).map((f) => f.why);

  test('a correct call has no findings', () => {
    expect(why(call({ input: '0x2' }))).toEqual([]); // HvCallFlushVirtualAddressSpace, memory form
  });

  test('reserved bits, the Is Nested bit among them', () => {
    expect(why(call({ input: '0x80000002' }))).toEqual(['reserved input bits set (0x80000000)']);
    expect(why(call({ input: '0x1000000000000002' }))).toEqual(['reserved input bits set (0x1000000000000000)']);
  });

  test('unknown codes, calls the profile does not grant', () => {
    expect(why(call({ input: '0x1' }))).toEqual(['unknown call code 0x1']);
    expect(why(call({ input: '0x13' }), VIRIDIAN_PROFILES.ws2008)).toEqual(['the profile does not recommend this call']);
    expect(why(call({ input: '0x69' }), VIRIDIAN_PROFILES.ws2008)).toEqual(['the partition lacks the privilege for this call']);
  });

  test('rep rules, variable headers, fast forms, alignment and page crossing', () => {
    expect(why(call({ input: '0x3' }))).toEqual(['rep call with rep count 0', 'rep start index 0 not below rep count 0']);
    expect(why(call({ input: '0x0002000200000003' }))).toEqual(['rep start index 2 not below rep count 2']);
    expect(why(call({ input: '0x100000002' }))).toEqual(['rep count or start index on a simple call']);
    expect(why(call({ input: '0x20002' }))).toEqual(['variable header on a call without one']);
    expect(why(call({ input: '0x1005c', fast: true }))).toEqual(['fast form of a call that has none']);
    expect(why(call({ input: '0x10002', fast: true }), VIRIDIAN_PROFILES.ws2008)).toEqual(['XMM fast input, which the profile does not offer']);
    expect(why(call({ input: '0x2', rdx: '0x20004' }))).toEqual(['input GPA not 8-byte aligned']);
    expect(why(call({ input: '0x2', rdx: '0x20ff0' }))).toEqual(['input list crosses a page']);
  });

  test('failed calls and MSR faults', () => {
    expect(why(call({ input: '0x2', result: 'HV_STATUS_INVALID_PARAMETER' }))).toEqual(['it failed: HV_STATUS_INVALID_PARAMETER']);
    expect(checkWellFormed([{ kind: 'wrmsr', vp: 1, time: '5', msr: 'HV_X64_MSR_EOI', value: '0x0', fault: true }], modern)).toEqual([
      { entry: 0, what: 'WRMSR HV_X64_MSR_EOI on VP 1 at 5 ns', why: '#GP: the MSR or its feature is not offered' },
    ]);
  });

  test('an adapter with Xen\'s bit-31 habit is caught even where the model (compat xen) accepts the call', () => {
    const g = new PairGuest({ vcpus: 2, viridian: { profile: 'modern', compat: 'xen' }, adapter: nestedBitSet });
    g.strict = false;
    g.setUpcallMask(1, 0);
    const at = g.put(evtchn_bind_ipi, { vcpu: 1 });
    g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_ipi, at);
    const step = g.callOn(0, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, g.put(evtchn_port_arg, { port: 1 }));
    expect(step.differences).toEqual([]);
    expect(step.illFormed.map((f) => f.why)).toContain('reserved input bits set (0x80000000)');
  });

  test('the reference adapter makes only well-formed calls (every differential test checks this too)', () => {
    for (const profile of ['minimal', 'ws2008', 'modern'] as const) {
      const g = new PairGuest({ vcpus: 3, viridian: { profile } });
      g.setUpcallMask(2, 0);
      g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_ipi, g.put(evtchn_bind_ipi, { vcpu: 2 }));
      expect(g.callOn(0, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, g.put(evtchn_port_arg, { port: 1 })).illFormed).toEqual([]);
    }
  });
});
