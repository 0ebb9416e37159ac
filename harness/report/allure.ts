import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { StepLog } from '../run/result';
import { recordTotals, type RunRecord, type RunResult } from './record';

/*
 * allure-results/ in Allure 2's result format (allure-commandline generates the HTML report from
 * it, `xvc report`): one result per scenario and profile with a step per scenario step, labels,
 * links to the sources the scenario cites, the first difference and both observations attached
 * on failure; environment.properties, executor.json and categories.json. Every name is derived
 * from the run's data, so the same run writes the same files, and a merged run of shards writes
 * the files of the unsharded run.
 */

/** An Allure status. */
type AllureStatus = 'passed' | 'failed' | 'broken' | 'skipped';

type AllureStep = {
  readonly name: string;
  readonly status: AllureStatus;
  readonly stage: 'finished';
  readonly start: number;
  readonly stop: number;
  readonly parameters: readonly { readonly name: string; readonly value: string }[];
  readonly steps: readonly AllureStep[];
  readonly attachments: readonly never[];
};

/** One file of allure-results/: its name (relative to the folder) and contents. */
export type AllureFile = { readonly name: string; readonly content: string };

/** A UUID-shaped name from a hash (version 4 layout, so that every reader accepts it). */
function uuidOf(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Allure's history id: the same scenario in the same profile has the same id in every run, so trends and retries line up. */
export function historyIdOf(r: Pick<RunResult, 'id' | 'profile'>): string {
  return createHash('md5').update(`${r.id} [${r.profile}]`).digest('hex');
}

/** Where a reference points, when it names a public source. */
export function refLink(ref: string): string | undefined {
  const file = ref.split(/\s+/).find((w) => /\.(c|h|md|ts)$/.test(w) || /\.(c|h|md)[:"]/.test(w))?.replace(/[:"),;]+$/, '');
  if (/^TLFS\b/.test(ref)) {
    const page = ref.split(/\s+/).find((w) => w.endsWith('.md'));
    return page ? `https://github.com/MicrosoftDocs/Virtualization-Documentation/blob/main/tlfs/${page.replace(/^tlfs\//, '')}` : 'https://learn.microsoft.com/virtualization/hyper-v-on-windows/tlfs/tlfs';
  }
  if (!file) return undefined;
  if (file.startsWith('xen/') || file.startsWith('tools/libs/')) return `https://github.com/xen-project/xen/blob/master/${file}`;
  if (file.startsWith('arch/') || file.startsWith('include/') || file.startsWith('drivers/') || file.startsWith('tools/testing/')) return `https://github.com/torvalds/linux/blob/master/${file}`;
  return undefined;
}

function statusOf(r: RunResult): AllureStatus {
  if (r.known !== undefined) return r.status === 'passed' ? 'failed' : 'skipped';
  return r.status === 'passed' ? 'passed' : r.status === 'failed' ? 'failed' : 'broken';
}

function stepStatus(s: StepLog): AllureStatus {
  return s.status === 'passed' ? 'passed' : s.status === 'failed' ? 'failed' : 'broken';
}

/** The area of a scenario: its folder under specs/ (or vectors/), e.g. "viridian/flush". */
function areaOf(r: RunResult): string {
  const parts = r.file.split(/[\\/]/);
  const root = Math.max(parts.lastIndexOf('specs'), parts.lastIndexOf('vectors'));
  return root >= 0 ? parts.slice(root + 1, -1).join('/') || parts[root] || 'specs' : path.basename(path.dirname(r.file));
}

