import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultScenarioPaths } from '../paths';
import { AdapterLoadError, loadAdapterModule, TranslatedWorld, VIRIDIAN_PROFILE_NAMES, type AdapterCommandSpec, type AdapterFactory, type ViridianProfileName } from '../sut/index';
import { formatDiagnostic, type Diagnostic } from '../spec/diagnostics';
import { ScenarioCache } from '../spec/cache';
import { loadCorpus } from '../spec/load';
import { loadExpectations, markKnown, type Expectations } from '../run/expectations';
import { runPlan, type AdapterSource } from '../run/pool';
import { withoutShard } from '../report/merge';
import { fuzzReplayCommand } from '../fuzz/failure';
import { batchSeed } from '../fuzz/campaign';
import { runParallelCampaign } from '../fuzz/parallel';
import { FUZZ_TARGETS } from '../fuzz/targets';
import { planRuns, type PlannedRun } from '../run/runner';
import type { ScenarioResult } from '../run/result';
import { newRunId, pointLatest } from '../report/files';
import { compareWithBaseline, loadBaseline } from '../report/gating';
import { countsText, exitCodeOfRecord, recordTotals, type FuzzSummary, type RunRecord, type RunResult } from '../report/record';
import { replayCommand, type AdapterIdentity } from '../report/summary';
import { writeRunReports } from '../report/write';
import { parseShard, shardRuns } from '../run/shard';
import { HARNESS_VERSION } from '../version';
import { EXIT, UsageError, type Command, type CommandIo } from './command';
import { integerOption, millisecondsOption } from './options';
import { ADAPTER_CMD_HELP, ADAPTER_CMD_OPTIONS, adapterCommandOf, commandAdapterChoice, type AdapterCommandRequest } from './adapterCommand';

/** Options shared by the commands that run scenarios. */
export type AdapterChoice = {
  readonly factory: AdapterFactory | undefined;
  readonly identity: AdapterIdentity;
  readonly reference: boolean;
  /** The module's absolute path, for worker processes to load it again. */
  readonly file?: string;
  /** An adapter command that shook hands, for worker processes to start their own. */
  readonly command?: AdapterCommandSpec;
  /** Why an adapter command cannot be used (its scenarios then fail as infrastructure errors): for the console. */
  readonly problem?: string;
  /** Ends what the adapter holds (an adapter command's process). */
  readonly close?: () => void;
};

/** How worker processes get the chosen adapter. */
export function adapterSource(adapter: AdapterChoice): AdapterSource {
  if (adapter.reference || !adapter.factory) return { kind: 'reference' };
  if (adapter.file !== undefined) return { kind: 'module', file: adapter.file, factory: adapter.factory };
  if (adapter.command !== undefined) return { kind: 'command', spec: adapter.command, factory: adapter.factory };
  return { kind: 'in-thread', factory: adapter.factory };
}

/** A scenario's time limit unless --scenario-timeout says otherwise. */
export const DEFAULT_SCENARIO_TIMEOUT_MS = 60_000;

/**
 * SIGINT and SIGTERM while a run is under way: the first stops it (scenarios in flight in worker
 * processes are abandoned; in this process the one running finishes first) and the reports of
 * what finished are written, marked interrupted; a second one exits at once.
 */
type Interruption = { readonly requested: () => boolean; readonly signal: () => string | undefined; readonly dispose: () => void };

