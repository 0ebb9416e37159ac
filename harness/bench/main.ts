import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { VIRIDIAN_PROFILE_NAMES } from '../sut/index';
import { DEFAULT_SCENARIO_PATHS, PACKAGE_ROOT } from '../paths';
import { loadCorpus } from '../spec/load';
import { executeRun, planRuns } from '../run/runner';
import { runXenScenario } from '../run/xenRun';
import { caseArbitrary, caseScenario, stepsOf, type FuzzCase } from '../fuzz/arbitraries/case';
import { runCampaign } from '../fuzz/campaign';
import { runParallelCampaign } from '../fuzz/parallel';
import { runPlan } from '../run/pool';
import { runCase } from '../fuzz/runCase';
import { writeFileAtomic } from '../report/files';
import { toJson } from '../report/summary';

/*
 * npm run bench: the figures the issues ask for, measured on this machine.
 * - corpus: the built-in corpus against the reference adapter, every profile each scenario names
 *   (runs per second, and the whole run's time), and the same Xen-level runs "bare": both worlds
 *   executing the steps with no observation, comparison or well-formedness check;
 * - fuzz: differential fuzz steps per second (generation, both worlds, comparison, shrinking
 *   bookkeeping: the campaign loop) against the bare steps per second of the same kind of cases
 *   generated beforehand; the ratio is what the fuzz loop costs over bare execution;
 * - memory: the heap after a full GC and the peak RSS of a campaign of N cases and of 10 N.
 * - the whole `xvc run` of the corpus as a user starts it (a new process: start-up, loading,
 *   running, reports), by wall clock, with one worker process, in one process, and with the default (one per core);
 * - workers: the speed-up of 2 worker processes over 1 for the corpus in every profile (start-up
 *   and each worker's loading included) and for a Xen-level fuzz campaign (steps per second; the
 *   two campaigns have different seeds, so their step counts differ); and, for comparison, what
 *   this machine gives two copies of a pure-arithmetic loop and two separate `xvc fuzz`
 *   processes: the ceiling the workers are measured against.
 * It prints one JSON object on stdout (and a readable table on stderr) and keeps it in
 * reports/bench.json. Speed is reported, never asserted: the test suite times nothing.
 */

type Figure = { readonly what: string; readonly value: number; readonly unit: string };

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function corpusFigures(): Figure[] {
  const corpus = loadCorpus(DEFAULT_SCENARIO_PATHS);
  const plan = planRuns(corpus.scenarios);
  // Warm up the JIT on a tenth of the corpus first.
  for (const run of plan.slice(0, Math.ceil(plan.length / 10))) executeRun(run, { reference: true });
  const full = timed(() => plan.map((run) => executeRun(run, { reference: true })));
  const steps = full.value.reduce((a, r) => a + r.steps, 0);
  const xen = plan.filter((r) => (r.loaded.scenario.world ?? 'xen') === 'xen');
  const differential = timed(() => xen.map((run) => runXenScenario(run.loaded, { profile: run.profile, reference: true })));
  const bare = timed(() => xen.map((run) => runXenScenario(run.loaded, { profile: run.profile, reference: true, bare: true })));
  const failed = full.value.filter((r) => r.status !== 'passed').length;
  return [
    { what: `corpus: scenarios (${failed} not passing)`, value: corpus.scenarios.length, unit: 'scenarios' },
    { what: 'corpus: runs (scenario x profile)', value: plan.length, unit: 'runs' },
    { what: 'corpus: whole run, reference adapter', value: full.ms / 1000, unit: 's' },
    { what: 'corpus: runs per second', value: plan.length / (full.ms / 1000), unit: 'runs/s' },
    { what: 'corpus: steps per second', value: steps / (full.ms / 1000), unit: 'steps/s' },
    { what: 'corpus, Xen-level runs: differential', value: differential.ms / 1000, unit: 's' },
    { what: 'corpus, Xen-level runs: bare (no observation, comparison or checks)', value: bare.ms / 1000, unit: 's' },
    { what: 'corpus, Xen-level runs: differential / bare', value: differential.ms / bare.ms, unit: 'x' },
  ];
}

