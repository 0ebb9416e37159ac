import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import { runScenarios } from '../cli/run';
import { loadCatalog, type Catalog } from '../coverage/catalog';
import { nestedBitSet } from '../oracle/brokenAdapters';
import { executeRun, planRuns } from '../run/runner';
import { loadScenarioText } from '../spec/load';
import { PACKAGE_ROOT } from '../paths';
import { HARNESS_VERSION } from '../version';
import { complianceHtml, complianceMarkdown, complianceOf, type Compliance } from './compliance';
import type { RunRecord, RunResult } from './record';
import { toJson } from './summary';

/*
 * The compliance report (design.md section 6): compliance.json against its schema and the digest of
 * the summary.json it summarises, the verdict under each policy, the hypercall matrix, the
 * well-formedness counts, and compliance.html / compliance.md, which must show every string from
 * scenarios and adapters as text, never as markup. Runs go through `xvc run`'s entry point in
 * process; the hostile strings come in a record built by hand (no scenario file could hold them all).
 */

const SCHEMA = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'docs/schemas/compliance.schema.json'), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv({ allErrors: true });
// RFC 3339 date-time: what "format": "date-time" means (ajv ships no formats of its own).
ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(s) && !Number.isNaN(Date.parse(s)));
const validate = ajv.compile(SCHEMA);

/** Validates compliance.json's value against the schema, failing with ajv's errors. */
function expectValid(value: unknown): void {
  const ok = validate(value);
  expect(ok ? [] : validate.errors).toEqual([]);
}

const scenario = (id: string, profile: string, close: string, expect: string): string => `id: ${id}
title: ${id}
refs: [xen/common/event_channel.c]
tags: [event_channel_op]
profiles: [${profile}]
steps:
  - call: event_channel_op
    args: [${close}]
    expect: { return: ${expect} }
`;
const ALLOC = 'EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, dom: DOMID_SELF, remote_dom: 0 }';
const CLOSE = 'EVTCHNOP_close, { struct: evtchn_port_arg, port: 1 }';

/** A run folder's compliance files and summary.json. */
type Run = { readonly code: number; readonly json: Compliance; readonly summaryBytes: Buffer; readonly summary: { finishedAt: string; adapter: unknown; totals: Record<string, number>; results: RunResult[] }; readonly md: string; readonly html: string };

let dir: string;
const runs: Record<'pass' | 'fail' | 'known' | 'strict', Run> = {} as never;

