import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../checks/repoRoot';
import { ADAPTER_SERVER_CMD, latestRunDir, readResultEvents, readSummary, reportCounts, xvc, type ResultJson } from './fixtures/cliRun';

/*
 * xvc run / fuzz --adapter-cmd, end to end with real processes: the reference adapter served by
 * `xvc adapter-server` gives the same per-scenario results, step by step, as in process; a
 * command that cannot shake hands still gives a complete run of infrastructure errors, exit 3.
 */

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-adapter-cmd-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Scenario files under `folder`, sorted. */
function yamlFiles(folder: string): string[] {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? yamlFiles(path.join(folder, e.name)) : e.name.endsWith('.yaml') ? [path.join(folder, e.name)] : []))
    .sort();
}

/**
 * A representative part of the corpus (the whole of it takes about 90 s through the protocol on
 * a 2-core machine, 6 to 7 times as long as in process): every 8th scenario of each hypercall
 * folder, every 3rd grant mapping or copy scenario on top (they share frames between the
 * processes), and a few Viridian-level ones (which do not involve the adapter).
 */
function sample(): string[] {
  const specs = path.join(REPO_ROOT, 'specs');
  const out = new Set<string>();
  for (const folder of fs.readdirSync(specs).sort()) {
    const full = path.join(specs, folder);
    if (!fs.statSync(full).isDirectory()) continue;
    const files = yamlFiles(full);
    const every = folder === 'viridian' ? 40 : 8;
    files.forEach((f, i) => i % every === 0 && out.add(f));
    if (folder === 'grant_table_op') files.filter((f) => /map|copy/.test(path.basename(f))).forEach((f, i) => i % 3 === 0 && out.add(f));
  }
  return [...out];
}

/** What must not differ between in process and out of process: everything but times and the replay line. */
function comparable(r: ResultJson): unknown {
  const { failure } = r;
  return { id: r.id, profile: r.profile, status: r.status, steps: r.steps, viridianOps: r.viridianOps, exercised: r.exercised, failure: failure && { kind: failure.kind, step: failure.step, field: failure.field, ...(failure.kind === 'infrastructure' ? {} : { message: failure.message }) } };
}

/** A step log without its times. */
function steps(event: Record<string, unknown>): unknown {
  return ((event['stepLog'] ?? []) as Record<string, unknown>[]).map(({ durationMs: _t, ...s }) => s);
}

describe('the reference adapter through the protocol (xvc adapter-server)', () => {
  test('gives the same results as in process over a sample of every hypercall folder, step by step', async () => {
    const files = sample();
    expect(files.length).toBeGreaterThan(100);
    const [inProcess, outOfProcess] = await Promise.all([
      xvc(['run', ...files, '--quiet', '--out', path.join(dir, 'in')], { cwd: dir }),
      xvc(['run', ...files, '--quiet', '--workers', '0', '--out', path.join(dir, 'out'), '--adapter-cmd', ADAPTER_SERVER_CMD], { cwd: dir }),
    ]);
    expect(outOfProcess.stderr).toBe('');
    expect(outOfProcess.code).toBe(inProcess.code);
    const a = readSummary(latestRunDir(path.join(dir, 'in')));
    const b = readSummary(latestRunDir(path.join(dir, 'out')));
    expect(b.adapter).toEqual({ name: a.adapter.name, version: a.adapter.version, source: `command: ${ADAPTER_SERVER_CMD}` });
    expect(b.results.length).toBeGreaterThan(250);
    expect(b.results.map(comparable)).toEqual(a.results.map(comparable));
    // Every operation the adapter made is in the step logs' translation traces: they agree too.
    const eventsA = readResultEvents(latestRunDir(path.join(dir, 'in')));
    const eventsB = readResultEvents(latestRunDir(path.join(dir, 'out')));
    expect(eventsB.map(steps)).toEqual(eventsA.map(steps));
    expect(b.totals['passed']).toBeGreaterThan(0);
  }, 180_000);
});

