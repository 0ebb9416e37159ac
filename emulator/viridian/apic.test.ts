import fc from 'fast-check';
import { HV_X64_MSR as M } from './abi/msrs';
import { decodeIcr, ICR_DELIVERY } from './apic';
import { ViridianTestGuest } from './viridianTestkit';
import type { ViridianVp } from './vp';

/** An xAPIC ICR value: destination in 63:56, shorthand 19:18, level 14, delivery mode 10:8, vector 7:0 (Intel SDM 10.6.1). */
function icr(o: { vector?: number; delivery?: number; shorthand?: number; dest?: number; assert?: boolean }): bigint {
  return (BigInt(o.dest ?? 0) << 56n) | (BigInt(o.shorthand ?? 0) << 18n) | ((o.assert ?? true) ? 1n << 14n : 0n) | (BigInt(o.delivery ?? ICR_DELIVERY.fixed) << 8n) | BigInt(o.vector ?? 0);
}
const INIT = (dest: number, assert = true) => icr({ delivery: ICR_DELIVERY.init, dest, assert });
const SIPI = (dest: number, vector: number) => icr({ delivery: ICR_DELIVERY.startup, dest, vector });
const [SELF, ALL, OTHERS] = [1, 2, 3];

function vpOf(g: ViridianTestGuest, i: number): ViridianVp {
  const vp = g.model.vps[i];
  if (!vp) throw new Error(`no VP ${i}`);
  return vp;
}
const states = (g: ViridianTestGuest) => g.model.vps.map((vp) => [vp.run, vp.hw.state]);

describe('ICR writes (model.apicIcrWrite; Intel SDM vol. 3 10.6.1)', () => {
  test('decodeIcr splits vector, delivery mode, level, shorthand and the xAPIC destination (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 7 }), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), (vector, delivery, assert, shorthand, dest) => {
        expect(decodeIcr(icr({ vector, delivery, assert, shorthand, dest }))).toEqual({ vector, delivery, assert, shorthand, destination: dest });
      }),
    );
  });

  test('a fixed IPI reaches only the VP whose APIC id is in ICR bits 63:56 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 16, max: 255 }), (sender, dest, vector) => {
        const g = new ViridianTestGuest({ vcpus: 4 });
        expect(g.model.apicIcrWrite(sender, icr({ vector, dest }))).toEqual({ kind: 'ok' });
        expect(g.deliver()).toEqual([[dest, vector]]);
      }),
      { numRuns: 50 },
    );
  });

  test('shorthands: self, all including self, all excluding self (the destination field is ignored)', () => {
    const g = new ViridianTestGuest({ vcpus: 3 });
    g.model.apicIcrWrite(1, icr({ vector: 0x30, shorthand: SELF, dest: 2 }));
    expect(g.deliver()).toEqual([[1, 0x30]]);
    g.model.apicIcrWrite(1, icr({ vector: 0x40, shorthand: ALL, dest: 2 }));
    expect(g.deliver()).toEqual([[0, 0x40], [1, 0x40], [2, 0x40]]);
    g.model.apicIcrWrite(1, icr({ vector: 0x50, shorthand: OTHERS, dest: 1 }));
    expect(g.deliver()).toEqual([[0, 0x50], [2, 0x50]]);
  });

  test('HV_X64_MSR_ICR sends the same IPI and reads back the last value (TLFS virtual-interrupts.md); #GP without APIC MSR access (minimal)', () => {
    const g = new ViridianTestGuest({ vcpus: 2 });
    const value = icr({ vector: 0x61, dest: 1 });
    g.wrmsrOk(M.HV_X64_MSR_ICR, value);
    expect(g.rdmsrOk(M.HV_X64_MSR_ICR)).toBe(value);
    expect(g.deliver()).toEqual([[1, 0x61]]);
    const minimal = new ViridianTestGuest({ viridian: { profile: 'minimal' } });
    expect(minimal.wrmsr(M.HV_X64_MSR_ICR, value)).toEqual({ kind: 'fault', vector: 'GP' });
  });

  test('a fixed IPI to a VP that has not started is lost, and is not pending once the VP starts', () => {
    const g = new ViridianTestGuest({ vcpus: 2, online: [0] });
    g.model.apicIcrWrite(0, icr({ vector: 0x80, dest: 1 }));
    expect(vpOf(g, 1).hw.pendingInterrupts()).toEqual([]);
    g.model.apicIcrWrite(0, INIT(1));
    g.model.apicIcrWrite(0, SIPI(1, 0x9a));
    expect(g.deliver()).toEqual([]);
  });

  test('a fixed IPI with an illegal vector 0-15 is not delivered (Intel SDM 10.5.2 "Valid Interrupt Vectors": send illegal vector error)', () => {
    const g = new ViridianTestGuest({ vcpus: 2 });
    g.model.apicIcrWrite(0, icr({ vector: 5, dest: 1 }));
    expect(vpOf(g, 1).hw.pendingInterrupts()).toEqual([]);
    expect(g.deliver()).toEqual([]);
  });

  test('physical destination 0xFF is a broadcast to every APIC in xAPIC mode (Intel SDM 10.6.2.1)', () => {
    const g = new ViridianTestGuest({ vcpus: 3 });
    g.model.apicIcrWrite(0, icr({ vector: 0x70, dest: 0xff }));
    expect(g.deliver()).toEqual([[0, 0x70], [1, 0x70], [2, 0x70]]);
  });
});

