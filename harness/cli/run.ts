import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultScenarioPaths } from '../paths';
import { AdapterLoadError, loadAdapterModule, TranslatedWorld, type AdapterFactory } from '../sut/index';
import { formatDiagnostic, type Diagnostic } from '../spec/diagnostics';
import { loadCorpus } from '../spec/load';
import { loadExpectations, type Expectations } from '../run/expectations';
import { executeRun, planRuns, totalsOf } from '../run/runner';
import type { ScenarioResult } from '../run/result';
import { newRunId, pointLatest } from '../report/files';
import { compareWithBaseline, loadBaseline } from '../report/gating';
import { exitCodeOfRecord, recordTotals, type RunRecord, type RunResult } from '../report/record';
import { replayCommand, type AdapterIdentity } from '../report/summary';
import { writeRunReports } from '../report/write';
import { parseShard, shardRuns } from '../run/shard';
import { HARNESS_VERSION } from '../version';
import { EXIT, UsageError, type Command, type CommandIo } from './command';

/** Options shared by the commands that run scenarios. */
export type AdapterChoice = { readonly factory: AdapterFactory | undefined; readonly identity: AdapterIdentity; readonly reference: boolean };

/** Loads --adapter (or the reference adapter) and learns its name and version by building one translated world. */
export async function chooseAdapter(file: string | undefined, cwd: string): Promise<AdapterChoice> {
  if (file === undefined) {
    const probe = new TranslatedWorld({});
    return { factory: undefined, identity: { name: probe.adapter.name, version: probe.adapter.version, source: 'reference' }, reference: true };
  }
  const loaded = await loadAdapterModule(file, cwd);
  const probe = new TranslatedWorld({ adapter: loaded.factory });
  return { factory: loaded.factory, identity: { name: probe.adapter.name, version: probe.adapter.version, source: path.relative(cwd, loaded.source) || loaded.source }, reference: false };
}

/** Parses a --grep value. */
export function grepOf(text: string | undefined): RegExp | undefined {
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (error) {
    throw new UsageError(`--grep: ${(error as Error).message}`);
  }
}

/** Checks --profile. */
export function profileOf(text: string | undefined): string | undefined {
  if (text === undefined || ['all', 'minimal', 'ws2008', 'modern'].includes(text)) return text;
  throw new UsageError(`--profile: unknown profile "${text}" (minimal, ws2008, modern or all)`);
}

/** The exit code of a run (design.md section 6): infrastructure errors, then invalid input, then failures. */
export function exitCodeOf(results: readonly ScenarioResult[], diagnostics: readonly Diagnostic[]): number {
  const t = totalsOf(results);
  if (t.errors > 0) return EXIT.infrastructure;
  if (diagnostics.length > 0) return EXIT.invalidInput;
  if (t.failed > 0 || t.unexpectedPasses > 0) return EXIT.failures;
  return EXIT.ok;
}

function failureLine(r: ScenarioResult & { replay: string }): string {
  const f = r.failure;
  const head = r.status === 'passed' ? `unexpected pass (listed: ${r.known ?? ''})` : f ? `step ${f.step + 1} (${f.stepName}): ${f.message}` : r.status;
  return `${r.status === 'error' ? 'E' : 'x'} ${r.id} [${r.profile}] ${head}\n    ${r.file}\n    replay: ${r.replay}`;
}

