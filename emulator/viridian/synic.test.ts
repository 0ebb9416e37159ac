import fc from 'fast-check';
import { HV_CALL_INPUT } from './abi/calls';
import { HV_MESSAGE_FLAG_PENDING } from './abi/layouts';
import { HV_X64_MSR as M } from './abi/msrs';
import { HV_SYNIC } from './abi/synic';
import { TEST_LAYOUT, ViridianTestGuest, type ViridianTestOptions } from './viridianTestkit';
import type { ViridianVp } from './vp';

const GP = { kind: 'fault', vector: 'GP' };
const MASKED = BigInt(HV_SYNIC.HV_SYNIC_SINT_MASKED);
const AUTO_EOI = BigInt(HV_SYNIC.HV_SYNIC_SINT_AUTO_EOI);
const POLLING = 1n << 18n;
const V = 0x50;
const SINT = 2;
const OK = 'HV_STATUS_SUCCESS';

function vpOf(g: ViridianTestGuest, i = 0): ViridianVp {
  const vp = g.model.vps[i];
  if (!vp) throw new Error(`no VP ${i}`);
  return vp;
}
const SLOT_GPA = (BigInt(TEST_LAYOUT.simGfn(0)) << 12n) + BigInt(SINT * 256);

/** SINT 2 at vector 0x50 on VP 0, guest message port 7 bound to it. */
function msgGuest(flags = 0n, options: ViridianTestOptions = {}): ViridianTestGuest {
  const g = new ViridianTestGuest(options);
  g.enableSynic(0, { [SINT]: { vector: V, flags } });
  g.model.root.createGuestPort({ id: 7, kind: 'message', targetVp: 0, sint: SINT });
  return g;
}
const post = (g: ViridianTestGuest, payload: number[] = [1, 2, 3], port = 7, type = 0x42) => g.model.root.postToGuest(port, type, Uint8Array.from(payload)).status;
const eom = (g: ViridianTestGuest) => g.wrmsrOk(M.HV_X64_MSR_EOM, 0n);