function resultFile(r: RunResult, start: number, attachment: string | undefined): unknown {
  const status = statusOf(r);
  const f = r.failure;
  const kind = r.known !== undefined && r.status === 'passed' ? 'unexpected-pass' : r.known !== undefined ? 'known' : (f?.kind ?? 'passed');
  let t = start;
  const steps: AllureStep[] = (r.stepLog ?? []).map((s) => {
    const step: AllureStep = {
      name: `${s.index + 1}. ${s.title}`,
      status: stepStatus(s),
      stage: 'finished',
      start: Math.round(t),
      stop: Math.round(t + s.durationMs),
      parameters: [
        ...(s.xen !== undefined ? [{ name: 'xen', value: s.xen }] : []),
        ...(s.translated !== undefined ? [{ name: 'translated', value: s.translated }] : []),
        ...(s.result !== undefined ? [{ name: 'result', value: s.result }] : []),
      ],
      steps: s.viridian.map((line) => ({ name: line, status: 'passed' as const, stage: 'finished' as const, start: Math.round(t), stop: Math.round(t), parameters: [], steps: [], attachments: [] })),
      attachments: [],
    };
    t += s.durationMs;
    return step;
  });
  const message =
    kind === 'known'
      ? `[known] ${r.known ?? ''}${f ? `: ${f.message}` : ''}`
      : kind === 'unexpected-pass'
        ? `[unexpected-pass] listed as a known failure (${r.known ?? ''}) but passed`
        : f
          ? `[${f.kind}] step ${f.step + 1} (${f.stepName}): ${f.message}`
          : undefined;
  const labels = [
    { name: 'parentSuite', value: r.world === 'viridian' ? 'Viridian-level' : 'Xen-level' },
    { name: 'suite', value: r.tags[0] ?? r.id.split('.')[0] ?? 'scenarios' },
    { name: 'subSuite', value: r.profile },
    { name: 'feature', value: areaOf(r) },
    { name: 'story', value: r.id },
    { name: 'severity', value: r.tags.includes('regression') ? 'critical' : 'normal' },
    { name: 'framework', value: 'xvc' },
    { name: 'profile', value: r.profile },
    ...r.tags.map((tag) => ({ name: 'tag', value: tag })),
  ];
  return {
    uuid: uuidOf(`result ${r.id} [${r.profile}]`),
    historyId: historyIdOf(r),
    testCaseId: createHash('md5').update(r.id).digest('hex'),
    name: `${r.title} [${r.profile}]`,
    fullName: `${r.id} [${r.profile}]`,
    description: [`${r.title}`, '', `File: ${r.file}`, `Refs: ${r.refs.join('; ')}`, `Replay: ${r.replay}`].join('\n'),
    status,
    statusDetails: message !== undefined ? { message, trace: f ? [`field: ${f.field}`, `expected: ${f.expected}`, `actual: ${f.actual}`, `replay: ${r.replay}`].join('\n') : `replay: ${r.replay}` } : {},
    stage: 'finished',
    start: Math.round(start),
    stop: Math.round(start + r.durationMs),
    labels,
    links: r.refs.flatMap((ref) => {
      const url = refLink(ref);
      return url ? [{ name: ref, url, type: 'link' }] : [];
    }),
    parameters: [{ name: 'profile', value: r.profile }],
    steps,
    attachments: attachment ? [{ name: 'first difference and observations', source: attachment, type: 'application/json' }] : [],
  };
}

/** The files of allure-results/ for a run. */
export function allureResults(record: RunRecord): AllureFile[] {
  const files: AllureFile[] = [];
  let start = Date.parse(record.meta.startedAt);
  for (const r of record.results) {
    let attachment: string | undefined;
    if (r.failure && r.status !== 'passed') {
      attachment = `${uuidOf(`attachment ${r.id} [${r.profile}]`)}-attachment.json`;
      const f = r.failure;
      files.push({ name: attachment, content: `${JSON.stringify({ step: f.step + 1, stepName: f.stepName, kind: f.kind, world: f.world ?? null, field: f.field, expected: f.expected, actual: f.actual, message: f.message, observations: f.observations ?? null, viridian: f.trace ?? [] }, null, 2)}\n` });
    }
    const result = resultFile(r, start, attachment);
    // Compact: a run writes thousands of these, and only Allure reads them.
    files.push({ name: `${(result as { uuid: string }).uuid}-result.json`, content: `${JSON.stringify(result)}\n` });
    start += r.durationMs;
  }
  const m = record.meta;
  const t = recordTotals(record);
  const env = [
    ['adapter', `${m.adapter.name} ${m.adapter.version}`],
    ['adapter.source', m.adapter.source],
    ['harness', `xvc ${m.tool.version}`],
    ['profiles', m.profiles.join(', ')],
    ['seed', m.seed ?? 'none'],
    ['runs', String(t.runs)],
  ];
  files.push({ name: 'environment.properties', content: env.map(([k, v]) => `${k}=${String(v).replace(/\\/g, '\\\\').replace(/\n/g, ' ')}`).join('\n') + '\n' });
  files.push({ name: 'executor.json', content: `${JSON.stringify({ name: 'xvc', type: 'xvc', buildName: `xvc run ${m.adapter.name} ${m.adapter.version}`, reportName: `xvc: ${m.adapter.name} ${m.adapter.version}` }, null, 2)}\n` });
  files.push({ name: 'categories.json', content: `${JSON.stringify(CATEGORIES, null, 2)}\n` });
  return files;
}

/** Allure categories: conformance failures by kind, infrastructure errors, known failures. */
export const CATEGORIES = [
  { name: 'Contract violations (the worlds disagree)', matchedStatuses: ['failed'], messageRegex: '^\\[contract\\][\\s\\S]*' },
  { name: 'Ill-formed Viridian calls', matchedStatuses: ['failed'], messageRegex: '^\\[well-formedness\\][\\s\\S]*' },
  { name: 'Expectations not met', matchedStatuses: ['failed'], messageRegex: '^\\[expectation\\][\\s\\S]*' },
  { name: 'Unexpected passes (listed as known failures)', matchedStatuses: ['failed'], messageRegex: '^\\[unexpected-pass\\][\\s\\S]*' },
  { name: 'Infrastructure errors (adapter crashed, hung or threw; harness errors)', matchedStatuses: ['broken'] },
  { name: 'Known failures', matchedStatuses: ['skipped'], messageRegex: '^\\[known\\][\\s\\S]*' },
];
