import { decodeStruct, describeXenReturn, isFault, viridianAbi, xenAbi, type AdapterFactory, type GuestMemory, type PeerRequest, type ViridianProfileName, type XenCallResult } from '../sut/index';
import { WorldPair, type PairStep } from '../oracle/pair';
import type { LoadedScenario } from '../spec/load';
import { actionOf, type Argument, type BufferSpec, type Expect, type Step } from '../spec/scenario';
import { HYPERCALLS, STRUCTS } from '../spec/symbols';
import { evalDuration, evalScalar } from '../spec/values';
import { bufferBytes, Scratch, storeBytes } from './buffers';
import { checkCommon, checkRawBuffer, type Check, type WorldView } from './checks';
import { forwardTime, ScenarioError, type ScenarioResult, type StepFailure, type StepLog } from './result';
import { describeResult, describeTrace, jsonSafe, stepTitle } from '../report/describe';
import { hypercallNameOf, mmuextDoneBefore, multicallEntries, xenCallFacts, type Fact } from '../coverage/facts';

const { SHARED_INFO } = xenAbi;

/** Values every Xen-level scenario can use: $shared_info and $grant_table (guest physical addresses), $now (the virtual time when the step starts). */
export const BUILT_IN_VARS = ['shared_info', 'grant_table', 'now'] as const;

function builtInVars(map: { readonly sharedInfoGfn: number; readonly grantTableGfn: number }): [string, bigint][] {
  return [
    ['shared_info', BigInt(map.sharedInfoGfn) * 4096n],
    ['grant_table', BigInt(map.grantTableGfn) * 4096n],
  ];
}

/** How a Xen-level scenario is run. */
export type XenRunOptions = {
  readonly profile: ViridianProfileName;
  readonly adapter?: AdapterFactory;
  /** Whether the adapter is the reference one (its `expect.reference` checks apply). */
  readonly reference: boolean;
  /**
   * Skip a step that cannot run: a call or guest action on a vCPU that is not running, anything
   * after the domain shut down (the fuzzer generates such steps; a scenario does not).
   */
  readonly skipUnrunnable?: boolean;
  /** Receives the index of every step that ran (with skipUnrunnable). */
  readonly onExecuted?: (index: number) => void;
  /** Called with what each Xen call exercised in the Xen world (xvc coverage). */
  readonly onFact?: (fact: Fact) => void;
  /** Keep a log of every step (for the reports). */
  readonly log?: boolean;
  /** Run the worlds without observing or comparing them (only to measure the comparison's cost, npm run bench). */
  readonly bare?: boolean;
  /** Called after each step with what happened in both worlds (xvc replay). */
  readonly onStep?: (info: { readonly index: number; readonly step: Step; readonly result: { readonly xen: unknown; readonly translated: unknown }; readonly pairStep: PairStep<unknown> }) => void;
};

type Named = { readonly gpa: number; readonly struct: string | undefined };

