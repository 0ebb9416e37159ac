import { parseArgs } from 'node:util';
import { describeEvents, describeResult, describeTrace } from '../report/describe';
import type { PairStep } from '../oracle/pair';
import { formatDiagnostic } from '../spec/diagnostics';
import { loadScenarioFile } from '../spec/load';
import { actionOf, type Step } from '../spec/scenario';
import { runViridianScenario } from '../run/viridianRun';
import { runXenScenario, type XenRunOptions } from '../run/xenRun';
import { caseScenario, stepsOf, type FuzzCase } from '../fuzz/arbitraries/case';
import { replayCase } from '../fuzz/campaign';
import type { FuzzTarget } from '../fuzz/targets';
import type { ViridianFuzzCase } from '../fuzz/viridian/arbitrary';
import { describeRawStep, runViridianCase } from '../fuzz/viridian/properties';
import { profilesOf, targetsOf } from './fuzz';
import { integerOption } from './options';
import { scenarioProfiles } from '../run/runner';
import type { ScenarioResult } from '../run/result';
import { chooseAdapter, DEFAULT_SCENARIO_TIMEOUT_MS, profileOf, type AdapterChoice } from './run';
import { ADAPTER_CMD_OPTIONS, adapterCommandOf, type AdapterCommandRequest } from './adapterCommand';
import { EXIT, UsageError, type Command, type CommandIo } from './command';

function stepLabel(step: Step, index: number): string {
  const action = actionOf(step);
  const what = action === 'call' ? `call ${String(step.call)}` : action === 'hv' ? `hv ${String(step.hv?.call)}` : action;
  return `step ${index + 1}${step.name ? ` (${step.name})` : ''}: ${what}${step.vcpu !== undefined ? ` on vCPU ${step.vcpu}` : ''}`;
}

/** `xvc replay`. */
export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay one scenario step by step with both observations and the translation trace',
  help: [
    'Usage: xvc replay FILE [--profile NAME] [--adapter FILE | --adapter-cmd "CMD" [--call-timeout MS]]',
    '       xvc replay --seed S --path P [--target xen|viridian] [--profile NAME] [--adapter FILE | --adapter-cmd "CMD"]',
    '',
    'Runs one scenario in one Viridian profile (default: the first it names) and prints, after each',
    'step, what each world returned, the events each world logged, the differences under the',
    'contract and every Viridian operation the adapter made. Stops at the first failure, as a run does.',
    '',
    'With --seed and --path, replays the case `xvc fuzz` generated there (the seed and path it printed;',
    'give the same --target, --profile and --adapter as the campaign had): the same steps, the same way.',
    '',
    'Exit codes: 0 passed, 1 failed, 2 invalid scenario or usage, 3 adapter error.',
  ].join('\n'),
  async run(argv, io) {
    let values: { profile?: string; adapter?: string; seed?: string; path?: string; target?: string; 'adapter-cmd'?: string; 'call-timeout'?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: [...argv], options: { profile: { type: 'string' }, adapter: { type: 'string' }, seed: { type: 'string' }, path: { type: 'string' }, target: { type: 'string' }, ...ADAPTER_CMD_OPTIONS }, allowPositionals: true, strict: true }));
    } catch (error) {
      throw new UsageError(`xvc replay: ${(error as Error).message}`, { cause: error });
    }
    const command = adapterCommandOf(values, DEFAULT_SCENARIO_TIMEOUT_MS);
    if (values.seed !== undefined || values.path !== undefined) {
      if (values.seed === undefined || values.path === undefined || positionals.length > 0) throw new UsageError('xvc replay: a fuzz case needs both --seed and --path, and no file');
      if (!/^\d+(:\d+)*$/.test(values.path)) throw new UsageError(`xvc replay: --path "${values.path}" is not a fast-check path (numbers separated by ':')`);
      return replayFuzzCase({ seed: integerOption('seed', values.seed, -(2 ** 31)) as number, path: values.path, target: targetsOf(values.target ?? 'xen'), profile: values.profile, adapter: values.adapter, command }, io);
    }
    if (positionals.length !== 1) throw new UsageError('xvc replay: give one scenario file');
    return replayFile(positionals[0] as string, { ...values, command }, io);
  },
};