describe('INIT, start-up IPI and HLT (Intel SDM 8.4; docs/decisions.md V27)', () => {
  test('INIT then SIPI starts a not-started VP at vector * 4096; a second SIPI does nothing', () => {
    const g = new ViridianTestGuest({ vcpus: 2, online: [0] });
    expect(states(g)).toEqual([['running', 'running'], ['not-started', 'down']]);
    g.model.apicIcrWrite(0, INIT(1));
    expect(vpOf(g, 1).waitingForSipi).toBe(true);
    g.model.apicIcrWrite(0, SIPI(1, 0x9a));
    expect(vpOf(g, 1).startContext).toEqual({ rip: 0x9a000n, rsp: 0n, cr3: 0n, via: 'SIPI' });
    expect(states(g)[1]).toEqual(['running', 'running']);
    g.model.apicIcrWrite(0, SIPI(1, 0x10));
    expect(vpOf(g, 1).startContext?.rip).toBe(0x9a000n);
    expect(g.model.rdmsr(1, M.HV_X64_MSR_VP_INDEX)).toEqual({ kind: 'ok', value: 1n });
  });

  test('INIT stops a running VP and clears its pending and in-service vectors; an INIT de-assert (level 0) does nothing', () => {
    const g = new ViridianTestGuest({ vcpus: 2 });
    g.model.apicIcrWrite(0, icr({ vector: 0x41, dest: 1 }));
    g.deliver(); // 0x41 in service at VP 1
    g.model.apicIcrWrite(0, icr({ vector: 0x42, dest: 1 }));
    g.model.apicIcrWrite(0, INIT(1, false));
    expect(vpOf(g, 1).run).toBe('running');
    g.model.apicIcrWrite(0, INIT(1));
    expect(states(g)[1]).toEqual(['not-started', 'down']);
    expect(vpOf(g, 1).hw.pendingInterrupts()).toEqual([]);
    expect(vpOf(g, 1).highestInService()).toBe(-1);
    expect(() => g.model.rdmsr(1, M.HV_X64_MSR_VP_INDEX)).toThrow(/not-started/);
    g.model.apicIcrWrite(0, SIPI(1, 0x20));
    expect(vpOf(g, 1).startContext?.rip).toBe(0x20000n);
  });

  test('HLT with interrupts disabled stops the VP: interrupts do not wake it, INIT + SIPI restart it', () => {
    const g = new ViridianTestGuest({ vcpus: 2 });
    expect(g.model.halt(1, false)).toBe('stopped');
    expect(states(g)[1]).toEqual(['stopped', 'down']);
    g.model.apicIcrWrite(0, icr({ vector: 0x90, dest: 1 }));
    expect(vpOf(g, 1).run).toBe('stopped');
    expect(g.deliver()).toEqual([]);
    g.model.apicIcrWrite(0, INIT(1));
    g.model.apicIcrWrite(0, SIPI(1, 0x30));
    expect(states(g)[1]).toEqual(['running', 'running']);
  });

  test('HLT with interrupts enabled: the VP is blocked until an interrupt it can accept arrives; with one pending HLT returns at once', () => {
    const g = new ViridianTestGuest({ vcpus: 2 });
    expect(g.model.halt(1, true)).toBe('halted');
    expect(states(g)[1]).toEqual(['halted', 'blocked']);
    expect(g.deliver()).toEqual([]);
    g.model.apicIcrWrite(0, icr({ vector: 0x55, dest: 1 }));
    expect(states(g)[1]).toEqual(['running', 'running']);
    expect(g.deliver()).toEqual([[1, 0x55]]);
    // 0x55 is in service: a 0x52 (same class) cannot wake the VP.
    expect(g.model.halt(1, true)).toBe('halted');
    g.model.apicIcrWrite(0, icr({ vector: 0x52, dest: 1 }));
    expect(vpOf(g, 1).run).toBe('halted');
    g.model.apicIcrWrite(0, icr({ vector: 0x62, dest: 1 }));
    expect(vpOf(g, 1).run).toBe('running');
    g.model.apicIcrWrite(1, icr({ vector: 0x99, shorthand: SELF }));
    expect(g.model.halt(1, true)).toBe('woken');
    expect(vpOf(g, 1).run).toBe('running');
  });

  test('the machine vCPU state follows the VP (running -> running, halted -> blocked, stopped / not-started -> down) and is logged', () => {
    const g = new ViridianTestGuest({ vcpus: 2 });
    g.machine.takeEvents();
    g.model.halt(1, true);
    g.model.apicIcrWrite(0, icr({ vector: 0x40, dest: 1 }));
    g.model.halt(1, false);
    g.model.apicIcrWrite(0, INIT(1));
    const log = g.machine.takeEvents().flatMap((e) => (e.kind === 'vcpu-state' ? [[e.vcpu, e.from, e.to]] : []));
    expect(log).toEqual([
      [1, 'running', 'blocked'],
      [1, 'blocked', 'running'],
      [1, 'running', 'down'],
    ]);
  });
});

