import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { wrongErrno, timerRoundedDown, withAnswers } from '../oracle/brokenAdapters';
import type { Observation } from '../oracle/observation';
import { referenceAdapter, type AdapterFactory } from '../sut/index';
import { formatDiagnostic } from '../spec/diagnostics';
import { loadScenarioText, type LoadedScenario } from '../spec/load';
import type { Scenario, Step } from '../spec/scenario';
import { checkCommon, type WorldView } from './checks';
import { knownFailure, loadExpectations, type Expectations } from './expectations';
import type { ScenarioResult } from './result';
import { executeRun, planRuns, totalsOf } from './runner';
import { runViridianScenario } from './viridianRun';
import { runXenScenario } from './xenRun';

/*
 * The runner on in-memory scenarios: expectations in each world, the contract between them,
 * infrastructure errors as results, scenario errors, plans and the expectations file.
 */

type InMemory = { readonly file: string; readonly scenario: Scenario };

/** A scenario from its steps (YAML) and optional top-level fields. */
function scenario(steps: string, extra: Partial<Scenario> = {}): InMemory {
  return { file: 'mem.yaml', scenario: { id: 'mem.case', title: 'an in-memory scenario', refs: ['harness/run/runner.test.ts'], steps: parse(steps) as Step[], ...extra } };
}

/** A scenario loaded (and validated) from its full text. */
function loaded(file: string, text: string): LoadedScenario {
  const r = loadScenarioText(file, text);
  if (!r.scenario) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.scenario;
}

const ALLOC_CLOSE_TWICE = `
- call: event_channel_op
  args: [EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, dom: DOMID_SELF, remote_dom: 0 }]
  expect: { return: 0, out: { port: 1 } }
  save: { port: out.port }
- call: event_channel_op
  args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: $port }]
  expect: { return: 0 }
- name: close again
  call: event_channel_op
  args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: $port }]
  expect: { return: -XEN_EINVAL }
`;

/** A one-shot timer at 5000042 ns (not on the 100 ns tick), its upcall expected at `at`. */
const timerAt = (at: string): string => `
- upcallMask: 0
- call: event_channel_op
  args: [EVTCHNOP_bind_virq, { struct: evtchn_bind_virq, virq: VIRQ_TIMER, vcpu: 0 }]
  expect: { return: 0 }
- call: set_timer_op
  args: [5_000_042]
  expect: { return: 0 }
- advanceTo: 6ms
  expect: { events: [{ upcall: 0, at: ${at} }] }
`;

