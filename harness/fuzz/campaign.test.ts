import { runCampaign, batchSeed, replayCase } from './campaign';
import { stepsOf, type FuzzCase } from './arbitraries/case';
import { VIRIDIAN_PROFILE_NAMES } from '../sut/index';

/*
 * A short campaign with a fixed seed against the reference adapter: clean, deterministic, and
 * broad (it reaches most hypercalls and sub-ops and many Viridian statuses).
 */

const base = { profiles: VIRIDIAN_PROFILE_NAMES, reference: true, adapterName: 'xvc-reference-adapter' } as const;

describe('a fuzz campaign against the reference adapter', () => {
  const first = runCampaign({ ...base, seed: 20261123, targets: ['xen', 'viridian'], runs: 150 });

  test('finds nothing', () => {
    expect(first.failures.map((f) => `${f.message}\n${f.lines.join('\n')}`)).toEqual([]);
    expect(first.cases).toEqual({ xen: 150, viridian: 150 });
    expect(first.steps).toBeGreaterThan(1000);
  });

  test('exercises most of the hypercalls and sub-ops, and many Viridian statuses', () => {
    const b = first.exercised.breadth;
    expect(b.subops).toBeGreaterThanOrEqual(90);
    expect(b.results).toBeGreaterThanOrEqual(150);
    expect(b.viridianCalls).toBeGreaterThanOrEqual(40);
    const x = first.exercised.toJSON().xen;
    for (const h of ['event_channel_op', 'sched_op', 'set_timer_op', 'vcpu_op', 'mmuext_op', 'memory_op', 'grant_table_op', 'multicall', 'xen_version', 'console_io', 'hvm_op', 'vm_assist']) expect(Object.keys(x)).toContain(h);
    for (const s of ['EVTCHNOP_send', 'EVTCHNOP_bind_virq', 'EVTCHNOP_unmask', 'EVTCHNOP_close']) expect(Object.keys(x['event_channel_op'] ?? {})).toContain(s);
  });

  test('is the same run for the same seed (batches, steps, every count)', () => {
    const again = runCampaign({ ...base, seed: 20261123, targets: ['xen', 'viridian'], runs: 150 });
    expect(again.batches).toEqual(first.batches);
    expect(again.steps).toBe(first.steps);
    expect(JSON.stringify(again.exercised.toJSON())).toBe(JSON.stringify(first.exercised.toJSON()));
  });

  test('differs for another seed', () => {
    const other = runCampaign({ ...base, seed: 7, targets: ['xen'], runs: 50 });
    expect(other.batches[0]?.seed).not.toBe(first.batches[0]?.seed);
    expect(other.steps).not.toBe(runCampaign({ ...base, seed: 20261123, targets: ['xen'], runs: 50 }).steps);
  });
});

describe('batches and replay', () => {
  test('batch seeds are fixed functions of the campaign seed, target and index', () => {
    expect(batchSeed(1, 'xen', 0)).toBe(batchSeed(1, 'xen', 0));
    const seeds = new Set([0, 1, 2, 3].flatMap((k) => [batchSeed(1, 'xen', k), batchSeed(1, 'viridian', k), batchSeed(2, 'xen', k)]));
    expect(seeds.size).toBe(12);
    for (const s of seeds) expect(Number.isInteger(s) && s >= -(2 ** 31) && s < 2 ** 31).toBe(true);
  });

  test('a seed and path give back the same generated case', () => {
    const options = { profiles: VIRIDIAN_PROFILE_NAMES, reference: true };
    const a = replayCase('xen', 12345, '3', options).input as FuzzCase;
    const b = replayCase('xen', 12345, '3', options).input as FuzzCase;
    expect(a).toBeDefined();
    expect(JSON.stringify(stepsOf(b))).toBe(JSON.stringify(stepsOf(a)));
    const c = replayCase('xen', 12345, '4', options).input as FuzzCase;
    expect(JSON.stringify(stepsOf(c))).not.toBe(JSON.stringify(stepsOf(a)));
  });

  test('a time limit stops the campaign, with both targets run', () => {
    let t = 0;
    const r = runCampaign({ ...base, seed: 3, targets: ['xen', 'viridian'], timeMs: 1000, batch: 5, now: () => (t += 7) });
    expect(r.timedOut).toBe(true);
    expect(r.cases.xen).toBeGreaterThan(0);
    expect(r.cases.viridian).toBeGreaterThan(0);
  });
});