/** `xvc run`. */
export const runCommand: Command = {
  name: 'run',
  summary: 'run scenarios in both worlds, compare them, write reports',
  help: [
    'Usage: xvc run [PATH...] [options]',
    '',
    'Runs every scenario under PATH (default: specs/ and vectors/regression/) in the Xen world and',
    'in the translated world (the adapter on the Viridian model), checks each step\'s expectations in',
    'both and compares the worlds after every step under the semantic contract (docs/semantics.md).',
    'A scenario runs in every Viridian profile it names. Reports go to OUT/<run-id>/ (summary.json,',
    'junit.xml, events.jsonl, allure-results/, compliance.json, compliance.md, compliance.html) and',
    'OUT/latest points at the newest run; `xvc report` turns allure-results/ into the HTML report.',
    '',
    'Options:',
    '  --profile NAME        minimal, ws2008, modern, or all (default: the profiles each scenario names)',
    '  --grep REGEX          only scenarios whose id or title matches',
    '  --adapter FILE        an adapter module (docs/adapter-api.md); default: the reference adapter',
    '  --expectations FILE   known failures with their reasons (and an optional expiry date); a listed',
    '                        failure does not fail the run, an unexpected pass or an expired entry does',
    '  --baseline RUN_DIR    compare with an earlier run: a scenario that passed there and fails now is a',
    '                        regression (exit 1); the summary lists regressions, fixes and new scenarios',
    '  --shard I/N           run the I-th of N shards (every scenario in exactly one; balanced by the',
    '                        durations of --baseline or of OUT/latest when there is one); merge the shards',
    '                        with xvc merge-reports',
    '  --policy NAME         the compliance verdict\'s policy: default (known failures allowed) or strict',
    '  --out DIR             reports folder (default: reports)',
    '  --quiet               print only the totals line',
    '',
    'Exit codes: 0 passed, 1 failures or unexpected passes, 2 invalid scenarios or usage,',
    '3 adapter or infrastructure error.',
    '',
    'Examples:',
    '  xvc run',
    '  xvc run specs/event_channel_op --profile all',
    '  xvc run --adapter ./my-adapter.mjs --expectations known.yaml',
    '  xvc run --shard 2/4 --baseline reports/main --out reports/shard-2',
  ].join('\n'),
  async run(argv, io) {
    let values: { profile?: string; grep?: string; adapter?: string; expectations?: string; out?: string; quiet?: boolean; shard?: string; baseline?: string; policy?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...argv],
        options: { profile: { type: 'string' }, grep: { type: 'string' }, adapter: { type: 'string' }, expectations: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean' }, shard: { type: 'string' }, baseline: { type: 'string' }, policy: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      }));
    } catch (error) {
      throw new UsageError(`xvc run: ${(error as Error).message}`, { cause: error });
    }
    return runScenarios({ paths: positionals, ...values, argv }, io);
  },
};

/** What `xvc run` was asked to do. */
export type RunRequest = {
  readonly paths: readonly string[];
  readonly profile?: string;
  readonly grep?: string;
  readonly adapter?: string;
  readonly expectations?: string;
  readonly out?: string;
  readonly quiet?: boolean;
  readonly shard?: string;
  readonly baseline?: string;
  readonly policy?: string;
  readonly argv: readonly string[];
  readonly cwd?: string;
};

