import * as fs from 'node:fs';
import type { Diagnostic } from '../spec/diagnostics';
import type { KnownFailure } from '../run/expectations';
import type { ScenarioResult } from '../run/result';
import { totalsOf, type Totals } from '../run/runner';
import type { PolicyName } from './compliance';
import type { AdapterIdentity } from './summary';

/*
 * A run as data: what every report of the run folder is made from (summary.json, junit.xml,
 * allure-results/, the compliance report), and what the event stream (events.jsonl) carries so
 * that merge-reports can rebuild a run from its shards.
 */

/** The version of events.jsonl's format; a change that breaks readers raises it. */
export const EVENTS_FORMAT_VERSION = 1;

/** One scenario in one profile, as the run keeps it. */
export type RunResult = ScenarioResult & {
  /** Position in the unsharded run plan: the order of every report. */
  readonly index: number;
  /** The command that replays it step by step. */
  readonly replay: string;
};

/** A run's outcome against a baseline run (--baseline). */
export type Gating = {
  readonly baseline: string;
  /** Passed in the baseline, fails now: "id [profile]". */
  readonly regressions: readonly string[];
  /** Failed in the baseline, passes now. */
  readonly fixes: readonly string[];
  /** Not in the baseline. */
  readonly new: readonly string[];
};

/** The fuzz campaign of a run (xvc run --fuzz SECONDS), as the compliance report shows it. */
export type FuzzSummary = {
  readonly seed: number;
  readonly cases: Readonly<Record<string, number>>;
  readonly steps: number;
  readonly durationMs: number;
  readonly failures: readonly { readonly target: string; readonly profile: string; readonly message: string; readonly replay: string; readonly regressionFile: string | null }[];
  /** Fuzz workers that crashed or could not start: an infrastructure error (the campaign is incomplete). */
  readonly errors: readonly string[];
};

/** What a run was. */
export type RunMeta = {
  readonly tool: { readonly name: 'xvc'; readonly version: string };
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly command: readonly string[];
  readonly adapter: AdapterIdentity;
  /** Every profile the run's plan names, in plan order. */
  readonly profiles: readonly string[];
  /** The --seed of the run's fuzz campaign (xvc run --fuzz); null for a plain corpus run, which uses no randomness. */
  readonly seed: string | null;
  /** This run's shard of the plan (--shard I/N), or null. */
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** Runs in the unsharded plan (the merged run of all shards has this many results). */
  readonly planned: number;
  readonly expectationsFile: string | null;
  /** Set when the run was stopped before it finished (Ctrl-C, SIGTERM). */
  readonly interrupted: boolean;
  /** The compliance policy its verdict is given under (--policy). */
  readonly policy: PolicyName;
};

/** A whole run. */
export type RunRecord = {
  readonly meta: RunMeta;
  readonly results: readonly RunResult[];
  readonly diagnostics: readonly Diagnostic[];
  /** Known-failure entries whose expiry date has passed: each fails the run. */
  readonly expired: readonly KnownFailure[];
  readonly gating: Gating | null;
  readonly fuzz: FuzzSummary | null;
};

/** The totals of a run, with the files that did not load. */
export function recordTotals(record: RunRecord): Totals & { readonly invalidScenarios: number; readonly regressions: number; readonly expiredExpectations: number } {
  return {
    ...totalsOf(record.results),
    invalidScenarios: new Set(record.diagnostics.map((d) => d.file)).size,
    regressions: record.gating?.regressions.length ?? 0,
    expiredExpectations: record.expired.length,
  };
}

/** The outcome counts as the command line prints them. */
export function countsText(t: Totals): string {
  return `${t.passed} passed, ${t.failed} failed, ${t.errors} errors, ${t.knownFailures} known failures, ${t.unexpectedPasses} unexpected passes`;
}

/**
 * The exit code of a run (design.md section 6): an adapter or infrastructure error (3), then
 * invalid input (2), then conformance failures, unexpected passes, regressions, expired
 * known-failure entries and fuzz failures (1); else 0.
 */