describe('runXenScenario', () => {
  test('a passing scenario: both worlds meet every expectation and agree', () => {
    const r = runXenScenario(scenario(ALLOC_CLOSE_TWICE, { tags: ['event_channel_op', 'close'] }), { profile: 'modern', reference: true });
    expect(r.failure).toBeUndefined();
    expect(r).toMatchObject({
      id: 'mem.case',
      title: 'an in-memory scenario',
      file: 'mem.yaml',
      profile: 'modern',
      world: 'xen',
      tags: ['event_channel_op', 'close'],
      refs: ['harness/run/runner.test.ts'],
      status: 'passed',
      durationMs: expect.any(Number),
      steps: 3,
    });
  });

  test('a wrong return value fails as an expectation of the Xen world, at its step', () => {
    const r = runXenScenario(scenario(ALLOC_CLOSE_TWICE.replace('-XEN_EINVAL', '-XEN_ENOENT')), { profile: 'modern', reference: true });
    expect(r.status).toBe('failed');
    expect(r.steps).toBe(3);
    expect(r.failure).toMatchObject({
      kind: 'expectation',
      step: 2,
      stepName: 'close again',
      world: 'xen',
      field: 'return',
      expected: '-XEN_ENOENT (-2)',
      actual: '-XEN_EINVAL (-22)',
      message: 'xen world: return expected -XEN_ENOENT (-2), got -XEN_EINVAL (-22)',
    });
  });

  test('a wrong out-parameter names the buffer field; a step without a name is named by its action', () => {
    const r = runXenScenario(scenario(ALLOC_CLOSE_TWICE.replace('out: { port: 1 }', 'out: { port: 2 }')), { profile: 'minimal', reference: true });
    expect(r.failure).toMatchObject({ kind: 'expectation', step: 0, stepName: 'call event_channel_op', world: 'xen', field: 'out.port', expected: '2', actual: '1' });
    expect(r.steps).toBe(1);
  });

  test('events at: exact in the Xen world; the translated world may be up to 99 ns later', () => {
    const translated: bigint[] = [];
    const r = runXenScenario(scenario(timerAt('5_000_042')), {
      profile: 'ws2008',
      reference: true,
      onStep: ({ index, pairStep }) => {
        if (index === 3) for (const e of pairStep.observations.translated.events) if (e.kind === 'upcall') translated.push(e.time);
      },
    });
    expect(r.status).toBe('passed');
    // The translated upcall is on the next 100 ns tick: later than at:, and still accepted.
    expect(translated).toEqual([5_000_100n]);
    const off = runXenScenario(scenario(timerAt('5_000_043')), { profile: 'ws2008', reference: true });
    expect(off.failure).toMatchObject({ kind: 'expectation', step: 3, world: 'xen', field: 'events', expected: 'upcall v0 @5_000_043', actual: 'upcall v0 @5000042' });
  });

  test('a broken adapter (an errno translated wrongly) fails under the contract', () => {
    const r = runXenScenario(scenario(ALLOC_CLOSE_TWICE), { profile: 'modern', reference: false, adapter: wrongErrno });
    expect(r.status).toBe('failed');
    expect(r.failure).toMatchObject({ kind: 'contract', step: 2, field: 'return value', expected: 'returned -22', actual: 'returned -38' });
    expect(r.failure?.message).toBe('the worlds disagree at return value [equal]: xen returned -22 | translated returned -38');
  });

  test('a broken adapter (a timer rounded down) fails under the contract with the adapter trace', () => {
    const r = runXenScenario(scenario(timerAt('5_000_042')), { profile: 'ws2008', reference: false, adapter: timerRoundedDown });
    expect(r.failure).toMatchObject({ kind: 'contract', step: 3, stepName: 'advanceTo', field: 'events vcpu[0][0].time', expected: 'upcall at 5000042 ns', actual: 'upcall at 5000000 ns (early by 42 ns)' });
    expect(r.failure?.trace?.length).toBeGreaterThan(0);
  });

  test('an adapter that throws is an infrastructure error of the run, never an exception out of it', () => {
    const throwing: AdapterFactory = (host) => {
      const inner = new referenceAdapter.ReferenceAdapter(host);
      return {
        name: 'thrower',
        version: '0',
        privateFrames: inner.privateFrames,
        hypercall: () => {
          throw new Error('boom');
        },
        interrupt: (vp, vector) => inner.interrupt(vp, vector),
        returnToGuest: (vcpu) => inner.returnToGuest(vcpu),
      };
    };
    let r: ScenarioResult | undefined;
    expect(() => {
      r = runXenScenario(scenario(ALLOC_CLOSE_TWICE), { profile: 'modern', reference: false, adapter: throwing });
    }).not.toThrow();
    expect(r?.status).toBe('error');
    expect(r?.failure).toMatchObject({ kind: 'infrastructure', step: 0, field: 'adapter', actual: 'Error: boom' });
  });

  test('an adapter whose factory throws is an error at boot', () => {
    const r = runXenScenario(scenario(ALLOC_CLOSE_TWICE), {
      profile: 'modern',
      reference: false,
      adapter: () => {
        throw new Error('cannot start');
      },
    });
    expect(r).toMatchObject({ status: 'error', steps: 0, failure: { kind: 'infrastructure', step: -1, stepName: 'boot', field: 'adapter', message: 'Error: cannot start' } });
  });

  test('advanceTo a time already past is an error of the scenario', () => {
    const r = runXenScenario(scenario('- advance: 2ms\n- advanceTo: 1ms\n'), { profile: 'modern', reference: true });
    expect(r).toMatchObject({ status: 'error', steps: 2, failure: { kind: 'infrastructure', step: 1, field: 'scenario' } });
    expect(r.failure?.message).toContain('advanceTo 1000000 ns is before the current time 2000000 ns');
  });

  // Bug: xenRun infrastructure() marks the RangeError of a negative `advance` as field 'adapter'; moving time back is the scenario's error, like advanceTo into the past.
  test.failing('advance by a negative duration is an error of the scenario, not of the adapter', () => {
    const r = runXenScenario(scenario('- advance: -1ms\n'), { profile: 'modern', reference: true });
    expect(r).toMatchObject({ status: 'error', failure: { field: 'scenario' } });
  });

  test('a step that would fire more than 200,000 timers ends the scenario with an error of the scenario', () => {
    // The PV guest's 100 Hz periodic ticker: 3000 s is 300,000 ticks.
    const r = runXenScenario(scenario('- advance: 3000s\n'), { profile: 'modern', reference: true });
    expect(r).toMatchObject({ status: 'error', steps: 1, failure: { kind: 'infrastructure', step: 0, field: 'scenario' } });
    expect(r.failure?.actual).toMatch(/^ClockBudgetError: more than 200000 timers/);
  });

  test('skipUnrunnable leaves out a step on a vCPU that is down; without it the step is an error', () => {
    const steps = '- call: xen_version\n  vcpu: 1\n  args: [XENVER_version, 0]\n- call: xen_version\n  args: [XENVER_version, 0]\n';
    const down = scenario(steps, { setup: { vcpus: 2, online: [0] } });
    expect(runXenScenario(down, { profile: 'modern', reference: true }).status).toBe('error');
    const executed: number[] = [];
    const r = runXenScenario(down, { profile: 'modern', reference: true, skipUnrunnable: true, onExecuted: (i) => executed.push(i) });
    expect(r.status).toBe('passed');
    expect(executed).toEqual([1]);
  });

  test('reference: expectations apply to the reference adapter only', () => {
    const steps = '- call: xen_version\n  args: [XENVER_version, 0]\n  expect: { reference: { includes: [HVCALL_NOT_A_CALL] } }\n';
    const r = runXenScenario(scenario(steps), { profile: 'modern', reference: true });
    expect(r.failure).toMatchObject({ kind: 'expectation', world: 'translated', field: 'reference.includes', expected: 'HVCALL_NOT_A_CALL' });
    const other = withAnswers((_nr, _args, answer) => answer);
    expect(runXenScenario(scenario(steps), { profile: 'modern', reference: false, adapter: other }).status).toBe('passed');
  });
});

