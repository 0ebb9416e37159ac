import fc from 'fast-check';
import { VirtualClock } from './clock';

describe('VirtualClock', () => {
  test('timers fire at their own deadline, in deadline order, equal deadlines in arming order', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.schedule(30n, 'c', () => fired.push(`c@${clock.now}`));
    clock.schedule(10n, 'a', () => fired.push(`a@${clock.now}`));
    clock.schedule(10n, 'b', () => fired.push(`b@${clock.now}`));
    clock.advanceTo(100n);
    expect(fired).toEqual(['a@10', 'b@10', 'c@30']);
    expect(clock.now).toBe(100n);
  });

  test('a timer armed by a callback fires in the same advance when it is due', () => {
    const clock = new VirtualClock();
    const fired: bigint[] = [];
    const tick = () => {
      fired.push(clock.now);
      if (clock.now < 40n) clock.schedule(clock.now + 10n, 'tick', tick);
    };
    clock.schedule(10n, 'tick', tick);
    clock.advanceTo(35n);
    expect(fired).toEqual([10n, 20n, 30n]);
  });

  test('a cancelled timer never fires; cancelling twice or after firing is harmless', () => {
    const clock = new VirtualClock();
    let n = 0;
    const h = clock.schedule(5n, 'x', () => n++);
    clock.cancel(h);
    clock.cancel(h);
    clock.advanceTo(10n);
    expect(n).toBe(0);
    const g = clock.schedule(15n, 'y', () => n++);
    clock.advanceTo(20n);
    clock.cancel(g);
    expect([n, clock.pending]).toEqual([1, 0]);
  });

  test('runDue fires timers already in the past without moving time', () => {
    const clock = new VirtualClock();
    clock.advanceTo(50n);
    let at = -1n;
    clock.schedule(10n, 'late', () => (at = clock.now));
    clock.runDue();
    expect([at, clock.now]).toEqual([50n, 50n]);
  });

  test('time cannot go backwards (a harness bug)', () => {
    const clock = new VirtualClock();
    clock.advanceTo(5n);
    expect(() => clock.advanceTo(4n)).toThrow('virtual time cannot go backwards');
  });

  test('the TSC is tscAtZero + floor(ns * hz / 1e9)', () => {
    const clock = new VirtualClock({ tscHz: 3_000_000_001n, tscAtZero: 7n });
    expect(clock.tscAt(1_000_000_000n)).toBe(3_000_000_008n);
    expect(clock.tscAt(1n)).toBe(10n);
  });

  test('property: after many arm/cancel rounds the live timers fire exactly once each, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 1000n }), fc.boolean()), { maxLength: 300 }), (ops) => {
        const clock = new VirtualClock();
        const fired: bigint[] = [];
        const live: bigint[] = [];
        for (const [deadline, cancel] of ops) {
          const h = clock.schedule(deadline, 't', () => fired.push(deadline));
          if (cancel) clock.cancel(h);
          else live.push(deadline);
        }
        clock.advanceTo(2000n);
        expect(fired).toEqual([...live].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }),
    );
  });
});
