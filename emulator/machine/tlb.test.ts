import { Tlb } from './tlb';

function filled(): Tlb {
  const tlb = new Tlb();
  tlb.fill(0x1000n, 0x4000n, false);
  tlb.fill(0x1000n, 0x5123n, false);
  tlb.fill(0x2000n, 0x4000n, false);
  tlb.fill(0x9000n, 0xffff_8000_0000_0000n, true);
  return tlb;
}

const keys = (t: Tlb) => t.snapshot().map((e) => `${e.global ? 'g' : e.space.toString(16)}:${e.va.toString(16)}`);

describe('Tlb', () => {
  test('fill records page-aligned entries; a global entry belongs to every address space', () => {
    const t = filled();
    expect(keys(t)).toEqual(['g:ffff800000000000', '1000:4000', '1000:5000', '2000:4000']);
    expect(t.has(0x3000n, 0xffff_8000_0000_0123n)).toBe(true);
  });

  test('flushNonGlobal keeps only global entries; flushAll keeps nothing', () => {
    const t = filled();
    t.flushNonGlobal();
    expect(keys(t)).toEqual(['g:ffff800000000000']);
    t.flushAll();
    expect(t.size).toBe(0);
  });

  test('flushSpace drops one space, and global entries unless asked to keep them', () => {
    const t = filled();
    t.flushSpace(0x1000n, true);
    expect(keys(t)).toEqual(['g:ffff800000000000', '2000:4000']);
    t.flushSpace(0x1000n, false);
    expect(keys(t)).toEqual(['2000:4000']);
  });

  test('flushPages drops the pages of one space (or all spaces) and matching global entries', () => {
    const t = filled();
    t.flushPages(0x1000n, 0x4000n, 2n);
    expect(keys(t)).toEqual(['g:ffff800000000000', '2000:4000']);
    const u = filled();
    u.flushPages(undefined, 0x4000n);
    expect(keys(u)).toEqual(['g:ffff800000000000', '1000:5000']);
    u.flushPages(0x7000n, 0xffff_8000_0000_0000n);
    expect(keys(u)).toEqual(['1000:5000']);
  });
});
