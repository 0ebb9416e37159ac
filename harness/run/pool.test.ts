import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../checks/repoRoot';
import { runScenarios } from '../cli/run';

/*
 * Worker processes (--workers) and interruption (design.md section 7, issue 8): the same results
 * whatever the number of workers; a worker that dies or a scenario that hangs fails that scenario
 * as an infrastructure error and the run goes on; SIGINT / SIGTERM stop a run with complete,
 * interrupted reports. Faults use real threads and processes.
 */

const XVC = path.join(REPO_ROOT, 'bin', 'xvc.js');
const BUILD = path.join(REPO_ROOT, 'build', 'harness');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-pool-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

type Summary = { exitCode: number; interrupted: boolean; totals: Record<string, number>; results: Record<string, unknown>[] };
const latest = (reports: string): string => path.join(reports, fs.readlinkSync(path.join(reports, 'latest')));
const summary = (reports: string): Summary => JSON.parse(fs.readFileSync(path.join(latest(reports), 'summary.json'), 'utf8'));

/** A result without what may differ from run to run (times). */
function timeless(r: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'durationMs' ? undefined : v)));
}

/** Every report file of the run folder is whole: JSON parses, the event stream has its end line. */
function expectComplete(runDir: string, runs: number): void {
  for (const f of ['summary.json', 'compliance.json']) expect(() => JSON.parse(fs.readFileSync(path.join(runDir, f), 'utf8'))).not.toThrow();
  const events = fs.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').trim().split('\n');
  expect(JSON.parse(events[events.length - 1] as string)).toMatchObject({ type: 'end', results: runs });
  expect(fs.readFileSync(path.join(runDir, 'junit.xml'), 'utf8')).toMatch(/<\/testsuites>\n$/);
  expect(fs.readdirSync(path.join(runDir, 'allure-results')).filter((f) => f.endsWith('-result.json'))).toHaveLength(runs);
  expect(fs.readdirSync(runDir).filter((f) => f.includes('.tmp'))).toEqual([]);
}

describe('--workers', () => {
  test('0, 1 and 2 workers give the same results, in the same order', async () => {
    const corpus = ['event_channel_op', 'sched_op', 'viridian/synic'].map((d) => path.join(REPO_ROOT, 'specs', d));
    const by = new Map<number, Summary>();
    for (const workers of [0, 1, 2]) {
      const out = path.join(dir, `w${workers}`);
      const code = await runScenarios({ paths: corpus, out, workers, quiet: true, argv: ['run'] }, { stdout: () => undefined, stderr: () => undefined });
      expect(code).toBe(0);
      by.set(workers, summary(out));
    }
    const zero = by.get(0) as Summary;
    expect(zero.results.length).toBeGreaterThan(300);
    for (const workers of [1, 2]) expect((by.get(workers) as Summary).results.map(timeless)).toEqual(zero.results.map(timeless));
  }, 60_000);
});

const SCENARIO = (id: string, call: string): string => `id: ${id}\ntitle: ${id}\nrefs: [harness/run/pool.ts]\nprofiles: [modern]\nsteps:\n  - ${call}\n`;
const CLOSE = 'call: event_channel_op\n    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 1 }]\n    expect: { return: -XEN_EINVAL }';

/** An adapter module: the reference adapter, except that its thread exits on xen_version and it spins forever on console_io. */
const FAULTY = `const { referenceAdapter } = require(${JSON.stringify(path.join(BUILD, 'sut/index.js'))});
module.exports = (host) => {
  const a = new referenceAdapter.ReferenceAdapter(host);
  return {
    name: 'faulty', version: '1', privateFrames: a.privateFrames,
    hypercall(vcpu, nr, args) {
      if (Number(nr) === 17) process.exit(7); // __HYPERVISOR_xen_version: ends the worker process
      if (Number(nr) === 18) for (;;); // __HYPERVISOR_console_io: hangs
      return a.hypercall(vcpu, nr, args);
    },
    interrupt: (vp, vector) => a.interrupt(vp, vector),
    returnToGuest: (vcpu) => a.returnToGuest(vcpu),
  };
};
`;

