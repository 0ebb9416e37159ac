import fc from 'fast-check';
import type { PlannedRun } from './runner';
import { parseShard, shardRuns } from './shard';

/*
 * --shard I/N (design.md section 6): the parser, and the split of a run plan into shards. The unit
 * is the scenario, every scenario is in exactly one shard, and every shard computes the same split
 * on its own, with or without the durations of an earlier run.
 */

const PROFILES = ['minimal', 'ws2008', 'modern'] as const;

/**
 * A run plan as shardRuns reads it: a scenario id and a profile per run (the rest of a loaded
 * scenario is irrelevant to sharding). Profiles of one scenario are adjacent, as planRuns makes them.
 */
function planOf(scenarios: readonly { readonly id: string; readonly profiles: number }[]): PlannedRun[] {
  return scenarios.flatMap((s) => PROFILES.slice(0, s.profiles).map((profile) => ({ loaded: { scenario: { id: s.id } }, profile }) as unknown as PlannedRun));
}

const idOf = (run: PlannedRun): string => run.loaded.scenario.id;
const keyOf = (run: PlannedRun): string => `${idOf(run)} [${run.profile}]`;

/** Every shard of a plan, each computed independently (as each CI job does). */
function split(plan: readonly PlannedRun[], count: number, durations?: ReadonlyMap<string, number>): PlannedRun[][] {
  return Array.from({ length: count }, (_, i) => shardRuns(plan, { index: i + 1, count }, durations));
}

/** Checks that the shards partition the plan by scenario, and returns the scenario ids of each shard. */
function expectExactPartition(plan: readonly PlannedRun[], shards: readonly PlannedRun[][]): string[][] {
  // Every run is in exactly one shard (each run object is distinct).
  const seen = new Map<PlannedRun, number>();
  for (const r of shards.flat()) seen.set(r, (seen.get(r) ?? 0) + 1);
  expect(shards.flat()).toHaveLength(plan.length);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
  expect(new Set(seen.keys())).toEqual(new Set(plan));
  // A scenario's runs are all in one shard, and each shard keeps plan order.
  const owner = new Map<string, number>();
  shards.forEach((runs, i) =>
    runs.forEach((r) => {
      expect(owner.get(idOf(r)) ?? i).toBe(i);
      owner.set(idOf(r), i);
    }),
  );
  for (const runs of shards) expect(runs).toEqual(plan.filter((r) => runs.includes(r)));
  return shards.map((runs) => [...new Set(runs.map(idOf))]);
}

/** The load of each shard under the durations (unknown runs at `unknown` ms). */
const loads = (shards: readonly PlannedRun[][], durations: ReadonlyMap<string, number>, unknown = 0): number[] =>
  shards.map((runs) => runs.reduce((a, r) => a + (durations.get(keyOf(r)) ?? unknown), 0));

describe('parseShard', () => {
  test('accepts I/N with 1 <= I <= N', () => {
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    expect(parseShard('4/4')).toEqual({ index: 4, count: 4 });
    expect(parseShard('10/12')).toEqual({ index: 10, count: 12 });
  });

  test('refuses an index or count out of range and what is not two decimal numbers', () => {
    for (const text of ['0/2', '3/2', '1/0', '0/0', 'a/b', '1/b', '1', '1/', '/2', '1/2/3', '-1/2', '+1/2', '1.0/2', '1 /2', '1/ 2', '1\\2', '', ' ', '0x1/2']) {
      expect([text, parseShard(text)]).toEqual([text, undefined]);
    }
  });

  test('surrounding whitespace is trimmed (a CI matrix value with a stray space still works); inner whitespace is not', () => {
    expect(parseShard(' 2/3 ')).toEqual({ index: 2, count: 3 });
    expect(parseShard('\t2/3\n')).toEqual({ index: 2, count: 3 });
    expect(parseShard('2 / 3')).toBeUndefined();
  });

  test('leading zeros read as decimal', () => {
    expect(parseShard('01/08')).toEqual({ index: 1, count: 8 });
    expect(parseShard('09/10')).toEqual({ index: 9, count: 10 });
  });
});

