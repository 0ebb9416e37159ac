import { adapterOptionOf, describeStatus, viridianAbi, type HypercallOutcome } from '../sut/index';
import type { ScenarioResult } from '../run/result';
import { runViridianScenario } from '../run/viridianRun';
import { runXenScenario } from '../run/xenRun';
import type { Scenario, Step } from '../spec/scenario';
import { caseScenario, type FuzzCase } from './arbitraries/case';
import { caseHash, refsOfSteps } from './regression';
import { runCase } from './runCase';
import type { FuzzTarget, TargetOptions } from './targets';
import type { RawCall, ViridianFuzzCase } from './viridian/arbitrary';
import { describeRawStep, runViridianCase, type ViridianViolation } from './viridian/properties';

/** A shrunk failure and the regression scenario that reproduces it. */
export type FuzzFailure = {
  readonly target: FuzzTarget;
  /** The batch seed and fast-check path that generate the shrunk case. */
  readonly seed: number;
  readonly path: string;
  readonly shrinks: number;
  readonly profile: string;
  /** Steps of the shrunk case that ran. */
  readonly steps: number;
  /** The first differing field, or the TLFS property that failed. */
  readonly firstDifference: string;
  readonly message: string;
  /** The steps as lines, for a terminal. */
  readonly lines: readonly string[];
  /** Stable id of the case (regression file name). */
  readonly hash: string;
  readonly scenario: Scenario;
  /** Whether running the regression scenario as a file fails the same way. */
  readonly reproduces: boolean;
};

type Where = { readonly seed: number; readonly path: string; readonly shrinks: number };
type Identity = TargetOptions & { readonly adapterName: string };

/** The replay command of a failure; `adapter` is the adapter identity's source (undefined for the reference adapter). */
export function fuzzReplayCommand(target: FuzzTarget, where: Pick<Where, 'seed' | 'path'>, profile: string | undefined, adapter: string | undefined): string {
  return `npx xvc replay --seed ${where.seed} --path ${where.path} --target ${target}${profile ? ` --profile ${profile}` : ''}${adapter ? adapterOptionOf(adapter) : ''}`;
}

/** A Xen-level failure: the shrunk case rerun, its steps up to the failing one as a scenario, checked to fail the same way as a file. */
export function failureOfXenCase(c: FuzzCase, where: Where, options: Identity): FuzzFailure {
  const outcome = runCase(c, { reference: options.reference, ...(options.adapter ? { adapter: options.adapter } : {}) });
  const f = outcome.result.failure;
  const first = f ? `${f.field}` : outcome.result.status;
  const hash = caseHash({ config: c.config, steps: outcome.executed });
  const step = f ? outcome.executed[outcome.executed.length - 1] : undefined;
  const what = step ? stepLabel(step) : 'case';
  const scenario = caseScenario(c, outcome.executed, {
    id: `regression.${hash}`,
    title: `fuzz: ${what}: ${first}`.slice(0, 160),
    refs: ['docs/semantics.md (the contract the worlds are compared under)', ...refsOfSteps(outcome.executed, c.config.xen.guestType ?? 'pv')],
    tags: ['regression', 'fuzz', ...new Set(outcome.executed.filter((s) => s.call !== undefined).map((s) => String(s.call)))],
    provenance: provenance('xen', where, c.config.profile, options, f ? `${f.field}: ${f.message}` : outcome.result.status),
  });
  const again = runXenScenario({ file: '<regression>', scenario }, { profile: c.config.profile, reference: options.reference, ...(options.adapter ? { adapter: options.adapter } : {}) });
  return {
    target: 'xen',
    ...where,
    profile: c.config.profile,
    steps: outcome.executed.length,
    firstDifference: first,
    message: f?.message ?? outcome.result.status,
    lines: [`domain: ${JSON.stringify(scenario.setup)} xen ${JSON.stringify(c.config.xen)}`, ...outcome.executed.map((s, i) => `${i + 1}. ${JSON.stringify(s)}`)],
    hash,
    scenario,
    reproduces: sameFailure(again, outcome.result),
  };
}