describe('an adapter command that cannot shake hands', () => {
  test.each([
    ['false', /the adapter exited with code 1 while answering the hello; command: false; its stderr was empty/],
    ['no-such-adapter-xvc', /the adapter exited with code 127 while answering the hello; command: no-such-adapter-xvc; its stderr ended with: ".*no-such-adapter-xvc.*not found/],
    ['echo hello', /the adapter wrote a line that is not JSON .* while answering the hello: "hello"/],
  ])('--adapter-cmd "%s": every scenario fails as an infrastructure error with the reason, reports complete, exit 3', async (command, reason) => {
    const files = ['specs/sched_op/yield-returns-zero.yaml', 'specs/console_io/write-line.yaml'].map((f) => path.join(REPO_ROOT, f));
    const out = path.join(dir, `dead-${command.replace(/\W/g, '_')}`);
    const r = await xvc(['run', ...files, '--out', out, '--adapter-cmd', command], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^xvc run: the adapter command cannot be used, so every scenario fails as an infrastructure error: \[adapter-cmd\] /);
    expect(r.stderr).toMatch(reason);
    const runDir = latestRunDir(out);
    const summary = readSummary(runDir);
    expect(summary.exitCode).toBe(3);
    expect(summary.adapter).toEqual({ name: command, version: 'unknown', source: `command: ${command}` });
    expect(summary.results).toHaveLength(6);
    for (const result of summary.results) {
      expect(result).toMatchObject({ status: 'error', failure: { kind: 'infrastructure', step: -1, stepName: 'boot', field: 'adapter' } });
      expect(result.failure?.message).toMatch(reason);
      expect(result.failure?.message).toContain('the command is not started again in this run');
    }
    expect(reportCounts(runDir)).toEqual({ summaryResults: 6, events: 6, eventsEnd: 'end', junitCases: 6, allure: 6, compliance: true });
    // Given up at once: no scenario waited for the command again.
    expect(r.ms).toBeLessThan(20_000);
  }, 30_000);
});

describe('options', () => {
  test.each([
    [['--call-timeout', '5'], '--call-timeout applies to --adapter-cmd only'],
    [['--adapter', 'x.mjs', '--adapter-cmd', 'y'], '--adapter and --adapter-cmd exclude each other'],
    [['--adapter-cmd', 'y', '--call-timeout', '0'], '--call-timeout: "0" is not a whole number of milliseconds (at least 1)'],
  ])('xvc run %j is a usage error (exit 2)', async (args, message) => {
    const r = await xvc(['run', path.join(REPO_ROOT, 'specs/sched_op/yield-returns-zero.yaml'), '--out', path.join(dir, 'usage'), ...args], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test('the help of run and fuzz lists --adapter-cmd, and adapter-server is a command', async () => {
    for (const command of ['run', 'fuzz']) expect((await xvc([command, '--help'], { cwd: dir })).stdout).toContain('--adapter-cmd "CMD"');
    expect((await xvc(['--help'], { cwd: dir })).stdout).toMatch(/adapter-server +serve the reference adapter/);
  });
});

describe('xvc fuzz --adapter-cmd', () => {
  test('fuzzes the adapter program and names it in fuzz.json; a command that cannot start is exit 3', async () => {
    const out = path.join(dir, 'fuzz');
    const r = await xvc(['fuzz', '--runs', '5', '--seed', '7', '--target', 'xen', '--no-save', '--out', out, '--adapter-cmd', ADAPTER_SERVER_CMD, '--call-timeout', '20000', '--scenario-timeout', '60000'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(latestRunDir(out), 'fuzz.json'), 'utf8')) as { adapter: unknown; totals: { cases: Record<string, number> } };
    expect(report.adapter).toEqual({ name: 'xvc-reference-adapter', version: '1.0.0', source: `command: ${ADAPTER_SERVER_CMD}` });
    expect(report.totals.cases['xen']).toBe(5);
    const dead = await xvc(['fuzz', '--runs', '5', '--no-save', '--out', out, '--adapter-cmd', 'false'], { cwd: dir });
    expect(dead.code).toBe(3);
    expect(dead.stderr).toContain('xvc fuzz: the adapter command cannot be used: [adapter-cmd] the adapter exited with code 1 while answering the hello');
  }, 60_000);
});