describe('checkCommon: event times', () => {
  const view = (time: bigint): WorldView => {
    const observation: Observation = { time, vcpus: [{ state: 'running', tlb: [] }], events: [{ kind: 'upcall', vcpu: 0, time }], dirty: [], consoleSize: 0, shutdown: null };
    return {
      memory: { read8: () => 0, readBytes: (_gpa: number, length: number) => new Uint8Array(length) },
      observation,
      console: new Uint8Array(0),
      vcpuSpace: () => 0n,
      tlb: () => undefined,
      shutdownReason: () => undefined,
      sharedInfo: 0,
      vcpuInfo: () => 0,
    };
  };
  const ok = (time: bigint, world: 'xen' | 'translated'): boolean | undefined => checkCommon({ events: [{ upcall: 0, at: '5ms' }] }, view(time), new Map(), world).find((c) => c.field === 'events')?.ok;

  test('in the Xen world only the exact time', () => {
    expect(ok(5_000_000n, 'xen')).toBe(true);
    expect(ok(5_000_001n, 'xen')).toBe(false);
    expect(ok(4_999_999n, 'xen')).toBe(false);
  });

  test('in the translated world from the time to 99 ns later, never earlier', () => {
    expect(ok(5_000_000n, 'translated')).toBe(true);
    expect(ok(5_000_099n, 'translated')).toBe(true);
    expect(ok(5_000_100n, 'translated')).toBe(false);
    expect(ok(4_999_999n, 'translated')).toBe(false);
  });
});

describe('runViridianScenario', () => {
  const msr = (value: string): InMemory =>
    scenario(`- rdmsr: HV_X64_MSR_VP_INDEX\n  expect: { value: 0 }\n- rdmsr: HV_X64_MSR_VP_INDEX\n  vcpu: 1\n  expect: { value: ${value} }\n`, { world: 'viridian' });

  test('a passing world: viridian scenario', () => {
    expect(runViridianScenario(msr('1'), 'modern')).toMatchObject({ status: 'passed', world: 'viridian', profile: 'modern', steps: 2 });
  });

  test('a wrong value fails as an expectation of the Viridian world', () => {
    const r = runViridianScenario(msr('7'), 'modern');
    expect(r).toMatchObject({ status: 'failed', failure: { kind: 'expectation', step: 1, world: 'viridian', field: 'value' } });
  });

  test('advanceTo into the past is an error of the scenario there too', () => {
    const r = runViridianScenario(scenario('- advance: 2ms\n- advanceTo: 1ms\n', { world: 'viridian' }), 'modern');
    expect(r).toMatchObject({ status: 'error', failure: { kind: 'infrastructure', step: 1, field: 'scenario' } });
  });
});