async function run(name: string, files: readonly string[], extra: { expectations?: string; policy?: string } = {}): Promise<Run> {
  const out = path.join(dir, 'reports', name);
  const paths = files.map((f) => path.join(dir, 'specs', f));
  const code = await runScenarios({ paths, out, quiet: true, argv: ['run', ...paths], ...extra }, { stdout: () => undefined, stderr: () => undefined });
  const runDir = path.join(out, fs.readlinkSync(path.join(out, 'latest')));
  const read = (f: string): string => fs.readFileSync(path.join(runDir, f), 'utf8');
  const summaryBytes = fs.readFileSync(path.join(runDir, 'summary.json'));
  return { code, json: JSON.parse(read('compliance.json')) as Compliance, summaryBytes, summary: JSON.parse(summaryBytes.toString('utf8')) as Run['summary'], md: read('compliance.md'), html: read('compliance.html') };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-compliance-'));
  const specs = path.join(dir, 'specs');
  fs.mkdirSync(specs);
  fs.writeFileSync(path.join(specs, 'alloc.yaml'), scenario('cmp.alloc', 'modern', ALLOC, '0'));
  fs.writeFileSync(path.join(specs, 'close.yaml'), scenario('cmp.close', 'ws2008', CLOSE, '-XEN_EINVAL'));
  fs.writeFileSync(path.join(specs, 'close-fails.yaml'), scenario('cmp.close-fails', 'modern', CLOSE, '0'));
  fs.writeFileSync(path.join(dir, 'known.yaml'), 'knownFailures:\n  - { id: cmp.close-fails, reason: "adapter issue 12: close of a free port" }\n');
  runs.pass = await run('pass', ['alloc.yaml', 'close.yaml']);
  runs.fail = await run('fail', ['alloc.yaml', 'close.yaml', 'close-fails.yaml']);
  runs.known = await run('known', ['alloc.yaml', 'close.yaml', 'close-fails.yaml'], { expectations: path.join(dir, 'known.yaml') });
  runs.strict = await run('strict', ['alloc.yaml', 'close.yaml', 'close-fails.yaml'], { expectations: path.join(dir, 'known.yaml'), policy: 'strict' });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('compliance.json', () => {
  test('validates against docs/schemas/compliance.schema.json, and the validator refuses a damaged copy', () => {
    for (const r of Object.values(runs)) expectValid(r.json);
    const damaged = [
      { ...runs.pass.json, verdict: 'mostly compliant' },
      { ...runs.pass.json, results: { ...runs.pass.json.results, sha256: 'abc' } },
      { ...runs.pass.json, date: 'yesterday' },
      { ...runs.pass.json, extra: 1 },
    ];
    for (const d of damaged) expect(validate(d)).toBe(false);
  });

  test('the digest is the SHA-256 of the run folder\'s summary.json, byte for byte', () => {
    for (const r of Object.values(runs)) {
      expect(r.json.results).toEqual({ file: 'summary.json', sha256: createHash('sha256').update(r.summaryBytes).digest('hex'), runs: r.summary.results.length });
    }
    expect(new Set(Object.values(runs).map((r) => r.json.results.sha256)).size).toBe(4);
  });

  test('agrees with summary.json on the adapter, the date, the totals and the Viridian operations', () => {
    for (const r of Object.values(runs)) {
      expect(r.json.adapter).toEqual(r.summary.adapter);
      expect(r.json.harness).toEqual({ name: 'xvc', version: HARNESS_VERSION });
      expect(r.json.date).toBe(r.summary.finishedAt);
      expect(r.json.totals).toEqual(r.summary.totals);
      const ops = r.summary.results.reduce((a, x) => a + (x.viridianOps ?? 0), 0);
      expect(r.json.wellFormedness.operationsChecked).toBe(ops);
      expect(Object.keys(r.json.wellFormedness.byProfile).sort()).toEqual([...new Set(r.summary.results.map((x) => x.profile))].sort());
    }
  });
});

describe('verdict and policies', () => {
  test('an all-pass run is compliant, with no reasons', () => {
    expect(runs.pass.code).toBe(0);
    expect(runs.pass.json).toMatchObject({ verdict: 'compliant', reasons: [], policy: { name: 'default' } });
    expect(runs.pass.html).toContain('compliant');
    expect(runs.pass.md).toMatch(/\*\*Verdict: compliant\*\*/);
  });

  test('a failing run is not compliant, and says why', () => {
    expect(runs.fail.json.verdict).toBe('not compliant');
    expect(runs.fail.json.reasons).toEqual([expect.stringMatching(/^1 run\(s\) failed$/)]);
    expect(runs.fail.md).toMatch(/\*\*Verdict: not compliant\*\*/);
    expect(runs.fail.md).toContain('- 1 run(s) failed');
  });

  test('default policy: a listed known failure is allowed and reported with its reason', () => {
    expect(runs.known.code).toBe(0);
    expect(runs.known.json).toMatchObject({ verdict: 'compliant', reasons: [], policy: { name: 'default' } });
    expect(runs.known.json.knownFailures).toEqual([{ scenario: 'cmp.close-fails', profile: 'modern', reason: 'adapter issue 12: close of a free port', outcome: 'failed' }]);
    expect(runs.known.md).toContain('adapter issue 12: close of a free port');
    expect(runs.known.html).toContain('adapter issue 12: close of a free port');
  });

  test('strict policy: the same run is not compliant, because of the known failure', () => {
    expect(runs.strict.json.policy.name).toBe('strict');
    expect(runs.strict.json.policy.rule).not.toBe(runs.known.json.policy.rule);
    expect(runs.strict.json.verdict).toBe('not compliant');
    expect(runs.strict.json.reasons).toEqual([expect.stringMatching(/1 known failure.*strict/)]);
    expect(runs.strict.json.knownFailures).toEqual(runs.known.json.knownFailures);
  });
});

describe('the hypercall matrix', () => {
  const catalog = loadCatalog();
  const cellOf = (r: Run, hypercall: string, subop: string, profile: string): string | undefined => r.json.matrix.find((m) => m.hypercall === hypercall && m.subop === subop)?.profiles[profile];

  test('one row per catalog hypercall and sub-op, with a cell per profile of the run', () => {
    const pairs = new Set(catalog.xen.map((e) => `${e.hypercall} ${e.subop || '-'}`));
    for (const r of Object.values(runs)) {
      expect(r.json.matrix.map((m) => `${m.hypercall} ${m.subop}`).sort()).toEqual([...pairs].sort());
      for (const m of r.json.matrix) expect(Object.keys(m.profiles).sort()).toEqual([...r.json.profiles].sort());
    }
    expect([...runs.pass.json.profiles].sort()).toEqual(['modern', 'ws2008']);
  });

  test('exercised by a passing run: passed in its profile; by a failing run: failed; not run: not covered', () => {
    expect(cellOf(runs.pass, 'event_channel_op', 'EVTCHNOP_alloc_unbound', 'modern')).toBe('passed');
    expect(cellOf(runs.pass, 'event_channel_op', 'EVTCHNOP_alloc_unbound', 'ws2008')).toBe('not covered');
    expect(cellOf(runs.pass, 'event_channel_op', 'EVTCHNOP_close', 'ws2008')).toBe('passed');
    expect(cellOf(runs.pass, 'event_channel_op', 'EVTCHNOP_close', 'modern')).toBe('not covered');
    expect(cellOf(runs.fail, 'event_channel_op', 'EVTCHNOP_close', 'modern')).toBe('failed');
    expect(cellOf(runs.fail, 'event_channel_op', 'EVTCHNOP_close', 'ws2008')).toBe('passed');
    expect(cellOf(runs.fail, 'grant_table_op', 'GNTTABOP_setup_table', 'modern')).toBe('not covered');
    // A failure the expectations file lists is a known failure in the matrix, under either policy: never a pass.
    expect(cellOf(runs.known, 'event_channel_op', 'EVTCHNOP_close', 'modern')).toBe('known failure');
    expect(cellOf(runs.strict, 'event_channel_op', 'EVTCHNOP_close', 'modern')).toBe('known failure');
  });

  test('every covered cell is backed by a result that exercised it, and the HTML shows the same cells', () => {
    for (const r of Object.values(runs)) {
      let covered = 0;
      for (const m of r.json.matrix) {
        for (const [profile, cell] of Object.entries(m.profiles)) {
          if (cell === 'not covered') continue;
          covered++;
          const by = r.summary.results.filter((x) => x.profile === profile && (x.exercised ?? []).includes(`${m.hypercall} ${m.subop}`));
          expect([m.hypercall, m.subop, profile, by.length > 0]).toEqual([m.hypercall, m.subop, profile, true]);
        }
      }
      expect(covered).toBeGreaterThan(0);
      const count = (cell: string): number => r.json.matrix.reduce((a, m) => a + Object.values(m.profiles).filter((c) => c === cell).length, 0);
      expect((r.html.match(/<td class="passed">/g) ?? []).length).toBe(count('passed'));
      expect((r.html.match(/<td class="failed">/g) ?? []).length).toBe(count('failed'));
    }
  });
});

describe('well-formedness', () => {
  test('an ill-formed Viridian call is counted and named with the operation and why', () => {
    const text = `id: cmp.ill-formed
title: an IPI sent with bit 31 of the input set
refs: [TLFS 3.7]
tags: [event_channel_op]
profiles: [modern]
viridian: { compat: xen }
setup: { vcpus: 2 }
steps:
  - upcallMask: 0
    vcpu: 1
  - call: event_channel_op
    args: [EVTCHNOP_bind_ipi, { struct: evtchn_bind_ipi, vcpu: 1 }]
    expect: { return: 0 }
  - call: event_channel_op
    args: [EVTCHNOP_send, { struct: evtchn_port_arg, port: 1 }]
    expect: { return: 0 }
`;
    const loaded = loadScenarioText('specs/x/ill-formed.yaml', text).scenario;
    if (!loaded) throw new Error('the scenario does not load');
    const results: RunResult[] = planRuns([loaded]).map((p, index) => ({ ...executeRun(p, { reference: false, adapter: nestedBitSet, log: true }), index, replay: 'replay' }));
    const record = recordOf(results);
    const c = complianceOf(record, toJson(record), loadCatalog());
    expectValid(JSON.parse(JSON.stringify(c)));
    const f = results[0]?.failure;
    expect(f?.kind).toBe('well-formedness');
    expect(c.wellFormedness.illFormed).toEqual([{ scenario: 'cmp.ill-formed', profile: 'modern', operation: f?.field, why: f?.actual }]);
    expect(c.wellFormedness.operationsChecked).toBe(results[0]?.viridianOps);
    expect(c.wellFormedness.operationsChecked).toBeGreaterThan(0);
    expect(c.verdict).toBe('not compliant');
    expect(complianceMarkdown(c)).toContain('## Ill-formed Viridian operations');
    expect(complianceHtml(c)).toContain('<h2>Ill-formed Viridian operations</h2>');
  });
});

/** A record around results, with the meta a run would have. */
function recordOf(results: readonly RunResult[], meta: Partial<RunRecord['meta']> = {}, rest: Partial<RunRecord> = {}): RunRecord {
  return {
    meta: {
      tool: { name: 'xvc', version: HARNESS_VERSION },
      runId: '20260101-000000-000',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:05.000Z',
      durationMs: 5000,
      command: ['run'],
      adapter: { name: 'xvc-reference', version: '1', source: 'reference' },
      profiles: [...new Set(results.map((r) => r.profile))],
      seed: null,
      shard: null,
      planned: results.length,
      expectationsFile: null,
      interrupted: false,
      policy: 'default',
      ...meta,
    },
    results,
    diagnostics: [],
    expired: [],
    gating: null,
    fuzz: null,
    ...rest,
  };
}

// Strings from scenarios and adapters that would be markup if they were not escaped.
const SCRIPT = '<script>alert(1)</script>';
const NASTY = `${SCRIPT} & "double" 'single' | pipe *star* _under_ [link](http://evil.example/x.js) \`code\` back\\slash {brace}`;
const HOSTILE = {
  adapter: { name: `${SCRIPT} "Evil" & Co`, version: `1.0'|<i>`, source: './adapters/<img src=x onerror=alert(1)>.mjs' },
  profiles: ['modern', 'x<y>"z\''],
  area: `specs/<b onmouseover="alert(1)">&'|/hostile.yaml`,
  id: `cmp.${SCRIPT}&"'|`,
  reason: `${NASTY} http://evil.example/known.js`,
  field: 'HVCALL_<img src=x onerror=alert(1)>',
};

/** A hand-made run holding hostile strings everywhere the compliance report shows one. */
function hostileRecord(): RunRecord {
  const base: RunResult = { id: HOSTILE.id, title: NASTY, file: HOSTILE.area, profile: 'modern', world: 'xen', tags: [NASTY], refs: [NASTY], status: 'passed', durationMs: 1, steps: 1, index: 0, replay: `npx xvc replay "${HOSTILE.area}"`, viridianOps: 2, exercised: ['event_channel_op EVTCHNOP_send'] };
  const failure = { kind: 'expectation' as const, step: 0, stepName: NASTY, field: NASTY, expected: NASTY, actual: NASTY, message: NASTY };
  const results: RunResult[] = [
    base,
    { ...base, index: 1, profile: HOSTILE.profiles[1] as string, status: 'failed', failure, known: HOSTILE.reason },
    { ...base, index: 2, id: `${HOSTILE.id}.wf`, status: 'failed', viridianOps: 3, failure: { ...failure, kind: 'well-formedness', field: HOSTILE.field, actual: NASTY } },
    { ...base, index: 3, id: `${HOSTILE.id}.err`, file: 'specs/other/x.yaml', status: 'error', failure: { ...failure, kind: 'infrastructure' } },
  ];
  return recordOf(
    results,
    { adapter: HOSTILE.adapter, profiles: HOSTILE.profiles, runId: `run-<b>&"${SCRIPT}` },
    {
      expired: [{ id: HOSTILE.id, profile: HOSTILE.profiles[1] as string, reason: NASTY, expires: `2020-01-01${SCRIPT}` }],
      gating: { baseline: `reports/<base>&"${SCRIPT}`, regressions: [NASTY], fixes: [], new: [] },
      fuzz: { seed: 7, cases: { [`xen${SCRIPT}`]: 3 }, steps: 10, durationMs: 1234, failures: [{ target: NASTY, profile: 'modern', message: NASTY, replay: `npx xvc replay "${SCRIPT}"`, regressionFile: null }], errors: [NASTY] },
    },
  );
}

/** Every string of the hostile record that the report shows. */
const SHOWN = [HOSTILE.adapter.name, HOSTILE.adapter.version, HOSTILE.adapter.source, ...HOSTILE.profiles, HOSTILE.id, HOSTILE.reason, HOSTILE.field, NASTY, `xen${SCRIPT}`, `reports/<base>&"${SCRIPT}`, `run-<b>&"${SCRIPT}`, `<b onmouseover="alert(1)">&'|`];

describe('compliance.html', () => {
  const catalog: Catalog = loadCatalog();
  const c = complianceOf(hostileRecord(), '{}\n', catalog);
  const html = complianceHtml(c);
  const ALLOWED_TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'p', 'b', 'ul', 'li', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'svg', 'rect', 'text']);
  const ALLOWED_ATTRIBUTES = new Set(['lang', 'charset', 'class', 'xmlns', 'role', 'aria-label', 'width', 'height', 'font-family', 'font-size', 'x', 'y', 'text-anchor', 'fill']);
  const tags = (): { name: string; attrs: string[] }[] =>
    [...html.matchAll(/<(?!!DOCTYPE html>)(\/?)([^\s>/]*)([^>]*)>/g)].map((m) => ({ name: (m[2] as string).toLowerCase(), attrs: [...(m[3] as string).matchAll(/\s([^\s=]+)=/g)].map((a) => (a[1] as string).toLowerCase()) }));
  /** The document's text: tags dropped, character references decoded. */
  const text = (fragment: string): string =>
    fragment
      .replace(/<[^>]*>/g, '\u0000')
      .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, ref: string) => {
        if (ref.startsWith('#x') || ref.startsWith('#X')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
        if (ref.startsWith('#')) return String.fromCodePoint(Number(ref.slice(1)));
        const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
        if (named[ref] === undefined) throw new Error(`unknown reference ${all}`);
        return named[ref];
      });

  test('the hostile record still makes a valid compliance.json', () => {
    expectValid(JSON.parse(JSON.stringify(c)));
    expect(c.knownFailures).toEqual([{ scenario: HOSTILE.id, profile: HOSTILE.profiles[1], reason: HOSTILE.reason, outcome: 'failed' }]);
  });

  test('is one self-contained file: every tag is one the report makes, with no script, link, src or href', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    const seen = tags();
    expect(seen.filter((t) => !ALLOWED_TAGS.has(t.name)).map((t) => t.name)).toEqual([]);
    expect(seen.flatMap((t) => t.attrs).filter((a) => !ALLOWED_ATTRIBUTES.has(a))).toEqual([]);
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|url\(/i);
    expect((html.match(/<style>/g) ?? []).length).toBe(1);
  });

  test('escapes every string from scenarios and adapters: the raw markup never appears, the text reads back whole', () => {
    expect(html).not.toContain(SCRIPT);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b onmouseover');
    expect(html).not.toContain('"Evil"');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // No bare & (every one starts a character reference).
    expect(html).not.toMatch(/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i);
    const t = text(html);
    for (const s of SHOWN) expect([s, t.includes(s)]).toEqual([s, true]);
    // Attribute values hold no data: the only quoted attribute values are the report's own.
    for (const m of html.matchAll(/\s[\w-]+="([^"]*)"/g)) expect(m[1]).toMatch(/^[\w .#:/,%-]*$/);
  });

  test('an SVG chart of results by area, whose bars add up to the area counts', () => {
    const svg = /<svg [^>]*>([\s\S]*?)<\/svg>/.exec(html);
    expect(svg).not.toBeNull();
    const bars = new Map<string, Record<string, number>>();
    for (const m of (svg?.[1] ?? '').matchAll(/<rect [^>]*><title>([^<]*)<\/title><\/rect>/g)) {
      const title = /^([\s\S]*): (\d+) (passed|failed|errors|known)$/.exec(text(m[1] as string));
      expect(title).not.toBeNull();
      const [, area, n, key] = title as unknown as [string, string, string, string];
      bars.set(area, { ...(bars.get(area) ?? {}), [key]: Number(n) });
    }
    expect(c.areas.length).toBeGreaterThanOrEqual(2);
    for (const a of c.areas) {
      const nonzero = Object.fromEntries((['passed', 'failed', 'errors', 'known'] as const).filter((k) => a[k] > 0).map((k) => [k, a[k]]));
      expect([a.area, bars.get(a.area)]).toEqual([a.area, nonzero]);
    }
    expect([...bars.keys()].sort()).toEqual(c.areas.map((a) => a.area).sort());
    expect(c.areas.map((a) => a.area)).toContain(`<b onmouseover="alert(1)">&'|`);
  });

  test('shows the expired entries, the baseline and the fuzz campaign', () => {
    const t = text(html);
    expect(t).toContain('Expired known-failure entries');
    expect(t).toContain('Against the baseline');
    expect(t).toContain('Fuzz campaign');
    expect(t).toContain(`Seed 7, 3 xen${SCRIPT}-level cases, 10 steps in 1.2 s, 1 failures.`);
    expect(c.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/fuzz campaign found 1 failure/), expect.stringMatching(/regression/), expect.stringMatching(/expired/)]));
  });
});