function interruption(): Interruption {
  let received: string | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    if (received !== undefined) process.exit(130);
    received = signal;
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    requested: () => received !== undefined,
    signal: () => received,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** chooseAdapter for a command: undefined (after saying why on stderr) when the adapter cannot be loaded. */
export async function chooseAdapterOrSay(commandName: string, file: string | undefined, cwd: string, io: CommandIo, command?: AdapterCommandRequest): Promise<AdapterChoice | undefined> {
  try {
    return await chooseAdapter(file, cwd, command);
  } catch (error) {
    const hint = error instanceof AdapterLoadError ? `\n  hint: ${error.hint}` : '';
    io.stderr(`xvc ${commandName}: the adapter cannot be used: ${(error as Error).message}${hint}\n`);
    return undefined;
  }
}

/** Loads --adapter (or the reference adapter) and learns its name and version by building one translated world. */
export async function chooseAdapter(file: string | undefined, cwd: string, command?: AdapterCommandRequest): Promise<AdapterChoice> {
  if (command !== undefined) return commandAdapterChoice(command, cwd);
  if (file === undefined) {
    const probe = new TranslatedWorld({});
    return { factory: undefined, identity: { name: probe.adapter.name, version: probe.adapter.version, source: 'reference' }, reference: true };
  }
  const loaded = await loadAdapterModule(file, cwd);
  const probe = new TranslatedWorld({ adapter: loaded.factory });
  return { factory: loaded.factory, identity: { name: probe.adapter.name, version: probe.adapter.version, source: path.relative(cwd, loaded.source) || loaded.source }, reference: false, file: loaded.source };
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

function failureLine(r: ScenarioResult & { replay: string }): string {
  const f = r.failure;
  const head = r.status === 'passed' ? `unexpected pass (listed: ${r.known ?? ''})` : f ? `${f.step >= 0 ? `step ${f.step + 1} (${f.stepName})` : f.stepName}: ${f.message}` : r.status;
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
    ...ADAPTER_CMD_HELP,
    '  --expectations FILE   known failures with their reasons (and an optional expiry date); a listed',
    '                        failure does not fail the run, an unexpected pass or an expired entry does',
    '  --baseline RUN_DIR    compare with an earlier run: a scenario that passed there and fails now is a',
    '                        regression (exit 1); the summary lists regressions, fixes and new scenarios',
    '  --shard I/N           run the I-th of N shards (every scenario in exactly one; balanced by the',
    '                        durations of --baseline when one is given: give every shard the same one);',
    '                        merge the shards with xvc merge-reports',
    '  --workers N           worker processes (default: the number of cores); 0 runs in this process.',
    '                        Results and reports are the same whatever N is',
    '  --scenario-timeout MS a scenario running longer fails as an infrastructure error (default 60000;',
    '                        enforced in worker processes, and by the bridge for --adapter-cmd)',
    '  --fuzz SECONDS        after the scenarios, a fuzz campaign (xvc fuzz) of this many seconds against',
    '                        the same adapter; a failure fails the run, and the compliance report shows it',
    '  --seed N              the fuzz campaign\'s seed (default: from the clock; in the summary)',
    '  --policy NAME         the compliance verdict\'s policy: default (known failures allowed) or strict',
    '  --out DIR             reports folder (default: reports)',
    '  --quiet               print only the totals line',
    '',
    'Exit codes: 0 passed, 1 failures or unexpected passes, 2 invalid scenarios or usage,',
    '3 adapter or infrastructure error, or interrupted (Ctrl-C, SIGTERM: the scenarios finished by',
    'then are reported, and the run is marked interrupted; a second signal exits at once with 130).',
    '',
    'Examples:',
    '  xvc run',
    '  xvc run specs/event_channel_op --profile all',
    '  xvc run --adapter ./my-adapter.mjs --expectations known.yaml',
    '  xvc run --shard 2/4 --baseline reports/main --out reports/shard-2',
  ].join('\n'),
  async run(argv, io) {
    let values: { profile?: string; grep?: string; adapter?: string; expectations?: string; out?: string; quiet?: boolean; shard?: string; baseline?: string; policy?: string; workers?: string; 'scenario-timeout'?: string; 'adapter-cmd'?: string; 'call-timeout'?: string; fuzz?: string; seed?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...argv],
        options: { profile: { type: 'string' }, grep: { type: 'string' }, adapter: { type: 'string' }, expectations: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean' }, shard: { type: 'string' }, baseline: { type: 'string' }, policy: { type: 'string' }, workers: { type: 'string' }, 'scenario-timeout': { type: 'string' }, fuzz: { type: 'string' }, seed: { type: 'string' }, ...ADAPTER_CMD_OPTIONS },
        allowPositionals: true,
        strict: true,
      }));
    } catch (error) {
      throw new UsageError(`xvc run: ${(error as Error).message}`, { cause: error });
    }
    const { workers, 'scenario-timeout': timeout, fuzz, seed, ...rest } = values;
    const fuzzSeconds = fuzz === undefined ? undefined : Number(fuzz);
    if (fuzzSeconds !== undefined && !(Number.isFinite(fuzzSeconds) && fuzzSeconds > 0)) throw new UsageError(`--fuzz: "${fuzz ?? ''}" is not a positive number of seconds`);
    const seedValue = seed === undefined ? undefined : Number(seed);
    if (seedValue !== undefined && !(/^-?\d+$/.test(seed ?? '') && seedValue >= -(2 ** 31) && seedValue < 2 ** 31)) throw new UsageError(`--seed: "${seed ?? ''}" is not a 32-bit integer`);
    if (seedValue !== undefined && fuzzSeconds === undefined) throw new UsageError('--seed applies to --fuzz only (scenario runs use no randomness)');
    return runScenarios(
      {
        paths: positionals,
        ...rest,
        workers: integerOption('workers', workers, 0) ?? os.availableParallelism(),
        ...(timeout !== undefined ? { scenarioTimeoutMs: millisecondsOption('scenario-timeout', timeout, DEFAULT_SCENARIO_TIMEOUT_MS) } : {}),
        ...(fuzzSeconds !== undefined ? { fuzzSeconds } : {}),
        ...(seedValue !== undefined ? { seed: seedValue } : {}),
        argv,
      },
      io,
    );
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
  /** Worker processes; 0 (the default here; the command line's is the number of cores) runs in this process. */
  readonly workers?: number;
  readonly scenarioTimeoutMs?: number;
  /** A fuzz campaign of this many seconds after the scenarios (--fuzz). */
  readonly fuzzSeconds?: number;
  readonly seed?: number;
  /** An adapter program (docs/adapter-protocol.md), and how long it may take to answer a call. */
  readonly 'adapter-cmd'?: string;
  readonly 'call-timeout'?: string;
  readonly argv: readonly string[];
  readonly cwd?: string;
};

