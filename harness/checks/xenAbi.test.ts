import * as fs from 'node:fs';
import * as path from 'node:path';
import { XEN_ABI_TABLES, flattenTables, hypercallTable, NR_HYPERCALLS, xenAbi, type StructLayout } from '../sut/index';
import { REPO_ROOT } from './repoRoot';

type ConstantsVector = { source: { commit: string }; constants: Record<string, { header: string; value: number | string }> };
type LayoutsVector = { structs: Record<string, { size: number; fields: Record<string, { offset: number; size: number }> }> };

const constants = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'vectors/encoding/xen-public-constants.json'), 'utf8')) as ConstantsVector).constants;
const layouts = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'vectors/encoding/xen-struct-layouts.json'), 'utf8')) as LayoutsVector).structs;

/** A vector value as a bigint (hex strings are values wider than 2^53). */
function vectorValue(v: number | string): bigint {
  return typeof v === 'string' ? BigInt(v) : BigInt(v);
}

describe('Xen ABI tables against the public headers (vectors/encoding/xen-public-constants.json)', () => {
  const model = new Map(flattenTables(XEN_ABI_TABLES).map((c) => [c.name, c]));

  test('the vector holds the constants of every listed header', () => {
    expect(Object.keys(constants).length).toBeGreaterThan(450);
  });

  test('every constant of the headers is in the model tables with the value gcc computes', () => {
    const missing: string[] = [];
    const wrong: string[] = [];
    for (const [name, { value }] of Object.entries(constants)) {
      const c = model.get(name);
      if (!c) missing.push(name);
      else if (BigInt(c.value) !== vectorValue(value)) wrong.push(`${name}: model ${c.value}, headers ${value}`);
    }
    expect({ missing, wrong }).toEqual({ missing: [], wrong: [] });
  });

  test('every model constant that is not in the vector is a documented Xen-internal value', () => {
    const extra = [...model.values()].filter((c) => !(c.name in constants));
    expect(extra.map((c) => [c.name, c.note !== undefined])).toEqual([['EVTCHNOP_reset_cont', true]]);
  });

  test('each table names the header it was read from, and the header matches the vector', () => {
    for (const table of XEN_ABI_TABLES) {
      for (const c of flattenTables([table])) {
        const v = constants[c.name];
        if (v) expect(`${c.name} ${table.source}`).toBe(`${c.name} ${v.header}`);
      }
    }
  });

  test('a few well-known values, spelled as in the headers', () => {
    expect(xenAbi.XenHypercall.event_channel_op).toBe(32);
    expect(xenAbi.EVTCHNOP.EVTCHNOP_send).toBe(4);
    expect(xenAbi.XEN_ERRNO.XEN_EINVAL).toBe(22);
    expect(xenAbi.SCHEDOP.SCHEDOP_poll).toBe(3);
    expect(xenAbi.MMUEXT.MMUEXT_TLB_FLUSH_MULTI).toBe(8);
    expect(xenAbi.XENMEM.XENMEM_populate_physmap).toBe(6);
    expect(xenAbi.GNTST.GNTST_bad_handle).toBe(-4);
    expect(xenAbi.VIRQ.VIRQ_TIMER).toBe(0);
  });
});

describe('Xen struct layouts against the public headers (vectors/encoding/xen-struct-layouts.json)', () => {
  const models: readonly StructLayout[] = xenAbi.XEN_LAYOUTS;

  test.each(models.map((l) => [l.name, l] as const))('%s has the size and field offsets gcc computes', (name, layout) => {
    const v = layouts[name];
    expect(v).toBeDefined();
    expect(layout.size).toBe(v?.size);
    const sizes: Record<string, number> = { u8: 1, s8: 1, u16: 2, s16: 2, u32: 4, s32: 4, u64: 8 };
    for (const [field, f] of Object.entries(layout.fields)) {
      expect({ field, offset: f.offset }).toEqual({ field, offset: v?.fields[field]?.offset });
      // A modelled field may be a view of part of a larger member (a union), never wider than it.
      expect(sizes[f.type]).toBeLessThanOrEqual(v?.fields[field]?.size ?? 0);
    }
  });

  test('vcpu_time_info sits at offset 32 of vcpu_info, and shared_info is 3136 bytes', () => {
    expect(xenAbi.VCPU_INFO_TIME).toBe(layouts.vcpu_info?.fields.time?.offset);
    expect(xenAbi.SHARED_INFO.size).toBe(3136);
  });
});

describe('the hypercall table (xen/include/hypercall-defs.c)', () => {
  test('no two definitions share a number, and every number below NR_hypercalls has at most one', () => {
    for (const guest of ['pv', 'pvhvm'] as const) expect(hypercallTable(guest)).toHaveLength(NR_HYPERCALLS);
  });

  test('what a PV64 and an HVM64 guest can reach at the default build', () => {
    const reachable = (guest: 'pv' | 'pvhvm') => hypercallTable(guest).flatMap((d, nr) => (d ? [nr] : []));
    expect(reachable('pv')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 32, 33, 34, 35, 36, 37, 40, 41, 42, 48, 49]);
    expect(reachable('pvhvm')).toEqual([7, 12, 13, 15, 17, 18, 20, 21, 24, 26, 29, 32, 33, 34, 35, 36, 40, 41, 42, 49]);
  });
});