function wholeRunFigures(): Figure[] {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-bench-'));
  try {
    const best = (extra: readonly string[]): number => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const r = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, 'bin/xvc.js'), 'run', '--quiet', '--out', out, ...extra], { encoding: 'utf8' });
        times.push(performance.now() - t0);
        if (r.status !== 0) throw new Error(`xvc run exited ${String(r.status)}: ${r.stdout}${r.stderr}`);
      }
      return Math.min(...times) / 1000;
    };
    return [
      { what: 'xvc run --workers 1 (new process: start-up, corpus, reports), best of 3', value: best(['--workers', '1']), unit: 's' },
      { what: 'xvc run --workers 0 (all in the main thread), best of 3', value: best(['--workers', '0']), unit: 's' },
      { what: `xvc run (default: ${os.availableParallelism()} workers), best of 3`, value: best([]), unit: 's' },
    ];
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function fuzzFigures(cases: number, seed: number): Figure[] {
  const profiles = VIRIDIAN_PROFILE_NAMES;
  const generated = fc.sample(caseArbitrary({ profiles }), { numRuns: cases, seed });
  // Warm-up.
  for (const c of generated.slice(0, 20)) runCase(c, { reference: true });
  const bareSteps = (cs: readonly FuzzCase[]): number => {
    let n = 0;
    for (const c of cs) {
      const steps = stepsOf(c);
      runXenScenario({ file: '<bench>', scenario: caseScenario(c, steps, { id: 'bench', title: 'bench', refs: ['bench'] }) }, { profile: c.config.profile, reference: true, skipUnrunnable: true, bare: true, onExecuted: () => void n++ });
    }
    return n;
  };
  // Bare before and after the compared run, the faster kept: the JIT's state favours neither.
  const bare1 = timed(() => bareSteps(generated));
  const compared = timed(() => generated.reduce((a, c) => a + runCase(c, { reference: true }).executed.length, 0));
  const bare2 = timed(() => bareSteps(generated));
  const bare = bare1.ms <= bare2.ms ? bare1 : bare2;
  const campaign = timed(() => runCampaign({ seed, targets: ['xen'], runs: cases, profiles, reference: true, adapterName: 'reference' }));
  const viridian = timed(() => runCampaign({ seed, targets: ['viridian'], runs: cases, profiles, reference: true, adapterName: 'reference' }));
  const bareRate = bare.value / (bare.ms / 1000);
  const fuzzRate = campaign.value.steps / (campaign.ms / 1000);
  return [
    { what: `fuzz: Xen-level cases (seed ${seed})`, value: cases, unit: 'cases' },
    { what: 'fuzz: bare steps per second (both worlds, no generation or comparison)', value: bareRate, unit: 'steps/s' },
    { what: 'fuzz: differential steps per second without generation', value: compared.value / (compared.ms / 1000), unit: 'steps/s' },
    { what: 'fuzz: differential fuzz steps per second (the campaign loop)', value: fuzzRate, unit: 'steps/s' },
    { what: 'fuzz: cost of the fuzz loop over bare execution', value: bareRate / fuzzRate, unit: 'x' },
    { what: 'fuzz: Viridian-level steps per second (two worlds, restarts, properties)', value: viridian.value.steps / (viridian.ms / 1000), unit: 'steps/s' },
  ];
}

