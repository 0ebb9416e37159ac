import { parseArgs } from 'node:util';
import { describeXenReturn, type MachineEvent, type TraceEntry, type XenCallResult } from '../sut/index';
import type { PairStep } from '../oracle/pair';
import { formatDiagnostic } from '../spec/diagnostics';
import { loadScenarioFile } from '../spec/load';
import { actionOf, type Step } from '../spec/scenario';
import { runViridianScenario } from '../run/viridianRun';
import { runXenScenario } from '../run/xenRun';
import { scenarioProfiles } from '../run/runner';
import type { ScenarioResult } from '../run/result';
import { chooseAdapter, profileOf } from './run';
import { EXIT, UsageError, type Command, type CommandIo } from './command';

function describeResult(r: unknown): string {
  if (typeof r === 'object' && r !== null && 'kind' in r) {
    const x = r as XenCallResult;
    if (x.kind === 'returned') return describeXenReturn(x.value);
    if (x.kind === 'blocked') return 'blocked';
    if (x.kind === 'unimplemented') return `unimplemented (${x.reason})`;
  }
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'none';
}

function describeEvents(events: readonly MachineEvent[]): string {
  return (
    events
      .map((e) => {
        switch (e.kind) {
          case 'upcall':
            return `upcall v${e.vcpu} @${e.time}`;
          case 'resumed':
            return `resumed v${e.vcpu} ${e.value} @${e.time}`;
          case 'shutdown':
            return `shutdown ${e.reason} @${e.time}`;
          case 'vcpu-state':
            return `v${e.vcpu} ${e.from}->${e.to} @${e.time}`;
          default:
            return e satisfies never;
        }
      })
      .join(', ') || 'none'
  );
}

function describeTrace(trace: readonly TraceEntry[]): string[] {
  return trace.map((t) => {
    switch (t.kind) {
      case 'hypercall':
        return `VP${t.vp} @${t.time} ${t.call}${t.fast ? ' (fast)' : ''}${t.repCount ? ` reps ${t.repStart}..${t.repCount}` : ''}${t.varHeadSize ? ` varhead ${t.varHeadSize}` : ''} -> ${t.result}${t.repsCompleted !== undefined && t.repCount ? ` (${t.repsCompleted} done)` : ''}`;
      case 'rdmsr':
      case 'wrmsr':
        return `VP${t.vp} @${t.time} ${t.kind.toUpperCase()} ${t.msr}${t.kind === 'wrmsr' ? ` <- ${t.value}` : ` = ${t.value}`}${t.fault ? ' #GP' : ''}`;
      case 'halt':
        return `VP${t.vp} @${t.time} HLT (${t.interruptsEnabled ? 'IF=1' : 'IF=0'}) -> ${t.result}`;
      case 'icr':
        return `VP${t.vp} @${t.time} ICR <- ${t.value}`;
      case 'interrupt':
        return `VP${t.vp} @${t.time} interrupt 0x${t.vector.toString(16)}`;
      case 'eoi':
      case 'invlpg':
      case 'cr3':
      case 'flush-global':
        return `VP${t.vp} @${t.time} ${t.kind}${t.value ? ` ${t.value}` : ''}`;
      default:
        return t satisfies never;
    }
  });
}

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
    'Usage: xvc replay FILE [--profile NAME] [--adapter FILE]',
    '',
    'Runs one scenario in one Viridian profile (default: the first it names) and prints, after each',
    'step, what each world returned, the events each world logged, the differences under the',
    'contract and every Viridian operation the adapter made. Stops at the first failure, as a run does.',
    '',
    'Exit codes: 0 passed, 1 failed, 2 invalid scenario or usage, 3 adapter error.',
  ].join('\n'),
  async run(argv, io) {
    let values: { profile?: string; adapter?: string; seed?: string; path?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: [...argv], options: { profile: { type: 'string' }, adapter: { type: 'string' }, seed: { type: 'string' }, path: { type: 'string' } }, allowPositionals: true, strict: true }));
    } catch (error) {
      throw new UsageError(`xvc replay: ${(error as Error).message}`, { cause: error });
    }
    if (values.seed !== undefined || values.path !== undefined) throw new UsageError('xvc replay: --seed and --path replay a fuzz case; they need the fuzzer (xvc fuzz)');
    if (positionals.length !== 1) throw new UsageError('xvc replay: give one scenario file');
    return replayFile(positionals[0] as string, values, io);
  },
};

async function replayFile(file: string, values: { profile?: string; adapter?: string }, io: CommandIo): Promise<number> {
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
    let adapter;
    try {
      adapter = await chooseAdapter(values.adapter, process.cwd());
    } catch (error) {
      io.stderr(`xvc replay: the adapter cannot be used: ${(error as Error).message}\n`);
      return EXIT.infrastructure;
    }
    io.stdout(`  adapter: ${adapter.identity.name} ${adapter.identity.version}\n`);
    result = runXenScenario(scenario, {
      profile,
      reference: adapter.reference,
      ...(adapter.factory ? { adapter: adapter.factory } : {}),
      onStep: ({ index, step, result: r, pairStep }) => {
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
      },
    });
  }
  const f = result.failure;
  io.stdout(`\n${result.status.toUpperCase()}${f ? `: step ${f.step + 1} (${f.stepName}): ${f.message}` : ''}\n`);
  return result.status === 'passed' ? EXIT.ok : result.status === 'failed' ? EXIT.failures : EXIT.infrastructure;
}