describe('planRuns', () => {
  const all = loaded('all.yaml', 'id: plan.all\ntitle: every profile\nrefs: [r]\nsteps:\n  - advance: 1ms\n');
  const minimal = loaded('minimal.yaml', 'id: plan.minimal\ntitle: only the minimal profile\nrefs: [r]\nprofiles: [minimal]\nsteps:\n  - advance: 1ms\n');
  const plan = (options: Parameters<typeof planRuns>[1]): string[] => planRuns([all, minimal], options).map((r) => `${r.loaded.scenario.id}/${r.profile}`);

  test('each scenario in every profile it names, in corpus order then profile order', () => {
    expect(plan({})).toEqual(['plan.all/modern', 'plan.all/ws2008', 'plan.all/minimal', 'plan.minimal/minimal']);
    expect(plan({ profile: 'all' })).toEqual(plan({}));
  });

  test('--profile keeps one profile, and never adds one a scenario does not name', () => {
    expect(plan({ profile: 'modern' })).toEqual(['plan.all/modern']);
    expect(plan({ profile: 'minimal' })).toEqual(['plan.all/minimal', 'plan.minimal/minimal']);
  });

  test('--grep matches the id or the title', () => {
    expect(plan({ grep: /plan\.min/ })).toEqual(['plan.minimal/minimal']);
    expect(plan({ grep: /every profile/, profile: 'ws2008' })).toEqual(['plan.all/ws2008']);
    expect(plan({ grep: /nothing matches this/ })).toEqual([]);
  });
});

