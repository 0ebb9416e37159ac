import * as fs from 'node:fs';
import type { Diagnostic } from '../spec/diagnostics';
import type { ScenarioResult } from './result';
import { ScenarioSource } from '../spec/source';
import { VIRIDIAN_PROFILE_NAMES } from '../sut/index';

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
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { diagnostics: [{ file, line: 1, col: 1, text: '', message: `cannot read the expectations file: ${(error as Error).message}`, hint: 'check the path given to --expectations' }] };
  }
  // Parsed with positions, so that every problem is reported at its line and column.
  const source = new ScenarioSource(file, text);
  const syntax = source.syntaxErrors();
  if (syntax.length > 0) return { diagnostics: syntax };
  const doc = source.value();
  const list = (doc as { knownFailures?: unknown } | null)?.knownFailures;
  if (!Array.isArray(list)) return { diagnostics: [source.diagnostic([], 'no knownFailures list', 'knownFailures: [ { id, reason, profile?, expires? } ]', 'see docs/ci.md')] };
  const entries: KnownFailure[] = [];
  const diagnostics: Diagnostic[] = [];
  const shape = '{ id: SCENARIO_ID, reason: WHY, profile?: NAME, expires?: YYYY-MM-DD }';
  list.forEach((e: unknown, i) => {
    const at = ['knownFailures', i];
    const entry = e as Record<string, unknown> | null;
    if (typeof entry?.['id'] !== 'string' || typeof entry['reason'] !== 'string' || entry['reason'].trim() === '') {
      diagnostics.push(source.diagnostic(at, `knownFailures[${i}] needs an id and a reason`, shape, 'every known failure says why it is expected'));
      return;
    }
    const unknown = Object.keys(entry).filter((k) => !['id', 'reason', 'profile', 'expires'].includes(k));
    if (unknown.length > 0) {
      diagnostics.push(source.diagnostic([...at, unknown[0] as string], `knownFailures[${i}] has an unknown field "${unknown[0] ?? ''}"`, shape, undefined, true));
      return;
    }
    const profile = entry['profile'];
    if (profile !== undefined && !(typeof profile === 'string' && (VIRIDIAN_PROFILE_NAMES as readonly string[]).includes(profile))) {
      diagnostics.push(source.diagnostic([...at, 'profile'], `knownFailures[${i}].profile "${String(profile)}" is not a profile`, VIRIDIAN_PROFILE_NAMES.join(', '), 'leave it out to cover every profile'));
      return;
    }
    const expires = entry['expires'];
    const expiresText = expires instanceof Date ? expires.toISOString().slice(0, 10) : typeof expires === 'string' ? expires : undefined;
    if (expires !== undefined && (expiresText === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(expiresText) || Number.isNaN(Date.parse(expiresText)))) {
      diagnostics.push(source.diagnostic([...at, 'expires'], `knownFailures[${i}].expires is not a date`, 'YYYY-MM-DD', 'the last day the entry holds; after it the run fails'));
      return;
    }
    entries.push({ id: entry['id'], reason: entry['reason'], ...(typeof profile === 'string' ? { profile } : {}), ...(expiresText ? { expires: expiresText } : {}) });
  });
  return { expectations: { file, entries }, diagnostics };
}

/** The known-failure entry that covers a scenario in a profile, if any. */
export function knownFailure(expectations: Expectations | undefined, id: string, profile: string): KnownFailure | undefined {
  return expectations?.entries.find((e) => e.id === id && (e.profile === undefined || e.profile === profile));
}

/**
 * A result marked with the reason of the entry that lists it. An infrastructure error is never
 * marked: the adapter crashed or hung, which no expectations entry excuses.
 */
export function markKnown<R extends Pick<ScenarioResult, 'id' | 'profile' | 'status'>>(result: R, expectations: Expectations | undefined): R & { known?: string } {
  const known = result.status === 'error' ? undefined : knownFailure(expectations, result.id, result.profile);
  return known ? { ...result, known: known.reason } : result;
}