/** Runs a corpus and writes its reports; returns the exit code. */
export async function runScenarios(req: RunRequest, io: CommandIo): Promise<number> {
  const stop = interruption();
  try {
    return await runAndReport(req, io, stop);
  } finally {
    stop.dispose();
  }
}

async function runAndReport(req: RunRequest, io: CommandIo, stop: Interruption): Promise<number> {
  const cwd = req.cwd ?? process.cwd();
  const started = new Date();
  const t0 = performance.now();
  const profile = profileOf(req.profile);
  const adapterCommand = adapterCommandOf(req, req.scenarioTimeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS);
  const grep = grepOf(req.grep);
  const shard = req.shard !== undefined ? parseShard(req.shard) : undefined;
  if (req.shard !== undefined && !shard) throw new UsageError(`--shard: "${req.shard}" is not I/N with 1 <= I <= N`);
  const policy = req.policy ?? 'default';
  if (policy !== 'default' && policy !== 'strict') throw new UsageError(`--policy: "${policy}" is not default or strict`);
  const corpus = loadCorpus(req.paths.length > 0 ? req.paths : defaultScenarioPaths(cwd), cwd, { cache: ScenarioCache.open() });
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
  const adapter = await chooseAdapterOrSay('run', req.adapter, cwd, io, adapterCommand);
  if (adapter === undefined) return EXIT.infrastructure;
  if (adapter.problem !== undefined) io.stderr(`xvc run: the adapter command cannot be used, so every scenario fails as an infrastructure error: ${adapter.problem}\n`);
  const reportsDir = path.resolve(cwd, req.out ?? 'reports');
  const plan = planRuns(corpus.scenarios, { ...(profile !== undefined ? { profile } : {}), ...(grep ? { grep } : {}) });
  // Durations only from --baseline: every shard of a matrix is given the same one, so they all
  // compute the same split (reports/latest differs from shard to shard).
  const mine = shard ? shardRuns(plan, shard, durationsOf(baseline)) : plan;
  const indexOf = new Map(plan.map((run, i) => [run, i]));
  const byPosition = await runPlan(mine, {
    workers: req.workers ?? 0,
    adapter: adapterSource(adapter),
    log: true,
    scenarioTimeoutMs: req.scenarioTimeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS,
    stopped: stop.requested,
  });
  // Each shard of a matrix fuzzes its own campaign: shard I > 1 derives its seed from --seed.
  const baseSeed = req.seed ?? ((Date.now() ^ (process.pid << 16)) | 0);
  const seed = shard && shard.index > 1 ? batchSeed(baseSeed, 'viridian', -100 - shard.index) : baseSeed;
  const fuzz = req.fuzzSeconds !== undefined && !stop.requested() ? await fuzzCampaign(req, seed, adapter, req.workers ?? 0, io, stop.requested) : null;
  adapter.close?.();
  const results: RunResult[] = [...byPosition.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([i, r]) => {
      const run = mine[i] as PlannedRun;
      return { ...markKnown(r, expectations), index: indexOf.get(run) ?? 0, replay: replayCommand(r, adapter.identity.source) };
    });
  if (stop.signal() !== undefined) io.stderr(`xvc run: ${stop.signal() ?? ''}: stopped after ${results.length} of ${mine.length} runs; the reports hold those\n`);
  const today = started.toISOString().slice(0, 10);
  const record: RunRecord = {
    meta: {
      tool: { name: 'xvc', version: HARNESS_VERSION },
      runId: newRunId(reportsDir, started),
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - t0),
      // Without --shard and --out: what the shards of one run share, and what merge-reports writes.
      command: ['run', ...withoutShard(req.argv)],
      adapter: adapter.identity,
      profiles: [...new Set(plan.map((r) => r.profile))],
      seed: fuzz ? String(baseSeed) : null,
      shard: shard ?? null,
      planned: plan.length,
      expectationsFile: req.expectations ?? null,
      interrupted: stop.signal() !== undefined,
      policy,
    },
    results,
    diagnostics,
    expired: (expectations?.entries ?? []).filter((e) => e.expires !== undefined && e.expires < today),
    gating: baseline && req.baseline !== undefined ? compareWithBaseline(req.baseline, baseline, results) : null,
    fuzz,
  };
  const runDir = path.join(reportsDir, record.meta.runId);
  writeRunReports(runDir, record, { policy });
  pointLatest(reportsDir, record.meta.runId);
  const exitCode = exitCodeOfRecord(record);
  const reportable = (r: ScenarioResult): boolean => (r.status === 'passed') === (r.known !== undefined);
  if (!req.quiet) for (const r of results) if (reportable(r)) io.stdout(`${failureLine(r)}\n`);
  for (const e of record.expired) io.stdout(`x expectation expired ${e.expires ?? ''}: ${e.id}${e.profile ? ` [${e.profile}]` : ''} (${e.reason}); fix the scenario or renew the entry in ${req.expectations ?? ''}\n`);
  for (const f of fuzz?.failures ?? []) io.stdout(`x fuzz (${f.target}-level, profile ${f.profile}): ${f.message}\n    replay: ${f.replay}\n`);
  if (fuzz) io.stdout(`fuzz: seed ${fuzz.seed}, ${fuzz.cases['xen'] ?? 0} Xen-level and ${fuzz.cases['viridian'] ?? 0} Viridian-level cases, ${fuzz.steps} steps in ${(fuzz.durationMs / 1000).toFixed(1)} s, ${fuzz.failures.length} failures\n`);
  if (record.gating) {
    for (const k of record.gating.regressions) io.stdout(`x regression against ${record.gating.baseline}: ${k}\n`);
    io.stdout(`against ${record.gating.baseline}: ${record.gating.regressions.length} regressions, ${record.gating.fixes.length} fixes, ${record.gating.new.length} new\n`);
  }
  const t = recordTotals(record);
  io.stdout(
    `xvc run: ${t.runs} runs of ${corpus.scenarios.length} scenarios${shard ? ` (shard ${shard.index}/${shard.count})` : ''}: ${countsText(t)}` +
      `${t.invalidScenarios > 0 ? `; ${t.invalidScenarios} invalid files` : ''} (${adapter.identity.name} ${adapter.identity.version}, ${record.meta.durationMs} ms)\n` +
      `reports: ${path.relative(cwd, runDir) || runDir}\n`,
  );
  return exitCode;
}

