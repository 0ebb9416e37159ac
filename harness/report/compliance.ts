import { createHash } from 'node:crypto';
import type { Catalog } from '../coverage/catalog';
import { recordTotals, type RunRecord, type RunResult } from './record';

/*
 * The compliance report of a run: compliance.json (schema: docs/schemas/compliance.schema.json),
 * compliance.md and compliance.html (one self-contained file). What it says is a function of the
 * run record and the digest of the summary.json it summarises, so a published report can be
 * checked against its results (sha256sum summary.json).
 */

/** The version of compliance.json's format. */
export const COMPLIANCE_FORMAT_VERSION = 1;

/** How the verdict is reached. */
export type PolicyName = 'default' | 'strict';

export const POLICIES: Readonly<Record<PolicyName, string>> = {
  default: 'compliant when no scenario fails, no infrastructure error occurs, no scenario regresses against the baseline, no known-failure entry has expired or passes unexpectedly, and the fuzz campaign (if any) found nothing; failures listed with a reason in an expectations file are allowed and reported',
  strict: 'compliant when every scenario passes in every profile, with no known failure, no infrastructure error, no regression and no fuzz finding',
};

/** A cell of the hypercall matrix. */
/** A matrix cell: a failure outranks a known failure, which outranks a pass. */
export type Cell = 'passed' | 'failed' | 'known failure' | 'not covered';

/** compliance.json. */
export type Compliance = {
  readonly formatVersion: typeof COMPLIANCE_FORMAT_VERSION;
  readonly schema: 'docs/schemas/compliance.schema.json';
  readonly adapter: { readonly name: string; readonly version: string; readonly source: string };
  readonly harness: { readonly name: 'xvc'; readonly version: string };
  readonly runId: string;
  readonly date: string;
  readonly profiles: readonly string[];
  readonly policy: { readonly name: PolicyName; readonly rule: string };
  readonly verdict: 'compliant' | 'not compliant';
  /** Why the verdict is "not compliant" (empty when compliant). */
  readonly reasons: readonly string[];
  readonly totals: ReturnType<typeof recordTotals>;
  /** Every Xen hypercall and sub-op the models implement, against each profile. */
  readonly matrix: readonly { readonly hypercall: string; readonly subop: string; readonly profiles: Readonly<Record<string, Cell>> }[];
  /** Results by area (the scenario's folder). */
  readonly areas: readonly { readonly area: string; readonly passed: number; readonly failed: number; readonly errors: number; readonly known: number }[];
  /** The adapter's Viridian operations, each checked for well-formedness under the TLFS and the profile. */
  readonly wellFormedness: { readonly operationsChecked: number; readonly byProfile: Readonly<Record<string, number>>; readonly illFormed: readonly { readonly scenario: string; readonly profile: string; readonly operation: string; readonly why: string }[] };
  readonly fuzz: RunRecord['fuzz'];
  readonly knownFailures: readonly { readonly scenario: string; readonly profile: string; readonly reason: string; readonly outcome: string }[];
  readonly expiredExpectations: RunRecord['expired'];
  readonly baseline: RunRecord['gating'];
  /** The results this report summarises. */
  readonly results: { readonly file: 'summary.json'; readonly sha256: string; readonly runs: number };
};

function areaOf(r: RunResult): string {
  const parts = r.file.split(/[\\/]/);
  const root = Math.max(parts.lastIndexOf('specs'), parts.lastIndexOf('vectors'));
  return root >= 0 ? parts.slice(root + 1, -1).join('/') || (parts[root] as string) : (parts[parts.length - 2] ?? 'scenarios');
}

