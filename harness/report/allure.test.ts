import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chooseAdapter } from '../cli/run';
import { nestedBitSet, wrongErrno } from '../oracle/brokenAdapters';
import type { Expectations } from '../run/expectations';
import { executeRun, planRuns } from '../run/runner';
import { loadScenarioFile } from '../spec/load';
import type { AdapterFactory } from '../sut/index';
import { HARNESS_VERSION } from '../version';
import { allureResults, CATEGORIES, historyIdOf, refLink } from './allure';
import type { RunRecord, RunResult } from './record';
import { replayCommand } from './summary';
import { writeRunReports } from './write';

/*
 * allure-results/ (design.md section 6): one Allure 2 result per scenario and profile, from a run
 * with a pass, an expectation failure, a contract violation, an ill-formed Viridian call, an
 * infrastructure error, a known failure and an unexpected pass. The runs are real (the scenarios
 * below, executed in process); the broken adapters come from harness/oracle/brokenAdapters.ts.
 */

const SCENARIOS: Record<string, { readonly file: string; readonly text: string; readonly adapter?: AdapterFactory }> = {
  // Passes in two profiles; the IPI is sent through a Viridian hypercall (the sub-steps).
  'al.ipi': {
    file: 'specs/event_channel_op/ipi.yaml',
    text: `id: al.ipi
title: an IPI bound and sent to vCPU 1
refs: [xen/common/event_channel.c evtchn_send, TLFS tlfs/hypercalls/overview.md, docs/decisions.md V18]
tags: [event_channel_op, send]
profiles: [modern, ws2008]
setup: { vcpus: 2 }
steps:
  - upcallMask: 0
    vcpu: 1
  - call: event_channel_op
    args: [EVTCHNOP_bind_ipi, { struct: evtchn_bind_ipi, vcpu: 1 }]
    expect: { return: 0 }
  - call: event_channel_op
    args: [EVTCHNOP_send, { struct: evtchn_port_arg, port: 1 }]
    expect: { return: 0 }
`,
  },
  // An expectation that does not hold (closing a free port is -EINVAL).
  'al.close-free': {
    file: 'specs/event_channel_op/close-free.yaml',
    text: `id: al.close-free
title: closing a free port returns 0
refs: [xen/common/event_channel.c evtchn_close]
tags: [event_channel_op, close, regression]
profiles: [modern]
steps:
  - call: event_channel_op
    args: [EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, dom: DOMID_SELF, remote_dom: 0 }]
    expect: { return: 0 }
  - call: event_channel_op
    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 2 }]
    expect: { return: 0 }
`,
  },
  // The worlds disagree: the adapter answers -ENOSYS where Xen answers -EINVAL.
  'al.contract': {
    file: 'specs/event_channel_op/contract.yaml',
    adapter: wrongErrno,
    text: `id: al.contract
title: a port closed twice
refs: [xen/common/event_channel.c evtchn_close]
tags: [event_channel_op, close]
profiles: [modern]
steps:
  - call: event_channel_op
    args: [EVTCHNOP_alloc_unbound, { struct: evtchn_alloc_unbound, dom: DOMID_SELF, remote_dom: 0 }]
    expect: { return: 0 }
  - call: event_channel_op
    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 1 }]
    expect: { return: 0 }
  - call: event_channel_op
    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 1 }]
    expect: { return: -XEN_EINVAL }
`,
  },
  // Right answers, but a Viridian call with a reserved input bit set (accepted by compat xen).
  'al.ill-formed': {
    file: 'specs/event_channel_op/ill-formed.yaml',
    adapter: nestedBitSet,
    text: `id: al.ill-formed
title: an IPI sent with bit 31 of the input set
refs: [TLFS 3.7]
tags: [event_channel_op, send]
profiles: [modern]
viridian: { compat: xen }
setup: { vcpus: 2 }
steps:
  - upcallMask: 0
    vcpu: 1
  - call: event_channel_op
    args: [EVTCHNOP_bind_ipi, { struct: evtchn_bind_ipi, vcpu: 1 }]
    expect: { return: 0 }
  - call: event_channel_op
    args: [EVTCHNOP_send, { struct: evtchn_port_arg, port: 1 }]
    expect: { return: 0 }
`,
  },
  // An infrastructure error: more timers than one step may run.
  'al.endless': {
    file: 'specs/sched/endless.yaml',
    text: `id: al.endless
title: time advanced by 3000 s in one step
refs: [r]
tags: [sched_op]
profiles: [modern]
steps:
  - advance: 3000s
`,
  },
  // Fails, and the expectations list it.
  'al.known': {
    file: 'specs/event_channel_op/known.yaml',
    text: `id: al.known
title: closing port 3 of a fresh domain returns 0
refs: [xen/common/event_channel.c evtchn_close]
tags: [event_channel_op]
profiles: [modern]
steps:
  - call: event_channel_op
    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 3 }]
    expect: { return: 0 }
`,
  },
  // Passes, though the expectations list it.
  'al.stale': {
    file: 'specs/event_channel_op/stale.yaml',
    text: `id: al.stale
title: closing port 4 of a fresh domain is -EINVAL
refs: [xen/common/event_channel.c evtchn_close]
tags: [event_channel_op]
profiles: [modern]
steps:
  - call: event_channel_op
    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: 4 }]
    expect: { return: -XEN_EINVAL }
`,
  },
};

