import type { Diagnostic } from '../spec/diagnostics';
import type { ScenarioResult } from '../run/result';
import type { Totals } from '../run/runner';

/** The version of summary.json's format; a change that breaks readers raises it. */
export const SUMMARY_FORMAT_VERSION = 1;

/** The adapter a run tested. */
export type AdapterIdentity = { readonly name: string; readonly version: string; readonly source: string };

/** reports/<run-id>/summary.json. */
export type Summary = {
  readonly formatVersion: typeof SUMMARY_FORMAT_VERSION;
  readonly tool: { readonly name: 'xvc'; readonly version: string };
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly command: readonly string[];
  readonly adapter: AdapterIdentity;
  readonly profiles: readonly string[];
  /** Seed of the run's randomness (fuzzing); null for a plain corpus run, which uses none. */
  readonly seed: string | null;
  readonly totals: Totals & { readonly invalidScenarios: number };
  readonly exitCode: number;
  /** Set when the run was stopped before it finished (Ctrl-C, SIGTERM). */
  readonly interrupted: boolean;
  readonly results: readonly (ScenarioResult & { readonly replay: string })[];
  readonly diagnostics: readonly Diagnostic[];
};

/** The command that replays one result step by step. */
export function replayCommand(result: Pick<ScenarioResult, 'file' | 'profile'>, adapterSource: string): string {
  const adapter = adapterSource === 'reference' ? '' : ` --adapter ${adapterSource}`;
  return `npx xvc replay ${result.file} --profile ${result.profile}${adapter}`;
}

/** JSON with bigints as decimal strings, keys in a stable order, two-space indent. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}
