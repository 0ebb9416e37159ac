import type { ScenarioResult } from '../run/result';
import type { Summary } from './summary';

/** Escapes text for XML character data and attribute values. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

function suiteOf(r: ScenarioResult): string {
  return r.world === 'viridian' ? 'viridian' : (r.tags[0] ?? r.id.split('.')[0] ?? 'xen');
}

/**
 * junit.xml: one testsuite per area (the first tag), one testcase per scenario and profile. A
 * failure carries the first differing field and the replay command; an adapter or harness error
 * is an <error>; a known failure is <skipped> with its reason.
 */
export function junitXml(summary: Summary): string {
  const suites = new Map<string, Summary['results'][number][]>();
  for (const r of summary.results) {
    const s = suiteOf(r);
    suites.set(s, [...(suites.get(s) ?? []), r]);
  }
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const t = summary.totals;
  lines.push(`<testsuites name="xvc ${xmlEscape(summary.adapter.name)}" tests="${t.runs}" failures="${t.failed}" errors="${t.errors}" skipped="${t.knownFailures}" time="${(summary.durationMs / 1000).toFixed(3)}">`);
  for (const [name, results] of [...suites].sort(([a], [b]) => a.localeCompare(b))) {
    const failures = results.filter((r) => r.status === 'failed' && r.known === undefined).length;
    const errors = results.filter((r) => r.status === 'error' && r.known === undefined).length;
    const skipped = results.filter((r) => r.known !== undefined && r.status !== 'passed').length;
    const time = results.reduce((a, r) => a + r.durationMs, 0) / 1000;
    lines.push(`  <testsuite name="${xmlEscape(name)}" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time.toFixed(3)}">`);
    for (const r of results) {
      const head = `    <testcase classname="${xmlEscape(`${name}.${r.profile}`)}" name="${xmlEscape(`${r.id} [${r.profile}]`)}" file="${xmlEscape(r.file)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
      if (r.status === 'passed' && r.known === undefined) {
        lines.push(`${head}/>`);
        continue;
      }
      lines.push(`${head}>`);
      const f = r.failure;
      const detail = f
        ? [`step ${f.step + 1} (${f.stepName}): ${f.message}`, `field: ${f.field}`, `expected: ${f.expected}`, `actual: ${f.actual}`, `replay: ${r.replay}`].join('\n')
        : `replay: ${r.replay}`;
      if (r.known !== undefined && r.status !== 'passed') lines.push(`      <skipped message="${xmlEscape(`known failure: ${r.known}`)}"/>`);
      else if (r.status === 'passed') lines.push(`      <failure message="${xmlEscape(`unexpected pass: listed as a known failure (${r.known ?? ''})`)}" type="unexpected-pass">${xmlEscape(`replay: ${r.replay}`)}</failure>`);
      else if (r.status === 'failed') lines.push(`      <failure message="${xmlEscape(f ? `${f.field}: expected ${f.expected}, got ${f.actual}` : 'failed')}" type="${xmlEscape(f?.kind ?? 'failure')}">${xmlEscape(detail)}</failure>`);
      else lines.push(`      <error message="${xmlEscape(f?.message ?? 'error')}" type="infrastructure">${xmlEscape(detail)}</error>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