describe('SynIC MSRs (TLFS inter-partition-communication.md "SynIC Registers")', () => {
  test('SVERSION 1, write #GP; reset: SCONTROL/SIEFP/SIMP 0, SINTx 0x10000; SCONTROL RsvdP kept; EOM reads 0 (TLFS)', () => {
    const g = new ViridianTestGuest();
    expect(g.rdmsrOk(M.HV_X64_MSR_SVERSION)).toBe(1n);
    expect(g.wrmsr(M.HV_X64_MSR_SVERSION, 1n)).toEqual(GP);
    for (const msr of [M.HV_X64_MSR_SCONTROL, M.HV_X64_MSR_SIEFP, M.HV_X64_MSR_SIMP]) expect(g.rdmsrOk(msr, 1)).toBe(0n);
    for (let s = 0; s < 16; s++) expect(g.rdmsrOk(M.HV_X64_MSR_SINT0 + s, 1)).toBe(0x10000n);
    g.wrmsrOk(M.HV_X64_MSR_SCONTROL, 0xabc1n); // 63:1 RsvdP, kept
    expect(g.rdmsrOk(M.HV_X64_MSR_SCONTROL)).toBe(0xabc1n);
    g.wrmsrOk(M.HV_X64_MSR_EOM, 0xdeadn);
    expect(g.rdmsrOk(M.HV_X64_MSR_EOM)).toBe(0n); // "Reads from the EOM register always returns zeros"
  });

  test.each(['SIMP', 'SIEFP'] as const)('%s page: an overlay that behaves like RAM; disabling uncovers RAM, re-enabling shows the kept page ("SIM Page"; V22)', (which) => {
    const g = new ViridianTestGuest();
    const msr = which === 'SIMP' ? M.HV_X64_MSR_SIMP : M.HV_X64_MSR_SIEFP;
    const gpa = 0x50n << 12n;
    const rd = (n: bigint) => [...g.read(gpa + n, 2)];
    g.write(gpa, Uint8Array.of(0xaa, 0xbb));
    g.wrmsrOk(msr, gpa | 1n);
    expect(rd(0n)).toEqual([0, 0]); // cleared at VP creation
    g.write(gpa + 100n, Uint8Array.of(1, 2));
    expect(rd(100n)).toEqual([1, 2]);
    g.wrmsrOk(msr, gpa);
    expect([...rd(0n), ...rd(100n)]).toEqual([0xaa, 0xbb, 0, 0]);
    g.wrmsrOk(msr, gpa | 1n);
    expect(rd(100n)).toEqual([1, 2]);
  });

  test('SINTx vector < 16: #GP masked or not, register unchanged (TLFS "SINTx Registers"; xen); kvm allows it masked (V10)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.subarray([MASKED, AUTO_EOI, POLLING]), fc.integer({ min: 0, max: 15 }), (vector, flags, sint) => {
        const value = flags.reduce((a, b) => a | b, BigInt(vector));
        for (const compat of ['tlfs', 'xen'] as const) {
          const g = new ViridianTestGuest({ viridian: { compat } });
          expect(g.wrmsr(M.HV_X64_MSR_SINT0 + sint, value)).toEqual(GP);
          expect(g.rdmsrOk(M.HV_X64_MSR_SINT0 + sint)).toBe(0x10000n);
        }
        const kvm = new ViridianTestGuest({ viridian: { compat: 'kvm' } });
        const masked = (value & MASKED) !== 0n;
        expect(kvm.wrmsr(M.HV_X64_MSR_SINT0 + sint, value).kind).toBe(masked ? 'ok' : 'fault');
        expect(kvm.rdmsrOk(M.HV_X64_MSR_SINT0 + sint)).toBe(masked ? value : 0x10000n);
      }),
      { numRuns: 60 },
    );
  });

  test('SINTx vectors 16-255 are accepted and read back with RsvdP bits preserved', () => {
    const g = new ViridianTestGuest();
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 255 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 15 }), (vector, noise, sint) => {
        const value = (noise & ~0xffn) | BigInt(vector);
        g.wrmsrOk(M.HV_X64_MSR_SINT0 + sint, value);
        expect(g.rdmsrOk(M.HV_X64_MSR_SINT0 + sint)).toBe(value);
      }),
    );
  });
});