describe('faults in worker processes (real processes, the command line in a child process)', () => {
  test('a worker that dies and a scenario that hangs each fail that scenario as an infrastructure error; the others pass; exit 3; reports complete', () => {
    const specs = path.join(dir, 'specs');
    fs.mkdirSync(specs);
    fs.writeFileSync(path.join(specs, 'a.yaml'), SCENARIO('pool.a', CLOSE));
    fs.writeFileSync(path.join(specs, 'b.yaml'), SCENARIO('pool.exit', 'call: xen_version\n    args: [XENVER_version, 0]'));
    fs.writeFileSync(path.join(specs, 'c.yaml'), SCENARIO('pool.hang', 'call: console_io\n    args: [CONSOLEIO_write, 0, 0]'));
    fs.writeFileSync(path.join(specs, 'd.yaml'), SCENARIO('pool.d', CLOSE));
    fs.writeFileSync(path.join(dir, 'faulty.cjs'), FAULTY);
    const out = path.join(dir, 'reports');
    const r = spawnSync(process.execPath, [XVC, 'run', specs, '--adapter', 'faulty.cjs', '--workers', '1', '--scenario-timeout', '1500', '--out', out], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('E pool.exit [modern] run: the worker running the scenario died: exit code 7');
    expect(r.stdout).toContain('E pool.hang [modern] run: the scenario did not finish within 1500 ms (--scenario-timeout); its worker was stopped');
    const s = summary(out);
    expect(s.results.map((x) => [x['id'], x['status']])).toEqual([
      ['pool.a', 'passed'],
      ['pool.exit', 'error'],
      ['pool.hang', 'error'],
      ['pool.d', 'passed'],
    ]);
    expectComplete(latest(out), 4);
  }, 60_000);
});

describe('interruption (a real process)', () => {
  test.each(['SIGINT', 'SIGTERM'] as const)('%s stops the run: exit 3, the finished scenarios reported, the run marked interrupted, every file whole', async (signal) => {
    const out = path.join(dir, 'reports');
    const child = spawn(process.execPath, [XVC, 'run', '--workers', '1', '--quiet', '--out', out], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The whole corpus takes several seconds; the handlers are installed before the corpus loads.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill(signal);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(3);
    expect(stderr).toMatch(new RegExp(`xvc run: ${signal}: stopped after \\d+ of \\d+ runs`));
    const s = summary(out);
    expect(s.interrupted).toBe(true);
    expect(s.exitCode).toBe(3);
    const planned = Number(/of (\d+) runs/.exec(stderr)?.[1]);
    expect(s.results.length).toBeLessThan(planned);
    expectComplete(latest(out), s.results.length);
  }, 60_000);
});

describe('adapter programs in worker processes', () => {
  test('SIGINT during a run with --adapter-cmd and two workers leaves no adapter process behind', async () => {
    // A copy of the adapter server under a path only this test uses, so that its processes can be found.
    const server = path.join(dir, 'my-adapter-server.js');
    fs.writeFileSync(server, `require(${JSON.stringify(path.join(BUILD, 'cli/main.js'))}).main(['adapter-server'], { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });\n`);
    const out = path.join(dir, 'reports');
    const child = spawn(process.execPath, [XVC, 'run', path.join(REPO_ROOT, 'specs'), '--workers', '2', '--quiet', '--adapter-cmd', `node ${server}`, '--out', out], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const running = (): number => spawnSync('pgrep', ['-f', server], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.trim() !== '').length;
    // Wait until both workers have their adapter program.
    for (let i = 0; i < 100 && running() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(running()).toBeGreaterThanOrEqual(2);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(3);
    expect(summary(out).interrupted).toBe(true);
    for (let i = 0; i < 30 && running() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(running()).toBe(0);
  }, 60_000);
});