/** The compliance report of a run; `summaryJson` is the exact text of its summary.json. */
export function complianceOf(record: RunRecord, summaryJson: string, catalog: Catalog, policy: PolicyName = 'default'): Compliance {
  const m = record.meta;
  const totals = recordTotals(record);
  const reasons: string[] = [];
  if (totals.failed > 0) reasons.push(`${totals.failed} run(s) failed`);
  if (totals.errors > 0) reasons.push(`${totals.errors} infrastructure error(s)`);
  if (totals.unexpectedPasses > 0) reasons.push(`${totals.unexpectedPasses} known failure(s) passed unexpectedly`);
  if (totals.regressions > 0) reasons.push(`${totals.regressions} regression(s) against the baseline`);
  if (totals.expiredExpectations > 0) reasons.push(`${totals.expiredExpectations} known-failure entr${totals.expiredExpectations === 1 ? 'y has' : 'ies have'} expired`);
  if ((record.fuzz?.failures.length ?? 0) > 0) reasons.push(`the fuzz campaign found ${record.fuzz?.failures.length ?? 0} failure(s)`);
  if ((record.fuzz?.errors.length ?? 0) > 0) reasons.push(`the fuzz campaign did not complete: ${record.fuzz?.errors.join('; ') ?? ''}`);
  if (record.diagnostics.length > 0) reasons.push(`${totals.invalidScenarios} scenario file(s) did not load`);
  if (m.interrupted) reasons.push('the run was interrupted');
  if (policy === 'strict' && totals.knownFailures > 0) reasons.push(`${totals.knownFailures} known failure(s) (not allowed under the strict policy)`);

  // The matrix: a (hypercall, sub-op, profile) cell fails when a run that exercised it failed;
  // a run the expectations file lists as failing makes it a known failure (never a pass).
  const rank: Readonly<Record<Cell, number>> = { 'not covered': 0, passed: 1, 'known failure': 2, failed: 3 };
  const cells = new Map<string, Cell>();
  for (const r of record.results) {
    if (r.world !== 'xen') continue;
    const cell: Cell = r.status === 'passed' ? 'passed' : r.known !== undefined ? 'known failure' : 'failed';
    for (const key of r.exercised ?? []) {
      const k = `${key} ${r.profile}`;
      if (rank[cell] > rank[cells.get(k) ?? 'not covered']) cells.set(k, cell);
    }
  }
  const pairs = [...new Map(catalog.xen.map((e) => [`${e.hypercall} ${e.subop || '-'}`, e])).values()];
  const matrix = pairs.map((e) => {
    const profiles: Record<string, Cell> = {};
    for (const p of m.profiles) profiles[p] = cells.get(`${e.hypercall} ${e.subop || '-'} ${p}`) ?? 'not covered';
    return { hypercall: e.hypercall, subop: e.subop || '-', profiles };
  });

  const areas = new Map<string, { area: string; passed: number; failed: number; errors: number; known: number }>();
  for (const r of record.results) {
    const a = areaOf(r);
    const row = areas.get(a) ?? { area: a, passed: 0, failed: 0, errors: 0, known: 0 };
    if (r.known !== undefined && r.status !== 'passed') row.known++;
    else if (r.status === 'passed' && r.known === undefined) row.passed++;
    else if (r.status === 'error') row.errors++;
    else row.failed++;
    areas.set(a, row);
  }

  const byProfile: Record<string, number> = {};
  for (const r of record.results) byProfile[r.profile] = (byProfile[r.profile] ?? 0) + (r.viridianOps ?? 0);
  const illFormed = record.results
    .filter((r) => r.failure?.kind === 'well-formedness')
    .map((r) => ({ scenario: r.id, profile: r.profile, operation: r.failure?.field ?? '', why: r.failure?.actual ?? '' }));

  return {
    formatVersion: COMPLIANCE_FORMAT_VERSION,
    schema: 'docs/schemas/compliance.schema.json',
    adapter: m.adapter,
    harness: m.tool,
    runId: m.runId,
    date: m.finishedAt,
    profiles: m.profiles,
    policy: { name: policy, rule: POLICIES[policy] },
    verdict: reasons.length === 0 ? 'compliant' : 'not compliant',
    reasons,
    totals,
    matrix,
    areas: [...areas.values()].sort((a, b) => (a.area < b.area ? -1 : a.area > b.area ? 1 : 0)),
    wellFormedness: { operationsChecked: Object.values(byProfile).reduce((a, b) => a + b, 0), byProfile, illFormed },
    fuzz: record.fuzz,
    knownFailures: record.results.filter((r) => r.known !== undefined).map((r) => ({ scenario: r.id, profile: r.profile, reason: r.known ?? '', outcome: r.status })),
    expiredExpectations: record.expired,
    baseline: record.gating,
    results: { file: 'summary.json', sha256: createHash('sha256').update(summaryJson).digest('hex'), runs: record.results.length },
  };
}

