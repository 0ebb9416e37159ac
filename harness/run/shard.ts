import type { PlannedRun } from './runner';

/** A shard of a run: the I-th of N (1-based), as --shard I/N gives it. */
export type Shard = { readonly index: number; readonly count: number };

/** Parses "I/N"; undefined when the text is not one. */
export function parseShard(text: string): Shard | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index >= 1 && index <= count ? { index, count } : undefined;
}

/**
 * The runs of one shard. The unit is the scenario (all its profiles go to the same shard), so
 * every scenario is in exactly one shard. Without durations the scenarios are dealt out in plan
 * order; with the durations of an earlier run (ms per "id [profile]"), the longest scenarios are
 * placed first, each on the least loaded shard (ties: the lower shard; equal durations: plan
 * order), so the shards take about as long. The split depends only on the plan and the
 * durations given, so every shard of a CI matrix computes the same split.
 */
export function shardRuns(plan: readonly PlannedRun[], shard: Shard, durations?: ReadonlyMap<string, number>): PlannedRun[] {
  const scenarios: { id: string; first: number; runs: PlannedRun[] }[] = [];
  const byId = new Map<string, (typeof scenarios)[number]>();
  plan.forEach((run, i) => {
    const id = run.loaded.scenario.id;
    let s = byId.get(id);
    if (!s) {
      s = { id, first: i, runs: [] };
      byId.set(id, s);
      scenarios.push(s);
    }
    s.runs.push(run);
  });
  const owner = new Map<string, number>();
  if (!durations || durations.size === 0) {
    scenarios.forEach((s, i) => owner.set(s.id, (i % shard.count) + 1));
  } else {
    // Unknown scenarios (new since the earlier run) weigh the median of the known ones.
    const known = [...durations.values()].sort((a, b) => a - b);
    const median = known[Math.floor(known.length / 2)] ?? 1;
    const weight = (s: (typeof scenarios)[number]): number => s.runs.reduce((a, r) => a + (durations.get(`${s.id} [${r.profile}]`) ?? median), 0);
    const order = [...scenarios].sort((a, b) => weight(b) - weight(a) || a.first - b.first);
    const load = Array.from({ length: shard.count }, () => 0);
    for (const s of order) {
      let best = 0;
      for (let k = 1; k < shard.count; k++) if ((load[k] as number) < (load[best] as number)) best = k;
      load[best] = (load[best] as number) + weight(s);
      owner.set(s.id, best + 1);
    }
  }
  return plan.filter((run) => owner.get(run.loaded.scenario.id) === shard.index);
}
