import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../checks/repoRoot';
import { mergeReports } from '../cli/mergeReports';
import { runScenarios } from '../cli/run';
import { withoutShard } from './merge';

/*
 * Release gating (design.md section 6, issue 7): --baseline regressions, expiring known
 * failures, --shard and merge-reports. Runs go through the same entry points as the command
 * line, in process, each test in its own temporary folder.
 */

type Outcome = { readonly code: number; readonly out: string; readonly err: string };
const io = (): { out: string[]; err: string[]; io: { stdout: (t: string) => void; stderr: (t: string) => void } } => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) } };
};

async function run(paths: readonly string[], extra: { out: string; argv?: readonly string[]; shard?: string; baseline?: string; expectations?: string; profile?: string }): Promise<Outcome> {
  const c = io();
  const code = await runScenarios({ paths, quiet: false, argv: extra.argv ?? ['run', ...paths], ...extra }, c.io);
  return { code, out: c.out.join(''), err: c.err.join('') };
}

async function merge(dirs: readonly string[], out: string): Promise<Outcome> {
  const c = io();
  const code = await mergeReports({ dirs, out }, c.io);
  return { code, out: c.out.join(''), err: c.err.join('') };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-gating-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const latest = (reports: string): string => path.join(reports, fs.readlinkSync(path.join(reports, 'latest')));
const summaryOf = (reports: string): { exitCode: number; totals: Record<string, number>; results: { id: string; profile: string; status: string; index: number }[]; baseline: { regressions: string[]; fixes: string[]; new: string[] } | null; expiredExpectations: { id: string }[] } =>
  JSON.parse(fs.readFileSync(path.join(latest(reports), 'summary.json'), 'utf8'));

const scenario = (id: string, expected: number): string => `id: ${id}
title: closing port 1 of a fresh domain
refs: [xen/common/event_channel.c evtchn_close]
tags: [event_channel_op]
profiles: [modern]
steps:
  - call: event_channel_op
    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 1 }]
    expect: { return: ${expected} }
`;

describe('--baseline', () => {
  test('a scenario that passed in the baseline and fails now is a regression: exit 1, named on stdout and in the summary', async () => {
    const specs = path.join(dir, 'specs');
    fs.mkdirSync(specs);
    fs.writeFileSync(path.join(specs, 'a.yaml'), scenario('gate.a', -22));
    fs.writeFileSync(path.join(specs, 'b.yaml'), scenario('gate.b', 0)); // fails: closing a free port is -EINVAL
    const before = path.join(dir, 'before');
    expect((await run([specs], { out: before })).code).toBe(1);

    fs.writeFileSync(path.join(specs, 'a.yaml'), scenario('gate.a', 0)); // now fails
    fs.writeFileSync(path.join(specs, 'b.yaml'), scenario('gate.b', -22)); // now passes
    fs.writeFileSync(path.join(specs, 'c.yaml'), scenario('gate.c', -22)); // new
    const after = path.join(dir, 'after');
    const r = await run([specs], { out: after, baseline: path.join(before, 'latest') });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`x regression against ${path.join(before, 'latest')}: gate.a [modern]`);
    expect(r.out).toContain('1 regressions, 1 fixes, 1 new');
    const s = summaryOf(after);
    expect(s.baseline).toEqual({ baseline: path.join(before, 'latest'), regressions: ['gate.a [modern]'], fixes: ['gate.b [modern]'], new: ['gate.c [modern]'] });
    expect(s.totals['regressions']).toBe(1);
  });

  test('without regressions the comparison does not change the exit code; a missing baseline is exit 2', async () => {
    const file = path.join(dir, 'a.yaml');
    fs.writeFileSync(file, scenario('gate.a', -22));
    expect((await run([file], { out: path.join(dir, 'r') })).code).toBe(0);
    const again = await run([file], { out: path.join(dir, 'r2'), baseline: path.join(dir, 'r', 'latest') });
    expect(again.code).toBe(0);
    expect(again.out).toContain('0 regressions, 0 fixes, 0 new');
    const missing = await run([file], { out: path.join(dir, 'r3'), baseline: path.join(dir, 'nowhere') });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--baseline');
  });
});

describe('expectations with an expiry date', () => {
  test('an entry past its date fails the run (exit 1) and is named; one still in date does not', async () => {
    const file = path.join(dir, 'a.yaml');
    fs.writeFileSync(file, scenario('gate.a', 0));
    const expired = path.join(dir, 'expired.yaml');
    fs.writeFileSync(expired, 'knownFailures:\n  - { id: gate.a, reason: "adapter issue 3", expires: 2020-01-31 }\n');
    const r = await run([file], { out: path.join(dir, 'r'), expectations: expired });
    expect(r.code).toBe(1);
    expect(r.out).toContain('x expectation expired 2020-01-31: gate.a (adapter issue 3)');
    expect(summaryOf(path.join(dir, 'r')).expiredExpectations).toEqual([{ id: 'gate.a', reason: 'adapter issue 3', expires: '2020-01-31' }]);

    const current = path.join(dir, 'current.yaml');
    fs.writeFileSync(current, 'knownFailures:\n  - { id: gate.a, reason: "adapter issue 3", expires: 2999-12-31 }\n');
    expect((await run([file], { out: path.join(dir, 'r2'), expectations: current })).code).toBe(0);
  });
});