async function replayFile(file: string, values: { profile?: string; adapter?: string; command: AdapterCommandRequest | undefined }, io: CommandIo): Promise<number> {
  const loaded = loadScenarioFile(file);
  if (!loaded.scenario) {
    for (const d of loaded.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
    return EXIT.invalidInput;
  }
  const scenario = loaded.scenario;
  const requested = profileOf(values.profile);
  const profile = requested === undefined || requested === 'all' ? scenarioProfiles(scenario)[0] : (requested as 'minimal' | 'ws2008' | 'modern');
  if (profile === undefined) throw new UsageError('xvc replay: the scenario names no profile');
  io.stdout(`${scenario.scenario.id}: ${scenario.scenario.title}\n  ${file} [${profile}]\n  refs: ${scenario.scenario.refs.join('; ')}\n`);
  let result: ScenarioResult;
  if ((scenario.scenario.world ?? 'xen') === 'viridian') {
    result = runViridianScenario(scenario, profile, ({ index, step, result: r, interrupts }) => {
      io.stdout(`\n${stepLabel(step, index)}\n  result: ${describeResult(r)}\n  interrupts: ${interrupts.map(([v, vec]) => `VP${v} 0x${vec.toString(16)}`).join(', ') || 'none'}\n`);
    });
  } else {
    const adapter = await usableAdapter(values.adapter, values.command, io);
    if (adapter === undefined) return EXIT.infrastructure;
    io.stdout(`  adapter: ${adapter.identity.name} ${adapter.identity.version}\n`);
    result = runXenScenario(scenario, { profile, reference: adapter.reference, ...(adapter.factory ? { adapter: adapter.factory } : {}), onStep: printXenStep(io) });
  }
  return finish(result, io);
}

/** The adapter to replay with, or undefined (after saying why) when it cannot be loaded or started. */
async function usableAdapter(module: string | undefined, command: AdapterCommandRequest | undefined, io: CommandIo): Promise<AdapterChoice | undefined> {
  let adapter: AdapterChoice;
  try {
    adapter = await chooseAdapter(module, process.cwd(), command);
  } catch (error) {
    io.stderr(`xvc replay: the adapter cannot be used: ${(error as Error).message}\n`);
    return undefined;
  }
  if (adapter.problem !== undefined) {
    io.stderr(`xvc replay: the adapter command cannot be used: ${adapter.problem}\n`);
    return undefined;
  }
  return adapter;
}

function finish(result: ScenarioResult, io: CommandIo): number {
  const f = result.failure;
  io.stdout(`\n${result.status.toUpperCase()}${f ? `: step ${f.step + 1} (${f.stepName}): ${f.message}` : ''}\n`);
  return result.status === 'passed' ? EXIT.ok : result.status === 'failed' ? EXIT.failures : EXIT.infrastructure;
}

/** Prints a Xen-level step: both worlds' answers and events, the differences, the adapter's trace. */
function printXenStep(io: CommandIo): NonNullable<XenRunOptions['onStep']> {
  return ({ index, step, result: r, pairStep }) => {
    const p = pairStep as PairStep<unknown>;
    const lines = [
      '',
      stepLabel(step, index),
      `  xen:        ${describeResult(r.xen)}; events ${describeEvents(p.observations.xen.events)}; vCPUs ${p.observations.xen.vcpus.map((v) => v.state).join('/')}`,
      `  translated: ${describeResult(r.translated)}; events ${describeEvents(p.observations.translated.events)}; vCPUs ${p.observations.translated.vcpus.map((v) => v.state).join('/')}`,
      ...(p.differences.length > 0 ? p.differences.map((d) => `  DIFFERS ${d.field} [${d.relation}]: xen ${d.xen} | translated ${d.translated}`) : ['  worlds agree']),
      ...p.illFormed.map((f) => `  ILL-FORMED ${f.what}: ${f.why}`),
      ...describeTrace(p.trace).map((t) => `    ${t}`),
    ];
    io.stdout(`${lines.join('\n')}\n`);
  };
}

/** Replays the fuzz case at a seed and path: the same generator, the same steps (those that cannot run are left out, as the fuzzer does). */
async function replayFuzzCase(req: { seed: number; path: string; target: readonly FuzzTarget[]; profile: string | undefined; adapter: string | undefined; command: AdapterCommandRequest | undefined }, io: CommandIo): Promise<number> {
  const target = req.target.length === 1 ? (req.target[0] as FuzzTarget) : 'xen';
  const adapter = await usableAdapter(req.adapter, req.command, io);
  if (adapter === undefined) return EXIT.infrastructure;
  const options = { profiles: profilesOf(req.profile), reference: adapter.reference, ...(adapter.factory ? { adapter: adapter.factory } : {}) };
  const { input } = replayCase(target, req.seed, req.path, options);
  if (input === undefined) {
    io.stderr(`xvc replay: no case at seed ${req.seed}, path ${req.path}\n`);
    return EXIT.invalidInput;
  }
  io.stdout(`fuzz case at seed ${req.seed}, path ${req.path} (${target}-level)\n`);
  if (target === 'viridian') {
    const c = input as ViridianFuzzCase;
    const outcome = runViridianCase(c);
    io.stdout(`  profile ${c.profile}, compat ${c.compat}, ${c.vcpus} VPs, reps per call ${c.repsPerCall}\n`);
    c.steps.slice(0, outcome.steps).forEach((s, i) => {
      const o = outcome.outcomes.get(i);
      io.stdout(`\nstep ${i + 1}: ${describeRawStep(s)}\n  result: ${o ? describeResult(o) : 'none'}${(outcome.restarts.get(i)?.length ?? 0) > 1 ? `; restarted at ${outcome.restarts.get(i)?.slice(1).join(', ')} under the budget` : ''}\n`);
    });
    const v = outcome.violation;
    io.stdout(`\n${v ? `FAILED: step ${v.step + 1}: ${v.property}: expected ${v.expected}, got ${v.actual}` : 'PASSED'}\n`);
    return v ? EXIT.failures : EXIT.ok;
  }
  const c = input as FuzzCase;
  const steps = stepsOf(c);
  io.stdout(`  adapter: ${adapter.identity.name} ${adapter.identity.version}; profile ${c.config.profile}; ${c.config.vcpus} vCPUs${c.config.online ? ` (online ${c.config.online.join(',')})` : ''}; xen ${JSON.stringify(c.config.xen)}\n`);
  const scenario = caseScenario(c, steps, { id: 'fuzz.case', title: `seed ${req.seed} path ${req.path}`, refs: ['harness/fuzz'] });
  const result = runXenScenario({ file: '<fuzz>', scenario }, { profile: c.config.profile, reference: adapter.reference, skipUnrunnable: true, ...(adapter.factory ? { adapter: adapter.factory } : {}), onStep: printXenStep(io) });
  return finish(result, io);
}