/** Thrown inside a run when a check fails; carries the failure. */
class Failed extends Error {
  readonly failure: StepFailure;
  constructor(failure: StepFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

/**
 * Runs a Xen-level scenario in both worlds for one Viridian profile: each step in both, its
 * expectations in each world, the contract between them, and the well-formedness of what the
 * adapter did. The first failure ends the run.
 */
export function runXenScenario(loaded: Pick<LoadedScenario, 'file' | 'scenario'>, options: XenRunOptions): ScenarioResult {
  const s = loaded.scenario;
  const started = performance.now();
  const base = { id: s.id, title: s.title, file: loaded.file, profile: options.profile, world: 'xen' as const, tags: s.tags ?? [], refs: s.refs };
  let pair: WorldPair;
  try {
    pair = new WorldPair({
      ...(s.setup?.vcpus !== undefined ? { vcpus: s.setup.vcpus } : {}),
      ...(s.setup?.online ? { online: s.setup.online } : {}),
      ...(s.setup?.ramPages !== undefined ? { ramPages: s.setup.ramPages } : {}),
      xen: { ...(s.xen ?? {}) },
      viridian: { profile: options.profile, ...(s.viridian ?? {}) },
      ...(options.adapter ? { adapter: options.adapter } : {}),
      ...(options.bare ? { bare: true } : {}),
    });
  } catch (error) {
    return { ...base, status: 'error', durationMs: performance.now() - started, steps: 0, failure: infrastructure(-1, 'boot', error) };
  }
  const ram = s.setup?.ramPages ?? 1024;
  const runner = new XenStepRunner(pair, new Scratch(Math.floor(ram / 2), ram), options);
  const logged = (): Partial<Pick<ScenarioResult, 'stepLog' | 'viridianOps'>> => ({ ...(options.log ? { stepLog: runner.log } : {}), viridianOps: runner.viridianOps });
  let i = 0;
  try {
    for (; i < s.steps.length; i++) runner.step(s.steps[i] as Step, i);
  } catch (error) {
    const durationMs = performance.now() - started;
    if (error instanceof Failed) return { ...base, status: 'failed', durationMs, steps: i + 1, failure: error.failure, ...logged() };
    runner.logError(s.steps[i], i, error);
    return { ...base, status: 'error', durationMs, steps: i + 1, failure: infrastructure(i, stepName(s.steps[i]), error), ...logged() };
  }
  return { ...base, status: 'passed', durationMs: performance.now() - started, steps: s.steps.length, ...logged() };
}

const MULTICALL = BigInt(xenAbi.XenHypercall.multicall);
const MMUEXT_OP = BigInt(xenAbi.XenHypercall.mmuext_op);

function stepName(step: Step | undefined): string {
  if (!step) return '?';
  if (step.name) return step.name;
  const action = actionOf(step);
  return action === 'call' ? `call ${String(step.call)}` : action;
}

function infrastructure(step: number, stepName: string, error: unknown): StepFailure {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // A step that asks for too much virtual work (ClockBudgetError) is the scenario's doing.
  const field = error instanceof ScenarioError || (error instanceof Error && error.name === 'ClockBudgetError') ? 'scenario' : 'adapter';
  return { kind: 'infrastructure', step, stepName, field, expected: 'a step that completes', actual: message, message };
}

/** Runs the steps of one scenario on a world pair. */
class XenStepRunner {
  private readonly pair: WorldPair;
  private readonly scratch: Scratch;
  private readonly options: XenRunOptions;
  private readonly vars: Map<string, bigint>;
  /** The steps that ran (with the log option). */
  readonly log: StepLog[] = [];
  /** Viridian operations the adapter made so far. */
  viridianOps = 0;
  private stepStarted = 0;

  constructor(pair: WorldPair, scratch: Scratch, options: XenRunOptions) {
    this.pair = pair;
    this.scratch = scratch;
    this.options = options;
    this.vars = new Map(builtInVars(pair.xen.xen.memoryMap));
  }

  private get sharedInfo(): number {
    return this.pair.xen.xen.memoryMap.sharedInfoGfn * 4096;
  }

  step(step: Step, index: number): void {
    const action = actionOf(step);
    const vcpu = step.vcpu ?? 0;
    if (this.options.skipUnrunnable && !this.runnable(action, vcpu)) return;
    this.options.onExecuted?.(index);
    this.stepStarted = performance.now();
    this.vars.set('now', this.pair.now);
    const named = new Map<string, Named>();
    let result: { xen: unknown; translated: unknown } = { xen: null, translated: null };
    let pairStep: PairStep<unknown>;
    switch (action) {
      case 'call': {
        const name = String(step.call).replace(/^__HYPERVISOR_/, '');
        const nr = typeof step.call === 'number' ? BigInt(step.call) : HYPERCALLS.has(name) ? BigInt(HYPERCALLS.get(name) as number) : evalScalar(name, this.vars);
        const regs = [0n, 0n, 0n, 0n, 0n] as [bigint, bigint, bigint, bigint, bigint];
        (step.args ?? []).forEach((arg, j) => {
          regs[j] = this.argument(arg, named);
        });
        const entries = this.options.onFact && nr === MULTICALL ? multicallEntries(this.pair.xen.machine.memory, regs[0], regs[1]) : undefined;
        const doneBefore = this.options.onFact && nr === MMUEXT_OP ? mmuextDoneBefore(this.pair.xen.machine.memory, regs[2]) : undefined;
        const s = this.pair.hypercall(vcpu, nr, regs);
        result = { xen: s.xen, translated: s.translated };
        pairStep = s;
        if (this.options.onFact) this.recordFacts(nr, regs, s.xen, named, entries, doneBefore);
        break;
      }
      case 'store': {
        const st = step.store as NonNullable<Step['store']>;
        const at = Number(evalScalar(st.at, this.vars));
        pairStep = this.pair.stores([[at, storeBytes(st, this.vars)]], vcpu);
        break;
      }
      case 'mask':
      case 'unmask':
      case 'clearPending': {
        const port = Number(evalScalar(step[action], this.vars));
        const array = action === 'clearPending' ? SHARED_INFO.evtchn_pending : SHARED_INFO.evtchn_mask;
        const at = this.sharedInfo + array + (port >> 3);
        const byte = this.byte(at);
        const bit = 1 << (port & 7);
        pairStep = this.pair.stores([[at, Uint8Array.of(action === 'mask' ? byte | bit : byte & ~bit)]], vcpu);
        break;
      }
      case 'upcallMask':
        pairStep = this.pair.stores([[this.vcpuInfo(vcpu) + 1, Uint8Array.of(step.upcallMask ?? 0)]], vcpu);
        break;
      case 'handleUpcall': {
        const { writes, ports } = this.upcallHandler(vcpu);
        pairStep = this.pair.stores(writes, vcpu);
        result = { xen: ports, translated: ports };
        break;
      }
      case 'touch': {
        const t = step.touch as NonNullable<Step['touch']>;
        const space = t.space !== undefined ? evalScalar(t.space, this.vars) : (this.pair.xen.machine.vcpus[vcpu]?.space ?? 0n);
        this.pair.touch(vcpu, space, evalScalar(t.va, this.vars), t.global ?? false);
        pairStep = this.pair.settle();
        break;
      }
      case 'setSpace':
        this.pair.setSpace(vcpu, evalScalar(step.setSpace, this.vars));
        pairStep = this.pair.settle();
        break;
      case 'advance':
        pairStep = this.pair.advanceTo(this.pair.now + evalDuration(step.advance, this.vars));
        break;
      case 'advanceTo':
        pairStep = this.pair.advanceTo(forwardTime(evalDuration(step.advanceTo, this.vars), this.pair.now));
        break;
      case 'peer': {
        const s = this.pair.peer(peerRequest(step.peer as NonNullable<Step['peer']>, this.vars));
        result = { xen: s.xen, translated: s.translated };
        pairStep = s;
        break;
      }
      case 'peerSend': {
        const s = this.pair.peerSend(Number(evalScalar(step.peerSend, this.vars)));
        result = { xen: s.xen, translated: s.translated };
        pairStep = s;
        break;
      }
      default:
        throw new Error(`[run] ${action} is not a Xen-level step`);
    }
    this.options.onStep?.({ index, step, result, pairStep });
    this.viridianOps += pairStep.trace.length;
    try {
      this.check(step, index, pairStep, named, result);
    } catch (error) {
      this.record(step, index, 'failed', result, pairStep);
      throw error;
    }
    this.record(step, index, 'passed', result, pairStep);
    this.save(step, named, result);
  }

  private record(step: Step, index: number, status: StepLog['status'], result: { xen: unknown; translated: unknown }, pairStep: PairStep<unknown>): void {
    if (!this.options.log) return;
    const action = actionOf(step);
    const shown = action === 'call' || action === 'peer' || action === 'peerSend' || action === 'handleUpcall';
    this.log.push({
      index,
      title: stepTitle(step),
      status,
      durationMs: performance.now() - this.stepStarted,
      ...(shown ? { xen: describeResult(result.xen), translated: describeResult(result.translated) } : {}),
      viridian: describeTrace(pairStep.trace),
    });
  }

  /** Logs a step that threw. */
  logError(step: Step | undefined, index: number, error: unknown): void {
    if (!this.options.log || !step) return;
    this.log.push({ index, title: stepTitle(step), status: 'error', durationMs: performance.now() - this.stepStarted, result: error instanceof Error ? `${error.name}: ${error.message}` : String(error), viridian: [] });
  }

  private check(step: Step, index: number, pairStep: PairStep<unknown>, named: Map<string, Named>, result: { xen: unknown; translated: unknown }): void {
    const e = step.expect ?? {};
    const fail = (f: Omit<StepFailure, 'step' | 'stepName'>): never => {
      throw new Failed({ step: index, stepName: stepName(step), ...f, observations: { xen: jsonSafe(pairStep.observations.xen), translated: jsonSafe(pairStep.observations.translated) } });
    };
    // 1. The Xen world must meet the expectations: otherwise the scenario (or the model) is wrong.
    this.expectIn('xen', e, named, result.xen, pairStep, fail);
    // 2. The worlds must agree under the contract.
    const d = pairStep.differences[0];
    if (d) fail({ kind: 'contract', field: d.field, expected: d.xen, actual: d.translated, message: `the worlds disagree at ${d.field} [${d.relation}]: xen ${d.xen} | translated ${d.translated}`, trace: pairStep.trace });
    // 3. The translated world must meet them too (where a relation allows latitude the contract passed but an expectation may not).
    this.expectIn('translated', e, named, result.translated, pairStep, fail);
    // 4. What the adapter did must be well-formed.
    const bad = pairStep.illFormed[0];
    if (bad) fail({ kind: 'well-formedness', field: bad.what, expected: 'a well-formed Viridian call', actual: bad.why, message: `${bad.what}: ${bad.why}`, trace: pairStep.trace });
    // 5. Reference-adapter-specific translation expectations.
    if (e.reference && this.options.reference) {
      const calls = new Set(pairStep.trace.flatMap((t) => (t.kind === 'hypercall' ? [t.call] : t.kind === 'wrmsr' || t.kind === 'rdmsr' ? [t.msr] : [])));
      for (const name of e.reference.includes ?? []) if (!calls.has(name)) fail({ kind: 'expectation', world: 'translated', field: 'reference.includes', expected: name, actual: [...calls].join(', ') || 'no Viridian call', message: `the reference adapter did not use ${name}`, trace: pairStep.trace });
      for (const name of e.reference.excludes ?? []) if (calls.has(name)) fail({ kind: 'expectation', world: 'translated', field: 'reference.excludes', expected: `no ${name}`, actual: name, message: `the reference adapter used ${name}`, trace: pairStep.trace });
    }
  }

  private expectIn(world: 'xen' | 'translated', e: Expect, named: Map<string, Named>, result: unknown, pairStep: PairStep<unknown>, fail: (f: Omit<StepFailure, 'step' | 'stepName'>) => never): void {
    const w = world === 'xen' ? this.pair.xen : this.pair.translated;
    const memory = w.machine.memory;
    const view: WorldView = {
      memory,
      observation: pairStep.observations[world],
      console: pairStep.console[world],
      vcpuSpace: (v) => w.machine.vcpus[v]?.space ?? 0n,
      tlb: (v) => w.machine.vcpus[v]?.tlb,
      shutdownReason: () => {
        if (world === 'translated') {
          const crash = this.pair.translated.viridian.crash;
          if (crash) return Number(crash.params[0] ?? 3n);
        }
        return w.machine.shutdown?.reason;
      },
      anyReasonMayPowerOff: world === 'translated' && (this.pair.translated.viridian.profile.featuresEdx & viridianAbi.HV_FEATURES_EDX.HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE) === 0,
      sharedInfo: this.sharedInfo,
      vcpuInfo: (v) => this.vcpuInfoIn(w.machine.memory, v),
    };
    const checks: Check[] = [];
    if (e.return !== undefined) checks.push(returnCheck(e.return, result as XenCallResult, this.vars));
    if (e.result !== undefined) checks.push({ field: 'result', expected: JSON.stringify(e.result), actual: JSON.stringify(result), ok: JSON.stringify(normaliseResult(e.result, this.vars, result)) === JSON.stringify(result) });
    if (e.ports !== undefined) {
      const want = e.ports.map((p) => Number(evalScalar(p, this.vars)));
      checks.push({ field: 'ports', expected: JSON.stringify(want), actual: JSON.stringify(result), ok: JSON.stringify(want) === JSON.stringify(result) });
    }
    for (const [name, buf] of named) {
      const fields = (e as Record<string, unknown>)[name];
      if (fields === undefined) continue;
      if (buf.struct === undefined) {
        checks.push(...checkRawBuffer(name, buf.gpa, fields as Parameters<typeof checkRawBuffer>[2], view, this.vars));
        continue;
      }
      const layout = STRUCTS.get(buf.struct);
      if (!layout) continue;
      const bytes = memory.readBytes(buf.gpa, layout.size);
      if (isFault(bytes)) continue;
      const decoded = decodeStruct(bytes, layout) as Record<string, number | bigint>;
      for (const [field, want] of Object.entries(fields as Record<string, unknown>)) {
        if (decoded[field] === undefined) continue;
        const got = BigInt(decoded[field]);
        const expected = evalScalar(want, this.vars);
        checks.push({ field: `${name}.${field}`, expected: expected.toString(), actual: got.toString(), ok: got === expected || BigInt.asUintN(64, got) === BigInt.asUintN(64, expected) });
      }
    }
    checks.push(...checkCommon(e, view, this.vars, world));
    const bad = checks.find((c) => !c.ok);
    if (bad) fail({ kind: 'expectation', world, field: bad.field, expected: bad.expected, actual: bad.actual, message: `${world} world: ${bad.field} expected ${bad.expected}, got ${bad.actual}`, trace: pairStep.trace });
  }

  private save(step: Step, named: Map<string, Named>, result: { xen: unknown }): void {
    for (const [name, path] of Object.entries(step.save ?? {})) {
      if (path === 'return') {
        const r = result.xen as XenCallResult;
        if (r.kind === 'returned') this.vars.set(name, r.value);
      } else if (path === 'result') {
        const r = result.xen;
        if (typeof r === 'number') this.vars.set(name, BigInt(r));
        else if (typeof r === 'object' && r !== null && 'handle' in r) this.vars.set(name, BigInt((r as { handle: number }).handle));
      } else {
        const [bufName, field] = path.split('.') as [string, string];
        const buf = named.get(bufName);
        const layout = buf?.struct ? STRUCTS.get(buf.struct) : undefined;
        if (!buf || !layout) continue;
        const bytes = this.pair.xen.machine.memory.readBytes(buf.gpa, layout.size);
        const value = isFault(bytes) ? undefined : (decodeStruct(bytes, layout) as Record<string, number | bigint>)[field];
        if (value !== undefined) this.vars.set(name, BigInt(value));
      }
    }
  }

  /** Whether a step can run now: the domain is alive, and a vCPU-bound action's vCPU is running. */
  private runnable(action: string, vcpu: number): boolean {
    const x = this.pair.xen.machine;
    if (x.shutdown) return false;
    if (['advance', 'advanceTo', 'peer', 'peerSend'].includes(action)) return true;
    return x.vcpus[vcpu]?.running === true;
  }

  /** What a call exercised, as coverage names it (harness/coverage/facts.ts). */
  private recordFacts(nr: bigint, regs: readonly bigint[], result: XenCallResult, named: Map<string, Named>, multicall: bigint[][] | undefined, mmuextDone: number | undefined): void {
    const record = this.options.onFact;
    if (!record) return;
    const out = named.get('out');
    const layout = out?.struct ? STRUCTS.get(out.struct) : undefined;
    const ctx = { memory: this.pair.xen.machine.memory, ...(out && layout ? { out: { gpa: out.gpa, layout } } : {}), ...(multicall ? { multicallEntries: multicall } : {}), ...(mmuextDone !== undefined ? { mmuextDoneBefore: mmuextDone } : {}) };
    for (const fact of xenCallFacts(hypercallNameOf(nr), regs, result, ctx)) record(fact);
  }

  private argument(arg: Argument, named: Map<string, Named>): bigint {
    if (typeof arg !== 'object' || arg === null) return BigInt.asUintN(64, evalScalar(arg, this.vars));
    const buf = arg as BufferSpec;
    if (buf.ptr !== undefined) return BigInt.asUintN(64, evalScalar(buf.ptr, this.vars));
    const bytes = bufferBytes(buf, this.vars);
    const gpa = buf.at !== undefined ? Number(evalScalar(buf.at, this.vars)) : this.scratch.alloc(bytes.length);
    this.pair.place(gpa, bytes);
    const name = buf.as ?? (buf.struct !== undefined && !named.has('out') ? 'out' : undefined);
    if (name !== undefined) named.set(name, { gpa, struct: buf.struct });
    return BigInt(gpa);
  }

  private byte(gpa: number): number {
    const b = this.pair.xen.machine.memory.read8(gpa);
    return isFault(b) ? 0 : b;
  }

  private vcpuInfo(vcpu: number): number {
    return this.vcpuInfoIn(this.pair.xen.machine.memory, vcpu);
  }

  /** A vCPU's vcpu_info: registered elsewhere, or its slot in shared_info. */
  private vcpuInfoIn(_memory: GuestMemory, vcpu: number): number {
    const registered = this.pair.xen.xen.guest.vcpus[vcpu]?.vcpuInfoGpa;
    return registered ?? this.sharedInfo + 64 * vcpu;
  }

  /** The stores a Linux-like event handler makes on `vcpu` (xenTestkit handleUpcall), and the ports it takes. */
  private upcallHandler(vcpu: number): { writes: [number, Uint8Array][]; ports: number[] } {
    const mem = this.pair.xen.machine.memory;
    const info = this.vcpuInfo(vcpu);
    const writes: [number, Uint8Array][] = [[info, Uint8Array.of(0)]];
    const selRaw = mem.read64(info + 8);
    const sel = isFault(selRaw) ? 0n : selRaw;
    writes.push([info + 8, new Uint8Array(8)]);
    const ports: number[] = [];
    for (let w = 0; w < 64; w++) {
      if (((sel >> BigInt(w)) & 1n) === 0n) continue;
      const pendRaw = mem.read64(this.sharedInfo + SHARED_INFO.evtchn_pending + 8 * w);
      const maskRaw = mem.read64(this.sharedInfo + SHARED_INFO.evtchn_mask + 8 * w);
      const pend = isFault(pendRaw) ? 0n : pendRaw;
      const take = pend & ~(isFault(maskRaw) ? 0n : maskRaw);
      const left = new Uint8Array(8);
      new DataView(left.buffer).setBigUint64(0, pend & ~take, true);
      writes.push([this.sharedInfo + SHARED_INFO.evtchn_pending + 8 * w, left]);
      for (let b = 0; b < 64; b++) if ((take >> BigInt(b)) & 1n) ports.push(w * 64 + b);
    }
    return { writes, ports };
  }
}

function peerRequest(spec: NonNullable<Step['peer']>, vars: ReadonlyMap<string, bigint>): PeerRequest {
  const out: Record<string, unknown> = { op: spec.op };
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'op') continue;
    out[k] = typeof v === 'boolean' || k === 'data' ? v : Number(evalScalar(v, vars));
  }
  return out as PeerRequest;
}

/**
 * An expected peer result as the result would be: a string is evaluated as a number only where
 * the actual result is a number (dom0's data reads are hex strings, "0102" among them).
 */
function normaliseResult(value: unknown, vars: ReadonlyMap<string, bigint>, actual: unknown): unknown {
  if (typeof value === 'string' && typeof actual === 'number') {
    try {
      return Number(evalScalar(value, vars));
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => normaliseResult(v, vars, Array.isArray(actual) ? (actual as unknown[])[i] : undefined));
  return value;
}

function returnCheck(want: Expect['return'], got: XenCallResult, vars: ReadonlyMap<string, bigint>): Check {
  const actual = got.kind === 'returned' ? describeXenReturn(got.value) : got.kind;
  if (want === 'blocked' || want === 'unimplemented') return { field: 'return', expected: want, actual, ok: got.kind === want };
  const value = evalScalar(want, vars);
  return { field: 'return', expected: describeXenReturn(BigInt.asIntN(64, value)), actual, ok: got.kind === 'returned' && BigInt.asIntN(64, got.value) === BigInt.asIntN(64, value) };
}