/** compliance.md. */
export function complianceMarkdown(c: Compliance): string {
  // Markdown's own characters are escaped (underscores between two letters or digits need not be:
  // GitHub keeps them; every other one is, runs of them included, so "__init__" is no emphasis).
  // Line endings, "\r" among them (CommonMark), become spaces so that a table row stays one line.
  const md = (text: string): string =>
    text
      .replace(/[\\`*{}[\]<>|]/g, (ch) => `\\${ch}`)
      .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_')
      .replace(/\r\n|[\r\n]/g, ' ');
  const lines = [
    `# Compliance report: ${md(c.adapter.name)} ${md(c.adapter.version)}`,
    '',
    `**Verdict: ${c.verdict}** under the ${c.policy.name} policy (${md(c.policy.rule)}).`,
    ...(c.reasons.length > 0 ? ['', ...c.reasons.map((r) => `- ${md(r)}`)] : []),
    '',
    '| | |',
    '| --- | --- |',
    `| adapter | ${md(c.adapter.name)} ${md(c.adapter.version)} (${md(c.adapter.source)}) |`,
    `| harness | xvc ${md(c.harness.version)} |`,
    `| run | ${md(c.runId)}, ${md(c.date)} |`,
    `| profiles | ${c.profiles.map(md).join(', ')} |`,
    `| runs | ${c.totals.runs}: ${c.totals.passed} passed, ${c.totals.failed} failed, ${c.totals.errors} errors, ${c.totals.knownFailures} known failures |`,
    `| Viridian operations checked | ${c.wellFormedness.operationsChecked}, ${c.wellFormedness.illFormed.length} ill-formed |`,
    `| results | ${c.results.file}, SHA-256 ${c.results.sha256} |`,
    '',
    '## Results by area',
    '',
    '| area | passed | failed | errors | known failures |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...c.areas.map((a) => `| ${md(a.area)} | ${a.passed} | ${a.failed} | ${a.errors} | ${a.known} |`),
    '',
    '## Hypercalls and sub-ops',
    '',
    `| hypercall | sub-op | ${c.profiles.map(md).join(' | ')} |`,
    `| --- | --- | ${c.profiles.map(() => '---').join(' | ')} |`,
    ...c.matrix.map((row) => `| ${md(row.hypercall)} | ${md(row.subop)} | ${c.profiles.map((p) => row.profiles[p] ?? 'not covered').join(' | ')} |`),
  ];
  if (c.wellFormedness.illFormed.length > 0) {
    lines.push('', '## Ill-formed Viridian operations', '', '| scenario | profile | operation | why |', '| --- | --- | --- | --- |');
    for (const f of c.wellFormedness.illFormed) lines.push(`| ${md(f.scenario)} | ${md(f.profile)} | ${md(f.operation)} | ${md(f.why)} |`);
  }
  if (c.knownFailures.length > 0) {
    lines.push('', '## Known failures', '', '| scenario | profile | reason | outcome |', '| --- | --- | --- | --- |');
    for (const k of c.knownFailures) lines.push(`| ${md(k.scenario)} | ${md(k.profile)} | ${md(k.reason)} | ${md(k.outcome)} |`);
  }
  if (c.expiredExpectations.length > 0) {
    lines.push('', '## Expired known-failure entries', '');
    for (const e of c.expiredExpectations) lines.push(`- ${md(e.id)}${e.profile ? ` [${md(e.profile)}]` : ''}: ${md(e.reason)} (expired ${md(e.expires ?? '')})`);
  }
  if (c.baseline) {
    lines.push('', `## Against the baseline ${md(c.baseline.baseline)}`, '', `${c.baseline.regressions.length} regressions, ${c.baseline.fixes.length} fixes, ${c.baseline.new.length} new.`);
    for (const r of c.baseline.regressions) lines.push(`- regression: ${md(r)}`);
  }
  if (c.fuzz) {
    lines.push('', '## Fuzz campaign', '', `Seed ${c.fuzz.seed}, ${Object.entries(c.fuzz.cases).map(([t, n]) => `${n} ${md(t)}-level cases`).join(', ')}, ${c.fuzz.steps} steps in ${(c.fuzz.durationMs / 1000).toFixed(1)} s, ${c.fuzz.failures.length} failures.`);
    for (const f of c.fuzz.failures) lines.push(`- ${md(f.target)} [${md(f.profile)}]: ${md(f.message)} (${md(f.replay)})`);
  }
  return `${lines.join('\n')}\n`;
}

/** Escapes text for HTML character data and attribute values. */
export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string);
}