/** Runs a corpus and writes its reports; returns the exit code. */
export async function runScenarios(req: RunRequest, io: CommandIo): Promise<number> {
  const cwd = req.cwd ?? process.cwd();
  const started = new Date();
  const t0 = performance.now();
  const profile = profileOf(req.profile);
  const grep = grepOf(req.grep);
  const shard = req.shard !== undefined ? parseShard(req.shard) : undefined;
  if (req.shard !== undefined && !shard) throw new UsageError(`--shard: "${req.shard}" is not I/N with 1 <= I <= N`);
  const policy = req.policy ?? 'default';
  if (policy !== 'default' && policy !== 'strict') throw new UsageError(`--policy: "${policy}" is not default or strict`);
  const corpus = loadCorpus(req.paths.length > 0 ? req.paths : defaultScenarioPaths(cwd), cwd);
  const diagnostics: Diagnostic[] = [...corpus.diagnostics];
  let expectations: Expectations | undefined;
  if (req.expectations !== undefined) {
    const loaded = loadExpectations(path.resolve(cwd, req.expectations));
    diagnostics.push(...loaded.diagnostics);
    expectations = loaded.expectations;
  }
  let baseline: ReturnType<typeof loadBaseline> | undefined;
  if (req.baseline !== undefined) {
    try {
      baseline = loadBaseline(path.resolve(cwd, req.baseline));
    } catch (error) {
      io.stderr(`xvc run: ${(error as Error).message}\n`);
      return EXIT.invalidInput;
    }
  }
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  let adapter: AdapterChoice;
  try {
    adapter = await chooseAdapter(req.adapter, cwd);
  } catch (error) {
    const hint = error instanceof AdapterLoadError ? `\n  hint: ${error.hint}` : '';
    io.stderr(`xvc run: the adapter cannot be used: ${(error as Error).message}${hint}\n`);
    return EXIT.infrastructure;
  }
  const reportsDir = path.resolve(cwd, req.out ?? 'reports');
  const plan = planRuns(corpus.scenarios, { ...(profile !== undefined ? { profile } : {}), ...(grep ? { grep } : {}) });
  const indexOf = new Map(plan.map((run, i) => [run, i]));
  const mine = shard ? shardRuns(plan, shard, durationsOf(baseline ?? previousResults(reportsDir))) : plan;
  const results: RunResult[] = mine.map((run) => {
    const r = executeRun(run, { reference: adapter.reference, log: true, ...(adapter.factory ? { adapter: adapter.factory } : {}), ...(expectations ? { expectations } : {}) });
    return { ...r, index: indexOf.get(run) ?? 0, replay: replayCommand(r, adapter.identity.source) };
  });
  const today = started.toISOString().slice(0, 10);
  const record: RunRecord = {
    meta: {
      tool: { name: 'xvc', version: HARNESS_VERSION },
      runId: newRunId(reportsDir, started),
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - t0),
      command: ['run', ...req.argv],
      adapter: adapter.identity,
      profiles: [...new Set(plan.map((r) => r.profile))],
      seed: null,
      shard: shard ?? null,
      planned: plan.length,
      expectationsFile: req.expectations ?? null,
      interrupted: false,
    },
    results,
    diagnostics,
    expired: (expectations?.entries ?? []).filter((e) => e.expires !== undefined && e.expires < today),
    gating: baseline && req.baseline !== undefined ? compareWithBaseline(req.baseline, baseline, results) : null,
    fuzz: null,
  };
  const runDir = path.join(reportsDir, record.meta.runId);
  writeRunReports(runDir, record, { policy });
  pointLatest(reportsDir, record.meta.runId);
  const exitCode = exitCodeOfRecord(record);
  const reportable = (r: ScenarioResult): boolean => (r.status === 'passed') === (r.known !== undefined);
  if (!req.quiet) for (const r of results) if (reportable(r)) io.stdout(`${failureLine(r)}\n`);
  for (const e of record.expired) io.stdout(`x expectation expired ${e.expires ?? ''}: ${e.id}${e.profile ? ` [${e.profile}]` : ''} (${e.reason}); fix the scenario or renew the entry in ${req.expectations ?? ''}\n`);
  if (record.gating) {
    for (const k of record.gating.regressions) io.stdout(`x regression against ${record.gating.baseline}: ${k}\n`);
    io.stdout(`against ${record.gating.baseline}: ${record.gating.regressions.length} regressions, ${record.gating.fixes.length} fixes, ${record.gating.new.length} new\n`);
  }
  const t = recordTotals(record);
  io.stdout(
    `xvc run: ${t.runs} runs of ${corpus.scenarios.length} scenarios${shard ? ` (shard ${shard.index}/${shard.count})` : ''}: ${t.passed} passed, ${t.failed} failed, ${t.errors} errors, ${t.knownFailures} known failures, ${t.unexpectedPasses} unexpected passes` +
      `${t.invalidScenarios > 0 ? `; ${t.invalidScenarios} invalid files` : ''} (${adapter.identity.name} ${adapter.identity.version}, ${record.meta.durationMs} ms)\n` +
      `reports: ${path.relative(cwd, runDir) || runDir}\n`,
  );
  return exitCode;
}

/** Durations of an earlier run's results ("id [profile]" to ms), for balancing shards. */
function durationsOf(results: readonly { readonly id: string; readonly profile: string; readonly durationMs?: number }[] | undefined): Map<string, number> | undefined {
  if (!results) return undefined;
  return new Map(results.filter((r) => typeof r.durationMs === 'number').map((r) => [`${r.id} [${r.profile}]`, r.durationMs as number]));
}

/** The results of the run reports/latest points at, if there is one. */
function previousResults(reportsDir: string): ReturnType<typeof loadBaseline> | undefined {
  try {
    return loadBaseline(path.join(reportsDir, 'latest'));
  } catch {
    return undefined;
  }
}
