import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from './main';
import { EXIT, type CommandIo } from './command';
import { REPO_ROOT } from '../checks/repoRoot';

/* xvc fuzz and xvc replay --seed --path, end to end: exit codes, reports, regression files. */

function capture(): CommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-fuzz-cli-'));
  // An adapter module that answers -ENOSYS where Xen answers -EINVAL (harness/oracle/brokenAdapters.ts).
  fs.writeFileSync(path.join(dir, 'broken.cjs'), `module.exports = require(${JSON.stringify(path.resolve(__dirname, '../oracle/brokenAdapters.js'))}).wrongErrno;\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a clean campaign against the reference adapter exits 0 and writes fuzz.json and junit.xml', async () => {
  const io = capture();
  const out = path.join(dir, 'clean');
  const code = await main(['fuzz', '--runs', '20', '--seed', '11', '--no-save', '--out', out], io);
  expect(io.err.join('')).toBe('');
  expect(code).toBe(EXIT.ok);
  const run = fs.realpathSync(path.join(out, 'latest'));
  const report = JSON.parse(fs.readFileSync(path.join(run, 'fuzz.json'), 'utf8')) as Record<string, unknown> & { totals: { cases: Record<string, number>; failures: number }; exercised: { xen: Record<string, unknown> }; seed: number };
  expect(report['formatVersion']).toBe(1);
  expect(report.seed).toBe(11);
  expect(report.totals.cases).toEqual({ xen: 20, viridian: 20 });
  expect(report.totals.failures).toBe(0);
  expect(Object.keys(report.exercised.xen).length).toBeGreaterThan(5);
  const junit = fs.readFileSync(path.join(run, 'junit.xml'), 'utf8');
  expect(junit).toContain('<testcase classname="fuzz.xen"');
  expect(junit).not.toContain('<failure');
  expect(io.out.join('')).toMatch(/seed 11.*\n[\s\S]*0 failures/);
});

/** The xvc command line in a child process (adapter modules are loaded with import(), which Jest's sandbox does not allow). */
function xvc(argv: readonly string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/xvc.js'), ...argv], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('a broken adapter: exit 1, a regression file that fails with it and passes with the reference, and a replay of the seed and path', () => {
  const save = path.join(dir, 'regression');
  const adapter = path.join(dir, 'broken.cjs');
  const fuzz = xvc(['fuzz', '--runs', '200', '--seed', '1', '--target', 'xen', '--adapter', adapter, '--save', save, '--out', path.join(dir, 'reports')]);
  expect(fuzz.code).toBe(EXIT.failures);
  const text = fuzz.out;
  expect(text).toContain('FAILURE (xen-level');
  const replay = /replay: npx xvc (replay --seed (-?\d+) --path ([\d:]+) --target xen --adapter \S+)/.exec(text);
  expect(replay).not.toBeNull();
  const files = fs.readdirSync(save);
  expect(files).toHaveLength(1);
  expect(files[0]).toMatch(/^[0-9a-f]{10}-xen-return-value\.yaml$/);
  const yaml = fs.readFileSync(path.join(save, files[0] as string), 'utf8');
  expect(yaml.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=.*scenario\.schema\.json$/);
  expect(yaml).toContain('provenance:');

  expect(xvc(['run', save, '--adapter', adapter, '--out', path.join(dir, 'reports')]).code).toBe(EXIT.failures);
  expect(xvc(['run', save, '--out', path.join(dir, 'reports')]).code).toBe(EXIT.ok);

  const [, , seed, fuzzPath] = replay as RegExpExecArray;
  const again = xvc(['replay', '--seed', seed as string, '--path', fuzzPath as string, '--target', 'xen', '--adapter', adapter]);
  expect(again.code).toBe(EXIT.failures);
  expect(again.out).toMatch(/DIFFERS return value/);
  expect(xvc(['replay', '--seed', seed as string, '--path', fuzzPath as string, '--target', 'xen']).code).toBe(EXIT.ok);
});

test.each([
  [['fuzz', '--runs', '0']],
  [['fuzz', '--target', 'kernel']],
  [['fuzz', '--time', '-1']],
  [['fuzz', '--seed', '1.5']],
  [['fuzz', '--profile', 'ws2016']],
  [['replay', '--seed', '1']],
  [['replay', '--seed', '1', '--path', 'a:b']],
])('usage error: %j exits 2', async (argv) => {
  const io = capture();
  expect(await main(argv, io)).toBe(EXIT.invalidInput);
  expect(io.err.join('')).toMatch(/xvc (fuzz|replay)|--/);
});

describe('--workers', () => {
  test('two campaigns in worker processes: the runs are split, the same seed gives the same merged report, worker 1 keeps the seed', async () => {
    const reportOf = async (workers: number, name: string): Promise<{ totals: { cases: Record<string, number>; steps: number }; batches: { target: string; seed: number; cases: number }[] }> => {
      const io = capture();
      const out = path.join(dir, name);
      expect(await main(['fuzz', '--runs', '30', '--seed', '5', '--workers', String(workers), '--no-save', '--out', out], io)).toBe(EXIT.ok);
      return JSON.parse(fs.readFileSync(path.join(fs.realpathSync(path.join(out, 'latest')), 'fuzz.json'), 'utf8'));
    };
    const one = await reportOf(1, 'w1');
    const two = await reportOf(2, 'w2');
    const again = await reportOf(2, 'w2-again');
    expect(two.totals.cases).toEqual({ xen: 30, viridian: 30 });
    expect(two.batches).toEqual(again.batches);
    expect(two.totals.steps).toBe(again.totals.steps);
    // Worker 1's first batch is the single campaign's first batch (15 of its 30 cases).
    expect(two.batches[0]).toEqual({ ...one.batches[0], cases: 15 });
    expect(new Set(two.batches.map((b) => b.seed)).size).toBe(two.batches.length);
  }, 60_000);

  test('a broken adapter is found by the workers, and the failure replays from its seed and path', () => {
    const adapter = path.join(dir, 'broken.cjs');
    const fuzz = xvc(['fuzz', '--runs', '200', '--seed', '1', '--target', 'xen', '--workers', '2', '--adapter', adapter, '--no-save', '--out', path.join(dir, 'reports-w')]);
    expect(fuzz.code).toBe(EXIT.failures);
    const replay = /replay: npx xvc (replay --seed (-?\d+) --path ([\d:]+) --target xen --adapter \S+)/.exec(fuzz.out);
    expect(replay).not.toBeNull();
    const again = xvc((replay?.[1] ?? '').split(' '));
    expect(again.code).toBe(EXIT.failures);
  }, 60_000);
});

test('xvc run --fuzz: a campaign after the scenarios; its failure fails the run and is in the summary and the compliance report', () => {
  const adapter = path.join(dir, 'broken.cjs');
  const out = path.join(dir, 'run-fuzz');
  const r = xvc(['run', '--grep', '^no scenario has this id$', '--fuzz', '20', '--seed', '1', '--workers', '0', '--adapter', adapter, '--out', out]);
  expect(r.code).toBe(EXIT.failures);
  expect(r.out).toMatch(/x fuzz \(xen-level, profile \w+\): .*\n    replay: npx xvc replay --seed -?\d+ --path [\d:]+ --target xen/);
  const run = fs.realpathSync(path.join(out, 'latest'));
  const summary = JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8')) as { seed: string; exitCode: number; fuzz: { seed: number; failures: unknown[]; cases: Record<string, number> } };
  expect(summary.seed).toBe('1');
  expect(summary.exitCode).toBe(EXIT.failures);
  expect(summary.fuzz.failures).toHaveLength(1);
  const compliance = JSON.parse(fs.readFileSync(path.join(run, 'compliance.json'), 'utf8')) as { verdict: string; fuzz: { seed: number; failures: unknown[] } | null };
  expect(compliance.verdict).toBe('not compliant');
  expect(compliance.fuzz?.failures).toHaveLength(1);
}, 60_000);