/**
 * Markdown as CommonMark/GFM reads it, enough to check escaping: the characters of a line outside
 * backslash escapes, and table rows split on unescaped pipes.
 */
function scan(line: string): { ch: string; escaped: boolean; prev: string; next: string }[] {
  const out: { ch: string; escaped: boolean; prev: string; next: string }[] = [];
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === '\\' && i + 1 < line.length && /[!-/:-@[-`{-~]/.test(line[i + 1] as string)) {
      out.push({ ch: line[i + 1] as string, escaped: true, prev: line[i - 1] ?? '', next: line[i + 2] ?? '' });
      i++;
    } else out.push({ ch, escaped: false, prev: line[i - 1] ?? '', next: line[i + 1] ?? '' });
  }
  return out;
}
const cells = (row: string): string[] => {
  const parts: string[] = [''];
  for (const c of scan(row)) {
    if (c.ch === '|' && !c.escaped) parts.push('');
    else parts[parts.length - 1] += c.ch;
  }
  return parts.slice(1, -1).map((p) => p.trim());
};
/** Characters that would start markup where the text came from data (underscores inside a word are harmless). */
function unescapedMarkup(line: string): string[] {
  return scan(line)
    .filter((c) => !c.escaped && (/[<>`*{}]/.test(c.ch) || (c.ch === '_' && !(/[A-Za-z0-9]/.test(c.prev) && /[A-Za-z0-9]/.test(c.next)))))
    .map((c) => c.ch);
}
/** Every row of every table, with the number of cells of its header. */
function tables(md: string): { header: number; row: string }[] {
  const out: { header: number; row: string }[] = [];
  let header = -1;
  for (const line of md.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('|')) {
      header = -1;
      continue;
    }
    if (header < 0) header = cells(line).length;
    out.push({ header, row: line });
  }
  return out;
}

