import type { CampaignResult } from '../fuzz/campaign';
import type { FuzzFailure } from '../fuzz/failure';
import type { RunMeta } from './record';
import { xmlEscape } from './junit';

/** The version of fuzz.json's format; raised when a field changes meaning or goes away. */
export const FUZZ_REPORT_FORMAT_VERSION = 1;

/** reports/<run-id>/fuzz.json. */
export type FuzzReport = { readonly formatVersion: typeof FUZZ_REPORT_FORMAT_VERSION } & Pick<RunMeta, 'tool' | 'runId' | 'startedAt' | 'finishedAt' | 'durationMs' | 'command' | 'adapter'> & {
  readonly seed: number;
  readonly targets: readonly string[];
  readonly profiles: readonly string[];
  readonly totals: {
    readonly cases: Readonly<Record<string, number>>;
    readonly steps: number;
    readonly stepsPerSecond: number;
    readonly shrinkRuns: number;
    readonly failures: number;
    readonly timedOut: boolean;
  };
  /** Distinct paths exercised, and how often each was (not counting shrinking runs). */
  readonly breadth: { readonly subops: number; readonly results: number; readonly viridianCalls: number; readonly viridianStatuses: number };
  readonly exercised: ReturnType<CampaignResult['exercised']['toJSON']>;
  readonly batches: CampaignResult['batches'];
  readonly failures: readonly (Omit<FuzzFailure, 'scenario'> & { readonly replay: string; readonly regressionFile: string | null })[];
  readonly exitCode: number;
};

/** junit.xml of a campaign: one testcase per target, failed when the target found a failure. */
export function fuzzJunitXml(report: FuzzReport): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites name="xvc fuzz ${xmlEscape(report.adapter.name)}" tests="${report.targets.length}" failures="${report.failures.length}" errors="0" time="${(report.durationMs / 1000).toFixed(3)}">`);
  lines.push(`  <testsuite name="fuzz" tests="${report.targets.length}" failures="${report.failures.length}" errors="0" time="${(report.durationMs / 1000).toFixed(3)}">`);
  for (const target of report.targets) {
    const cases = report.totals.cases[target] ?? 0;
    const found = report.failures.filter((f) => f.target === target);
    const head = `    <testcase classname="fuzz.${xmlEscape(target)}" name="${xmlEscape(`${target}-level fuzzing, seed ${report.seed} (${cases} cases)`)}"`;
    if (found.length === 0) {
      lines.push(`${head}/>`);
      continue;
    }
    lines.push(`${head}>`);
    for (const f of found) {
      const detail = [f.message, `profile: ${f.profile}`, `seed ${f.seed}, path ${f.path}, ${f.shrinks} shrinks`, ...f.lines, `replay: ${f.replay}`, ...(f.regressionFile ? [`regression: ${f.regressionFile}`] : [])].join('\n');
      lines.push(`      <failure message="${xmlEscape(`${f.firstDifference}: ${f.message}`)}" type="${xmlEscape(target)}">${xmlEscape(detail)}</failure>`);
    }
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}
