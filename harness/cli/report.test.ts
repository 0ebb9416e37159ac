import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../checks/repoRoot';
import { JAVA_HINT } from './report';

/*
 * xvc report without generating HTML (the suite never depends on Java or allure-commandline):
 * what it says when there is nothing to report on, and when Java is missing.
 */

const XVC = path.join(REPO_ROOT, 'bin', 'xvc.js');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-report-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a folder without allure-results is exit 2 with what to give instead', () => {
  const r = spawnSync(process.execPath, [XVC, 'report', dir], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('allure-results does not exist; give a run folder written by xvc run');
});

test('without Java: exit 3, saying so and how to install it, and nothing written', () => {
  const out = path.join(dir, 'reports');
  const run = spawnSync(process.execPath, [XVC, 'run', path.join(REPO_ROOT, 'specs', 'console_io'), '--profile', 'modern', '--workers', '0', '--quiet', '--out', out], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: '' };
  delete env['JAVA_HOME'];
  const r = spawnSync(process.execPath, [XVC, 'report', path.join(out, 'latest')], { encoding: 'utf8', env });
  expect(r.status).toBe(3);
  expect(r.stderr).toContain(`xvc report: Java is not installed. ${JAVA_HINT}`);
  expect(fs.existsSync(path.join(fs.realpathSync(path.join(out, 'latest')), 'allure-report'))).toBe(false);
}, 30_000);