const KNOWN_REASON = 'adapter issue 12';

type Step = { name: string; status: string; stage: string; start: number; stop: number; parameters: { name: string; value: string }[]; steps: Step[]; attachments: unknown[] };
type Result = {
  uuid: string;
  historyId: string;
  testCaseId: string;
  name: string;
  fullName: string;
  status: string;
  statusDetails: { message?: string; trace?: string };
  stage: string;
  start: number;
  stop: number;
  labels: { name: string; value: string }[];
  links: { name: string; url: string; type: string }[];
  parameters: { name: string; value: string }[];
  steps: Step[];
  attachments: { name: string; source: string; type: string }[];
};

/** A run folder written from a record. */
type Run = { readonly record: RunRecord; readonly dir: string; readonly files: Map<string, string>; readonly results: Map<string, Result> };

let tmp: string;
let first: Run;
let second: Run;

/** Runs every scenario above (each with its adapter) and writes the run folder; `startedAt` and `runId` vary per run. */
async function runAll(runId: string, startedAt: Date): Promise<Run> {
  const expectations: Expectations = { file: 'known.yaml', entries: [{ id: 'al.known', reason: KNOWN_REASON }, { id: 'al.stale', reason: 'was issue 7' }] };
  const identity = (await chooseAdapter(undefined, tmp)).identity;
  const loaded = Object.values(SCENARIOS).map((s) => {
    const l = loadScenarioFile(path.join(tmp, s.file));
    if (!l.scenario) throw new Error(`${s.file}: ${JSON.stringify(l.diagnostics)}`);
    return l.scenario;
  });
  const plan = planRuns(loaded);
  const results: RunResult[] = plan.map((run, index) => {
    const adapter = SCENARIOS[run.loaded.scenario.id]?.adapter;
    const r = executeRun(run, { reference: adapter === undefined, log: true, expectations, ...(adapter ? { adapter } : {}) });
    return { ...r, index, replay: replayCommand(r, identity.source) };
  });
  const record: RunRecord = {
    meta: {
      tool: { name: 'xvc', version: HARNESS_VERSION },
      runId,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date(startedAt.getTime() + 5000).toISOString(),
      durationMs: 5000,
      command: ['run', 'specs'],
      adapter: identity,
      profiles: [...new Set(plan.map((r) => r.profile))],
      seed: null,
      shard: null,
      planned: plan.length,
      expectationsFile: 'known.yaml',
      interrupted: false,
      policy: 'default',
    },
    results,
    diagnostics: [],
    expired: [],
    gating: null,
    fuzz: null,
  };
  const dir = path.join(tmp, 'reports', runId);
  writeRunReports(dir, record);
  const allure = path.join(dir, 'allure-results');
  const files = new Map(fs.readdirSync(allure).map((name) => [name, fs.readFileSync(path.join(allure, name), 'utf8')]));
  const parsed = new Map<string, Result>();
  for (const [name, text] of files) {
    if (!name.endsWith('-result.json')) continue;
    const r = JSON.parse(text) as Result;
    parsed.set(r.fullName, r);
  }
  return { record, dir: allure, files, results: parsed };
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-allure-'));
  for (const s of Object.values(SCENARIOS)) {
    fs.mkdirSync(path.dirname(path.join(tmp, s.file)), { recursive: true });
    fs.writeFileSync(path.join(tmp, s.file), s.text);
  }
  first = await runAll('20260101-000000-000', new Date('2026-01-01T00:00:00.000Z'));
  second = await runAll('20260202-101010-500', new Date('2026-02-02T10:10:10.500Z'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The record's result and its Allure result, by "id [profile]". */
function pair(run: Run, id: string, profile = 'modern'): { r: RunResult; a: Result } {
  const r = run.record.results.find((x) => x.id === id && x.profile === profile);
  const a = run.results.get(`${id} [${profile}]`);
  if (!r || !a) throw new Error(`no result for ${id} [${profile}]`);
  return { r, a };
}

const labels = (a: Result, name: string): string[] => a.labels.filter((l) => l.name === name).map((l) => l.value);

describe('the run behind the tests', () => {
  test('has each kind of outcome the Allure report must tell apart', () => {
    const kinds = Object.fromEntries(first.record.results.map((r) => [`${r.id} [${r.profile}]`, [r.status, r.failure?.kind ?? null, r.known ?? null]]));
    expect(kinds).toEqual({
      'al.ipi [modern]': ['passed', null, null],
      'al.ipi [ws2008]': ['passed', null, null],
      'al.close-free [modern]': ['failed', 'expectation', null],
      'al.contract [modern]': ['failed', 'contract', null],
      'al.ill-formed [modern]': ['failed', 'well-formedness', null],
      'al.endless [modern]': ['error', 'infrastructure', null],
      'al.known [modern]': ['failed', 'expectation', KNOWN_REASON],
      'al.stale [modern]': ['passed', null, 'was issue 7'],
    });
  });
});

describe('result files', () => {
  const STATUSES = ['passed', 'failed', 'broken', 'skipped'];
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  function checkStep(s: Step, parent: { start: number; stop: number }, where: string): void {
    expect([where, typeof s.name, STATUSES.includes(s.status), s.stage]).toEqual([where, 'string', true, 'finished']);
    expect([where, Number.isInteger(s.start), Number.isInteger(s.stop)]).toEqual([where, true, true]);
    expect([where, parent.start <= s.start && s.start <= s.stop && s.stop <= parent.stop]).toEqual([where, true]);
    expect(Array.isArray(s.parameters) && s.parameters.every((p) => typeof p.name === 'string' && typeof p.value === 'string')).toBe(true);
    expect(Array.isArray(s.attachments)).toBe(true);
    s.steps.forEach((sub, i) => checkStep(sub, s, `${where} > ${i}`));
  }

  test('one per scenario and profile; each parses and has what Allure 2 needs', () => {
    const names = [...first.files.keys()].filter((n) => n.endsWith('-result.json'));
    expect(names).toHaveLength(first.record.results.length);
    expect([...first.results.keys()].sort()).toEqual(first.record.results.map((r) => `${r.id} [${r.profile}]`).sort());
    for (const name of names) {
      const a = JSON.parse(first.files.get(name) as string) as Result;
      expect(a.uuid).toMatch(UUID);
      expect(name).toBe(`${a.uuid}-result.json`);
      for (const key of ['historyId', 'testCaseId', 'name', 'fullName'] as const) expect([key, typeof a[key], a[key].length > 0]).toEqual([key, 'string', true]);
      expect(STATUSES).toContain(a.status);
      expect(a.stage).toBe('finished');
      expect(Number.isInteger(a.start) && Number.isInteger(a.stop) && a.start <= a.stop).toBe(true);
      expect(a.labels.length).toBeGreaterThan(0);
      for (const l of a.labels) expect(Object.keys(l).sort().join() === 'name,value' && typeof l.name === 'string' && typeof l.value === 'string').toBe(true);
      expect(typeof a.statusDetails).toBe('object');
      expect(Array.isArray(a.links) && Array.isArray(a.parameters) && Array.isArray(a.attachments) && Array.isArray(a.steps)).toBe(true);
      a.steps.forEach((s, i) => checkStep(s, a, `${a.fullName} step ${i}`));
    }
  });

  test('names: the title and the id, each with the profile; the profile is a parameter', () => {
    for (const r of first.record.results) {
      const { a } = pair(first, r.id, r.profile);
      expect(a.name).toBe(`${r.title} [${r.profile}]`);
      expect(a.fullName).toBe(`${r.id} [${r.profile}]`);
      expect(a.parameters).toEqual([{ name: 'profile', value: r.profile }]);
    }
  });

  test('results follow one another in plan order from the run start, each as long as its run', () => {
    let at = Date.parse(first.record.meta.startedAt);
    for (const r of first.record.results) {
      const { a } = pair(first, r.id, r.profile);
      expect([a.fullName, Math.abs(a.start - at) <= 1, Math.abs(a.stop - a.start - r.durationMs) <= 1]).toEqual([a.fullName, true, true]);
      at += r.durationMs;
    }
    expect(Math.min(...[...first.results.values()].map((a) => a.start))).toBe(Date.parse(first.record.meta.startedAt));
  });
});

describe('statuses', () => {
  test('pass -> passed, conformance failure -> failed, infrastructure error -> broken, known failure -> skipped, unexpected pass -> failed', () => {
    const status = (id: string): string => pair(first, id).a.status;
    expect(status('al.ipi')).toBe('passed');
    expect(pair(first, 'al.ipi', 'ws2008').a.status).toBe('passed');
    expect(status('al.close-free')).toBe('failed');
    expect(status('al.contract')).toBe('failed');
    expect(status('al.ill-formed')).toBe('failed');
    expect(status('al.endless')).toBe('broken');
    // CATEGORIES: "Known failures" matches skipped results; an unexpected pass fails the run, so it is failed.
    expect(status('al.known')).toBe('skipped');
    expect(status('al.stale')).toBe('failed');
  });

  test('a passed result has no status details; every other one says why, with the replay command', () => {
    expect(pair(first, 'al.ipi').a.statusDetails).toEqual({});
    for (const r of first.record.results.filter((x) => x.status !== 'passed' || x.known !== undefined)) {
      const { a } = pair(first, r.id, r.profile);
      expect(a.statusDetails.message).toEqual(expect.any(String));
      expect(a.statusDetails.trace).toContain(`replay: ${r.replay}`);
    }
    expect(pair(first, 'al.known').a.statusDetails.message).toContain(KNOWN_REASON);
    expect(pair(first, 'al.stale').a.statusDetails.message).toContain('was issue 7');
    expect(pair(first, 'al.endless').a.statusDetails.message).toContain('ClockBudgetError');
  });
});

describe('labels and links', () => {
  test('suite = the hypercall (first tag), feature = the area folder, profile, a tag label per tag, severity', () => {
    for (const r of first.record.results) {
      const { a } = pair(first, r.id, r.profile);
      expect([r.id, labels(a, 'suite')]).toEqual([r.id, [r.tags[0]]]);
      expect([r.id, labels(a, 'feature')]).toEqual([r.id, [path.basename(path.dirname(r.file))]]);
      expect([r.id, labels(a, 'profile')]).toEqual([r.id, [r.profile]]);
      expect([r.id, labels(a, 'tag')]).toEqual([r.id, r.tags]);
      expect([r.id, labels(a, 'severity')]).toEqual([r.id, [r.tags.includes('regression') ? 'critical' : 'normal']]);
      expect(['blocker', 'critical', 'normal', 'minor', 'trivial']).toContain(labels(a, 'severity')[0]);
    }
    expect(labels(pair(first, 'al.endless').a, 'suite')).toEqual(['sched_op']);
    expect(labels(pair(first, 'al.endless').a, 'feature')).toEqual(['sched']);
    expect(labels(pair(first, 'al.close-free').a, 'severity')).toEqual(['critical']);
  });

  test('links come from refs that name a public source; other refs give none', () => {
    const { a } = pair(first, 'al.ipi');
    expect(a.links).toEqual([
      { name: 'xen/common/event_channel.c evtchn_send', url: 'https://github.com/xen-project/xen/blob/master/xen/common/event_channel.c', type: 'link' },
      { name: 'TLFS tlfs/hypercalls/overview.md', url: expect.stringMatching(/^https:\/\/github\.com\/MicrosoftDocs\/Virtualization-Documentation\/.*\/tlfs\/hypercalls\/overview\.md$/), type: 'link' },
    ]);
    expect(pair(first, 'al.endless').a.links).toEqual([]);
    expect(pair(first, 'al.ill-formed').a.links).toEqual([{ name: 'TLFS 3.7', url: expect.stringMatching(/^https:\/\/learn\.microsoft\.com\//), type: 'link' }]);
  });

  test('refLink: Xen and Linux source paths, TLFS pages, nothing for the rest', () => {
    expect(refLink('xen/include/public/event_channel.h: EVTCHNOP_send')).toBe('https://github.com/xen-project/xen/blob/master/xen/include/public/event_channel.h');
    expect(refLink('arch/x86/xen/enlighten_hvm.c xen_hvm_guest_init')).toBe('https://github.com/torvalds/linux/blob/master/arch/x86/xen/enlighten_hvm.c');
    expect(refLink('docs/decisions.md V18')).toBeUndefined();
    expect(refLink('r')).toBeUndefined();
  });
});

describe('failures', () => {
  test('the message names the kind, the step and the first differing field; the attachment in the folder holds both observations', () => {
    for (const id of ['al.close-free', 'al.contract', 'al.ill-formed']) {
      const { r, a } = pair(first, id);
      const f = r.failure;
      if (!f) throw new Error(`${id} has no failure`);
      expect(a.statusDetails.message).toMatch(new RegExp(`^\\[${f.kind}\\] step ${f.step + 1} `));
      expect(a.statusDetails.message).toContain(f.field);
      expect(a.statusDetails.message).toContain(f.message);
      expect(a.statusDetails.trace).toContain(`field: ${f.field}`);
      expect(a.statusDetails.trace).toContain(`expected: ${f.expected}`);
      expect(a.statusDetails.trace).toContain(`actual: ${f.actual}`);
      expect(a.attachments).toHaveLength(1);
      const att = a.attachments[0] as { name: string; source: string; type: string };
      expect(att.type).toBe('application/json');
      expect(fs.existsSync(path.join(first.dir, att.source))).toBe(true);
      const body = JSON.parse(fs.readFileSync(path.join(first.dir, att.source), 'utf8')) as Record<string, unknown> & { observations: { xen: unknown; translated: unknown } | null };
      expect(body).toMatchObject({ step: f.step + 1, stepName: f.stepName, kind: f.kind, field: f.field, expected: f.expected, actual: f.actual, message: f.message });
      expect(body.observations).toEqual(JSON.parse(JSON.stringify(f.observations)));
      expect(body.observations?.xen).toBeTruthy();
      expect(body.observations?.translated).toBeTruthy();
    }
    // The ill-formed call's attachment carries the adapter's Viridian trace as well.
    const illFormed = pair(first, 'al.ill-formed');
    const body = JSON.parse(fs.readFileSync(path.join(first.dir, illFormed.a.attachments[0]?.source as string), 'utf8')) as { viridian: unknown[] };
    expect(body.viridian.length).toBeGreaterThan(0);
  });

  test('a passing result has no attachment, and every attachment file belongs to a result', () => {
    expect(pair(first, 'al.ipi').a.attachments).toEqual([]);
    const referenced = new Set([...first.results.values()].flatMap((a) => a.attachments.map((x) => x.source)));
    const present = [...first.files.keys()].filter((n) => n.endsWith('-attachment.json'));
    expect(new Set(present)).toEqual(referenced);
  });
});

describe('steps', () => {
  test('one step per scenario step that ran, with the Xen call text and the Viridian operations as sub-steps', () => {
    const { r, a } = pair(first, 'al.ipi');
    const log = r.stepLog ?? [];
    expect(a.steps).toHaveLength(3);
    expect(a.steps.map((s) => s.name)).toEqual(log.map((s) => `${s.index + 1}. ${s.title}`));
    expect(a.steps[1]?.name).toMatch(/^2\. .*event_channel_op.*EVTCHNOP_bind_ipi/);
    expect(a.steps[2]?.name).toMatch(/^3\. .*event_channel_op.*EVTCHNOP_send/);
    expect(a.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'passed']);
    const send = a.steps[2] as Step;
    expect(send.parameters).toEqual([
      { name: 'xen', value: log[2]?.xen },
      { name: 'translated', value: log[2]?.translated },
    ]);
    expect(send.steps.map((s) => s.name)).toEqual(log[2]?.viridian);
    expect(send.steps.some((s) => /HVCALL_/.test(s.name))).toBe(true);
    // Steps follow one another.
    for (let i = 1; i < a.steps.length; i++) expect((a.steps[i] as Step).start).toBe((a.steps[i - 1] as Step).stop);
  });

  test('a failing run stops at the failing step, which is failed; an error step is broken', () => {
    const { r, a } = pair(first, 'al.close-free');
    expect(a.steps).toHaveLength((r.failure?.step ?? -9) + 1);
    expect(a.steps.map((s) => s.status)).toEqual(['passed', 'failed']);
    const endless = pair(first, 'al.endless').a;
    expect(endless.steps.map((s) => [s.status, s.parameters.find((p) => p.name === 'result')?.value])).toEqual([['broken', expect.stringContaining('ClockBudgetError')]]);
  });
});

describe('identity across runs', () => {
  test('historyId: the same for a scenario and profile in every run, different across profiles and scenarios', () => {
    for (const r of first.record.results) {
      const a1 = pair(first, r.id, r.profile).a;
      const a2 = pair(second, r.id, r.profile).a;
      expect(a2.historyId).toBe(a1.historyId);
      expect(a1.historyId).toBe(historyIdOf(r));
    }
    expect(pair(first, 'al.ipi', 'modern').a.historyId).not.toBe(pair(first, 'al.ipi', 'ws2008').a.historyId);
    const ids = [...first.results.values()].map((a) => a.historyId);
    expect(new Set(ids).size).toBe(ids.length);
    // testCaseId names the scenario, whatever the profile.
    expect(pair(first, 'al.ipi', 'modern').a.testCaseId).toBe(pair(first, 'al.ipi', 'ws2008').a.testCaseId);
  });

  test('uuids are deterministic: two runs of the same plan write the same file names, distinct per result', () => {
    expect([...second.files.keys()].sort()).toEqual([...first.files.keys()].sort());
    const uuids = [...first.results.values()].map((a) => a.uuid);
    expect(new Set(uuids).size).toBe(uuids.length);
    // Only times differ between the two runs' result files.
    const timeless = (text: string): string => text.replace(/"(start|stop)": ?\d+/g, '"$1": T');
    for (const [name, text] of first.files) if (name.endsWith('-result.json')) expect(timeless(second.files.get(name) as string)).toBe(timeless(text));
  });
});

describe('categories.json', () => {
  /** Allure 2's rule: a category applies when the status is among matchedStatuses and the whole message matches messageRegex (each when given). */
  function categoriesOf(a: Result, categories: readonly { name: string; matchedStatuses?: string[]; messageRegex?: string; traceRegex?: string }[]): string[] {
    return categories
      .filter((c) => {
        if (c.matchedStatuses && !c.matchedStatuses.includes(a.status)) return false;
        if (c.messageRegex !== undefined && !(a.statusDetails.message !== undefined && new RegExp(`^(?:${c.messageRegex})$`, 's').test(a.statusDetails.message))) return false;
        if (c.traceRegex !== undefined && !(a.statusDetails.trace !== undefined && new RegExp(`^(?:${c.traceRegex})$`, 's').test(a.statusDetails.trace))) return false;
        return true;
      })
      .map((c) => c.name);
  }

  test('is the CATEGORIES table, and each result falls into exactly the category meant for it', () => {
    const categories = JSON.parse(first.files.get('categories.json') as string) as Parameters<typeof categoriesOf>[1];
    expect(categories).toEqual(JSON.parse(JSON.stringify(CATEGORIES)));
    const named = (re: RegExp): string => {
      const c = categories.filter((x) => re.test(x.name));
      expect(c).toHaveLength(1);
      return (c[0] as { name: string }).name;
    };
    const expected: Record<string, string[]> = {
      'al.ipi': [],
      'al.close-free': [named(/^Expectations/)],
      'al.contract': [named(/^Contract/)],
      'al.ill-formed': [named(/^Ill-formed/)],
      'al.endless': [named(/^Infrastructure/)],
      'al.known': [named(/^Known/)],
      'al.stale': [named(/^Unexpected pass/)],
    };
    for (const [id, want] of Object.entries(expected)) expect([id, categoriesOf(pair(first, id).a, categories)]).toEqual([id, want]);
  });
});

describe('environment.properties and executor.json', () => {
  /** java.util.Properties for the lines allureResults writes: key=value, backslash escapes. */
  function properties(text: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const at = line.search(/[=:]/);
      out.set(line.slice(0, at).trim(), line.slice(at + 1).trim().replace(/\\(.)/g, '$1'));
    }
    return out;
  }

  test('names the adapter, the harness version, the profiles, the seed and the number of runs', () => {
    const env = properties(first.files.get('environment.properties') as string);
    const m = first.record.meta;
    expect(env.get('adapter')).toBe(`${m.adapter.name} ${m.adapter.version}`);
    expect(env.get('adapter.source')).toBe('reference');
    expect(env.get('harness')).toBe(`xvc ${HARNESS_VERSION}`);
    expect(env.get('profiles')?.split(', ').sort()).toEqual(['modern', 'ws2008']);
    expect(env.get('seed')).toBe('none');
    expect(env.get('runs')).toBe(String(first.record.results.length));
  });

  test('a seed is written as is; a value with newlines or backslashes stays on one line and reads back', () => {
    const record: RunRecord = { ...first.record, meta: { ...first.record.meta, seed: '42', adapter: { name: 'my\\adapter\nv2', version: '1.0', source: 'C:\\adapters\\my.mjs' } } };
    const text = allureResults(record).find((f) => f.name === 'environment.properties')?.content ?? '';
    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(6);
    const env = properties(text);
    expect(env.get('seed')).toBe('42');
    expect(env.get('adapter.source')).toBe('C:\\adapters\\my.mjs');
    expect(env.get('adapter')).toBe('my\\adapter v2 1.0');
  });

  test('executor.json names xvc and the adapter', () => {
    const executor = JSON.parse(first.files.get('executor.json') as string) as Record<string, string>;
    const m = first.record.meta;
    expect(executor).toMatchObject({ name: 'xvc', type: 'xvc' });
    expect(executor['buildName']).toContain(`${m.adapter.name} ${m.adapter.version}`);
    expect(executor['reportName']).toContain(m.adapter.name);
  });

  test('the folder holds the results, their attachments and the three run files, nothing else', () => {
    const other = [...first.files.keys()].filter((n) => !/-(result|attachment)\.json$/.test(n));
    expect(other.sort()).toEqual(['categories.json', 'environment.properties', 'executor.json']);
  });
});
