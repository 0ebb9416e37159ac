import fc from 'fast-check';
import { GuestMemory, isFault, newFrame, writeToFrame } from './memory';
import type { Gfn } from './units';

const mem = () => new GuestMemory({ ramPages: 4, addressSpacePages: 8 });

describe('GuestMemory', () => {
  test('populated RAM reads as zero until written; accessors are little-endian', () => {
    const m = mem();
    expect(m.read64(0x10)).toBe(0n);
    expect(m.write32(0x10, 0x11223344)).toBeUndefined();
    expect([m.read8(0x10), m.read8(0x13), m.read16(0x11), m.read32(0x10)]).toEqual([0x44, 0x11, 0x2233, 0x11223344]);
    expect(m.write64(0x20, 0x0102030405060708n)).toBeUndefined();
    expect(m.read32(0x24)).toBe(0x01020304);
  });

  test('an access outside the address space is a fault value, never an exception', () => {
    const m = mem();
    expect(m.read8(8 * 4096)).toEqual({ kind: 'memory-fault', gpa: 8 * 4096, access: 'read', reason: 'outside' });
    expect(m.write64(-8, 1n)).toEqual({ kind: 'memory-fault', gpa: -8, access: 'write', reason: 'outside' });
    expect(isFault(m.read32(2 ** 60))).toBe(true);
  });

  test('an unpopulated frame inside the space faults with reason unpopulated', () => {
    expect(mem().read16(5 * 4096)).toEqual({ kind: 'memory-fault', gpa: 5 * 4096, access: 'read', reason: 'unpopulated' });
  });

  test('accesses that cross a page boundary work, and fault at the first unreadable byte', () => {
    const m = mem();
    expect(m.write64(4096 - 3, 0x8877665544332211n)).toBeUndefined();
    expect(m.read64(4096 - 3)).toBe(0x8877665544332211n);
    expect(m.read32(4 * 4096 - 2)).toEqual({ kind: 'memory-fault', gpa: 4 * 4096, access: 'read', reason: 'unpopulated' });
    expect(m.writeBytes(4 * 4096 - 2, new Uint8Array(4))).toMatchObject({ reason: 'unpopulated' });
    expect(m.read16(4 * 4096 - 2)).toBe(0); // nothing of the failed write landed
  });

  test('populate, depopulate and the populated count', () => {
    const m = mem();
    m.write8(3 * 4096, 7);
    expect(m.depopulate(3 as Gfn)).toBe(true);
    expect(m.populatedPages).toBe(3);
    expect(m.populate(3 as Gfn)).toBe(true);
    expect(m.read8(3 * 4096)).toBe(0); // contents are lost
    expect(m.populate(3 as Gfn)).toBe(false);
    expect(m.populate(8 as Gfn)).toBe(false);
  });

  test('a foreign frame is shared: writes through either memory are seen by both and mark both dirty', () => {
    const a = mem();
    const b = mem();
    a.write8(4096, 1);
    a.takeDirty();
    const frame = a.frameOf(1 as Gfn);
    expect(frame).toBeDefined();
    expect(b.mapForeign(6 as Gfn, frame as NonNullable<typeof frame>, true)).toBe(true);
    expect(b.read8(6 * 4096)).toBe(1);
    b.write8(6 * 4096 + 1, 2);
    expect(a.read8(4096 + 1)).toBe(2);
    expect(a.takeDirty()).toEqual([1]);
    expect(b.takeDirty()).toEqual([6]);
    writeToFrame(frame as NonNullable<typeof frame>, 2, Uint8Array.of(3));
    expect([a.takeDirty(), b.takeDirty()]).toEqual([[1], [6]]);
  });

  test('a read-only foreign frame refuses writes; unmapping restores or leaves a hole', () => {
    const b = mem();
    b.write8(2 * 4096, 9);
    expect(b.mapForeign(2 as Gfn, newFrame(), false)).toBe(true);
    expect(b.write8(2 * 4096, 1)).toMatchObject({ reason: 'read-only', access: 'write' });
    expect(b.unmapForeign(2 as Gfn, true)).toBe(true);
    expect(b.read8(2 * 4096)).toBe(9);
    expect(b.mapForeign(2 as Gfn, newFrame(), true)).toBe(true);
    expect(b.unmapForeign(2 as Gfn, false)).toBe(true);
    expect(b.isPopulated(2)).toBe(false);
  });

  test('property: whatever is written with writeBytes reads back, wherever it lands', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 * 4096 - 64 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), (at, bytes) => {
        const m = mem();
        expect(m.writeBytes(at, bytes)).toBeUndefined();
        expect(m.readBytes(at, bytes.length)).toEqual(bytes);
      }),
    );
  });
});
