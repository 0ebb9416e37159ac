import * as fs from 'node:fs';
import * as path from 'node:path';
import { resultKey, type Gating, type RunResult } from './record';

/** A baseline that cannot be used, and why. */
export class BaselineError extends Error {
  override readonly name = 'BaselineError';
}

type BaselineResult = { readonly id: string; readonly profile: string; readonly status: string; readonly known?: string; readonly durationMs?: number };

/** The results of an earlier run: its folder (or its summary.json). */
export function loadBaseline(dir: string): readonly BaselineResult[] {
  const file = fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? path.join(dir, 'summary.json') : dir;
  let summary: { results?: unknown };
  try {
    summary = JSON.parse(fs.readFileSync(file, 'utf8')) as { results?: unknown };
  } catch (error) {
    throw new BaselineError(`--baseline ${dir}: cannot read ${file} (${(error as Error).message}); give a run folder written by xvc run`);
  }
  if (!Array.isArray(summary.results)) throw new BaselineError(`--baseline ${dir}: ${file} has no results list`);
  return summary.results as BaselineResult[];
}

/** Whether a result counts as passing for gating: passed and not listed as a known failure. */
function passing(r: { readonly status: string; readonly known?: string }): boolean {
  return r.status === 'passed' && r.known === undefined;
}

/**
 * This run against a baseline: a scenario and profile that passed there and does not now is a
 * regression; one that did not pass there and passes now is a fix; one the baseline does not
 * have is new.
 */
export function compareWithBaseline(baseline: string, before: readonly BaselineResult[], now: readonly RunResult[]): Gating {
  const old = new Map(before.map((r) => [resultKey(r), r]));
  const regressions: string[] = [];
  const fixes: string[] = [];
  const added: string[] = [];
  for (const r of now) {
    const key = resultKey(r);
    const b = old.get(key);
    if (!b) added.push(key);
    else if (passing(b) && !passing(r)) regressions.push(key);
    else if (!passing(b) && passing(r)) fixes.push(key);
  }
  return { baseline, regressions, fixes, new: added };
}
