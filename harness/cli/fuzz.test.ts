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