export function exitCodeOfRecord(record: RunRecord): number {
  const t = recordTotals(record);
  if (t.errors > 0 || record.meta.interrupted || (record.fuzz?.errors.length ?? 0) > 0) return 3;
  if (record.diagnostics.length > 0) return 2;
  if (t.failed > 0 || t.unexpectedPasses > 0 || t.regressions > 0 || t.expiredExpectations > 0 || (record.fuzz?.failures.length ?? 0) > 0) return 1;
  return 0;
}

/** A result's key across runs: "id [profile]". */
export function resultKey(r: Pick<ScenarioResult, 'id' | 'profile'>): string {
  return `${r.id} [${r.profile}]`;
}

type Event =
  | ({ readonly type: 'run'; readonly formatVersion: number } & RunMeta)
  | ({ readonly type: 'result' } & RunResult)
  | ({ readonly type: 'diagnostic' } & Diagnostic)
  | ({ readonly type: 'expired' } & KnownFailure)
  | ({ readonly type: 'gating' } & Gating)
  | ({ readonly type: 'fuzz' } & FuzzSummary)
  | { readonly type: 'end'; readonly results: number; readonly exitCode: number };

const jsonLine = (value: unknown): string => `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;

/**
 * events.jsonl: one JSON object per line, versioned: the run, each result in plan order, the
 * diagnostics, expired expectations, the baseline comparison, the fuzz campaign, and an end
 * line (a stream without it is incomplete).
 */
export function eventStream(record: RunRecord): string {
  const events: Event[] = [
    { type: 'run', formatVersion: EVENTS_FORMAT_VERSION, ...record.meta },
    ...record.results.map((r) => ({ type: 'result' as const, ...r })),
    ...record.diagnostics.map((d) => ({ type: 'diagnostic' as const, ...d })),
    ...record.expired.map((e) => ({ type: 'expired' as const, ...e })),
    ...(record.gating ? [{ type: 'gating' as const, ...record.gating }] : []),
    ...(record.fuzz ? [{ type: 'fuzz' as const, ...record.fuzz }] : []),
    { type: 'end', results: record.results.length, exitCode: exitCodeOfRecord(record) },
  ];
  return events.map(jsonLine).join('');
}

/** A run folder's event stream that cannot be used, and why. */
export class EventStreamError extends Error {
  override readonly name = 'EventStreamError';
}

/** Reads a run folder's events.jsonl back into a record. */
export function readEventStream(file: string): RunRecord {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new EventStreamError(`${file}: cannot be read (${(error as Error).message}); is it a run folder written by xvc run?`);
  }
  let meta: RunMeta | undefined;
  const results: RunResult[] = [];
  const diagnostics: Diagnostic[] = [];
  const expired: KnownFailure[] = [];
  let gating: Gating | null = null;
  let fuzz: FuzzSummary | null = null;
  let ended = false;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let event: Event;
    try {
      event = JSON.parse(line) as Event;
    } catch {
      throw new EventStreamError(`${file}:${i + 1}: not a JSON line`);
    }
    switch (event.type) {
      case 'run': {
        const { type: _t, formatVersion, ...rest } = event;
        if (formatVersion !== EVENTS_FORMAT_VERSION) throw new EventStreamError(`${file}: event stream format ${formatVersion}, this xvc reads format ${EVENTS_FORMAT_VERSION}`);
        meta = rest;
        break;
      }
      case 'result': {
        const { type: _t, ...rest } = event;
        results.push(rest);
        break;
      }
      case 'diagnostic': {
        const { type: _t, ...rest } = event;
        diagnostics.push(rest);
        break;
      }
      case 'expired': {
        const { type: _t, ...rest } = event;
        expired.push(rest);
        break;
      }
      case 'gating': {
        const { type: _t, ...rest } = event;
        gating = rest;
        break;
      }
      case 'fuzz': {
        const { type: _t, ...rest } = event;
        fuzz = rest;
        break;
      }
      case 'end':
        ended = true;
        break;
      default:
        throw new EventStreamError(`${file}:${i + 1}: unknown event ${JSON.stringify((event as { type?: unknown }).type)}`);
    }
  });
  if (!meta) throw new EventStreamError(`${file}: no run line`);
  if (!ended) throw new EventStreamError(`${file}: the stream has no end line (the run did not finish writing it)`);
  return { meta, results, diagnostics, expired, gating, fuzz };
}
