import fc from 'fast-check';
import { HV_PRIVILEGES_EBX as EBX } from '../abi/cpuid';
import { HVCALL } from '../abi/hypercalls';
import type { ViridianOptions } from '../config';
import { VIRIDIAN_PROFILES, type ViridianProfile } from '../profiles';
import type { RootPort } from '../root';
import { ViridianTestGuest } from '../viridianTestkit';

const POST = HVCALL.HVCALL_POST_MESSAGE;
const SIGNAL = HVCALL.HVCALL_SIGNAL_EVENT;
const OK = 'HV_STATUS_SUCCESS';
const MSG_CONN = 0x11;
const EVT_CONN = 0x22;

/** HvCallPostMessage input: ConnectionId, RsvdZ, MessageType, PayloadSize, 240 bytes of payload. */
function postInput(conn: number, type: number, size: number, payload: Uint8Array = new Uint8Array(0), rsvd = 0): Uint8Array {
  const b = new Uint8Array(256);
  const v = new DataView(b.buffer);
  [conn, rsvd, type, size].forEach((word, i) => v.setUint32(4 * i, word >>> 0, true));
  b.set(payload.subarray(0, 240), 16);
  return b;
}
/** HvCallSignalEvent input as one value: ConnectionId 31:0, FlagNumber 47:32, RsvdZ 63:48. */
const signalValue = (conn: number, flag: number, rsvd = 0) => BigInt(conn >>> 0) | (BigInt(flag) << 32n) | (BigInt(rsvd) << 48n);

/** A guest with a root message port (0x100, connection 0x11) and a root event port (0x200, 32 flags, connection 0x22). */
function world(viridian: ViridianOptions = {}): { g: ViridianTestGuest; msg: RootPort; evt: RootPort } {
  const g = new ViridianTestGuest({ viridian });
  const msg = g.model.root.createRootPort({ id: 0x100, kind: 'message' });
  const evt = g.model.root.createRootPort({ id: 0x200, kind: 'event', flagCount: 32 });
  g.model.root.connect(MSG_CONN, 0x100);
  g.model.root.connect(EVT_CONN, 0x200);
  return { g, msg, evt };
}
const post = (g: ViridianTestGuest, input: Uint8Array) => g.status({ code: POST, input });
const postOk = (g: ViridianTestGuest, conn = MSG_CONN, type = 1, size = 0) => post(g, postInput(conn, type, size));
function signal(g: ViridianTestGuest, value: bigint, fast: boolean): string {
  if (fast) return g.status({ code: SIGNAL, fast: true, rdx: value });
  const input = new Uint8Array(8);
  new DataView(input.buffer).setBigUint64(0, value, true);
  return g.status({ code: SIGNAL, input });
}
function withoutPrivilege(bit: number): ViridianProfile {
  const modern = VIRIDIAN_PROFILES.modern;
  return { ...modern, privileges: { eax: modern.privileges.eax, ebx: modern.privileges.ebx & ~bit } };
}