/** A horizontal stacked bar chart of results by area, as inline SVG. */
function areaChart(c: Compliance): string {
  const rowHeight = 18;
  const labelWidth = 190;
  const barWidth = 420;
  const max = Math.max(1, ...c.areas.map((a) => a.passed + a.failed + a.errors + a.known));
  const colours = [
    ['passed', '#2e7d32'],
    ['failed', '#c62828'],
    ['errors', '#ef6c00'],
    ['known', '#757575'],
  ] as const;
  const rows = c.areas.map((a, i) => {
    let x = labelWidth;
    const y = i * rowHeight;
    const bars = colours.map(([key, colour]) => {
      const n = a[key];
      const w = (n / max) * barWidth;
      const rect = n > 0 ? `<rect x="${x.toFixed(1)}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowHeight - 4}" fill="${colour}"><title>${htmlEscape(`${a.area}: ${n} ${key}`)}</title></rect>` : '';
      x += w;
      return rect;
    });
    return `<text x="${labelWidth - 6}" y="${y + rowHeight - 5}" text-anchor="end">${htmlEscape(a.area)}</text>${bars.join('')}<text x="${x + 4}" y="${y + rowHeight - 5}">${a.passed + a.failed + a.errors + a.known}</text>`;
  });
  const legend = colours.map(([key, colour], i) => `<rect x="${labelWidth + i * 90}" y="${c.areas.length * rowHeight + 8}" width="10" height="10" fill="${colour}"/><text x="${labelWidth + i * 90 + 14}" y="${c.areas.length * rowHeight + 17}">${key}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="results by area" width="${labelWidth + barWidth + 60}" height="${c.areas.length * rowHeight + 28}" font-family="sans-serif" font-size="11">${rows.join('')}${legend}</svg>`;
}

/** compliance.html: one file, no external resources; every string from scenarios and adapters is escaped. */
export function complianceHtml(c: Compliance): string {
  const e = htmlEscape;
  const cell = (v: Cell): string => `<td class="${v === 'not covered' ? 'nc' : v === 'known failure' ? 'known' : v}">${e(v)}</td>`;
  const table = (head: readonly string[], rows: readonly (readonly string[])[]): string =>
    `<table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((v) => `<td>${e(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const sections = [
    `<h1>Compliance report: ${e(c.adapter.name)} ${e(c.adapter.version)}</h1>`,
    `<p class="verdict ${c.verdict === 'compliant' ? 'ok' : 'bad'}">${e(c.verdict)}</p><p>Policy <b>${e(c.policy.name)}</b>: ${e(c.policy.rule)}.</p>`,
    c.reasons.length > 0 ? `<ul>${c.reasons.map((r) => `<li>${e(r)}</li>`).join('')}</ul>` : '',
    table(
      ['', ''],
      [
        ['adapter', `${c.adapter.name} ${c.adapter.version} (${c.adapter.source})`],
        ['harness', `xvc ${c.harness.version}`],
        ['run', `${c.runId}, ${c.date}`],
        ['profiles', c.profiles.join(', ')],
        ['runs', `${c.totals.runs}: ${c.totals.passed} passed, ${c.totals.failed} failed, ${c.totals.errors} errors, ${c.totals.knownFailures} known failures`],
        ['Viridian operations checked', `${c.wellFormedness.operationsChecked}, ${c.wellFormedness.illFormed.length} ill-formed`],
        ['results', `${c.results.file}, SHA-256 ${c.results.sha256}`],
      ],
    ),
    '<h2>Results by area</h2>',
    areaChart(c),
    '<h2>Hypercalls and sub-ops</h2>',
    `<table><thead><tr><th>hypercall</th><th>sub-op</th>${c.profiles.map((p) => `<th>${e(p)}</th>`).join('')}</tr></thead><tbody>${c.matrix.map((row) => `<tr><td>${e(row.hypercall)}</td><td>${e(row.subop)}</td>${c.profiles.map((p) => cell(row.profiles[p] ?? 'not covered')).join('')}</tr>`).join('')}</tbody></table>`,
    c.wellFormedness.illFormed.length > 0 ? `<h2>Ill-formed Viridian operations</h2>${table(['scenario', 'profile', 'operation', 'why'], c.wellFormedness.illFormed.map((f) => [f.scenario, f.profile, f.operation, f.why]))}` : '',
    c.knownFailures.length > 0 ? `<h2>Known failures</h2>${table(['scenario', 'profile', 'reason', 'outcome'], c.knownFailures.map((k) => [k.scenario, k.profile, k.reason, k.outcome]))}` : '',
    c.expiredExpectations.length > 0 ? `<h2>Expired known-failure entries</h2>${table(['scenario', 'profile', 'reason', 'expired'], c.expiredExpectations.map((x) => [x.id, x.profile ?? 'all', x.reason, x.expires ?? '']))}` : '',
    c.baseline ? `<h2>Against the baseline</h2><p>${e(c.baseline.baseline)}: ${c.baseline.regressions.length} regressions, ${c.baseline.fixes.length} fixes, ${c.baseline.new.length} new.</p>${c.baseline.regressions.length > 0 ? table(['regression'], c.baseline.regressions.map((r) => [r])) : ''}` : '',
    c.fuzz
      ? `<h2>Fuzz campaign</h2><p>Seed ${c.fuzz.seed}, ${e(Object.entries(c.fuzz.cases).map(([t, n]) => `${n} ${t}-level cases`).join(', '))}, ${c.fuzz.steps} steps in ${(c.fuzz.durationMs / 1000).toFixed(1)} s, ${c.fuzz.failures.length} failures.</p>${c.fuzz.failures.length > 0 ? table(['target', 'profile', 'failure', 'replay'], c.fuzz.failures.map((f) => [f.target, f.profile, f.message, f.replay])) : ''}`
      : '',
  ];
  const style =
    'body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}' +
    'td.passed{background:#e8f5e9}td.failed{background:#ffebee}td.known{background:#fff8e1}td.nc{color:#888}.verdict{font-size:1.4em;font-weight:bold}.ok{color:#2e7d32}.bad{color:#c62828}';
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${e(`Compliance report: ${c.adapter.name} ${c.adapter.version}`)}</title><style>${style}</style></head><body>${sections.join('\n')}</body></html>\n`;
}