describe('compliance.md', () => {
  const mdOf = (record: RunRecord): string => complianceMarkdown(complianceOf(record, '{}\n', loadCatalog()));

  test('escapes table pipes and Markdown\'s own characters, so every row keeps its cells and data makes no markup', () => {
    const md = mdOf(hostileRecord());
    const rows = tables(md);
    expect(rows.length).toBeGreaterThan(20);
    for (const { header, row } of rows) expect([row, cells(row).length]).toEqual([row, header]);
    // Outside the verdict line (the report's own bold), no markup from data.
    for (const line of md.split('\n').filter((l) => !l.startsWith('**Verdict'))) expect([line, unescapedMarkup(line)]).toEqual([line, []]);
    expect(md).not.toContain(SCRIPT);
  });

  test('the escaped text reads back as the original strings', () => {
    const md = mdOf(hostileRecord());
    const plain = md
      .split('\n')
      .map((l) => scan(l).map((c) => c.ch).join(''))
      .join('\n');
    for (const s of SHOWN) expect([s, plain.includes(s)]).toEqual([s, true]);
    const known = tables(md).find((r) => cells(r.row)[0] === HOSTILE.id && cells(r.row)[1] === HOSTILE.profiles[1]);
    expect(known && cells(known.row)).toEqual([HOSTILE.id, HOSTILE.profiles[1], HOSTILE.reason, 'failed']);
  });

  test('a newline in a string does not end the table row', () => {
    const record = hostileRecord();
    const md = mdOf({ ...record, results: record.results.map((r) => (r.known ? { ...r, known: 'first line\nsecond line' } : r)) });
    const known = tables(md).filter((r) => r.row.includes('first line'));
    expect(known.map((r) => cells(r.row)[2])).toEqual(['first line second line']);
  });

  // Bug: md() in complianceMarkdown tests word boundaries with \W, which does not match "_", so in a
  // run of underscores only the outer ones are escaped: "__init__" becomes "\__init_\_", which
  // renders as "_" + emphasised "init" + "_".
  test('a run of underscores at a word boundary is escaped whole (no emphasis from __name__)', () => {
    const record = hostileRecord();
    const md = mdOf({ ...record, results: record.results.map((r) => (r.known ? { ...r, known: 'the adapter maps __init__ and __HYPERVISOR_sched_op wrongly' } : r)) });
    const row = tables(md).find((r) => r.row.includes('HYPERVISOR'));
    expect(row && unescapedMarkup(row.row)).toEqual([]);
    expect(row && cells(row.row)[2]).toBe('the adapter maps __init__ and __HYPERVISOR_sched_op wrongly');
  });

  // Bug: md() turns "\n" into a space but leaves "\r", which CommonMark also reads as a line ending,
  // so a carriage return in a string splits the table row.
  test('a carriage return in a string does not end the table row either', () => {
    const record = hostileRecord();
    const md = mdOf({ ...record, results: record.results.map((r) => (r.known ? { ...r, known: 'first line\rsecond line\r\nthird' } : r)) });
    for (const { header, row } of tables(md)) expect([row, cells(row).length]).toEqual([row, header]);
    expect(tables(md).filter((r) => r.row.includes('first line')).map((r) => cells(r.row)[2])).toEqual([expect.stringMatching(/^first line\s+second line\s+third$/)]);
  });
});