describe('HvCallPostMessage 0x005C (TLFS hypercalls/HvCallPostMessage.md)', () => {
  test('success: the root inbox gets MessageType, exactly PayloadSize bytes and the time of the call', () => {
    const { g, msg } = world();
    g.model.advanceTo(123_400n);
    const payload = Uint8Array.from({ length: 240 }, (_, i) => i + 1);
    expect(post(g, postInput(MSG_CONN, 0x7fff_ffff, 5, payload))).toBe(OK);
    expect(msg.inbox).toEqual([{ type: 0x7fff_ffff, payload: Uint8Array.of(1, 2, 3, 4, 5), time: 123_400n }]);
    expect(g.model.root.takeMessages(0x100)).toHaveLength(1);
    expect(msg.inbox).toEqual([]);
  });

  test('any MessageType 1..0x7FFFFFFF with any PayloadSize 0..240 is delivered intact (property)', () => {
    const { g, msg } = world();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fff_ffff }), fc.uint8Array({ maxLength: 240 }), (type, payload) => {
        expect(post(g, postInput(MSG_CONN, type, payload.length, payload))).toBe(OK);
        expect(g.model.root.takeMessages(0x100)).toEqual([{ type, payload, time: g.model.now }]);
      }),
    );
    expect(msg.inbox).toEqual([]);
  });

  test('ACCESS_DENIED without the PostMessages privilege, before any other check; SignalEvent is unaffected', () => {
    const { g } = world({ profile: withoutPrivilege(EBX.HV_POST_MESSAGES) });
    expect(postOk(g)).toBe('HV_STATUS_ACCESS_DENIED');
    expect(postOk(g, 0x999, 0)).toBe('HV_STATUS_ACCESS_DENIED');
    expect(signal(g, signalValue(EVT_CONN, 0), true)).toBe(OK);
  });

  test('INVALID_CONNECTION_ID: unknown, disconnected, or with reserved bits 31:24 set (datatypes/hv_connection_id.md; V21)', () => {
    const { g, msg } = world();
    expect(postOk(g, 0x12)).toBe('HV_STATUS_INVALID_CONNECTION_ID');
    fc.assert(fc.property(fc.integer({ min: 1, max: 0xff }), (high) => expect(postOk(g, (high << 24) | MSG_CONN)).toBe('HV_STATUS_INVALID_CONNECTION_ID')));
    g.model.root.disconnect(MSG_CONN);
    expect(postOk(g)).toBe('HV_STATUS_INVALID_CONNECTION_ID');
    expect(msg.inbox).toEqual([]);
  });

  test('INVALID_PORT_ID: an event port, a port whose owner is not active, a deleted port', () => {
    const { g, msg } = world();
    expect(postOk(g, EVT_CONN)).toBe('HV_STATUS_INVALID_PORT_ID');
    msg.state = 'owner-inactive';
    expect(postOk(g)).toBe('HV_STATUS_INVALID_PORT_ID');
    msg.state = 'active';
    expect(postOk(g)).toBe(OK);
    g.model.root.deleteRootPort(0x100);
    expect(postOk(g)).toBe('HV_STATUS_INVALID_PORT_ID');
    expect(msg.inbox).toEqual([]); // deletion freed the buffers too
  });

  test('INVALID_PARAMETER: MessageType 0, MessageType with bit 31 set, RsvdZ word non-zero (V21)', () => {
    const { g, msg } = world();
    expect(postOk(g, MSG_CONN, 0)).toBe('HV_STATUS_INVALID_PARAMETER');
    fc.assert(fc.property(fc.integer({ min: 0x8000_0000, max: 0xffff_ffff }), (type) => expect(postOk(g, MSG_CONN, type)).toBe('HV_STATUS_INVALID_PARAMETER')));
    expect(post(g, postInput(MSG_CONN, 1, 0, undefined, 1))).toBe('HV_STATUS_INVALID_PARAMETER');
    expect(msg.inbox).toEqual([]);
  });

  test('PayloadSize > 240: INVALID_PARAMETER (TLFS); INVALID_HYPERCALL_INPUT with compat kvm (QEMU; V6); compat xen has no PostMessage (V33)', () => {
    const worlds = { tlfs: world(), xen: world({ compat: 'xen' }), kvm: world({ compat: 'kvm' }) };
    fc.assert(
      fc.property(fc.integer({ min: 241, max: 0xffff_ffff }), (size) => {
        expect(postOk(worlds.tlfs.g, MSG_CONN, 1, size)).toBe('HV_STATUS_INVALID_PARAMETER');
        expect(postOk(worlds.xen.g, MSG_CONN, 1, size)).toBe('HV_STATUS_INVALID_HYPERCALL_CODE');
        expect(postOk(worlds.kvm.g, MSG_CONN, 1, size)).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
      }),
      { numRuns: 50 },
    );
    expect(postOk(worlds.kvm.g, MSG_CONN, 1, 240)).toBe(OK);
  });

  test('INSUFFICIENT_BUFFERS once 16 messages sit in the root inbox; taking them frees the buffers ("Guest Message Buffers")', () => {
    const { g, msg } = world();
    for (let i = 0; i < 16; i++) expect(postOk(g, MSG_CONN, i + 1)).toBe(OK);
    expect(postOk(g)).toBe('HV_STATUS_INSUFFICIENT_BUFFERS');
    expect(msg.inbox.map((m) => m.type)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    g.model.root.takeMessages(0x100);
    expect(postOk(g)).toBe(OK);
  });

  test("the root VP's state: no VP INVALID_VP_INDEX, SynIC/SIM off INVALID_SYNIC_STATE, a masked SINT still takes the message", () => {
    const { g, msg } = world();
    msg.target = 'no-vp';
    expect(postOk(g)).toBe('HV_STATUS_INVALID_VP_INDEX');
    msg.target = 'synic-disabled';
    expect(postOk(g)).toBe('HV_STATUS_INVALID_SYNIC_STATE');
    expect(msg.inbox).toEqual([]);
    msg.target = 'sint-masked'; // "If ... the SINTx is masked, the interrupt is lost": the message is not refused
    expect(postOk(g)).toBe(OK);
    expect(msg.inbox).toHaveLength(1);
  });

  test('checks follow the order of the Return Values table (V16)', () => {
    const { g, msg } = world();
    msg.state = 'deleted';
    expect(postOk(g, MSG_CONN, 0, 241)).toBe('HV_STATUS_INVALID_PORT_ID');
    msg.state = 'active';
    expect(postOk(g, MSG_CONN, 0, 241)).toBe('HV_STATUS_INVALID_PARAMETER');
    for (let i = 0; i < 16; i++) postOk(g);
    msg.target = 'no-vp';
    expect(postOk(g)).toBe('HV_STATUS_INSUFFICIENT_BUFFERS');
    g.model.root.takeMessages(0x100);
    expect(postOk(g)).toBe('HV_STATUS_INVALID_VP_INDEX');
  });

  test('memory form only: the fast bit is INVALID_HYPERCALL_INPUT (V20); the 256-byte input must not cross a page', () => {
    const { g, msg } = world();
    expect(g.status({ code: POST, fast: true, rdx: BigInt(MSG_CONN), r8: 1n })).toBe('HV_STATUS_INVALID_HYPERCALL_INPUT');
    const at = (0x30n << 12n) + 4096n - 256n;
    g.write(at, postInput(MSG_CONN, 9, 2, Uint8Array.of(7, 7)));
    expect(g.status({ code: POST, rdx: at })).toBe(OK);
    expect(g.status({ code: POST, rdx: at + 8n })).toBe('HV_STATUS_INVALID_ALIGNMENT');
    expect(msg.inbox.map((m) => [m.type, [...m.payload]])).toEqual([[9, [7, 7]]]);
  });
});