describe('shardRuns without durations', () => {
  test('every scenario lands in exactly one shard with all its profiles; shard sizes differ by at most one scenario', () => {
    const plan = planOf(Array.from({ length: 11 }, (_, i) => ({ id: `s${i}`, profiles: (i % 3) + 1 })));
    for (const count of [1, 2, 3, 4, 5, 11, 13]) {
      const ids = expectExactPartition(plan, split(plan, count));
      const sizes = ids.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  test('a single shard is the whole plan, in plan order', () => {
    const plan = planOf([{ id: 'a', profiles: 3 }, { id: 'b', profiles: 1 }]);
    expect(shardRuns(plan, { index: 1, count: 1 })).toEqual(plan);
  });

  test('an empty durations map is the same as none', () => {
    const plan = planOf(Array.from({ length: 7 }, (_, i) => ({ id: `s${i}`, profiles: 2 })));
    for (const index of [1, 2, 3]) expect(shardRuns(plan, { index, count: 3 }, new Map())).toEqual(shardRuns(plan, { index, count: 3 }));
  });

  test('scenarios are the unit even when a scenario id repeats apart in the plan', () => {
    const plan = [...planOf([{ id: 'a', profiles: 1 }, { id: 'b', profiles: 1 }]), ...planOf([{ id: 'a', profiles: 2 }])];
    const ids = expectExactPartition(plan, split(plan, 2));
    expect(ids.flat().sort()).toEqual(['a', 'b']);
  });

  test('property: exact partition and sizes within one scenario, for any plan and shard count', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 40 }), fc.integer({ min: 1, max: 9 }), (profiles, count) => {
        const plan = planOf(profiles.map((p, i) => ({ id: `s${i}`, profiles: p })));
        const sizes = expectExactPartition(plan, split(plan, count)).map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });
});

/** A synthetic plan with durations: scenario i has `profiles[i]` runs of `ms[i]` ms each. */
function timed(ms: readonly number[], profiles: readonly number[] = ms.map(() => 1)): { plan: PlannedRun[]; durations: Map<string, number>; weight: Map<string, number> } {
  const plan = planOf(ms.map((_, i) => ({ id: `s${i}`, profiles: profiles[i] ?? 1 })));
  const durations = new Map<string, number>();
  const weight = new Map<string, number>();
  for (const r of plan) {
    const d = ms[Number(idOf(r).slice(1))] ?? 0;
    durations.set(keyOf(r), d);
    weight.set(idOf(r), (weight.get(idOf(r)) ?? 0) + d);
  }
  return { plan, durations, weight };
}

describe('shardRuns with durations', () => {
  test('skewed durations: the partition is exact and the slowest shard is within the largest scenario of the mean', () => {
    // A few very long scenarios among many short ones, placed so that dealing them out in plan
    // order would put every long one on shard 1.
    const ms = Array.from({ length: 24 }, (_, i) => (i % 4 === 0 ? 4000 + i * 10 : 20 + i));
    const { plan, durations, weight } = timed(ms, ms.map((_, i) => (i % 3) + 1));
    const count = 4;
    const shards = split(plan, count, durations);
    expectExactPartition(plan, shards);
    const load = loads(shards, durations);
    const mean = load.reduce((a, b) => a + b, 0) / count;
    const largest = Math.max(...weight.values());
    expect(Math.max(...load)).toBeLessThanOrEqual(mean + largest);
    // And better than dealing in plan order, which is what the durations are for.
    const dealt = loads(split(plan, count), durations);
    expect(Math.max(...load)).toBeLessThan(Math.max(...dealt));
  });

  test('deterministic: the same input gives the same split, whichever shard asks and whatever the map order', () => {
    const { plan, durations } = timed([5, 90, 13, 13, 7, 250, 1, 13, 60, 2], [1, 2, 3, 1, 2, 3, 1, 2, 3, 1]);
    const reversed = new Map([...durations].reverse());
    const first = split(plan, 3, durations);
    expect(split(plan, 3, durations)).toEqual(first);
    expect(split(plan, 3, reversed)).toEqual(first);
    // Each shard asked alone, in any order, gives its part of the same split.
    for (const index of [3, 1, 2]) expect(shardRuns(plan, { index, count: 3 }, reversed)).toEqual(first[index - 1]);
  });

  test('property: exact partition, and max load <= mean + the largest scenario, for any durations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ms: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 100_000 })), profiles: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        (rows, count) => {
          const { plan, durations, weight } = timed(
            rows.map((r) => r.ms),
            rows.map((r) => r.profiles),
          );
          const shards = split(plan, count, durations);
          expectExactPartition(plan, shards);
          const load = loads(shards, durations);
          const mean = load.reduce((a, b) => a + b, 0) / count;
          expect(Math.max(...load)).toBeLessThanOrEqual(mean + Math.max(...weight.values()) + 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a scenario the durations do not know weighs the median of the known run durations', () => {
    // Known runs 1, 1, 2, 3, 4 ms: median 2, smallest 1, mean 2.2, largest 4. s5 is new. Where it
    // goes depends on its weight, and only the median puts it on shard 1.
    const { plan, durations } = timed([1, 1, 2, 3, 4, 0]);
    durations.delete('s5 [minimal]');
    const withWeight = (ms: number): Map<string, number> => new Map([...durations, ['s5 [minimal]', ms]]);
    const ownerOfNew = (d: ReadonlyMap<string, number>): number => split(plan, 2, d).findIndex((runs) => runs.some((r) => idOf(r) === 's5')) + 1;
    expect(ownerOfNew(durations)).toBe(ownerOfNew(withWeight(2)));
    for (const other of [0, 1, 2.2, 4]) expect([other, ownerOfNew(withWeight(other))]).not.toEqual([other, ownerOfNew(durations)]);
    expect(split(plan, 2, durations)).toEqual(split(plan, 2, withWeight(2)));
    expectExactPartition(plan, split(plan, 2, durations));
  });

  test('equal durations: ties go to the lower shard and keep plan order, which deals scenarios out like no durations', () => {
    const { plan, durations } = timed(Array.from({ length: 10 }, () => 7), Array.from({ length: 10 }, () => 1));
    for (const count of [2, 3, 4]) expect(split(plan, count, durations)).toEqual(split(plan, count));
  });

  test('an unknown scenario with several profiles weighs the median once per run', () => {
    // Known runs 10, 3, 3 ms (median 3). The new scenario s3 runs in 3 profiles: 9 ms in all,
    // which places it before s1 and s2 (3 ms each) and next to s0.
    const { plan, durations } = timed([10, 3, 3, 0], [1, 1, 1, 3]);
    for (const p of PROFILES) durations.delete(`s3 [${p}]`);
    const filled = new Map([...durations, ...PROFILES.map((p) => [`s3 [${p}]`, 3] as const)]);
    expect(split(plan, 2, durations)).toEqual(split(plan, 2, filled));
    const asOne = new Map([...durations, ...PROFILES.map((p) => [`s3 [${p}]`, 1] as const)]);
    expect(split(plan, 2, filled)).not.toEqual(split(plan, 2, asOne));
  });

  test('durations of scenarios no longer in the plan change nothing when every planned run is known', () => {
    const { plan, durations } = timed([40, 30, 20, 10, 5]);
    const extra = new Map([...durations, ['gone [modern]', 1000], ['gone [ws2008]', 1000], ['gone [minimal]', 1000]]);
    expect(split(plan, 2, extra)).toEqual(split(plan, 2, durations));
    expectExactPartition(plan, split(plan, 2, extra));
  });

  test('a shard of a plan with more shards than scenarios may be empty, and the split stays exact', () => {
    const { plan, durations } = timed([3, 1]);
    const shards = split(plan, 4, durations);
    expectExactPartition(plan, shards);
    expect(shards.filter((s) => s.length === 0)).toHaveLength(2);
  });
});
