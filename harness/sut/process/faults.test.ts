import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../checks/repoRoot';
import { FAULTY_SERVER_CMD, latestRunDir, readSummary, reportCounts, xvc, type CliOutcome } from './fixtures/cliRun';

/*
 * An adapter command that crashes, exits, hangs, prints garbage, answers out of order or floods
 * fails the scenario that was running as an infrastructure error; the harness starts it again
 * and the run goes on, exits 3, and writes complete reports. Real processes: the command line in
 * a child process, and fixtures/faultyAdapterServer.ts (the reference adapter with one fault
 * injected into its stream) as the adapter. Each run has three scenarios; the fault fires in the
 * second, once (a marker file keeps the restarted adapter from repeating it).
 */

// In corpus order (by path): the second is the one with the fault.
const SCENARIOS = ['specs/console_io/write-line.yaml', 'specs/sched_op/yield-returns-zero.yaml', 'specs/xen_version/version-xen-4.18.yaml'].map((f) => path.join(REPO_ROOT, f));
const IDS = ['console_io.write.line', 'sched_op.yield.returns-zero', 'xen_version.version.xen-4.18'];

/** What each fault's failure message must say (after "AdapterProcessError: [adapter-cmd] "). */
const FAULTS: Record<string, RegExp> = {
  crash: /the adapter exited with code 70 while answering hypercall 0x1d on vCPU 0.*its stderr ended with: .*crashing in the middle of a hypercall/,
  'exit-at-start': /the adapter exited with code 4 while answering the start of a scenario.*exiting at the start of a scenario/,
  hang: /no answer to hypercall 0x1d on vCPU 0 within the call timeout of 3000 ms; the adapter was killed.*hanging in a hypercall.*hint: raise it with --call-timeout MS/,
  garbage: /the adapter wrote a line that is not JSON .* while answering hypercall 0x1d on vCPU 0: "this is not a protocol message".*hint: stdout is the protocol channel/,
  'out-of-order': /the adapter answered request \d+ while request \d+ \(hypercall 0x1d on vCPU 0\) was outstanding \(an old request: out of order\)/,
  'unknown-id': /the adapter answered request 987654 while request \d+ \(hypercall 0x1d on vCPU 0\) was outstanding \(a request never sent\)/,
  flood: /the adapter wrote a line of more than 16777216 bytes while answering hypercall 0x1d on vCPU 0; it was killed/,
  'op-flood': /the adapter performed more than \d+ operations while answering hypercall 0x1d on vCPU 0; it was killed/,
  error: /the adapter could not answer hypercall 0x1d on vCPU 0: faulty adapter: refusing this hypercall/,
};

let dir: string;
const outcomes = new Map<string, CliOutcome>();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-faults-'));
  // The runs are independent: three at a time. (op-flood gets a long call timeout, so that the
  // operation cap, not the clock, stops it.)
  const queue = Object.keys(FAULTS);
  const lane = async (): Promise<void> => {
    for (let fault = queue.shift(); fault !== undefined; fault = queue.shift()) {
      const env = { XVC_FAULT: fault, XVC_FAULT_SCENARIO: '2', XVC_FAULT_MARK: path.join(dir, `${fault}.fired`) };
      const args = ['run', ...SCENARIOS, '--profile', 'minimal', '--workers', '0', '--out', path.join(dir, fault), '--adapter-cmd', FAULTY_SERVER_CMD, '--call-timeout', fault === 'op-flood' || fault === 'flood' ? '60000' : '3000'];
      outcomes.set(fault, await xvc(args, { cwd: dir, env }));
    }
  };
  await Promise.all([lane(), lane(), lane()]);
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(Object.entries(FAULTS))('an adapter command with the fault %s', (fault, message) => {
  test('fails the second scenario as an infrastructure error; the third passes after the restart; exit 3; complete reports', () => {
    const r = outcomes.get(fault) as CliOutcome;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    expect(fs.existsSync(path.join(dir, `${fault}.fired`))).toBe(true);
    const runDir = latestRunDir(path.join(dir, fault));
    const summary = readSummary(runDir);
    expect(summary.exitCode).toBe(3);
    expect(summary.adapter).toEqual({ name: 'faulty-adapter', version: '0.0.1', source: `command: ${FAULTY_SERVER_CMD}` });
    expect(summary.results.map((x) => [x.id, x.status])).toEqual([
      [IDS[0], 'passed'],
      [IDS[1], 'error'],
      [IDS[2], 'passed'],
    ]);
    const failure = summary.results[1]?.failure;
    expect(failure).toMatchObject({ kind: 'infrastructure', field: 'adapter', step: fault === 'exit-at-start' ? -1 : 0 });
    expect(failure?.message).toMatch(/^AdapterProcessError: \[adapter-cmd\] /);
    expect(failure?.message).toMatch(message);
    if (fault !== 'error') expect(failure?.message).toContain(`command: ${FAULTY_SERVER_CMD}`);
    // The failure line on the console names the scenario and how to replay it with the same command.
    expect(r.stdout).toContain(`E ${IDS[1]} [minimal]`);
    expect(r.stdout).toContain(`replay: npx xvc replay ${path.relative(dir, SCENARIOS[1] as string)} --profile minimal --adapter-cmd '${FAULTY_SERVER_CMD}'`);
    expect(r.stdout).toContain('3 runs of 3 scenarios: 2 passed, 0 failed, 1 errors');
    expect(reportCounts(runDir)).toEqual({ summaryResults: 3, events: 3, eventsEnd: 'end', junitCases: 3, allure: 3, compliance: true });
  });
});

test('a hang is cut at the call timeout, not later', () => {
  // Three scenarios and two adapter starts fit in a few seconds besides the 3 s timeout.
  expect((outcomes.get('hang') as CliOutcome).ms).toBeLessThan(20_000);
});

test('an in-process adapter module that throws in one scenario: that scenario fails as an infrastructure error and the run goes on', async () => {
  const build = path.join(REPO_ROOT, 'build/harness');
  const module = path.join(dir, 'throws-once.cjs');
  // The second adapter the factory builds throws on its first hypercall.
  fs.writeFileSync(
    module,
    `const { referenceAdapter } = require(${JSON.stringify(path.join(build, 'sut/index.js'))});\nlet built = 0;\nmodule.exports = (host) => {\n  const a = new referenceAdapter.ReferenceAdapter(host);\n  const n = ++built;\n  return { name: 'throws-once', version: '1', privateFrames: a.privateFrames,\n    hypercall(vcpu, nr, args) { if (n === 3) throw new Error('adapter bug in the second scenario'); return a.hypercall(vcpu, nr, args); },\n    interrupt: (vp, v) => a.interrupt(vp, v), returnToGuest: (v) => a.returnToGuest(v) };\n};\n`,
  );
  // (The first adapter built is the probe that learns the name: the second scenario's is the third.)
  const r = await xvc(['run', ...SCENARIOS, '--profile', 'minimal', '--workers', '0', '--out', path.join(dir, 'module'), '--adapter', module], { cwd: dir });
  expect(r.code).toBe(3);
  const runDir = latestRunDir(path.join(dir, 'module'));
  const summary = readSummary(runDir);
  expect(summary.results.map((x) => x.status)).toEqual(['passed', 'error', 'passed']);
  expect(summary.results[1]?.failure).toMatchObject({ kind: 'infrastructure', field: 'adapter', message: 'Error: adapter bug in the second scenario' });
  expect(reportCounts(runDir)).toEqual({ summaryResults: 3, events: 3, eventsEnd: 'end', junitCases: 3, allure: 3, compliance: true });
}, 30_000);
