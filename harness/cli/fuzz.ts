import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { VIRIDIAN_PROFILE_NAMES, type ViridianProfileName } from '../sut/index';
import type { Progress } from '../fuzz/campaign';
import { runParallelCampaign } from '../fuzz/parallel';
import { fuzzReplayCommand, type FuzzFailure } from '../fuzz/failure';
import { regressionText, writeRegression } from '../fuzz/regression';
import { FUZZ_TARGETS, type FuzzTarget } from '../fuzz/targets';
import { SCENARIO_SCHEMA_PATH } from '../paths';
import { writeFileAtomic, newRunId, pointLatest } from '../report/files';
import { FUZZ_REPORT_FORMAT_VERSION, fuzzJunitXml, type FuzzReport } from '../report/fuzzReport';
import { toJson } from '../report/summary';
import { HARNESS_VERSION } from '../version';
import { adapterSource, chooseAdapterOrSay, DEFAULT_SCENARIO_TIMEOUT_MS, profileOf, type AdapterChoice } from './run';
import { ADAPTER_CMD_HELP, ADAPTER_CMD_OPTIONS, adapterCommandOf, commandScenarioTimeout, SCENARIO_TIMEOUT_OPTION, scenarioTimeoutHelp } from './adapterCommand';
import { EXIT, UsageError, type Command, type CommandIo } from './command';
import { integerOption } from './options';

/** `xvc fuzz`. */
export const fuzzCommand: Command = {
  name: 'fuzz',
  summary: 'property-based fuzzing of both worlds and of the Viridian model, with shrinking',
  help: [
    'Usage: xvc fuzz [--runs N | --time SECONDS] [options]',
    '',
    'Generates random Xen hypercall sequences (every hypercall and sub-op, time advances from a',
    'nanosecond to seconds, dom0 actions, several vCPUs; arguments biased toward the edges) and runs',
    'each in both worlds, compared after every step under the contract with the adapter\'s Viridian',
    'calls checked for well-formedness; and raw hypercalls against the Viridian model, checked',
    'against TLFS properties (reserved bits refused, reps bounded, restarted rep calls equivalent).',
    'A failure is shrunk to a minimal case, printed with its seed, path and replay command, and',
    'written as a scenario file to the --save folder, which `xvc run` picks up.',
    '',
    'Options:',
    '  --runs N           cases per target (default 100 unless --time is given)',
    '  --time SECONDS     run batches until this much time has passed (targets alternate)',
    '  --seed N           the campaign seed (default: from the clock; printed)',
    '  --profile NAME     minimal, ws2008, modern, or all (default all)',
    '  --target NAME      xen, viridian, or all (default all)',
    '  --adapter FILE     an adapter module (docs/adapter-api.md); default: the reference adapter',
    ...ADAPTER_CMD_HELP,
    scenarioTimeoutHelp(DEFAULT_SCENARIO_TIMEOUT_MS),
    '  --save DIR         where regression files go (default vectors/regression); --no-save: nowhere',
    '  --max-failures N   stop after N failures (default 1; per worker)',
    '  --workers N        N independent campaigns in worker processes, seeds derived from --seed (worker',
    '                     1 keeps it), findings merged; --runs is split between them (default 1)',
    '  --out DIR          reports folder (default reports): OUT/<run-id>/fuzz.json and junit.xml',
    '',
    'Exit codes: 0 no failure, 1 failures found, 2 usage, 3 the adapter cannot be used or a fuzz worker crashed.',
    '',
    'Examples:',
    '  xvc fuzz --time 60',
    '  xvc fuzz --runs 500 --seed 42 --profile modern --target xen',
    '  xvc replay --seed -1288884618 --path 7:0:0:2 --target xen',
  ].join('\n'),
  async run(argv, io) {
    let values: { runs?: string; time?: string; seed?: string; profile?: string; target?: string; adapter?: string; save?: string; 'no-save'?: boolean; 'max-failures'?: string; out?: string; workers?: string; 'adapter-cmd'?: string; 'call-timeout'?: string; 'scenario-timeout'?: string };
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          runs: { type: 'string' },
          time: { type: 'string' },
          seed: { type: 'string' },
          profile: { type: 'string' },
          target: { type: 'string' },
          adapter: { type: 'string' },
          save: { type: 'string' },
          'no-save': { type: 'boolean' },
          'max-failures': { type: 'string' },
          out: { type: 'string' },
          workers: { type: 'string' },
          ...ADAPTER_CMD_OPTIONS,
          ...SCENARIO_TIMEOUT_OPTION,
        },
        allowPositionals: false,
        strict: true,
      }));
    } catch (error) {
      throw new UsageError(`xvc fuzz: ${(error as Error).message}`, { cause: error });
    }
    return fuzz({ ...values, argv }, io);
  },
};

