import fc from 'fast-check';
import { decodeStruct } from '../abi/struct';
import { HV_MESSAGE_FLAG_PENDING, hv_timer_message_payload } from './abi/layouts';
import { HV_X64_MSR as M } from './abi/msrs';
import { HV_SYNIC, HVMSG } from './abi/synic';
import { TEST_LAYOUT, ViridianTestGuest, type ViridianTestOptions } from './viridianTestkit';

const CONFIG = (t: number) => M.HV_X64_MSR_STIMER0_CONFIG + 2 * t;
const COUNT = (t: number) => M.HV_X64_MSR_STIMER0_COUNT + 2 * t;
const [ENABLE, PERIODIC, LAZY, AUTO, DIRECT] = [1n, 2n, 4n, 8n, 1n << 12n];
const SINT = 3;
const V = 0x60;
const ON_SINT = BigInt(SINT) << 16n;
const GP = { kind: 'fault', vector: 'GP' };

/** SINT 3 at vector 0x60 on VP 0. */
function timerGuest(options: ViridianTestOptions = {}, sintFlags = 0n): ViridianTestGuest {
  const g = new ViridianTestGuest(options);
  g.enableSynic(0, { [SINT]: { vector: V, flags: sintFlags } });
  return g;
}
/** The message in SINT 3's slot and its HV_TIMER_MESSAGE_PAYLOAD. */
function expiry(g: ViridianTestGuest) {
  const { header, payload } = g.slot(0, SINT);
  expect(header).toMatchObject({ message_type: HVMSG.HVMSG_TIMER_EXPIRED, payload_size: 24, sender: 0n });
  return { flags: header.message_flags, body: decodeStruct(payload, hv_timer_message_payload) };
}
/** The guest's ISR: empty the slot, then EOI (a rescan point). */
function handled(g: ViridianTestGuest): void {
  g.clearSlot(0, SINT);
  g.model.apicEoi(0);
}
function oneShot(g: ViridianTestGuest, timer: number, count: bigint): void {
  g.wrmsrOk(COUNT(timer), count);
  g.wrmsrOk(CONFIG(timer), ENABLE | ON_SINT);
}

