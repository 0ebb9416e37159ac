import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SCENARIO_PATHS } from '../paths';
import { AdapterLoadError, loadAdapterModule, TranslatedWorld, type AdapterFactory } from '../sut/index';
import { formatDiagnostic, type Diagnostic } from '../spec/diagnostics';
import { loadCorpus } from '../spec/load';
import { loadExpectations, type Expectations } from '../run/expectations';
import { executeRun, planRuns, totalsOf } from '../run/runner';
import type { ScenarioResult } from '../run/result';
import { writeFileAtomic, newRunId, pointLatest } from '../report/files';
import { junitXml } from '../report/junit';
import { replayCommand, SUMMARY_FORMAT_VERSION, toJson, type AdapterIdentity, type Summary } from '../report/summary';
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
    'junit.xml) and OUT/latest points at the newest run.',
    '',
    'Options:',
    '  --profile NAME        minimal, ws2008, modern, or all (default: the profiles each scenario names)',
    '  --grep REGEX          only scenarios whose id or title matches',
    '  --adapter FILE        an adapter module (docs/adapter-api.md); default: the reference adapter',
    '  --expectations FILE   known failures with their reasons; a listed failure does not fail the run,',
    '                        an unexpected pass does',
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
  ].join('\n'),
  async run(argv, io) {
    let values: { profile?: string; grep?: string; adapter?: string; expectations?: string; out?: string; quiet?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...argv],
        options: { profile: { type: 'string' }, grep: { type: 'string' }, adapter: { type: 'string' }, expectations: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean' } },
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
  const corpus = loadCorpus(req.paths.length > 0 ? req.paths : DEFAULT_SCENARIO_PATHS, cwd);
  const diagnostics: Diagnostic[] = [...corpus.diagnostics];
  let expectations: Expectations | undefined;
  if (req.expectations !== undefined) {
    const loaded = loadExpectations(path.resolve(cwd, req.expectations));
    diagnostics.push(...loaded.diagnostics);
    expectations = loaded.expectations;
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
  const plan = planRuns(corpus.scenarios, { ...(profile !== undefined ? { profile } : {}), ...(grep ? { grep } : {}) });
  const results = plan.map((run) => executeRun(run, { reference: adapter.reference, ...(adapter.factory ? { adapter: adapter.factory } : {}), ...(expectations ? { expectations } : {}) }));
  const exitCode = exitCodeOf(results, diagnostics);
  const reportsDir = path.resolve(cwd, req.out ?? 'reports');
  const runId = newRunId(reportsDir, started);
  const withReplay = results.map((r) => ({ ...r, replay: replayCommand(r, adapter.identity.source) }));
  const summary: Summary = {
    formatVersion: SUMMARY_FORMAT_VERSION,
    tool: { name: 'xvc', version: HARNESS_VERSION },
    runId,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - t0),
    command: ['run', ...req.argv],
    adapter: adapter.identity,
    profiles: [...new Set(results.map((r) => r.profile))],
    seed: null,
    totals: { ...totalsOf(results), invalidScenarios: new Set(corpus.diagnostics.map((d) => d.file)).size },
    exitCode,
    interrupted: false,
    results: withReplay,
    diagnostics,
  };
  const runDir = path.join(reportsDir, runId);
  writeFileAtomic(path.join(runDir, 'summary.json'), toJson(summary));
  writeFileAtomic(path.join(runDir, 'junit.xml'), junitXml(summary));
  pointLatest(reportsDir, runId);
  const reportable = (r: ScenarioResult): boolean => (r.status === 'passed') === (r.known !== undefined);
  if (!req.quiet) for (const r of withReplay) if (reportable(r)) io.stdout(`${failureLine(r)}\n`);
  const t = summary.totals;
  io.stdout(
    `xvc run: ${t.runs} runs of ${corpus.scenarios.length} scenarios: ${t.passed} passed, ${t.failed} failed, ${t.errors} errors, ${t.knownFailures} known failures, ${t.unexpectedPasses} unexpected passes` +
      `${t.invalidScenarios > 0 ? `; ${t.invalidScenarios} invalid files` : ''} (${adapter.identity.name} ${adapter.identity.version}, ${summary.durationMs} ms)\n` +
      `reports: ${path.relative(cwd, runDir) || runDir}\n`,
  );
  return exitCode;
}