/** --profile as a list of profiles (default all). */
export function profilesOf(text: string | undefined): readonly ViridianProfileName[] {
  const p = profileOf(text);
  return p === undefined || p === 'all' ? VIRIDIAN_PROFILE_NAMES : [p as ViridianProfileName];
}

/** --target as a list of targets (default all). */
export function targetsOf(text: string | undefined): readonly FuzzTarget[] {
  if (text === undefined || text === 'all') return FUZZ_TARGETS;
  if ((FUZZ_TARGETS as readonly string[]).includes(text)) return [text as FuzzTarget];
  throw new UsageError(`--target: unknown target "${text}" (xen, viridian or all)`);
}

type FuzzRequest = { runs?: string; time?: string; seed?: string; profile?: string; target?: string; adapter?: string; save?: string; 'no-save'?: boolean; 'max-failures'?: string; out?: string; workers?: string; 'adapter-cmd'?: string; 'call-timeout'?: string; 'scenario-timeout'?: string; argv: readonly string[] };

async function fuzz(req: FuzzRequest, io: CommandIo): Promise<number> {
  const cwd = process.cwd();
  const runs = integerOption('runs', req.runs, 1);
  const seconds = req.time === undefined ? undefined : Number(req.time);
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) throw new UsageError(`--time: "${req.time}" is not a positive number of seconds`);
  const seed = integerOption('seed', req.seed, -(2 ** 31)) ?? (Date.now() ^ (process.pid << 16)) | 0;
  if (seed > 2 ** 31 - 1) throw new UsageError('--seed: at most 2147483647 (a 32-bit integer)');
  const profiles = profilesOf(req.profile);
  const targets = targetsOf(req.target);
  const maxFailures = integerOption('max-failures', req['max-failures'], 1) ?? 1;
  const workers = integerOption('workers', req.workers, 1) ?? 1;
  const adapterCommand = adapterCommandOf(req, commandScenarioTimeout(req, DEFAULT_SCENARIO_TIMEOUT_MS));
  const adapter = await chooseAdapterOrSay('fuzz', req.adapter, cwd, io, adapterCommand);
  if (adapter === undefined) return EXIT.infrastructure;
  if (adapter.problem !== undefined) {
    io.stderr(`xvc fuzz: the adapter command cannot be used: ${adapter.problem}\n`);
    return EXIT.infrastructure;
  }
  const saveDir = req['no-save'] ? undefined : path.resolve(cwd, req.save ?? 'vectors/regression');
  const started = new Date();
  const limit = seconds !== undefined ? `${seconds} s` : `${runs ?? 100} cases per target`;
  io.stdout(`xvc fuzz: seed ${seed}, ${targets.join(' + ')}, profiles ${profiles.join(', ')}, ${limit}, adapter ${adapter.identity.name} ${adapter.identity.version}\n`);
  const meter = progressMeter(io, seconds);
  const saved = new Map<string, string>();
  const source = adapterSource(adapter);
  const result = await runParallelCampaign({
    seed,
    targets,
    profiles,
    reference: adapter.reference,
    ...(adapter.factory ? { adapter: adapter.factory } : {}),
    adapterName: `${adapter.identity.name} ${adapter.identity.version}`,
    ...(runs !== undefined ? { runs } : {}),
    ...(seconds !== undefined ? { timeMs: seconds * 1000, batch: 20 } : {}),
    maxFailures,
    onProgress: meter.update,
    onFailure: (f) => {
      meter.clear();
      if (saveDir) {
        const schema = path.relative(saveDir, SCENARIO_SCHEMA_PATH).split(path.sep).join('/');
        saved.set(f.hash, writeRegression(saveDir, f.hash, `${f.target}-${f.firstDifference}`, regressionText(f.scenario, commentOf(f, adapter), schema)));
      }
      io.stdout(failureText(f, replayOf(f, req, adapter), saved.get(f.hash), cwd));
    },
  }, workers === 1 ? 0 : workers, source);
  adapter.close?.();
  meter.clear();
  for (const e of result.crashed) io.stderr(`xvc fuzz: ${e}\n`);
  const finished = new Date();
  const exitCode = result.crashed.length > 0 ? EXIT.infrastructure : result.failures.length > 0 ? EXIT.failures : EXIT.ok;
  const reportsDir = path.resolve(cwd, req.out ?? 'reports');
  const runId = newRunId(reportsDir, started);
  const elapsed = result.elapsedMs / 1000;
  const report: FuzzReport = {
    formatVersion: FUZZ_REPORT_FORMAT_VERSION,
    tool: { name: 'xvc', version: HARNESS_VERSION },
    runId,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: Math.round(result.elapsedMs),
    command: ['fuzz', ...req.argv],
    adapter: adapter.identity,
    seed,
    targets,
    profiles,
    totals: { cases: result.cases, steps: result.steps, stepsPerSecond: Math.round(result.steps / Math.max(elapsed, 1e-3)), shrinkRuns: result.shrinkRuns, failures: result.failures.length, timedOut: result.timedOut },
    breadth: result.exercised.breadth,
    exercised: result.exercised.toJSON(),
    batches: result.batches,
    failures: result.failures.map(({ scenario: _s, ...f }) => ({ ...f, replay: replayOf(f, req, adapter), regressionFile: saved.has(f.hash) ? path.relative(cwd, saved.get(f.hash) as string) : null })),
    exitCode,
  };
  const runDir = path.join(reportsDir, runId);
  writeFileAtomic(path.join(runDir, 'fuzz.json'), toJson(report));
  writeFileAtomic(path.join(runDir, 'junit.xml'), fuzzJunitXml(report));
  pointLatest(reportsDir, runId);
  const b = report.breadth;
  io.stdout(
    `xvc fuzz: ${Object.entries(result.cases).filter(([t]) => targets.includes(t as FuzzTarget)).map(([t, n]) => `${n} ${t}-level cases`).join(', ')}, ${result.steps} steps in ${elapsed.toFixed(1)} s (${report.totals.stepsPerSecond} steps/s); ` +
      `${result.failures.length} failure${result.failures.length === 1 ? '' : 's'}; exercised ${b.subops} hypercall sub-ops (${b.results} with results), ${b.viridianCalls} Viridian calls (${b.viridianStatuses} with statuses)\n` +
      `reports: ${path.relative(cwd, runDir) || runDir}\n`,
  );
  return exitCode;
}