describe('synthetic timers (TLFS timers.md "Synthetic Timers")', () => {
  test('one-shot: Count is the absolute expiry in 100 ns; nothing at deadline - 1 ns, the message at the deadline ("never delivered before the expiration time")', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.bigInt({ min: 1n, max: 10_000_000n }), fc.bigInt({ min: 0n, max: 10n ** 12n }), (timer, count, r) => {
        const deadline = count * 100n;
        const g = timerGuest();
        g.advanceTo(r % deadline);
        oneShot(g, timer, count);
        expect(g.advanceTo(deadline - 1n)).toEqual([]);
        expect(g.slot(0, SINT).header.message_type).toBe(0);
        expect(g.model.takeExpiries()).toEqual([]);
        expect(g.advanceTo(deadline)).toEqual([[0, V]]);
        expect(expiry(g)).toEqual({ flags: 0, body: { timer_index: timer, reserved: 0, expiration_time: count, delivery_time: count } });
        expect(g.model.takeExpiries()).toEqual([{ vp: 0, timer, expected: count, at: deadline, delivery: 'message' }]);
        expect(g.rdmsrOk(CONFIG(timer))).toBe(ON_SINT); // "When a one-shot timer expires, it is automatically marked as disabled"
        expect(g.rdmsrOk(COUNT(timer))).toBe(count);
      }),
      { numRuns: 60 },
    );
  });

  test('a one-shot whose Count is already past expires at once, with no time passing', () => {
    const g = timerGuest();
    g.advanceTo(1_000_000n);
    oneShot(g, 1, 5n);
    expect(g.advanceTo(1_000_000n)).toEqual([[0, V]]);
    expect(expiry(g).body).toMatchObject({ timer_index: 1, expiration_time: 5n, delivery_time: 10_000n });
  });

  test('periodic: expires every Count * 100 ns from the time it was enabled and stays enabled ("Periodic Timers")', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 100_000n }), fc.bigInt({ min: 0n, max: 1_000_000n }), (period, t0) => {
        const g = timerGuest();
        g.advanceTo(t0);
        g.wrmsrOk(COUNT(2), period);
        g.wrmsrOk(CONFIG(2), ENABLE | PERIODIC | ON_SINT);
        for (let k = 1n; k <= 4n; k++) {
          const at = t0 + k * period * 100n;
          expect(g.advanceTo(at - 1n)).toEqual([]);
          expect(g.advanceTo(at)).toEqual([[0, V]]);
          expect(expiry(g).body).toMatchObject({ timer_index: 2, expiration_time: at / 100n, delivery_time: at / 100n });
          handled(g);
        }
        expect(g.rdmsrOk(CONFIG(2))).toBe(ENABLE | PERIODIC | ON_SINT);
      }),
      { numRuns: 30 },
    );
  });

  test('AutoEnable: a non-zero Count write sets Enable and starts the timer; Count 0 stops it regardless of AutoEnable', () => {
    const g = timerGuest();
    g.wrmsrOk(CONFIG(0), AUTO | PERIODIC | ON_SINT);
    expect(g.rdmsrOk(CONFIG(0)) & ENABLE).toBe(0n);
    g.advanceTo(100n);
    g.wrmsrOk(COUNT(0), 50n);
    expect(g.rdmsrOk(CONFIG(0))).toBe(AUTO | PERIODIC | ON_SINT | ENABLE);
    expect(g.advanceTo(5_099n)).toEqual([]);
    expect(g.advanceTo(5_100n)).toEqual([[0, V]]);
    handled(g);
    g.wrmsrOk(COUNT(0), 0n);
    expect(g.rdmsrOk(CONFIG(0)) & ENABLE).toBe(0n);
    expect(g.advanceTo(1_000_000n)).toEqual([]);
    expect(g.model.takeExpiries()).toHaveLength(1);
  });

  test('Enable with SINTx 0 and no DirectMode is cleared at once, and AutoEnable cannot set it', () => {
    const g = timerGuest();
    g.wrmsrOk(COUNT(0), 10n);
    g.wrmsrOk(CONFIG(0), ENABLE | PERIODIC);
    expect(g.rdmsrOk(CONFIG(0))).toBe(PERIODIC);
    g.wrmsrOk(CONFIG(1), AUTO);
    g.wrmsrOk(COUNT(1), 10n);
    expect(g.rdmsrOk(CONFIG(1))).toBe(AUTO);
    expect(g.advanceTo(1_000_000n)).toEqual([]);
    expect(g.model.takeExpiries()).toEqual([]);
  });

  test('Enable with Count 0 stays set but nothing runs until a Count is written (V24)', () => {
    const g = timerGuest();
    g.wrmsrOk(CONFIG(3), ENABLE | ON_SINT);
    expect(g.rdmsrOk(CONFIG(3))).toBe(ENABLE | ON_SINT);
    expect(g.advanceTo(1_000_000n)).toEqual([]);
    g.wrmsrOk(COUNT(3), 10_050n);
    expect(g.advanceTo(1_005_000n)).toEqual([[0, V]]);
  });

  test('reserved CONFIG bits 15:13 and 63:20 are #GP and leave the register unchanged; Lazy (bit 2) is accepted (V24)', () => {
    const g = timerGuest();
    g.wrmsrOk(CONFIG(0), LAZY | PERIODIC | ON_SINT);
    const bits = [13, 14, 15, ...Array.from({ length: 44 }, (_, i) => 20 + i)];
    fc.assert(
      fc.property(fc.constantFrom(...bits), fc.integer({ min: 0, max: 3 }), (bit, timer) => {
        const before = g.rdmsrOk(CONFIG(timer));
        expect(g.wrmsr(CONFIG(timer), ON_SINT | (1n << BigInt(bit)))).toEqual(GP);
        expect(g.rdmsrOk(CONFIG(timer))).toBe(before);
      }),
    );
    expect(g.rdmsrOk(CONFIG(0))).toBe(LAZY | PERIODIC | ON_SINT);
  });

  test('DirectMode: #GP without CPUID 0x40000003 EDX bit 19 (ws2008); in modern the expiry asserts ApicVector and posts no message ("Direct Synthetic Timers")', () => {
    const config = ENABLE | DIRECT | (0x70n << 4n);
    const ws2008 = timerGuest({ viridian: { profile: 'ws2008' } });
    expect(ws2008.wrmsr(CONFIG(0), config)).toEqual(GP);
    expect(ws2008.rdmsrOk(CONFIG(0))).toBe(0n);
    const g = timerGuest();
    g.wrmsrOk(COUNT(0), 100n);
    g.wrmsrOk(CONFIG(0), config); // SINTx 0 is fine in direct mode
    expect(g.rdmsrOk(CONFIG(0))).toBe(config);
    expect(g.advanceTo(10_000n)).toEqual([[0, 0x70]]);
    expect(g.read(BigInt(TEST_LAYOUT.simGfn(0)) << 12n, 4096).every((b) => b === 0)).toBe(true);
    expect(g.model.takeExpiries()).toEqual([{ vp: 0, timer: 0, expected: 100n, at: 10_000n, delivery: 'direct' }]);
  });

  test('an expiry message that finds its slot busy waits with MessagePending set in the busy slot; DeliveryTime is when it reaches the slot (HV_TIMER_MESSAGE_PAYLOAD)', () => {
    const g = timerGuest();
    oneShot(g, 0, 100n);
    oneShot(g, 1, 200n);
    expect(g.advanceTo(20_000n)).toEqual([[0, V]]);
    expect(expiry(g)).toMatchObject({ flags: HV_MESSAGE_FLAG_PENDING, body: { timer_index: 0, delivery_time: 100n } });
    g.advanceTo(50_000n);
    g.clearSlot(0, SINT);
    g.wrmsrOk(M.HV_X64_MSR_EOM, 0n);
    expect(expiry(g)).toEqual({ flags: 0, body: { timer_index: 1, reserved: 0, expiration_time: 200n, delivery_time: 500n } });
    expect(g.model.takeExpiries().map((e) => [e.timer, e.at, e.delivery])).toEqual([
      [0, 10_000n, 'message'],
      [1, 20_000n, 'message'],
    ]);
  });

  test('a periodic expiry while its previous message still waits for the slot is dropped (one dedicated buffer per timer; V24)', () => {
    const g = timerGuest();
    g.wrmsrOk(COUNT(0), 100n);
    g.wrmsrOk(CONFIG(0), ENABLE | PERIODIC | ON_SINT);
    g.advanceTo(40_000n);
    expect(g.model.takeExpiries().map((e) => [e.expected, e.delivery])).toEqual([
      [100n, 'message'],
      [200n, 'message'],
      [300n, 'dropped'],
      [400n, 'dropped'],
    ]);
    handled(g); // the 20 us message reaches the slot now
    expect(expiry(g).body).toMatchObject({ expiration_time: 200n, delivery_time: 400n });
    g.advanceTo(50_000n);
    expect(g.model.takeExpiries().map((e) => e.delivery)).toEqual(['message']);
  });

  test('masked SINT: the message is written, the interrupt lost; with SIMP off it waits and enabling SIMP delivers it (V25)', () => {
    const masked = timerGuest({}, BigInt(HV_SYNIC.HV_SYNIC_SINT_MASKED));
    oneShot(masked, 0, 100n);
    expect(masked.advanceTo(10_000n)).toEqual([]);
    expect(expiry(masked).body.timer_index).toBe(0);
    const g = timerGuest();
    const simp = BigInt(TEST_LAYOUT.simGfn(0)) << 12n;
    g.wrmsrOk(M.HV_X64_MSR_SIMP, simp);
    oneShot(g, 2, 100n);
    expect(g.advanceTo(30_000n)).toEqual([]);
    expect(g.model.vps[0]?.queues[SINT]).toHaveLength(1);
    g.wrmsrOk(M.HV_X64_MSR_SIMP, simp | 1n);
    expect(expiry(g).body).toMatchObject({ timer_index: 2, expiration_time: 100n, delivery_time: 300n });
    expect(g.deliver()).toEqual([[0, V]]);
  });

  test('a VP halted with interrupts enabled wakes at its timer expiry', () => {
    const g = timerGuest();
    oneShot(g, 0, 100n);
    expect(g.model.halt(0, true)).toBe('halted');
    g.advanceTo(9_999n);
    expect(g.model.vps[0]?.run).toBe('halted');
    expect(g.advanceTo(10_000n)).toEqual([[0, V]]);
    expect(g.model.vps[0]?.run).toBe('running');
  });

  test('timer MSRs are #GP in the minimal profile (no AccessSyntheticTimerRegs privilege)', () => {
    const g = new ViridianTestGuest({ viridian: { profile: 'minimal' } });
    for (let t = 0; t < 4; t++) {
      for (const msr of [CONFIG(t), COUNT(t)]) {
        expect(g.rdmsr(msr)).toEqual(GP);
        expect(g.wrmsr(msr, ON_SINT)).toEqual(GP);
      }
    }
  });
});
