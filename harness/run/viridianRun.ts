import { describeStatus, encodeInput, viridianAbi, ViridianWorld, VIRIDIAN_WORLD_LAYOUT, type HypercallOutcome, type ViridianProfileName } from '../sut/index';
import { observe } from '../oracle/observation';
import type { LoadedScenario } from '../spec/load';
import { actionOf, type Step } from '../spec/scenario';
import { HV_CALLS } from '../spec/symbols';
import { evalDuration, evalScalar } from '../spec/values';
import { bufferBytes, storeBytes } from './buffers';
import { checkCommon, type Check } from './checks';
import { forwardTime, ScenarioError, type ScenarioResult, type StepFailure, type StepLog } from './result';
import { describeResult, stepTitle } from '../report/describe';
import { hvCallName, type Fact } from '../coverage/facts';

/** Thrown inside a run when a check fails. */
class Failed extends Error {
  readonly failure: StepFailure;
  constructor(failure: StepFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

/**
 * Runs a world: viridian scenario (specs/viridian/) against the Viridian model of one profile:
 * the scenario is the enlightened guest; its expectations are the checks.
 */
export function runViridianScenario(loaded: Pick<LoadedScenario, 'file' | 'scenario'>, profile: ViridianProfileName, onStep?: ViridianStepHook, onFact?: (fact: Fact) => void, log = false): ScenarioResult {
  const s = loaded.scenario;
  const started = performance.now();
  const base = { id: s.id, title: s.title, file: loaded.file, profile, world: 'viridian' as const, tags: s.tags ?? [], refs: s.refs };
  const world = new ViridianWorld({
    ...(s.setup?.vcpus !== undefined ? { vcpus: s.setup.vcpus } : {}),
    ...(s.setup?.online ? { online: s.setup.online } : {}),
    ...(s.setup?.ramPages !== undefined ? { ramPages: s.setup.ramPages } : {}),
    ...(s.setup?.hypercalls !== undefined ? { hypercalls: s.setup.hypercalls } : {}),
    viridian: { profile, ...(s.viridian ?? {}) },
  });
  const stepLog: StepLog[] = [];
  const runner = new ViridianStepRunner(world, profile, (info) => {
    onStep?.(info);
    if (log) stepLog.push({ index: info.index, title: stepTitle(info.step), status: 'passed', durationMs: performance.now() - stepStarted, result: describeResult(info.result), viridian: [] });
  }, onFact);
  const logged = (): Partial<Pick<ScenarioResult, 'stepLog'>> => (log ? { stepLog } : {});
  let stepStarted = performance.now();
  let i = 0;
  try {
    for (; i < s.steps.length; i++) {
      stepStarted = performance.now();
      runner.step(s.steps[i] as Step, i);
    }
  } catch (error) {
    const durationMs = performance.now() - started;
    const last = stepLog[stepLog.length - 1];
    if (log && last && last.index === i) stepLog[stepLog.length - 1] = { ...last, status: error instanceof Failed ? 'failed' : 'error' };
    else if (log && s.steps[i]) stepLog.push({ index: i, title: stepTitle(s.steps[i] as Step), status: 'error', durationMs: performance.now() - stepStarted, result: error instanceof Error ? `${error.name}: ${error.message}` : String(error), viridian: [] });
    if (error instanceof Failed) return { ...base, status: 'failed', durationMs, steps: i + 1, failure: error.failure, ...logged() };
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { ...base, ...logged(), status: 'error', durationMs, steps: i + 1, failure: { kind: 'infrastructure', step: i, stepName: s.steps[i]?.name ?? actionOf(s.steps[i] as Step), field: error instanceof ScenarioError ? 'scenario' : 'model', expected: 'a step that completes', actual: message, message } };
  }
  return { ...base, status: 'passed', durationMs: performance.now() - started, steps: s.steps.length, ...logged() };
}

/** Called after each step with its result and the interrupts taken (xvc replay). */
export type ViridianStepHook = (info: { readonly index: number; readonly step: Step; readonly result: unknown; readonly interrupts: readonly (readonly [number, number])[] }) => void;

/** Runs the steps of one scenario against the Viridian model. */
class ViridianStepRunner {
  private readonly world: ViridianWorld;
  private readonly vars = new Map<string, bigint>([
    ['input_page', BigInt(VIRIDIAN_WORLD_LAYOUT.inputGfn) * 4096n],
    ['output_page', BigInt(VIRIDIAN_WORLD_LAYOUT.outputGfn) * 4096n],
  ]);

  private readonly onStep: ViridianStepHook | undefined;
  private readonly onFact: ((fact: Fact) => void) | undefined;
  private readonly profile: string;

  constructor(world: ViridianWorld, profile: string, onStep?: ViridianStepHook, onFact?: (fact: Fact) => void) {
    this.world = world;
    this.profile = profile;
    this.onStep = onStep;
    this.onFact = onFact;
  }

  step(step: Step, index: number): void {
    const model = this.world.model;
    const vp = step.vcpu ?? 0;
    const action = actionOf(step);
    const checks: Check[] = [];
    const e = step.expect ?? {};
    let result: unknown = null;
    let interrupts: [number, number][] = [];
    const take = (v: number, vector: number): void => {
      interrupts.push([v, vector]);
    };
    switch (action) {
      case 'hv': {
        const outcome = this.hypercall(step, vp);
        result = outcome;
        const hv = step.hv as NonNullable<Step['hv']>;
        const code = typeof hv.call === 'number' ? hv.call : (HV_CALLS.get(hv.call) ?? 0xffff);
        this.onFact?.({ kind: 'viridian-call', call: hvCallName(code), status: outcome.kind === 'result' ? describeStatus(outcome.status) : outcome.kind === 'fault' ? `#${outcome.vector}` : outcome.kind });
        if (e.status !== undefined) {
          const want = Number(evalScalar(e.status, this.vars));
          checks.push({ field: 'status', expected: describeStatus(want), actual: outcomeText(outcome), ok: outcome.kind === 'result' && outcome.status === want });
        }
        if (e.reps !== undefined) checks.push({ field: 'reps', expected: String(e.reps), actual: outcome.kind === 'result' ? String(outcome.repsCompleted) : outcomeText(outcome), ok: outcome.kind === 'result' && outcome.repsCompleted === e.reps });
        if (e.fault !== undefined) {
          const got = outcome.kind === 'fault' ? outcome.vector : outcome.kind === 'intercept' ? 'intercept' : 'none';
          checks.push({ field: 'fault', expected: e.fault, actual: got, ok: got === e.fault });
        }
        break;
      }
      case 'rdmsr': {
        const msr = Number(evalScalar(step.rdmsr, this.vars));
        const r = model.rdmsr(vp, msr);
        result = r;
        this.onFact?.({ kind: 'msr', msr: msrName(msr), profile: this.profile, access: 'read', outcome: r.kind === 'ok' ? 'ok' : 'GP' });
        if (e.fault !== undefined) checks.push({ field: 'fault', expected: e.fault, actual: r.kind === 'fault' ? 'GP' : 'none', ok: (r.kind === 'fault' ? 'GP' : 'none') === e.fault });
        if (e.value !== undefined) {
          const want = BigInt.asUintN(64, evalScalar(e.value, this.vars));
          checks.push({ field: 'value', expected: `0x${want.toString(16)}`, actual: r.kind === 'ok' ? `0x${r.value.toString(16)}` : '#GP', ok: r.kind === 'ok' && r.value === want });
        }
        break;
      }
      case 'wrmsr': {
        const w = step.wrmsr as NonNullable<Step['wrmsr']>;
        const msr = Number(evalScalar(w.msr, this.vars));
        const r = model.wrmsr(vp, msr, BigInt.asUintN(64, evalScalar(w.value, this.vars)));
        result = r;
        this.onFact?.({ kind: 'msr', msr: msrName(msr), profile: this.profile, access: 'write', outcome: r.kind === 'ok' ? 'ok' : 'GP' });
        checks.push({ field: 'fault', expected: e.fault ?? 'none', actual: r.kind === 'fault' ? 'GP' : 'none', ok: (r.kind === 'fault' ? 'GP' : 'none') === (e.fault ?? 'none') });
        break;
      }
      case 'cpuid': {
        const r = model.cpuid(vp, Number(evalScalar(step.cpuid, this.vars)));
        result = r;
        for (const reg of ['eax', 'ebx', 'ecx', 'edx'] as const) {
          const want = (e as Record<string, unknown>)[reg];
          if (want === undefined) continue;
          const w = Number(BigInt.asUintN(32, evalScalar(want, this.vars)));
          checks.push({ field: reg, expected: `0x${w.toString(16)}`, actual: `0x${r[reg].toString(16)}`, ok: r[reg] === w });
        }
        break;
      }
      case 'root':
        result = this.root(step.root as NonNullable<Step['root']>);
        break;
      case 'halt':
        result = model.halt(vp, step.halt ?? true);
        break;
      case 'icr':
        model.apicIcrWrite(vp, BigInt.asUintN(64, evalScalar(step.icr, this.vars)));
        break;
      case 'eoi':
        model.apicEoi(vp);
        break;
      case 'deliver':
        model.deliverInterrupts(take);
        break;
      case 'store': {
        const st = step.store as NonNullable<Step['store']>;
        const at = Number(evalScalar(st.at, this.vars));
        const bytes = storeBytes(st, this.vars);
        const fault = this.world.machine.memory.writeBytes(at, bytes);
        result = fault ? 'fault' : 'ok';
        break;
      }
      case 'touch': {
        const t = step.touch as NonNullable<Step['touch']>;
        const hw = this.world.machine.vcpus[vp];
        hw?.tlb.fill(t.space !== undefined ? evalScalar(t.space, this.vars) : hw.space, evalScalar(t.va, this.vars), t.global ?? false);
        break;
      }
      case 'setSpace': {
        const hw = this.world.machine.vcpus[vp];
        if (hw) hw.space = evalScalar(step.setSpace, this.vars);
        break;
      }
      case 'advance':
        model.advanceTo(model.now + evalDuration(step.advance, this.vars), take);
        break;
      case 'advanceTo':
        model.advanceTo(forwardTime(evalDuration(step.advanceTo, this.vars), model.now), take);
        break;
      default:
        throw new Error(`[run] ${action} is not a Viridian-level step`);
    }
    this.onStep?.({ index, step, result, interrupts });
    if (e.result !== undefined) checks.push({ field: 'result', expected: JSON.stringify(e.result), actual: JSON.stringify(result, jsonBig), ok: JSON.stringify(e.result) === JSON.stringify(result, jsonBig) });
    if (e.interrupts !== undefined) {
      const want = e.interrupts.map(([v, vec]) => [v, Number(evalScalar(vec, this.vars))]);
      checks.push({ field: 'interrupts', expected: JSON.stringify(want), actual: JSON.stringify(interrupts), ok: JSON.stringify(want) === JSON.stringify(interrupts) });
    }
    interrupts = [];
    const observation = observe({ machine: this.world.machine, privateFrames: new Set() });
    checks.push(
      ...checkCommon(
        e,
        {
          memory: this.world.machine.memory,
          observation,
          console: new Uint8Array(0),
          vcpuSpace: (v) => this.world.machine.vcpus[v]?.space ?? 0n,
          tlb: (v) => this.world.machine.vcpus[v]?.tlb,
          // The machine's record (SHUTDOWN_crash for a crash report): CRASH_P0 is the guest's own data here.
          shutdownReason: () => this.world.machine.shutdown?.reason,
          sharedInfo: 0,
          vcpuInfo: () => 0,
        },
        this.vars,
        'xen',
      ),
    );
    const bad = checks.find((c) => !c.ok);
    if (bad) throw new Failed({ kind: 'expectation', world: 'viridian', step: index, stepName: step.name ?? action, field: bad.field, expected: bad.expected, actual: bad.actual, message: `${bad.field} expected ${bad.expected}, got ${bad.actual}` });
    for (const [name, path] of Object.entries(step.save ?? {})) {
      const r = result as Record<string, unknown> | null;
      if (path === 'value' && r && typeof r['value'] === 'bigint') this.vars.set(name, r['value'] as bigint);
      else if (path === 'status' && r && typeof r['status'] === 'number') this.vars.set(name, BigInt(r['status'] as number));
      else if (path === 'reps' && r && typeof r['repsCompleted'] === 'number') this.vars.set(name, BigInt(r['repsCompleted'] as number));
      else if (path === 'result' && typeof result === 'number') this.vars.set(name, BigInt(result));
    }
  }

  /** Makes the hypercall of an hv step: memory form through the input page, or fast form in registers. */
  private hypercall(step: Step, vp: number): HypercallOutcome {
    const hv = step.hv as NonNullable<Step['hv']>;
    const code = typeof hv.call === 'number' ? hv.call : (HV_CALLS.get(hv.call) ?? 0xffff);
    const reserved = hv.reserved !== undefined ? evalScalar(hv.reserved, this.vars) : 0n;
    const rcx = encodeInput({ code, fast: hv.fast ?? false, repCount: hv.repCount ?? 0, repStart: hv.repStart ?? 0, varHeadSize: hv.varHeadSize ?? 0, nested: hv.nested ?? false }) | BigInt.asUintN(64, reserved);
    const input = hv.input ? bufferBytes(hv.input, this.vars) : new Uint8Array(0);
    const mem = this.world.machine.memory;
    const inputGpa = VIRIDIAN_WORLD_LAYOUT.inputGfn * 4096;
    const outputGpa = VIRIDIAN_WORLD_LAYOUT.outputGfn * 4096;
    let rdx: bigint;
    let r8: bigint;
    let xmm: bigint[];
    if (hv.fast) {
      const padded = new Uint8Array(Math.max(16, Math.ceil(input.length / 8) * 8));
      padded.set(input);
      const view = new DataView(padded.buffer);
      const words = Array.from({ length: padded.length / 8 }, (_, i) => view.getBigUint64(8 * i, true));
      rdx = hv.rdx !== undefined ? evalScalar(hv.rdx, this.vars) : (words[0] as bigint);
      r8 = hv.r8 !== undefined ? evalScalar(hv.r8, this.vars) : (words[1] as bigint);
      xmm = hv.xmm ? hv.xmm.map((v) => evalScalar(v, this.vars)) : words.slice(2);
    } else {
      if (!hv.keep) {
        mem.writeBytes(inputGpa, new Uint8Array(4096));
        mem.writeBytes(inputGpa, input);
        mem.writeBytes(outputGpa, new Uint8Array(4096));
      }
      rdx = hv.rdx !== undefined ? evalScalar(hv.rdx, this.vars) : BigInt(inputGpa);
      r8 = hv.r8 !== undefined ? evalScalar(hv.r8, this.vars) : BigInt(outputGpa);
      xmm = (hv.xmm ?? []).map((v) => evalScalar(v, this.vars));
    }
    return this.world.model.hypercall(vp, { rcx, rdx: BigInt.asUintN(64, rdx), r8: BigInt.asUintN(64, r8), xmm });
  }

  /** The root partition's side (ports, connections, the debug host) and the environment's controls. */
  private root(spec: NonNullable<Step['root']>): unknown {
    const model = this.world.model;
    const root = model.root;
    const n = (k: string): number => Number(evalScalar(spec[k], this.vars));
    const data = (): Uint8Array => bufferBytes({ bytes: String(spec['data'] ?? '') }, this.vars);
    switch (spec.op) {
      case 'createRootPort':
        root.createRootPort({ id: n('id'), kind: spec['kind'] === 'event' ? 'event' : 'message', ...(spec['flagCount'] !== undefined ? { flagCount: n('flagCount') } : {}) });
        return null;
      case 'connect':
        root.connect(n('connection'), n('port'));
        return null;
      case 'disconnect':
        root.disconnect(n('connection'));
        return null;
      case 'deleteRootPort':
        root.deleteRootPort(n('id'));
        return null;
      case 'setTarget':
        root.rootPort(n('id')).target = String(spec['target']) as 'ready';
        return null;
      case 'createGuestPort':
        root.createGuestPort({
          id: n('id'),
          kind: spec['kind'] === 'event' ? 'event' : 'message',
          targetVp: n('targetVp'),
          sint: n('sint'),
          ...(spec['baseFlag'] !== undefined ? { baseFlag: n('baseFlag') } : {}),
          ...(spec['flagCount'] !== undefined ? { flagCount: n('flagCount') } : {}),
        });
        return null;
      case 'deleteGuestPort':
        root.deleteGuestPort(n('id'));
        return null;
      case 'postToGuest':
        return root.postToGuest(n('id'), n('type'), data()).status;
      case 'signalGuest':
        return root.signalGuest(n('id'), n('flag')).status;
      case 'takeMessages':
        return root.takeMessages(n('id')).map((m) => ({ type: m.type, data: hex(m.payload) }));
      case 'takeFlags':
        return root.takeFlags(n('id'));
      case 'debugSend':
        return model.debug.hostSend(data());
      case 'debugReceive':
        return hex(model.debug.hostReceive());
      case 'republishTscPage':
        model.republishTscPage(spec['valid'] !== false);
        return null;
      case 'powerOff':
        model.platformPowerOff();
        return null;
      default:
        throw new Error(`[run] unknown root operation ${spec.op}`);
    }
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function outcomeText(outcome: HypercallOutcome): string {
  switch (outcome.kind) {
    case 'result':
      return `${describeStatus(outcome.status)} (reps ${outcome.repsCompleted})`;
    case 'fault':
      return `#${outcome.vector}`;
    case 'intercept':
      return `intercept at 0x${outcome.gpa.toString(16)}`;
    case 'unimplemented':
      return `unimplemented: ${outcome.reason}`;
    default:
      return outcome satisfies never;
  }
}

const MSR_NAMES = new Map<number, string>((Object.entries(viridianAbi.HV_X64_MSR) as [string, number][]).map(([n, v]) => [v, n]));

/** An MSR's name (HV_X64_MSR_*), or its hex. */
function msrName(msr: number): string {
  return MSR_NAMES.get(msr) ?? (msr === 0x6e0 ? 'IA32_TSC_DEADLINE' : msr === 0x832 ? 'IA32_X2APIC_LVT_TIMER' : `0x${msr.toString(16)}`);
}

function jsonBig(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