function replayOf(f: Pick<FuzzFailure, 'target' | 'seed' | 'path'>, req: FuzzRequest, adapter: AdapterChoice): string {
  return fuzzReplayCommand(f.target, f, req.profile, adapter.reference ? undefined : adapter.identity.source);
}

function commentOf(f: FuzzFailure, adapter: AdapterChoice): string[] {
  return [
    `Found by xvc fuzz against ${adapter.identity.name} ${adapter.identity.version}: ${f.message}`.slice(0, 300),
    `${f.steps} steps after ${f.shrinks} shrinks; the worlds are compared after every step, so the steps alone reproduce it.`,
  ];
}

function failureText(f: FuzzFailure, replay: string, file: string | undefined, cwd: string): string {
  return [
    `FAILURE (${f.target}-level, profile ${f.profile}): ${f.message}`,
    `  seed ${f.seed}, path ${f.path}, shrunk ${f.shrinks} times to ${f.steps} steps:`,
    ...f.lines.map((l) => `    ${l}`),
    `  replay: ${replay}`,
    ...(file ? [`  regression: ${path.relative(cwd, file)}${f.reproduces ? '' : ' (WARNING: the file alone does not fail the same way; see the fuzz report)'}`] : []),
    '',
  ].join('\n');
}

/** A progress line: rewritten in place on a terminal, one line every 10 s otherwise. */
function progressMeter(io: CommandIo, seconds: number | undefined): { update: (p: Progress) => void; clear: () => void } {
  let last = 0;
  let shown = false;
  const line = (p: Progress): string => {
    const s = p.elapsedMs / 1000;
    const rate = Math.round(p.steps / Math.max(s, 1e-3));
    return `fuzz ${p.cases.xen} xen + ${p.cases.viridian} viridian cases, ${p.steps} steps, ${rate} steps/s, ${p.failures} failures, ${s.toFixed(0)}${seconds !== undefined ? `/${seconds}` : ''} s`;
  };
  return {
    update(p) {
      const interval = io.isTTY ? 250 : 10_000;
      if (p.elapsedMs - last < interval) return;
      last = p.elapsedMs;
      if (io.isTTY) {
        io.stderr(`\r${line(p)}\u001b[K`);
        shown = true;
      } else io.stderr(`${line(p)}\n`);
    },
    clear() {
      if (shown) io.stderr('\r\u001b[K');
      shown = false;
    },
  };
}