/** The corpus part the shard tests use: enough scenarios and profiles to split three ways. */
const CORPUS = [path.join(REPO_ROOT, 'specs', 'event_channel_op'), path.join(REPO_ROOT, 'specs', 'viridian', 'synic')];

/**
 * A report's text with what legitimately differs between two runs of the same plan replaced:
 * run ids, times, durations, and the digest of summary.json (which holds them).
 */
function normalise(text: string): string {
  return text
    .replace(/\d{8}-\d{6}-\d{3}(-\d+)?/g, 'RUN-ID')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
    .replace(/"(durationMs|start|stop)": ?[\d.]+/g, '"$1": N')
    .replace(/\b(time|timestamp)="[^"]*"/g, '$1="N"')
    .replace(/[0-9a-f]{64}/g, 'SHA-256');
}

/** Every file of a run folder (allure-results/ included), normalised, by relative path. */
function folder(runDir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else files.set(path.relative(runDir, full), normalise(fs.readFileSync(full, 'utf8')));
    }
  };
  walk(runDir);
  return files;
}

describe('--shard and merge-reports', () => {
  test('every scenario is in exactly one shard, with all its profiles', async () => {
    const owners = new Map<string, Set<number>>();
    for (const i of [1, 2, 3]) {
      const out = path.join(dir, `s${i}`);
      expect((await run(CORPUS, { out, shard: `${i}/3` })).code).toBe(0);
      for (const r of summaryOf(out).results) owners.set(r.id, new Set([...(owners.get(r.id) ?? []), i]));
    }
    const whole = path.join(dir, 'whole');
    await run(CORPUS, { out: whole });
    const all = summaryOf(whole).results;
    expect([...owners.keys()].sort()).toEqual([...new Set(all.map((r) => r.id))].sort());
    expect([...owners.values()].filter((s) => s.size !== 1)).toEqual([]);
    const sizes = [1, 2, 3].map((i) => summaryOf(path.join(dir, `s${i}`)).results.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(all.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(all.length / 6);
  });

  test('the merged shards equal the unsharded run: every report file, apart from ids, times and durations', async () => {
    const argv = ['run', 'specs/event_channel_op', 'specs/viridian/synic'];
    const shards = [1, 2, 3].map((i) => path.join(dir, `s${i}`));
    for (const [i, out] of shards.entries()) expect((await run(CORPUS, { out, argv: [...argv, '--shard', `${i + 1}/3`, '--out', out], shard: `${i + 1}/3` })).code).toBe(0);
    const whole = path.join(dir, 'whole');
    expect((await run(CORPUS, { out: whole, argv: [...argv, '--out', whole] })).code).toBe(0);
    const merged = path.join(dir, 'merged');
    const m = await merge([...shards.map((s) => path.join(s, 'latest'))].reverse(), merged);
    expect(m.err).toBe('');
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/3 folders, (\d+) runs: \1 passed/);

    const a = folder(latest(whole));
    const b = folder(latest(merged));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    expect(a.size).toBeGreaterThan(300);
    const differing = [...a.keys()].filter((k) => a.get(k) !== b.get(k));
    expect(differing).toEqual([]);
  });

  test('refuses folders that are not the shards of one run: mixed harness versions, a missing or repeated shard', async () => {
    const shards = [1, 2].map((i) => path.join(dir, `s${i}`));
    for (const [i, out] of shards.entries()) await run(CORPUS.slice(0, 1), { out, argv: ['run', '--shard', `${i + 1}/2`], shard: `${i + 1}/2` });
    const [one, two] = shards.map((s) => latest(s)) as [string, string];

    const missing = await merge([one], path.join(dir, 'm1'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('shard 2/2 missing');
    const twice = await merge([one, one], path.join(dir, 'm2'));
    expect(twice.code).toBe(2);
    expect(twice.err).toContain('are both shard 1/2');

    const events = path.join(two, 'events.jsonl');
    fs.writeFileSync(events, fs.readFileSync(events, 'utf8').replace(/"version":"[^"]*"/, '"version":"0.0.1-old"'));
    const mixed = await merge([one, two], path.join(dir, 'm3'));
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/written by xvc [^ ]+ and .* by xvc 0\.0\.1-old; shards of one run must come from one harness version/);
    expect(fs.existsSync(path.join(dir, 'm3'))).toBe(false);

    fs.writeFileSync(events, fs.readFileSync(events, 'utf8').split('\n').slice(0, -2).join('\n'));
    const cut = await merge([one, two], path.join(dir, 'm4'));
    expect(cut.code).toBe(2);
    expect(cut.err).toContain('has no end line');
  });

  test('the merged command drops --shard and --out', () => {
    expect(withoutShard(['run', 'specs', '--shard', '2/3', '--out', 'o', '--quiet', '--shard=1/2', '--out=x'])).toEqual(['run', 'specs', '--quiet']);
  });
});
