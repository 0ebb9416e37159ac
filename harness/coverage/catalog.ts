import * as fs from 'node:fs';
import * as path from 'node:path';
import { implementedMsrs, VIRIDIAN_PROFILE_NAMES, VIRIDIAN_PROFILES, viridianAbi } from '../sut/index';
import { PACKAGE_ROOT } from '../paths';
import { factKey, type Fact } from './facts';

/**
 * vectors/coverage/catalog.json: every path the models implement that the corpus must exercise.
 * For each Xen hypercall and sub-op, the results it can give (ok, each errno, each GNTST status,
 * blocked, unimplemented); for each Viridian call code, the statuses it can give. A result that a
 * scenario cannot reach carries the reason. The catalog is checked against the models' source by
 * the test suite (harness/coverage/catalog.test.ts).
 */
export type Catalog = {
  readonly formatVersion: 1;
  readonly xen: readonly { readonly hypercall: string; readonly subop: string; readonly results: readonly string[]; readonly unreachable?: Readonly<Record<string, string>> }[];
  readonly viridian: readonly { readonly call: string; readonly statuses: readonly string[]; readonly unreachable?: Readonly<Record<string, string>> }[];
};

/** Where the catalog lives. */
export const CATALOG_PATH = path.join(PACKAGE_ROOT, 'vectors/coverage/catalog.json');

/** Reads the catalog. */
export function loadCatalog(file = CATALOG_PATH): Catalog {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Catalog;
}

/** One row of the coverage report. */
export type CoverageRow = {
  readonly area: 'xen' | 'viridian' | 'msr';
  /** What is covered: "event_channel_op EVTCHNOP_send XEN_EINVAL", "HVCALL_SIGNAL_EVENT HV_STATUS_SUCCESS", "HV_X64_MSR_SINT0 modern". */
  readonly item: string;
  readonly state: 'covered' | 'uncovered' | 'unreachable';
  readonly why?: string;
};

/** The coverage of a set of facts against the catalog and the MSR x profile matrix. */
export type Coverage = { readonly rows: readonly CoverageRow[]; readonly extra: readonly string[] };

/**
 * Compares what runs exercised with the catalog. MSRs: every MSR the model implements, in every
 * profile, is covered when a scenario of that profile read or wrote it (the outcome, OK or #GP,
 * follows from the profile's gates).
 */
export function coverageOf(facts: Iterable<Fact>, catalog: Catalog = loadCatalog()): Coverage {
  const seen = new Set<string>();
  for (const f of facts) seen.add(factKey(f));
  const rows: CoverageRow[] = [];
  const known = new Set<string>();
  for (const e of catalog.xen) {
    for (const result of e.results) {
      const key = factKey({ kind: 'xen', hypercall: e.hypercall, subop: e.subop, result });
      known.add(key);
      const why = e.unreachable?.[result];
      rows.push({ area: 'xen', item: `${e.hypercall} ${e.subop || '-'} ${result}`, state: seen.has(key) ? 'covered' : why ? 'unreachable' : 'uncovered', ...(why ? { why } : {}) });
    }
  }
  for (const e of catalog.viridian) {
    for (const status of e.statuses) {
      const key = factKey({ kind: 'viridian-call', call: e.call, status });
      known.add(key);
      const why = e.unreachable?.[status];
      rows.push({ area: 'viridian', item: `${e.call} ${status}`, state: seen.has(key) ? 'covered' : why ? 'unreachable' : 'uncovered', ...(why ? { why } : {}) });
    }
  }
  const msrNames = new Map<number, string>((Object.entries(viridianAbi.HV_X64_MSR) as [string, number][]).map(([n, v]) => [v, n]));
  for (const m of implementedMsrs()) {
    const name = msrNames.get(m.msr) ?? `0x${m.msr.toString(16)}`;
    for (const profile of VIRIDIAN_PROFILE_NAMES) {
      const p = VIRIDIAN_PROFILES[profile];
      const offered = ((m.gate.register === 'eax' ? p.privileges.eax : p.featuresEdx) & m.gate.bit) !== 0;
      const covered = ['read', 'write'].some((access) => ['ok', 'GP'].some((outcome) => seen.has(factKey({ kind: 'msr', msr: name, profile, access: access as 'read', outcome: outcome as 'ok' }))));
      rows.push({ area: 'msr', item: `${name} ${profile} (${offered ? 'offered' : '#GP'})`, state: covered ? 'covered' : 'uncovered' });
    }
  }
  const extra = [...seen].filter((k) => !known.has(k) && !k.startsWith('msr ')).sort();
  return { rows, extra };
}