describe('message delivery from the root (TLFS "Messages", "EOM Register")', () => {
  test('message in the SINT slot: type, size, flags 0, sender = port id, payload, zeros after; SINT vector raised (V25)', () => {
    const g = msgGuest();
    g.write(SLOT_GPA + 4n, new Uint8Array(252).fill(0xee)); // type stays 0: empty
    expect(post(g, [9, 8, 7])).toBe(OK);
    const { header, payload } = g.slot(0, SINT);
    expect(header).toMatchObject({ message_type: 0x42, payload_size: 3, message_flags: 0, sender: 7n });
    expect([...payload]).toEqual([9, 8, 7]);
    expect(g.read(SLOT_GPA + 19n, 237).every((b) => b === 0)).toBe(true);
    expect(g.deliver()).toEqual([[0, V]]);
  });

  test('masked SINT: message written, interrupt lost; Polling (bit 18): same; without CPUID EDX bit 17 (ws2008) bit 18 is RsvdP (V25)', () => {
    for (const [flags, options, taken] of [[MASKED, {}, []], [POLLING, {}, []], [POLLING, { viridian: { profile: 'ws2008' } }, [[0, V]]]] as const) {
      const g = msgGuest(flags, options);
      expect(post(g)).toBe(OK);
      expect(g.slot(0, SINT).header.message_type).toBe(0x42);
      expect(g.deliver()).toEqual(taken);
    }
  });

  test('busy slot: message stays queued, MessagePending set in the busy slot; EOM after the guest empties it delivers', () => {
    const g = msgGuest();
    post(g, [1]);
    expect(g.deliver()).toEqual([[0, V]]);
    g.model.apicEoi(0); // slot still busy: nothing moves
    expect(post(g, [2])).toBe(OK);
    expect(g.slot(0, SINT).header.message_flags).toBe(HV_MESSAGE_FLAG_PENDING);
    expect([...g.slot(0, SINT).payload]).toEqual([1]);
    g.clearSlot(0, SINT);
    expect(g.slot(0, SINT).header.message_type).toBe(0);
    expect(vpOf(g).queues[SINT]?.length).toBe(1);
    eom(g);
    expect(g.slot(0, SINT)).toMatchObject({ header: { message_type: 0x42, message_flags: 0 } });
    expect([...g.slot(0, SINT).payload]).toEqual([2]);
    expect(g.deliver()).toEqual([[0, V]]);
  });

  test.each(['apicEoi', 'HV_X64_MSR_EOI'] as const)('an APIC EOI (%s) rescans the queues and delivers into the emptied slot', (how) => {
    const g = msgGuest();
    post(g, [1]);
    expect(g.deliver()).toEqual([[0, V]]);
    post(g, [2]);
    g.clearSlot(0, SINT);
    if (how === 'apicEoi') g.model.apicEoi(0);
    else g.wrmsrOk(M.HV_X64_MSR_EOI, 0n);
    expect([...g.slot(0, SINT).payload]).toEqual([2]);
    expect(vpOf(g).highestInService()).toBe(-1);
    expect(g.deliver()).toEqual([[0, V]]);
  });

  test('queuing another message delivers the oldest into an emptied slot, MessagePending for the one behind', () => {
    const g = msgGuest();
    post(g, [1]);
    post(g, [2]);
    g.clearSlot(0, SINT);
    post(g, [3]);
    const { header, payload } = g.slot(0, SINT);
    expect([...payload]).toEqual([2]);
    expect(header.message_flags).toBe(HV_MESSAGE_FLAG_PENDING);
    expect(vpOf(g).queues[SINT]?.length).toBe(1);
  });

  test('messages arrive in posting order; MessagePending is set on all but the last (property)', () => {
    const payloads = fc.array(fc.uint8Array({ maxLength: 240 }), { minLength: 1, maxLength: 17 });
    fc.assert(
      fc.property(payloads, (list) => {
        const g = msgGuest();
        for (const p of list) expect(post(g, [...p])).toBe(OK);
        list.forEach((p, i) => {
          const { header, payload } = g.slot(0, SINT);
          expect([...payload]).toEqual([...p]);
          expect(header.message_flags).toBe(i < list.length - 1 ? HV_MESSAGE_FLAG_PENDING : 0);
          g.clearSlot(0, SINT);
          eom(g);
        });
        expect(g.slot(0, SINT).header.message_type).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  test('auto-EOI SINT: nothing in service, a second interrupt at the vector is taken without EOI ("SINTx Registers")', () => {
    const g = msgGuest(AUTO_EOI);
    post(g, [1]);
    expect(g.deliver()).toEqual([[0, V]]);
    expect(vpOf(g).highestInService()).toBe(-1);
    g.clearSlot(0, SINT);
    post(g, [2]);
    expect(g.deliver()).toEqual([[0, V]]);
  });

  test('16 buffers per port: 17th undelivered is INSUFFICIENT_BUFFERS; delivery frees one ("Guest Message Buffers")', () => {
    const g = msgGuest();
    g.model.root.createGuestPort({ id: 8, kind: 'message', targetVp: 0, sint: SINT });
    expect(post(g, [0])).toBe(OK); // straight into the slot
    for (let i = 1; i <= 16; i++) expect(post(g, [i])).toBe(OK);
    expect(g.model.root.guestPort(7).inFlight).toBe(16);
    expect(post(g, [17])).toBe('HV_STATUS_INSUFFICIENT_BUFFERS');
    expect(post(g, [99], 8)).toBe(OK); // the pool is per port
    g.clearSlot(0, SINT);
    eom(g);
    expect(post(g, [17])).toBe(OK);
    expect(post(g, [18])).toBe('HV_STATUS_INSUFFICIENT_BUFFERS');
  });

  test("deleting a guest port drops its queued messages, not other ports' ('Reliability and Sequencing')", () => {
    const g = msgGuest();
    g.model.root.createGuestPort({ id: 8, kind: 'message', targetVp: 0, sint: SINT });
    for (const [payload, port] of [[1, 7], [2, 8], [3, 7], [4, 8]] as const) post(g, [payload], port);
    g.model.root.deleteGuestPort(7);
    const seen = [0, 1, 2, 3].map(() => {
      const { header, payload } = g.slot(0, SINT);
      g.clearSlot(0, SINT);
      eom(g);
      return header.message_type === 0 ? -1 : payload[0];
    });
    expect(seen).toEqual([1, 2, 4, -1]);
    expect(post(g, [5], 7)).toBe('HV_STATUS_INVALID_PORT_ID');
  });

  test('HV_ANY_VP: lowest VP with SynIC and SIM on takes it; none is INVALID_VP_INDEX (V25)', () => {
    const g = new ViridianTestGuest({ vcpus: 3 });
    g.model.root.createGuestPort({ id: 9, kind: 'message', targetVp: HV_CALL_INPUT.HV_ANY_VP, sint: SINT });
    expect(post(g, [1], 9)).toBe('HV_STATUS_INVALID_VP_INDEX');
    g.enableSynic(2, { [SINT]: { vector: V } });
    expect(post(g, [2], 9)).toBe(OK);
    g.enableSynic(1, { [SINT]: { vector: V } });
    expect(post(g, [3], 9)).toBe(OK);
    expect([...g.slot(2, SINT).payload, ...g.slot(1, SINT).payload]).toEqual([2, 3]);
    expect(g.deliver()).toEqual([[1, V], [2, V]]);
  });

  test('SynIC or SIM off at the target: INVALID_SYNIC_STATE (SIEF irrelevant); missing VP: INVALID_VP_INDEX', () => {
    const g = msgGuest();
    g.wrmsrOk(M.HV_X64_MSR_SCONTROL, 0n);
    expect(post(g)).toBe('HV_STATUS_INVALID_SYNIC_STATE');
    g.wrmsrOk(M.HV_X64_MSR_SCONTROL, 1n);
    const simp = BigInt(TEST_LAYOUT.simGfn(0)) << 12n;
    g.wrmsrOk(M.HV_X64_MSR_SIMP, simp);
    expect(post(g)).toBe('HV_STATUS_INVALID_SYNIC_STATE');
    g.wrmsrOk(M.HV_X64_MSR_SIMP, simp | 1n);
    g.wrmsrOk(M.HV_X64_MSR_SIEFP, 0n);
    expect(post(g)).toBe(OK);
    g.model.root.createGuestPort({ id: 5, kind: 'message', targetVp: 5, sint: SINT });
    expect(post(g, [1], 5)).toBe('HV_STATUS_INVALID_VP_INDEX');
  });

  test('root checks: event/unknown port INVALID_PORT_ID; type 0, bit 31, payload > 240 INVALID_PARAMETER', () => {
    const g = msgGuest();
    g.model.root.createGuestPort({ id: 3, kind: 'event', targetVp: 0, sint: SINT });
    expect(post(g, [1], 3)).toBe('HV_STATUS_INVALID_PORT_ID');
    expect(post(g, [1], 99)).toBe('HV_STATUS_INVALID_PORT_ID');
    expect(post(g, [1], 7, 0)).toBe('HV_STATUS_INVALID_PARAMETER');
    expect(post(g, [1], 7, 0x8000_0010)).toBe('HV_STATUS_INVALID_PARAMETER');
    expect(post(g, new Array<number>(241).fill(1))).toBe('HV_STATUS_INVALID_PARAMETER');
    expect(post(g, new Array<number>(240).fill(1))).toBe(OK);
  });
});

describe('event flags (TLFS "SynIC Event Flags", "SIEF Page")', () => {
  function evtGuest(sint = SINT, flags = 0n, baseFlag = 0, flagCount = 2048 - baseFlag): ViridianTestGuest {
    const g = new ViridianTestGuest();
    g.enableSynic(0, { [sint]: { vector: V, flags } });
    g.model.root.createGuestPort({ id: 4, kind: 'event', targetVp: 0, sint, baseFlag, flagCount });
    return g;
  }
  const signal = (g: ViridianTestGuest, flag: number, port = 4) => g.model.root.signalGuest(port, flag).status;

  test('flag base+k is bit (base+k)%8 of byte (base+k)/8 of the SINT\'s 256 bytes; nothing else changes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 2047 }), fc.nat(), (sint, base, n) => {
        const count = 2048 - base;
        const k = n % count;
        const g = evtGuest(sint, 0n, base, count);
        expect(signal(g, k)).toBe(OK);
        const page = g.read(BigInt(TEST_LAYOUT.siefGfn(0)) << 12n, 4096);
        const at = sint * 256 + ((base + k) >> 3);
        expect(page[at]).toBe(1 << ((base + k) & 7));
        expect(page.reduce((n, b, i) => n + (i === at ? 0 : b), 0)).toBe(0);
        expect(g.eventFlag(0, sint, base + k)).toBe(true);
        expect(g.deliver()).toEqual([[0, V]]);
      }),
      { numRuns: 60 },
    );
  });

  test('SINT raised only when the flag was clear; cleared by the guest, the next signal raises again', () => {
    const g = evtGuest();
    expect(signal(g, 9)).toBe(OK);
    expect(g.deliver()).toEqual([[0, V]]);
    g.model.apicEoi(0);
    expect(signal(g, 9)).toBe(OK);
    expect(vpOf(g).hw.pendingInterrupts()).toEqual([]);
    g.write((BigInt(TEST_LAYOUT.siefGfn(0)) << 12n) + BigInt(SINT * 256 + 1), Uint8Array.of(0));
    expect(signal(g, 9)).toBe(OK);
    expect(g.deliver()).toEqual([[0, V]]);
  });

  test('masked SINT: INVALID_SYNIC_STATE, nothing set; Polling SINT: flag set, no interrupt', () => {
    const masked = evtGuest(SINT, MASKED);
    expect(signal(masked, 1)).toBe('HV_STATUS_INVALID_SYNIC_STATE');
    expect(masked.eventFlag(0, SINT, 1)).toBe(false);
    const polling = evtGuest(SINT, POLLING);
    expect(signal(polling, 1)).toBe(OK);
    expect(polling.eventFlag(0, SINT, 1)).toBe(true);
    expect(polling.deliver()).toEqual([]);
  });

  test('flag >= count INVALID_PARAMETER; SIEF/SynIC off INVALID_SYNIC_STATE; no VP INVALID_VP_INDEX; message port INVALID_PORT_ID', () => {
    const g = evtGuest(SINT, 0n, 100, 50);
    expect(signal(g, 50)).toBe('HV_STATUS_INVALID_PARAMETER');
    expect(signal(g, 49)).toBe(OK);
    expect(g.eventFlag(0, SINT, 149)).toBe(true);
    g.wrmsrOk(M.HV_X64_MSR_SIEFP, 0n);
    expect(signal(g, 1)).toBe('HV_STATUS_INVALID_SYNIC_STATE');
    g.enableSynic(0);
    g.wrmsrOk(M.HV_X64_MSR_SCONTROL, 0n);
    expect(signal(g, 1)).toBe('HV_STATUS_INVALID_SYNIC_STATE');
    g.model.root.createGuestPort({ id: 5, kind: 'event', targetVp: 7, sint: SINT });
    expect(signal(g, 0, 5)).toBe('HV_STATUS_INVALID_VP_INDEX');
    g.model.root.createGuestPort({ id: 6, kind: 'message', targetVp: 0, sint: SINT });
    expect(signal(g, 0, 6)).toBe('HV_STATUS_INVALID_PORT_ID');
  });

  test('HV_ANY_VP event port: lowest VP with SIEF on and SINT unmasked', () => {
    const g = new ViridianTestGuest({ vcpus: 3 });
    g.enableSynic(0, { [SINT]: { vector: V, flags: MASKED } });
    g.enableSynic(1, { [SINT]: { vector: V } });
    g.enableSynic(2, { [SINT]: { vector: V } });
    g.model.root.createGuestPort({ id: 4, kind: 'event', targetVp: HV_CALL_INPUT.HV_ANY_VP, sint: SINT });
    expect(signal(g, 3)).toBe(OK);
    expect([0, 1, 2].map((vp) => g.eventFlag(vp, SINT, 3))).toEqual([false, true, false]);
  });
});