/** The run's fuzz campaign (--fuzz): both targets, every profile the run covers, the run's adapter. */
async function fuzzCampaign(req: RunRequest, seed: number, adapter: AdapterChoice, workers: number, io: CommandIo, stopped: () => boolean): Promise<FuzzSummary> {
  const profiles = req.profile === undefined || req.profile === 'all' ? VIRIDIAN_PROFILE_NAMES : [req.profile as ViridianProfileName];
  io.stderr(`xvc run: fuzzing for ${req.fuzzSeconds ?? 0} s (seed ${seed})\n`);
  const result = await runParallelCampaign(
    {
      seed,
      targets: FUZZ_TARGETS,
      profiles,
      reference: adapter.reference,
      ...(adapter.factory ? { adapter: adapter.factory } : {}),
      adapterName: `${adapter.identity.name} ${adapter.identity.version}`,
      timeMs: (req.fuzzSeconds ?? 0) * 1000,
      batch: 20,
      maxFailures: 1,
    },
    // Worker processes even for one: this process stays free to notice Ctrl-C.
    Math.max(1, workers),
    adapterSource(adapter),
    stopped,
  );
  for (const e of result.crashed) io.stderr(`xvc run: ${e}\n`);
  const source = adapter.reference ? undefined : adapter.identity.source;
  return {
    seed,
    cases: result.cases,
    steps: result.steps,
    durationMs: Math.round(result.elapsedMs),
    failures: result.failures.map((f) => ({ target: f.target, profile: f.profile, message: f.message, replay: fuzzReplayCommand(f.target, f, req.profile, source), regressionFile: null })),
    errors: result.crashed,
  };
}

/** Durations of an earlier run's results ("id [profile]" to ms), for balancing shards. */
function durationsOf(results: readonly { readonly id: string; readonly profile: string; readonly durationMs?: number }[] | undefined): Map<string, number> | undefined {
  if (!results) return undefined;
  return new Map(results.filter((r) => typeof r.durationMs === 'number').map((r) => [`${r.id} [${r.profile}]`, r.durationMs as number]));
}
