import type { Diagnostic } from '../spec/diagnostics';
import { adapterOptionOf } from '../sut/process/commandSource';
import type { KnownFailure } from '../run/expectations';
import type { ScenarioResult } from '../run/result';
import { exitCodeOfRecord, recordTotals, type FuzzSummary, type Gating, type RunMeta, type RunRecord, type RunResult } from './record';

/** The version of summary.json's format; a change that breaks readers raises it. */
export const SUMMARY_FORMAT_VERSION = 1;

/** The adapter a run tested. */
export type AdapterIdentity = { readonly name: string; readonly version: string; readonly source: string };

/** reports/<run-id>/summary.json: the run's meta data (record.ts RunMeta says what each is), totals and results. */
export type Summary = { readonly formatVersion: typeof SUMMARY_FORMAT_VERSION } & Pick<
  RunMeta,
  'tool' | 'runId' | 'startedAt' | 'finishedAt' | 'durationMs' | 'command' | 'adapter' | 'profiles' | 'seed' | 'interrupted' | 'shard'
> & {
  readonly totals: ReturnType<typeof recordTotals>;
  readonly exitCode: number;
  readonly results: readonly Omit<RunResult, 'stepLog'>[];
  readonly diagnostics: readonly Diagnostic[];
  /** Known-failure entries past their expiry date (each fails the run). */
  readonly expiredExpectations: readonly KnownFailure[];
  /** The comparison with --baseline: regressions, fixes, new scenarios; null without one. */
  readonly baseline: Gating | null;
  /** The run's fuzz campaign (xvc run --fuzz), or null. */
  readonly fuzz: FuzzSummary | null;
};

/** summary.json of a run. */
export function summaryOf(record: RunRecord): Summary {
  const m = record.meta;
  return {
    formatVersion: SUMMARY_FORMAT_VERSION,
    tool: m.tool,
    runId: m.runId,
    startedAt: m.startedAt,
    finishedAt: m.finishedAt,
    durationMs: m.durationMs,
    command: m.command,
    adapter: m.adapter,
    profiles: m.profiles,
    seed: m.seed,
    totals: recordTotals(record),
    exitCode: exitCodeOfRecord(record),
    interrupted: m.interrupted,
    shard: m.shard,
    // Step logs stay in events.jsonl and the Allure results: the summary is the run at a glance.
    results: record.results.map(({ stepLog: _log, ...r }) => ({ ...r, durationMs: Math.round(r.durationMs * 1000) / 1000 })),
    diagnostics: record.diagnostics,
    expiredExpectations: record.expired,
    baseline: record.gating,
    fuzz: record.fuzz,
  };
}

/** The command that replays one result step by step. */
export function replayCommand(result: Pick<ScenarioResult, 'file' | 'profile'>, adapterSource: string): string {
  return `npx xvc replay ${result.file} --profile ${result.profile}${adapterOptionOf(adapterSource)}`;
}

/** JSON with bigints as decimal strings, keys in a stable order, two-space indent. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}
