import * as fs from 'node:fs';
import { parse } from 'yaml';
import type { Diagnostic } from '../spec/diagnostics';

/** A known failure: a scenario (in one profile, or all) expected to fail, with why. */
export type KnownFailure = { readonly id: string; readonly profile?: string; readonly reason: string; readonly expires?: string };

/** An expectations file's entries. */
export type Expectations = { readonly file: string; readonly entries: readonly KnownFailure[] };

/**
 * Reads an expectations file (YAML or JSON):
 *   knownFailures:
 *     - { id: evtchn.send.bad-port, profile: minimal, reason: "adapter issue #12", expires: 2027-01-31 }
 * Malformed entries are diagnostics (exit 2), never silently ignored.
 */
export function loadExpectations(file: string): { expectations?: Expectations; diagnostics: Diagnostic[] } {
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    return { diagnostics: [{ file, line: 1, col: 1, text: '', message: `cannot read the expectations file: ${(error as Error).message}`, hint: 'it is YAML or JSON with a knownFailures list' }] };
  }
  const list = (doc as { knownFailures?: unknown } | null)?.knownFailures;
  if (!Array.isArray(list)) return { diagnostics: [{ file, line: 1, col: 1, text: '', message: 'no knownFailures list', expected: 'knownFailures: [ { id, reason, profile?, expires? } ]', hint: 'see docs/ci.md' }] };
  const entries: KnownFailure[] = [];
  const diagnostics: Diagnostic[] = [];
  list.forEach((e: unknown, i) => {
    const entry = e as Record<string, unknown>;
    if (typeof entry?.['id'] !== 'string' || typeof entry['reason'] !== 'string' || entry['reason'].trim() === '') {
      diagnostics.push({ file, line: 1, col: 1, text: JSON.stringify(e), message: `knownFailures[${i}] needs an id and a reason`, expected: '{ id: SCENARIO_ID, reason: WHY, profile?: NAME, expires?: YYYY-MM-DD }' });
      return;
    }
    const expires = entry['expires'];
    const expiresText = expires instanceof Date ? expires.toISOString().slice(0, 10) : typeof expires === 'string' ? expires : undefined;
    if (expires !== undefined && (expiresText === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(expiresText))) {
      diagnostics.push({ file, line: 1, col: 1, text: String(expires), message: `knownFailures[${i}].expires is not a date`, expected: 'YYYY-MM-DD' });
      return;
    }
    entries.push({ id: entry['id'], reason: entry['reason'], ...(typeof entry['profile'] === 'string' ? { profile: entry['profile'] } : {}), ...(expiresText ? { expires: expiresText } : {}) });
  });
  return { expectations: { file, entries }, diagnostics };
}

/** The known-failure entry that covers a scenario in a profile, if any. */
export function knownFailure(expectations: Expectations | undefined, id: string, profile: string): KnownFailure | undefined {
  return expectations?.entries.find((e) => e.id === id && (e.profile === undefined || e.profile === profile));
}