/** A Viridian-level failure: the steps up to the violation as a world: viridian scenario, with the expectation the property demands where it names one. */
export function failureOfViridianCase(c: ViridianFuzzCase, where: Where, options: Identity): FuzzFailure {
  const outcome = runViridianCase(c, options.viridianQuirks);
  const v = outcome.violation;
  const upTo = v ? v.step + 1 : c.steps.length;
  const restart = v?.property === 'restart-equivalence';
  const steps: Step[] = [];
  for (let i = 0; i < upTo; i++) {
    const raw = c.steps[i];
    if (!raw) continue;
    if (raw.kind === 'touch') {
      steps.push({ touch: { va: hex(raw.va), ...(raw.global ? { global: true } : {}) }, ...(raw.vp ? { vcpu: raw.vp } : {}) });
      continue;
    }
    const starts = restart ? (outcome.restarts.get(i) ?? []) : [Number((raw.rcx >> 48n) & 0xfffn)];
    starts.forEach((start, j) => {
      const last = i === upTo - 1 && j === starts.length - 1;
      const step = hvStep(raw, start);
      const hv = j > 0 && step.hv ? { ...step, hv: { ...step.hv, keep: true } } : step;
      steps.push({ ...hv, ...(last && v ? { expect: demanded(v, raw, outcome.outcomes.get(i)) } : {}) });
    });
  }
  const hash = caseHash({ c: { ...c, steps: c.steps.slice(0, upTo) } });
  const scenario: Scenario = {
    id: `regression.${hash}`,
    title: `fuzz: ${v ? `${v.property}: expected ${v.expected}, got ${v.actual}` : 'case'}`.slice(0, 160),
    refs: ['TLFS tlfs/hypercall-interface.md "Hypercall Inputs", "Hypercall Outputs", "Hypercall Restarting"', 'docs/decisions.md V1, V8, V16'],
    tags: ['regression', 'fuzz', 'viridian'],
    world: 'viridian',
    profiles: [c.profile],
    viridian: { compat: c.compat, ...(restart ? { repsPerCall: c.repsPerCall } : {}) },
    setup: { vcpus: c.vcpus },
    steps,
    provenance: provenance('viridian', where, c.profile, options, v ? `${v.property}: expected ${v.expected}, got ${v.actual}` : 'none'),
  };
  const again = runViridianScenario({ file: '<regression>', scenario }, c.profile);
  return {
    target: 'viridian',
    ...where,
    profile: c.profile,
    steps: upTo,
    firstDifference: v?.property ?? 'none',
    message: v ? `${v.property}: expected ${v.expected}, got ${v.actual}` : 'no violation',
    lines: [`profile ${c.profile}, compat ${c.compat}, ${c.vcpus} VPs, reps per call ${c.repsPerCall}`, ...c.steps.slice(0, upTo).map((s, i) => `${i + 1}. ${describeRawStep(s)}`)],
    hash,
    scenario,
    // A property without an exact demand (reps-bounded, total) has nothing for the file to check.
    reproduces: again.status !== 'passed' || (v !== undefined && Object.keys(demanded(v, c.steps[v.step] as RawCall, outcome.outcomes.get(v.step))).length === 0),
  };
}

function provenance(target: FuzzTarget, where: Where, profile: string, options: Identity, firstDifference: string): NonNullable<Scenario['provenance']> {
  return {
    seed: String(where.seed),
    path: where.path,
    profile,
    adapter: options.adapterName,
    date: new Date().toISOString(),
    firstDifference,
    command: fuzzReplayCommand(target, where, options.profiles.length === 1 ? options.profiles[0] : undefined, undefined),
  };
}

/** The hv step of a raw call with rep start `start`. */
function hvStep(raw: RawCall, start: number): Step {
  const rcx = raw.rcx;
  const code = Number(rcx & 0xffffn);
  const fast = (rcx & 0x10000n) !== 0n;
  const varHeadSize = Number((rcx >> 17n) & 0x3ffn);
  const repCount = Number((rcx >> 32n) & 0xfffn);
  const reserved = rcx & BigInt(viridianAbi.HV_HYPERCALL.HV_HYPERCALL_RSVD_MASK);
  const input = 0x20 * 4096;
  const output = 0x21 * 4096;
  return {
    ...(raw.vp ? { vcpu: raw.vp } : {}),
    hv: {
      call: code,
      ...(fast ? { fast } : {}),
      ...(repCount ? { repCount } : {}),
      ...(start ? { repStart: start } : {}),
      ...(varHeadSize ? { varHeadSize } : {}),
      ...(reserved ? { reserved: hex(reserved) } : {}),
      ...(raw.words.length > 0 ? { input: { u64s: raw.words.map(hex) } } : {}),
      ...(!fast && raw.input.at === 'page' && raw.input.offset ? { rdx: hex(BigInt(input + raw.input.offset)) } : {}),
      ...(!fast && raw.input.at === 'gpa' ? { rdx: hex(raw.input.gpa) } : {}),
      ...(!fast && raw.output.at === 'page' && raw.output.offset ? { r8: hex(BigInt(output + raw.output.offset)) } : {}),
      ...(!fast && raw.output.at === 'gpa' ? { r8: hex(raw.output.gpa) } : {}),
    },
  };
}

/** What the property demands of the failing call, where it names one outcome. */
function demanded(v: ViridianViolation, raw: RawCall, whole: HypercallOutcome | undefined): NonNullable<Step['expect']> {
  const repCount = Number((raw.rcx >> 32n) & 0xfffn);
  switch (v.property) {
    case 'reserved-bits':
      return { status: 'HV_STATUS_INVALID_HYPERCALL_INPUT' };
    case 'reps-complete':
      return { reps: repCount };
    case 'restart-equivalence':
      return whole?.kind === 'result' ? { status: describeStatus(whole.status), reps: whole.repsCompleted } : whole?.kind === 'fault' ? { fault: whole.vector } : {};
    case 'reps-bounded':
    case 'total':
      return {};
    default:
      return v.property satisfies never;
  }
}

function sameFailure(a: ScenarioResult, b: ScenarioResult): boolean {
  return a.status === b.status && a.failure?.field === b.failure?.field;
}

function stepLabel(s: Step): string {
  if (s.call !== undefined) {
    const sub = s.args?.[0];
    return `${String(s.call)}${typeof sub === 'string' && /^[A-Z]/.test(sub) ? ` ${sub}` : ''}`;
  }
  return Object.keys(s).find((k) => k !== 'vcpu' && k !== 'expect' && k !== 'name') ?? 'step';
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}