describe('executeRun, totalsOf and the expectations file', () => {
  const passing = loaded('pass.yaml', `id: exp.pass\ntitle: passes\nrefs: [r]\nsteps:\n${ALLOC_CLOSE_TWICE.replace(/^/gm, '  ')}`);
  const failing = loaded('fail.yaml', 'id: exp.fail\ntitle: fails\nrefs: [r]\nsteps:\n  - call: event_channel_op\n    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 1 }]\n    expect: { return: 0 }\n');
  const expectations: Expectations = {
    file: 'known.yaml',
    entries: [
      { id: 'exp.fail', reason: 'adapter issue 12' },
      { id: 'exp.pass', profile: 'minimal', reason: 'was broken in minimal' },
    ],
  };
  const run = (l: LoadedScenario, profile: 'minimal' | 'modern', e?: Expectations): ScenarioResult => executeRun({ loaded: l, profile }, { reference: true, ...(e ? { expectations: e } : {}) });

  test('without an expectations file a failure counts as failed', () => {
    const results = [run(passing, 'modern'), run(failing, 'modern')];
    expect(results.map((r) => [r.status, r.known])).toEqual([
      ['passed', undefined],
      ['failed', undefined],
    ]);
    expect(totalsOf(results)).toEqual({ runs: 2, passed: 1, failed: 1, errors: 0, knownFailures: 0, unexpectedPasses: 0 });
  });

  test('a listed failure is a known failure, not a failure; a listed pass is an unexpected pass', () => {
    const results = [run(passing, 'modern', expectations), run(failing, 'modern', expectations), run(passing, 'minimal', expectations)];
    expect(results.map((r) => [r.status, r.known])).toEqual([
      ['passed', undefined],
      ['failed', 'adapter issue 12'],
      ['passed', 'was broken in minimal'],
    ]);
    expect(totalsOf(results)).toEqual({ runs: 3, passed: 2, failed: 0, errors: 0, knownFailures: 1, unexpectedPasses: 1 });
  });

  test('errors count apart from failures; an error is never hidden as a known failure', () => {
    const base = { id: 'x', title: 't', file: 'f', profile: 'modern', world: 'xen' as const, tags: [], refs: [], durationMs: 0, steps: 1 };
    expect(totalsOf([{ ...base, status: 'error' }, { ...base, status: 'error', known: 'flaky host' }, { ...base, status: 'failed', known: 'issue 3' }])).toEqual({ runs: 3, passed: 0, failed: 0, errors: 2, knownFailures: 1, unexpectedPasses: 0 });
  });

  test('knownFailure matches the id, and the profile when the entry names one', () => {
    expect(knownFailure(expectations, 'exp.pass', 'minimal')?.reason).toBe('was broken in minimal');
    expect(knownFailure(expectations, 'exp.pass', 'modern')).toBeUndefined();
    expect(knownFailure(expectations, 'exp.fail', 'ws2008')?.reason).toBe('adapter issue 12');
    expect(knownFailure(undefined, 'exp.fail', 'ws2008')).toBeUndefined();
  });

  describe('loadExpectations', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-expectations-'));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string): string => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };

    test('YAML entries with id, reason, profile and a YAML date for expires', () => {
      const file = write('good.yaml', 'knownFailures:\n  - { id: a.b, reason: "issue 12", profile: modern, expires: 2027-01-31 }\n  - { id: c.d, reason: flaky }\n');
      expect(loadExpectations(file)).toEqual({
        expectations: { file, entries: [{ id: 'a.b', reason: 'issue 12', profile: 'modern', expires: '2027-01-31' }, { id: 'c.d', reason: 'flaky' }] },
        diagnostics: [],
      });
    });

    test('JSON works too', () => {
      const file = write('good.json', '{"knownFailures": [{"id": "a.b", "reason": "r"}]}');
      expect(loadExpectations(file).expectations?.entries).toEqual([{ id: 'a.b', reason: 'r' }]);
    });

    test('an entry without an id or a reason, or with a bad date, is a diagnostic at its line and column and is left out', () => {
      const file = write('bad.yaml', 'knownFailures:\n  - { id: ok.one, reason: fine }\n  - { id: no.reason }\n  - { id: blank.reason, reason: "  " }\n  - { id: bad.date, reason: x, expires: tomorrow }\n  - 5\n');
      const r = loadExpectations(file);
      expect(r.expectations?.entries.map((e) => e.id)).toEqual(['ok.one']);
      expect(r.diagnostics.map((d) => [d.file, d.line, d.col, d.message, d.text])).toEqual([
        [file, 3, 5, 'knownFailures[1] needs an id and a reason', '- { id: no.reason }'],
        [file, 4, 5, 'knownFailures[2] needs an id and a reason', '- { id: blank.reason, reason: "  " }'],
        [file, 5, 41, 'knownFailures[3].expires is not a date', 'tomorrow'],
        [file, 6, 5, 'knownFailures[4] needs an id and a reason', '5'],
      ]);
      expect(r.diagnostics[0]?.expected).toBe('{ id: SCENARIO_ID, reason: WHY, profile?: NAME, expires?: YYYY-MM-DD }');
      expect(r.diagnostics[2]?.expected).toBe('YYYY-MM-DD');
    });

    test('a file without a knownFailures list, an empty file, a missing file and broken YAML', () => {
      for (const file of [write('none.yaml', 'foo: 1\n'), write('empty.yaml', '')]) {
        expect(loadExpectations(file)).toEqual({ diagnostics: [expect.objectContaining({ file, message: 'no knownFailures list', expected: 'knownFailures: [ { id, reason, profile?, expires? } ]' })] });
      }
      const missing = path.join(dir, 'missing.yaml');
      expect(loadExpectations(missing).diagnostics).toEqual([expect.objectContaining({ file: missing, message: expect.stringMatching(/^cannot read the expectations file: ENOENT/) })]);
      const broken = write('broken.yaml', 'knownFailures: [\n');
      expect(loadExpectations(broken)).toEqual({ diagnostics: [expect.objectContaining({ file: broken, line: 2, col: 1, message: expect.stringMatching(/^YAML: /) })] });
    });

    test('an unknown field or profile is a diagnostic at its place', () => {
      const file = write('fields.yaml', 'knownFailures:\n  - id: a\n    reason: r\n    expire: 2027-01-01\n  - { id: b, reason: r, profile: modrn }\n');
      expect(loadExpectations(file).diagnostics.map((d) => [d.line, d.col, d.message])).toEqual([
        [4, 5, 'knownFailures[0] has an unknown field "expire"'],
        [5, 34, 'knownFailures[1].profile "modrn" is not a profile'],
      ]);
    });
  });
});
