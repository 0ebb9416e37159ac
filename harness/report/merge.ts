import type { Diagnostic } from '../spec/diagnostics';
import type { KnownFailure } from '../run/expectations';
import { resultKey, type FuzzSummary, type Gating, type RunRecord, type RunResult } from './record';

/*
 * merge-reports: the shards of one run (xvc run --shard I/N) back into the run they split. Each
 * shard loads the whole corpus and plans the whole run, then executes its part; so the merged
 * record has every result in plan order, and the diagnostics and expired expectations every
 * shard saw once. What only the unsharded run would know the merge derives: the start (the
 * earliest shard's), the end (the latest's), the duration (the longest shard's: shards run side
 * by side) and the command (a shard's, without --shard and --out).
 */

/** Shards that do not make one run, and why. */
export class MergeError extends Error {
  override readonly name = 'MergeError';
}

/** The shards' records (each labelled for messages, e.g. by its folder) merged into one run. */
export function mergeRecords(shards: readonly { readonly label: string; readonly record: RunRecord }[], runId: string): RunRecord {
  const first = shards[0];
  if (first === undefined) throw new MergeError('no run folders to merge');
  for (const { label, record } of shards.slice(1)) checkSameRun(first, { label, record });
  checkShardSet(shards);

  const results = shards.flatMap((s) => s.record.results).sort((a, b) => a.index - b.index);
  const seen = new Map<number, RunResult>();
  for (const r of results) {
    const twice = seen.get(r.index);
    if (twice) throw new MergeError(`${resultKey(r)} is in more than one of the folders (plan position ${r.index}); give each shard once`);
    seen.set(r.index, r);
  }
  const m = first.record.meta;
  if (results.length !== m.planned && !shards.some((s) => s.record.meta.interrupted)) {
    throw new MergeError(`the folders hold ${results.length} results but the run planned ${m.planned}; a shard is missing or incomplete`);
  }

  const starts = shards.map((s) => s.record.meta.startedAt).sort();
  const ends = shards.map((s) => s.record.meta.finishedAt).sort();
  return {
    meta: {
      ...m,
      runId,
      startedAt: starts[0] ?? m.startedAt,
      finishedAt: ends[ends.length - 1] ?? m.finishedAt,
      durationMs: Math.max(...shards.map((s) => s.record.meta.durationMs)),
      command: withoutShard(m.command),
      shard: null,
      interrupted: shards.some((s) => s.record.meta.interrupted),
    },
    results,
    diagnostics: once<Diagnostic>(shards.flatMap((s) => s.record.diagnostics)),
    expired: once<KnownFailure>(shards.flatMap((s) => s.record.expired)),
    gating: mergeGating(shards.map((s) => s.record.gating), results),
    fuzz: mergeFuzz(shards.map((s) => s.record).sort((a, b) => (a.meta.shard?.index ?? 0) - (b.meta.shard?.index ?? 0)).map((r) => r.fuzz)),
  };
}

/** Refuses folders that are not shards of the same run of the same harness and adapter. */
function checkSameRun(a: { readonly label: string; readonly record: RunRecord }, b: { readonly label: string; readonly record: RunRecord }): void {
  const x = a.record.meta;
  const y = b.record.meta;
  if (x.tool.version !== y.tool.version) {
    throw new MergeError(`${a.label} was written by xvc ${x.tool.version} and ${b.label} by xvc ${y.tool.version}; shards of one run must come from one harness version (rerun the older shards)`);
  }
  const same = (what: string, p: unknown, q: unknown): void => {
    if (JSON.stringify(p) !== JSON.stringify(q)) throw new MergeError(`${a.label} and ${b.label} are not shards of one run: their ${what} differ (${JSON.stringify(p)} and ${JSON.stringify(q)})`);
  };
  same('adapters', x.adapter, y.adapter);
  same('planned runs', x.planned, y.planned);
  same('profiles', x.profiles, y.profiles);
  same('commands (apart from --shard and --out)', withoutShard(x.command), withoutShard(y.command));
  same('policies', x.policy, y.policy);
  same('shard counts', x.shard?.count ?? null, y.shard?.count ?? null);
}

/** Every shard of 1..N exactly once (unsharded folders are merged as they are). */
function checkShardSet(shards: readonly { readonly label: string; readonly record: RunRecord }[]): void {
  const count = shards[0]?.record.meta.shard?.count;
  if (count === undefined) return;
  const byIndex = new Map<number, string>();
  for (const { label, record } of shards) {
    const i = record.meta.shard?.index ?? 0;
    const other = byIndex.get(i);
    if (other !== undefined) throw new MergeError(`${other} and ${label} are both shard ${i}/${count}`);
    byIndex.set(i, label);
  }
  const missing = Array.from({ length: count }, (_v, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) throw new MergeError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing; give every shard's run folder`);
}

/**
 * The command line without `--shard I/N` and `--out DIR` (either also as `--name=value`): what
 * the shards of one run share, and the command of the merged run (its reports folder is
 * merge-reports' --out).
 */
export function withoutShard(command: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < command.length; i++) {
    const arg = command[i] as string;
    if (arg === '--shard' || arg === '--out') i++;
    else if (!arg.startsWith('--shard=') && !arg.startsWith('--out=')) out.push(arg);
  }
  return out;
}

/** Entries that every shard repeats, once each, in first-seen order. */
function once<T>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The shards' fuzz campaigns (xvc run --fuzz in each) as one: cases and steps added up, the
 * longest duration, every failure (in shard order); the seed is the first shard's (with --seed,
 * every shard's).
 */
function mergeFuzz(parts: readonly (FuzzSummary | null)[]): FuzzSummary | null {
  const present = parts.filter((f): f is FuzzSummary => f !== null);
  const first = present[0];
  if (first === undefined) return null;
  const cases: Record<string, number> = {};
  for (const f of present) for (const [t, n] of Object.entries(f.cases)) cases[t] = (cases[t] ?? 0) + n;
  return { seed: first.seed, cases, steps: present.reduce((a, f) => a + f.steps, 0), durationMs: Math.max(...present.map((f) => f.durationMs)), failures: present.flatMap((f) => f.failures), errors: present.flatMap((f) => f.errors) };
}

/** The shards' baseline comparisons as one, each list in plan order. */
function mergeGating(parts: readonly (Gating | null)[], results: readonly RunResult[]): Gating | null {
  const present = parts.filter((g): g is Gating => g !== null);
  const first = present[0];
  if (first === undefined) return null;
  const order = new Map(results.map((r) => [resultKey(r), r.index]));
  const merged = (pick: (g: Gating) => readonly string[]): string[] => [...new Set(present.flatMap(pick))].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  return { baseline: first.baseline, regressions: merged((g) => g.regressions), fixes: merged((g) => g.fixes), new: merged((g) => g.new) };
}
