import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../paths';
import { HARNESS_VERSION } from '../version';
import { COMMANDS, main } from './main';

/*
 * The command line as CI and users see it (design.md section 6): exit codes 0 / 1 / 2 / 3, the
 * failure lines with their replay command, diagnostics as file:line:col, and complete run
 * folders. Each test works in its own temporary folder.
 */

type Outcome = { readonly code: number; readonly out: string; readonly err: string };

async function xvc(args: readonly string[]): Promise<Outcome> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

const PASSES = `id: cli.passes
title: a port allocated then closed
refs: [xen/common/event_channel.c]
tags: [event_channel_op]
steps:
  - call: event_channel_op
    args: [EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, dom: DOMID_SELF, remote_dom: 0 }]
    expect: { return: 0, out: { port: 1 } }
  - call: event_channel_op
    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 1 }]
    expect: { return: 0 }
  - call: event_channel_op
    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 1 }]
    expect: { return: -XEN_EINVAL }
`;

const FAILS = `id: cli.fails
title: closing a free port does not return 0
refs: [xen/common/event_channel.c]
steps:
  - call: event_channel_op
    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 1 }]
    expect: { return: 0 }
`;

const INVALID = `id: cli.invalid
title: a misspelt hypercall
refs: [r]
steps:
  - call: event_chanel_op
`;

let dir: string;
let out: string;
/** Writes a file in the temporary folder and returns its absolute path. */
function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-cli-'));
  out = path.join(dir, 'reports');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

type SummaryJson = { formatVersion: number; runId: string; exitCode: number; totals: Record<string, number>; results: { id: string; profile: string; status: string; known?: string; replay: string }[]; diagnostics: { file: string; line: number; col: number }[] };

/** The run folder OUT/latest points at: its summary.json parsed and junit.xml read, both required. */
function latestRun(reports = out): { runId: string; summary: SummaryJson; junit: string } {
  const link = path.join(reports, 'latest');
  const runId = fs.lstatSync(link).isSymbolicLink() ? fs.readlinkSync(link) : fs.readFileSync(link, 'utf8').trim();
  const summary = JSON.parse(fs.readFileSync(path.join(reports, runId, 'summary.json'), 'utf8')) as SummaryJson;
  const junit = fs.readFileSync(path.join(reports, runId, 'junit.xml'), 'utf8');
  expect(summary.runId).toBe(runId);
  expect(junit).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites [^>]*>[\s\S]*<\/testsuites>\n$/);
  return { runId, summary, junit };
}