async function workerFigures(cases: number, seed: number): Promise<Figure[]> {
  const corpus = loadCorpus(DEFAULT_SCENARIO_PATHS);
  const plan = planRuns(corpus.scenarios, { profile: 'all' });
  const corpusTime = async (workers: number): Promise<number> => {
    const t0 = performance.now();
    const results = await runPlan(plan, { workers, adapter: { kind: 'reference' }, log: true, scenarioTimeoutMs: 600_000, stopped: () => false });
    if (results.size !== plan.length) throw new Error(`bench: ${results.size} results for ${plan.length} runs`);
    return performance.now() - t0;
  };
  await corpusTime(1); // warm the file cache and this thread's JIT for the plan
  const one = await corpusTime(1);
  const two = await corpusTime(2);
  const fuzzRate = async (workers: number): Promise<number> => {
    const t0 = performance.now();
    const r = await runParallelCampaign({ seed, targets: ['xen'], runs: cases * workers, profiles: VIRIDIAN_PROFILE_NAMES, reference: true, adapterName: 'reference' }, workers, { kind: 'reference' });
    return r.steps / ((performance.now() - t0) / 1000);
  };
  const f1 = await fuzzRate(1);
  const f2 = await fuzzRate(2);
  // The ceiling: the same campaign as two unrelated processes, and pure arithmetic, 1 and 2 at once.
  const together = (n: number, args: readonly string[]): number => {
    const t0 = performance.now();
    const script = `const { spawn } = require('node:child_process'); let left = ${n}; for (let i = 0; i < ${n}; i++) spawn(process.execPath, ${JSON.stringify(args)}, { stdio: 'ignore' }).on('exit', () => { if (--left === 0) process.exit(0); });`;
    spawnSync(process.execPath, ['-e', script], { stdio: 'ignore' });
    return performance.now() - t0;
  };
  const fuzzArgs = [path.join(PACKAGE_ROOT, 'bin/xvc.js'), 'fuzz', '--runs', String(cases * 2), '--seed', String(seed), '--target', 'xen', '--no-save', '--out', path.join(os.tmpdir(), 'xvc-bench-fuzz')];
  const loopArgs = ['-e', 'let x = 0; for (let i = 0; i < 4e8; i++) x = (x * 31 + i) | 0;'];
  const processes = together(1, fuzzArgs) * 2 / together(2, fuzzArgs);
  const arithmetic = together(1, loopArgs) * 2 / together(2, loopArgs);
  return [
    { what: `workers: corpus in every profile (${plan.length} runs), 1 worker process`, value: one / 1000, unit: 's' },
    { what: 'workers: the same, 2 worker processes', value: two / 1000, unit: 's' },
    { what: 'workers: corpus speed-up of 2 workers over 1', value: one / two, unit: 'x' },
    { what: 'workers: fuzz steps per second, 1 campaign', value: f1, unit: 'steps/s' },
    { what: 'workers: fuzz steps per second, 2 campaigns in worker processes', value: f2, unit: 'steps/s' },
    { what: 'workers: fuzz speed-up of 2 workers over 1', value: f2 / f1, unit: 'x' },
    { what: 'ceiling: 2 separate xvc fuzz processes at once over 1 (throughput)', value: processes, unit: 'x' },
    { what: 'ceiling: 2 pure-arithmetic loops at once over 1 (throughput)', value: arithmetic, unit: 'x' },
  ];
}

function memoryFigures(cases: number, seed: number): Figure[] {
  const run = (n: number): { heap: number; rss: number } => {
    gc();
    let rss = process.memoryUsage().rss;
    runCampaign({ seed, targets: ['xen', 'viridian'], runs: n, profiles: VIRIDIAN_PROFILE_NAMES, reference: true, adapterName: 'reference', onProgress: (p) => {
      if ((p.cases.xen + p.cases.viridian) % 25 === 0) rss = Math.max(rss, process.memoryUsage().rss);
    } });
    gc();
    return { heap: process.memoryUsage().heapUsed, rss };
  };
  const small = run(cases);
  const large = run(cases * 10);
  const mb = (b: number): number => b / 2 ** 20;
  return [
    { what: `memory: heap after GC, campaign of ${cases} cases per target`, value: mb(small.heap), unit: 'MiB' },
    { what: `memory: heap after GC, campaign of ${cases * 10} cases per target`, value: mb(large.heap), unit: 'MiB' },
    { what: `memory: peak RSS, ${cases} cases`, value: mb(small.rss), unit: 'MiB' },
    { what: `memory: peak RSS, ${cases * 10} cases`, value: mb(large.rss), unit: 'MiB' },
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { cases: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' } }, strict: true });
  const cases = Number(values.cases ?? 300);
  const seed = Number(values.seed ?? 1);
  if ((globalThis as { gc?: unknown }).gc === undefined) process.stderr.write('bench: run with node --expose-gc for the heap figures (npm run bench does)\n');
  const sections: Record<string, () => Figure[] | Promise<Figure[]>> = {
    corpus: corpusFigures,
    run: wholeRunFigures,
    fuzz: () => fuzzFigures(cases, seed),
    memory: () => memoryFigures(Math.max(20, Math.round(cases / 3)), seed),
    workers: () => workerFigures(cases, seed),
  };
  const figures: Figure[] = [];
  for (const [name, fn] of Object.entries(sections)) {
    if (values.only !== undefined && values.only !== name) continue;
    for (const f of await fn()) {
      figures.push({ ...f, value: Number(f.value.toPrecision(4)) });
      process.stderr.write(`${f.what.padEnd(78)} ${f.value.toFixed(f.value < 10 ? 2 : 0).padStart(10)} ${f.unit}\n`);
    }
  }
  const machine = { node: process.version, cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', loadAverage: os.loadavg()[0], platform: process.platform };
  const report = toJson({ date: new Date().toISOString(), machine, cases, seed, figures });
  writeFileAtomic(path.join(PACKAGE_ROOT, 'reports', 'bench.json'), report);
  process.stdout.write(report);
}

void main();
