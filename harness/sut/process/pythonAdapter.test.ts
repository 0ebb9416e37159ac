import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../checks/repoRoot';
import { latestRunDir, readSummary, xvc } from './fixtures/cliRun';

/*
 * The protocol is usable outside TypeScript: docs/examples/adapters/python/minimal_adapter.py
 * (standard library only) passes the scenarios written for it, and fails a corpus scenario it
 * does not implement as a conformance failure, not as a fault.
 */

const EXAMPLE = path.join(REPO_ROOT, 'docs/examples/adapters/python');
const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const hasPython = python.status === 0;
const COMMAND = `python3 ${path.join(EXAMPLE, 'minimal_adapter.py')}`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-python-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const pythonTest = hasPython ? test : test.skip;
const skipped = hasPython ? '' : ' [SKIPPED: python3 is not on PATH; install it (apt-get install python3) to run this test]';

pythonTest(`the minimal Python adapter passes its scenarios in every profile and fails an unimplemented call as a conformance failure${skipped}`, async () => {
  const out = path.join(dir, 'reports');
  const own = await xvc(['run', path.join(EXAMPLE, 'scenarios'), '--out', out, '--adapter-cmd', COMMAND], { cwd: dir });
  expect(own.stderr).toBe('');
  expect(own.code).toBe(0);
  const summary = readSummary(latestRunDir(out));
  expect(summary.adapter).toEqual({ name: 'minimal-python-adapter', version: '0.1.0', source: `command: ${COMMAND}` });
  expect(summary.results.map((r) => `${r.id} [${r.profile}] ${r.status}`).sort()).toEqual(
    ['example.python.console-line', 'example.python.unknown-enosys', 'example.python.version-and-yield'].flatMap((id) => ['minimal', 'modern', 'ws2008'].map((p) => `${id} [${p}] passed`)),
  );
  // XENVER_capabilities is not implemented: -ENOSYS where Xen copies a string.
  const other = await xvc(['run', path.join(REPO_ROOT, 'specs/xen_version/capabilities-copy.yaml'), '--profile', 'modern', '--out', out, '--adapter-cmd', COMMAND], { cwd: dir });
  expect(other.code).toBe(1);
  const failed = readSummary(latestRunDir(out)).results[0];
  expect(failed).toMatchObject({ status: 'failed', failure: { kind: 'contract', step: 1 } });
  expect(failed?.failure?.message).toContain('translated returned -38');
}, 60_000);