describe('interrupt acceptance (Intel SDM 10.8.3.1; docs/decisions.md V25)', () => {
  test('a pending vector is accepted only when its priority class (vector >> 4) is above the highest one in service (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 255 }), fc.integer({ min: 16, max: 255 }), (first, second) => {
        const g = new ViridianTestGuest({ vcpus: 1 });
        g.model.apicIcrWrite(0, icr({ vector: first, shorthand: SELF }));
        expect(g.deliver()).toEqual([[0, first]]);
        g.model.apicIcrWrite(0, icr({ vector: second, shorthand: SELF }));
        const accepted = second >> 4 > first >> 4;
        expect(g.deliver()).toEqual(accepted ? [[0, second]] : []);
        g.model.apicEoi(0);
        expect(g.deliver()).toEqual(accepted ? [] : [[0, second]]);
      }),
    );
  });

  test('EOI ends the highest vector in service first; a waiting lower-class vector is taken once its blocker is gone', () => {
    const g = new ViridianTestGuest({ vcpus: 1 });
    const self = (vector: number) => g.model.apicIcrWrite(0, icr({ vector, shorthand: SELF }));
    self(0x51);
    expect(g.deliver()).toEqual([[0, 0x51]]);
    self(0x55);
    expect(g.deliver()).toEqual([]);
    self(0x61);
    expect(g.deliver()).toEqual([[0, 0x61]]);
    g.model.apicEoi(0); // ends 0x61; 0x51 still blocks 0x55
    expect(g.deliver()).toEqual([]);
    g.wrmsrOk(M.HV_X64_MSR_EOI, 0n); // ends 0x51
    expect(g.deliver()).toEqual([[0, 0x55]]);
    expect(vpOf(g, 0).highestInService()).toBe(0x55);
  });

  test('pending vectors are taken highest first when nothing is in service', () => {
    const g = new ViridianTestGuest({ vcpus: 1 });
    g.model.deliverInterrupts(() => undefined);
    for (const vector of [0x31, 0xe0, 0x72]) g.model.apicIcrWrite(0, icr({ vector, shorthand: SELF }));
    const taken: number[] = [];
    g.model.deliverInterrupts((_vp, vector) => {
      taken.push(vector);
      g.model.apicEoi(0);
    });
    expect(taken).toEqual([0xe0, 0x72, 0x31]);
  });
});