describe('xvc run', () => {
  test('exit 0 when every scenario passes; the run folder is complete and latest points at it', async () => {
    const r = await xvc(['run', write('specs/passes.yaml', PASSES), '--out', out, '--profile', 'modern']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('xvc run: 1 runs of 1 scenarios: 1 passed, 0 failed, 0 errors');
    const { runId, summary, junit } = latestRun();
    expect(r.out).toContain(runId);
    expect(summary).toMatchObject({ formatVersion: 1, exitCode: 0, totals: { runs: 1, passed: 1 }, results: [{ id: 'cli.passes', profile: 'modern', status: 'passed' }] });
    expect(junit).toContain('name="cli.passes [modern]"');
  });

  test('every profile the scenario names without --profile; --grep selects scenarios', async () => {
    const specs = path.dirname(write('specs/passes.yaml', PASSES));
    write('specs/other.yaml', PASSES.replace('cli.passes', 'cli.other').replace('a port allocated', 'another port allocated'));
    expect((await xvc(['run', specs, '--out', out])).code).toBe(0);
    expect(latestRun().summary.results.map((x) => `${x.id}/${x.profile}`).sort()).toEqual(['cli.other/minimal', 'cli.other/modern', 'cli.other/ws2008', 'cli.passes/minimal', 'cli.passes/modern', 'cli.passes/ws2008']);
    expect((await xvc(['run', specs, '--out', out, '--grep', '^cli\\.oth', '--profile', 'ws2008'])).code).toBe(0);
    expect(latestRun().summary.results.map((x) => `${x.id}/${x.profile}`)).toEqual(['cli.other/ws2008']);
  });

  test('exit 1 with a failing scenario; its failure line names the step and the replay command', async () => {
    const failing = write('specs/fails.yaml', FAILS);
    const r = await xvc(['run', write('specs/passes.yaml', PASSES), failing, '--out', out, '--profile', 'modern']);
    expect(r.code).toBe(1);
    const display = path.relative(process.cwd(), failing);
    expect(r.out).toContain(`x cli.fails [modern] step 1 (call event_channel_op): xen world: return expected 0, got -XEN_EINVAL (-22)`);
    expect(r.out).toContain(`replay: npx xvc replay ${display} --profile modern`);
    expect(r.out).not.toContain('cli.passes [modern]');
    const { summary, junit } = latestRun();
    expect(summary).toMatchObject({ exitCode: 1, totals: { runs: 2, passed: 1, failed: 1 } });
    expect(summary.results.find((x) => x.id === 'cli.fails')?.replay).toBe(`npx xvc replay ${display} --profile modern`);
    expect(junit).toMatch(/<failure message="return: expected 0, got -XEN_EINVAL \(-22\)" type="expectation">/);
  });

  test('exit 2 with an invalid file, and the valid files still run', async () => {
    const specs = path.dirname(write('specs/passes.yaml', PASSES));
    write('specs/fails.yaml', FAILS);
    const invalid = write('specs/invalid.yaml', INVALID);
    const r = await xvc(['run', specs, '--out', out, '--profile', 'modern']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${path.relative(process.cwd(), invalid)}:5:11: error: unknown hypercall "event_chanel_op"`);
    expect(r.err).toContain('hint: did you mean event_channel_op?');
    const { summary } = latestRun();
    expect(summary.results.map((x) => [x.id, x.status]).sort()).toEqual([
      ['cli.fails', 'failed'],
      ['cli.passes', 'passed'],
    ]);
    expect(summary.diagnostics).toEqual([expect.objectContaining({ line: 5, col: 11 })]);
    expect(summary.exitCode).toBe(2);
  });

  test('a scenario that cannot complete is reported as an error of that scenario, with its replay line', async () => {
    const endless = write('specs/endless.yaml', 'id: cli.endless\ntitle: too many ticks\nrefs: [r]\nsteps:\n  - advance: 3000s\n');
    const r = await xvc(['run', endless, write('specs/passes.yaml', PASSES), '--out', out, '--profile', 'modern']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('E cli.endless [modern] step 1 (advance)');
    expect(r.out).toContain(`replay: npx xvc replay ${path.relative(process.cwd(), endless)} --profile modern`);
    const { summary, junit } = latestRun();
    expect(summary.results.map((x) => [x.id, x.status]).sort()).toEqual([
      ['cli.endless', 'error'],
      ['cli.passes', 'passed'],
    ]);
    expect(junit).toContain('<error message="ClockBudgetError: more than 200000 timers');
  });

  test('--expectations: a listed failure does not fail the run; an unexpected pass does', async () => {
    const passes = write('specs/passes.yaml', PASSES);
    const fails = write('specs/fails.yaml', FAILS);
    const known = write('known.yaml', 'knownFailures:\n  - { id: cli.fails, reason: "adapter issue 12" }\n');
    const r = await xvc(['run', passes, fails, '--out', out, '--profile', 'modern', '--expectations', known]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('1 known failures, 0 unexpected passes');
    const first = latestRun();
    expect(first.summary.results.find((x) => x.id === 'cli.fails')).toMatchObject({ status: 'failed', known: 'adapter issue 12' });
    expect(first.junit).toContain('<skipped message="known failure: adapter issue 12"/>');

    const stale = write('stale.yaml', 'knownFailures:\n  - { id: cli.passes, reason: "was issue 7" }\n');
    const again = await xvc(['run', passes, '--out', out, '--profile', 'modern', '--expectations', stale]);
    expect(again.code).toBe(1);
    expect(again.out).toContain('x cli.passes [modern] unexpected pass (listed: was issue 7)');
    expect(latestRun().runId).not.toBe(first.runId);
  });

  test('a malformed expectations file is invalid input (exit 2)', async () => {
    const bad = write('bad.yaml', 'knownFailures:\n  - { id: cli.fails }\n');
    const r = await xvc(['run', write('specs/passes.yaml', PASSES), '--out', out, '--profile', 'modern', '--expectations', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('knownFailures[0] needs an id and a reason');
  });

  test('bad options are usage errors (exit 2) with the command help', async () => {
    for (const args of [['--bogus'], ['--profile', 'nope'], ['--grep', '(']]) {
      const r = await xvc(['run', write('specs/passes.yaml', PASSES), '--out', out, ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('Usage: xvc run');
    }
    expect((await xvc(['run', '--profile', 'nope', '--out', out])).err).toContain('--profile: unknown profile "nope"');
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('xvc run --adapter (in a child process: adapter modules are loaded with import())', () => {
  test('exit 3 for a module that throws on load, is not an adapter, or throws while running; a working module runs', () => {
    const specs = path.dirname(write('specs/passes.yaml', PASSES));
    const build = path.join(PACKAGE_ROOT, 'build/harness');
    write('throws.cjs', "throw new Error('the adapter module exploded');\n");
    write('number.cjs', 'module.exports = 42;\n');
    write('half.cjs', "module.exports = () => ({ name: 'half', version: '1' });\n");
    write('good.cjs', `const { referenceAdapter } = require(${JSON.stringify(path.join(build, 'sut/index.js'))});\nmodule.exports = (host) => new referenceAdapter.ReferenceAdapter(host);\n`);
    write('boom.cjs', `const { referenceAdapter } = require(${JSON.stringify(path.join(build, 'sut/index.js'))});\nmodule.exports = (host) => { const a = new referenceAdapter.ReferenceAdapter(host); return { name: 'boom', version: '1', privateFrames: a.privateFrames, hypercall() { throw new Error('adapter bug'); }, interrupt: (...x) => a.interrupt(...x), returnToGuest: (v) => a.returnToGuest(v) }; };\n`);
    write('errno.cjs', `module.exports = require(${JSON.stringify(path.join(build, 'oracle/brokenAdapters.js'))}).wrongErrno;\n`);
    const program = `
      const { main } = require(${JSON.stringify(path.join(build, 'cli/main.js'))});
      (async () => {
        const results = {};
        for (const adapter of ['throws.cjs', 'number.cjs', 'half.cjs', 'good.cjs', 'boom.cjs', 'errno.cjs']) {
          let out = '', err = '';
          const code = await main(['run', ${JSON.stringify(specs)}, '--profile', 'modern', '--out', 'reports-' + adapter, '--adapter', adapter], { stdout: (t) => (out += t), stderr: (t) => (err += t) });
          results[adapter] = { code, out, err };
        }
        process.stdout.write(JSON.stringify(results));
      })();`;
    const child = spawnSync(process.execPath, ['-e', program], { cwd: dir, encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const results = JSON.parse(child.stdout) as Record<string, Outcome>;
    expect(results['throws.cjs']).toMatchObject({ code: 3, err: expect.stringContaining('the adapter module exploded') });
    expect(results['throws.cjs']?.err).toContain('xvc run: the adapter cannot be used: cannot load adapter module');
    expect(results['number.cjs']).toMatchObject({ code: 3, err: expect.stringContaining('has no default export function') });
    expect(results['half.cjs']).toMatchObject({ code: 3, err: expect.stringContaining('lacks privateFrames, hypercall, interrupt, returnToGuest') });
    expect(results['good.cjs']).toMatchObject({ code: 0, err: '' });
    expect(results['good.cjs']?.out).toContain('1 passed');
    // An adapter that throws while running is an infrastructure error of the scenario (exit 3), with the reports written.
    expect(results['boom.cjs']?.code).toBe(3);
    expect(results['boom.cjs']?.out).toContain('E cli.passes [modern] step 1 (call event_channel_op): Error: adapter bug');
    expect(latestRun(path.join(dir, 'reports-boom.cjs')).summary.exitCode).toBe(3);
    // A broken translation fails the run, and the replay command names the adapter.
    expect(results['errno.cjs']?.code).toBe(1);
    expect(results['errno.cjs']?.out).toContain('the worlds disagree at return value');
    expect(results['errno.cjs']?.out).toContain('--profile modern --adapter errno.cjs');
    expect(latestRun(path.join(dir, 'reports-good.cjs')).summary.exitCode).toBe(0);
  });
});

describe('xvc validate', () => {
  test('exit 0 when every file is valid', async () => {
    const r = await xvc(['validate', write('specs/passes.yaml', PASSES), write('specs/fails.yaml', FAILS)]);
    expect(r).toEqual({ code: 0, out: 'xvc validate: 2 files, 2 valid scenarios, 0 errors in 0 files\n', err: '' });
  });

  test('exit 2 with each error as file:line:col on stderr; the other files are still checked', async () => {
    const specs = path.dirname(write('specs/a-passes.yaml', PASSES));
    const invalid = write('specs/b-invalid.yaml', INVALID);
    const syntax = write('specs/c-syntax.yaml', 'id: cli.syntax\ntitle: [unclosed\n');
    const missing = write('specs/d-missing.yaml', 'id: cli.missing\nrefs: [r]\nsteps:\n  - advance: 1ms\n');
    const r = await xvc(['validate', specs]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('xvc validate: 4 files, 1 valid scenarios, 3 errors in 3 files\n');
    expect(r.err).toContain(`${path.relative(process.cwd(), invalid)}:5:11: error: unknown hypercall "event_chanel_op"`);
    expect(r.err).toMatch(new RegExp(`${path.relative(process.cwd(), syntax).replace(/[.]/g, '\\.')}:\\d+:\\d+: error: YAML: `));
    expect(r.err).toContain(`${path.relative(process.cwd(), missing)}:1:1: error: missing field "title"`);
  });

  test('a path that does not exist is an error, not a silent pass', async () => {
    const r = await xvc(['validate', path.join(dir, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no such file or directory');
  });
});

describe('xvc replay', () => {
  test('prints each step with both worlds and PASSED (exit 0)', async () => {
    const r = await xvc(['replay', write('passes.yaml', PASSES), '--profile', 'ws2008']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('cli.passes: a port allocated then closed');
    expect(r.out).toContain('[ws2008]');
    for (const n of [1, 2, 3]) expect(r.out).toContain(`step ${n}: call event_channel_op`);
    expect(r.out).toMatch(/xen: +-XEN_EINVAL \(-22\)/);
    expect(r.out).toMatch(/translated: +-XEN_EINVAL \(-22\)/);
    expect(r.out.trimEnd().endsWith('PASSED')).toBe(true);
  });

  test('FAILED with the step and the message (exit 1)', async () => {
    const r = await xvc(['replay', write('fails.yaml', FAILS)]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('step 1: call event_channel_op');
    expect(r.out).toContain('FAILED: step 1 (call event_channel_op): xen world: return expected 0, got -XEN_EINVAL (-22)');
  });

  test('an invalid file is exit 2 with its diagnostics; no file is a usage error', async () => {
    const r = await xvc(['replay', write('invalid.yaml', INVALID)]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(':5:11: error: unknown hypercall "event_chanel_op"');
    const none = await xvc(['replay']);
    expect(none.code).toBe(2);
    expect(none.err).toContain('xvc replay: give one scenario file');
  });
});

describe('xvc coverage', () => {
  test('--json on a small corpus: formatVersion 1 and a row per catalog path', async () => {
    const r = await xvc(['coverage', '--json', write('specs/passes.yaml', PASSES)]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { formatVersion: number; scenarios: number; totals: Record<string, { total: number; covered: number }>; rows: { area: string; item: string; state: string }[] };
    expect(doc.formatVersion).toBe(1);
    expect(doc.scenarios).toBe(1);
    expect(doc.rows.length).toBeGreaterThan(100);
    const state = (item: string): string | undefined => doc.rows.find((row) => row.item === item)?.state;
    expect(state('event_channel_op EVTCHNOP_alloc_unbound ok')).toBe('covered');
    expect(state('event_channel_op EVTCHNOP_close ok')).toBe('covered');
    expect(state('event_channel_op EVTCHNOP_close XEN_EINVAL')).toBe('covered');
    expect(state('event_channel_op EVTCHNOP_send ok')).toBe('uncovered');
    expect(doc.totals['xen']?.covered).toBe(doc.rows.filter((row) => row.area === 'xen' && row.state === 'covered').length);
  });

  test('an invalid file in the corpus is exit 2', async () => {
    const r = await xvc(['coverage', '--json', write('specs/invalid.yaml', INVALID)]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown hypercall');
  });
});

describe('xvc itself', () => {
  test('--help for every command prints its usage and exits 0', async () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(expect.arrayContaining(['run', 'validate', 'replay', 'coverage', 'fuzz', 'abi']));
    for (const command of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const r = await xvc([command.name, flag]);
        expect(r).toEqual({ code: 0, out: `${command.help}\n`, err: '' });
        expect(r.out).toContain(`Usage: xvc ${command.name}`);
      }
    }
  });

  test('xvc --help lists every command; xvc alone prints the same usage with exit 2', async () => {
    const help = await xvc(['--help']);
    expect(help.code).toBe(0);
    for (const command of COMMANDS) expect(help.out).toContain(`  ${command.name}`);
    expect(help.out).toContain('Exit codes: 0 passed, 1 failures, 2 invalid input or usage, 3 adapter or infrastructure error.');
    const bare = await xvc([]);
    expect(bare).toEqual({ code: 2, out: help.out, err: '' });
  });

  test('an unknown command is exit 2 with the usage on stderr', async () => {
    const r = await xvc(['runn']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('xvc: unknown command "runn".');
    expect(r.err).toContain('Usage: xvc <command> [options]');
  });

  test('unknown options of each command are exit 2', async () => {
    for (const name of ['validate', 'replay', 'coverage']) {
      const r = await xvc([name, '--no-such-option']);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`Usage: xvc ${name}`);
    }
  });

  test('--version prints the harness version', async () => {
    expect(HARNESS_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(await xvc(['--version'])).toEqual({ code: 0, out: `${HARNESS_VERSION}\n`, err: '' });
    expect(await xvc(['-v'])).toEqual({ code: 0, out: `${HARNESS_VERSION}\n`, err: '' });
  });
});