describe('HvCallSignalEvent 0x005D (TLFS hypercalls/HvCallSignalEvent.md)', () => {
  test.each([false, true])('success (fast=%s): the flag is set at the port; newlySet only when it was clear', (fast) => {
    const { g, evt } = world();
    g.model.advanceTo(5_000n);
    expect(signal(g, signalValue(EVT_CONN, 5), fast)).toBe(OK);
    expect(signal(g, signalValue(EVT_CONN, 5), fast)).toBe(OK);
    expect(g.model.root.takeFlags(0x200)).toEqual([5]);
    expect(signal(g, signalValue(EVT_CONN, 31), fast)).toBe(OK);
    expect(signal(g, signalValue(EVT_CONN, 5), fast)).toBe(OK);
    expect(evt.signals).toEqual([
      { flag: 5, time: 5_000n, newlySet: true },
      { flag: 5, time: 5_000n, newlySet: false },
      { flag: 31, time: 5_000n, newlySet: true },
      { flag: 5, time: 5_000n, newlySet: true },
    ]);
    expect([...evt.flags].sort((a, b) => a - b)).toEqual([5, 31]);
  });

  test('memory and fast forms give the same status and effect for any 64-bit input (property)', () => {
    const value = fc.oneof(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.record({ c: fc.constantFrom(EVT_CONN, MSG_CONN, 0x33), f: fc.integer({ min: 0, max: 40 }), r: fc.constantFrom(0, 0, 1) }).map(({ c, f, r }) => signalValue(c, f, r)),
    );
    fc.assert(
      fc.property(value, (v) => {
        const [mem, fast] = [world(), world()];
        expect(signal(mem.g, v, false)).toBe(signal(fast.g, v, true));
        expect([...mem.evt.flags]).toEqual([...fast.evt.flags]);
      }),
      { numRuns: 150 },
    );
  });

  test('ACCESS_DENIED without the SignalEvents privilege; PostMessage is unaffected', () => {
    const { g, evt } = world({ profile: withoutPrivilege(EBX.HV_SIGNAL_EVENTS) });
    expect(signal(g, signalValue(EVT_CONN, 0), true)).toBe('HV_STATUS_ACCESS_DENIED');
    expect(signal(g, signalValue(0x999, 0), false)).toBe('HV_STATUS_ACCESS_DENIED');
    expect(evt.signals).toEqual([]);
    expect(postOk(g)).toBe(OK);
  });

  test('unknown or disconnected connection (or bits 31:24 set): INVALID_CONNECTION_ID (TLFS, and Xen\'s column where knownCalls lets SignalEvent through); kvm compat INVALID_PORT_ID (V7)', () => {
    for (const [compat, expected] of [['tlfs', 'HV_STATUS_INVALID_CONNECTION_ID'], ['xen', 'HV_STATUS_INVALID_CONNECTION_ID'], ['kvm', 'HV_STATUS_INVALID_PORT_ID']] as const) {
      // Xen itself has no HvCallSignalEvent (V33): its quirk column is checked with every code known.
      const { g, evt } = world(compat === 'xen' ? { compat, quirks: { knownCalls: 'all' } } : { compat });
      expect(signal(g, signalValue(0x23, 0), true)).toBe(expected);
      // KVM (kvm_hvcall_signal_event) answers INVALID_HYPERCALL_INPUT for bits 31:24, which no quirk models yet.
      if (compat !== 'kvm') expect(signal(g, signalValue((1 << 24) | EVT_CONN, 0), true)).toBe(expected);
      g.model.root.disconnect(EVT_CONN);
      expect(signal(g, signalValue(EVT_CONN, 0), false)).toBe(expected);
      expect(evt.signals).toEqual([]);
    }
  });

  test('INVALID_PORT_ID: a message port, a port whose owner is not active, a deleted port', () => {
    const { g, evt } = world();
    expect(signal(g, signalValue(MSG_CONN, 0), true)).toBe('HV_STATUS_INVALID_PORT_ID');
    evt.state = 'owner-inactive';
    expect(signal(g, signalValue(EVT_CONN, 0), true)).toBe('HV_STATUS_INVALID_PORT_ID');
    g.model.root.deleteRootPort(0x200);
    expect(signal(g, signalValue(EVT_CONN, 0), true)).toBe('HV_STATUS_INVALID_PORT_ID');
    expect(evt.signals).toEqual([]);
  });

  test('INVALID_PARAMETER: FlagNumber >= the flag count (property), RsvdZ 63:48 non-zero (V21)', () => {
    const { g, evt } = world();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (flag) => {
        expect(signal(g, signalValue(EVT_CONN, flag), true)).toBe(flag < 32 ? OK : 'HV_STATUS_INVALID_PARAMETER');
      }),
    );
    expect(signal(g, signalValue(EVT_CONN, 0, 0x8000), true)).toBe('HV_STATUS_INVALID_PARAMETER');
    expect(evt.signals.every((s) => s.flag < 32)).toBe(true);
  });

  test('compat kvm supports flag 0 only: any other flag is INVALID_PORT_ID, even below the flag count (V7)', () => {
    const { g, evt } = world({ compat: 'kvm' });
    expect(signal(g, signalValue(EVT_CONN, 1), true)).toBe('HV_STATUS_INVALID_PORT_ID');
    expect(signal(g, signalValue(EVT_CONN, 0), false)).toBe(OK);
    expect([...evt.flags]).toEqual([0]);
  });

  test("the root VP's state: no VP INVALID_VP_INDEX; SynIC/SIEF off or SINT masked INVALID_SYNIC_STATE", () => {
    const { g, evt } = world();
    for (const [target, expected] of [['no-vp', 'HV_STATUS_INVALID_VP_INDEX'], ['synic-disabled', 'HV_STATUS_INVALID_SYNIC_STATE'], ['sint-masked', 'HV_STATUS_INVALID_SYNIC_STATE']] as const) {
      evt.target = target;
      expect(signal(g, signalValue(EVT_CONN, 3), true)).toBe(expected);
    }
    expect(evt.signals).toEqual([]);
    expect(evt.flags.size).toBe(0);
  });

  test('never fails for lack of resources ("Event Flags versus Messages")', () => {
    const { g, evt } = world();
    for (let i = 0; i < 500; i++) expect(signal(g, signalValue(EVT_CONN, i % 32), i % 2 === 0)).toBe(OK);
    expect(evt.signals).toHaveLength(500);
  });
});
