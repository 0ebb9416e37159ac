import { CALLS_BY_CODE, decodeResult, describeStatus, ViridianWorld, VIRIDIAN_WORLD_LAYOUT, viridianAbi, withRepStart, type HypercallOutcome, type HypercallRegisters, type TlbEntry, type ViridianCompat, type ViridianOptions } from '../../sut/index';
import type { RawCall, RawStep, ViridianFuzzCase } from './arbitrary';

/*
 * The TLFS properties every raw hypercall must keep (TLFS hypercall-interface.md "Hypercall
 * Inputs", "Hypercall Outputs", "Hypercall Restarting"; docs/decisions.md V1, V8, V16):
 *
 * - reserved-bits: a set RsvdZ bit of the input value (Is Nested included) is refused with
 *   HV_STATUS_INVALID_HYPERCALL_INPUT, unless the partition may not make the call at all
 *   (HV_STATUS_ACCESS_DENIED, checked first) or the hypercall interface is off (#UD); the Xen
 *   compatibility mode ignores them (V1);
 * - reps-bounded: reps completed is never more than the rep count, and a simple call completes
 *   none;
 * - reps-complete: a rep call that succeeds without a rep budget completed every rep;
 * - restart-equivalence: a rep call run under a budget of a few reps per call and restarted
 *   from the reps completed, as a guest does, ends with the same status, reps and state (TLBs,
 *   output page) as the call run at once;
 * - total: the model answers every input with a value (never throws).
 */

/** A property that did not hold. */
export type ViridianViolation = {
  readonly property: 'reserved-bits' | 'reps-bounded' | 'reps-complete' | 'restart-equivalence' | 'total';
  /** Index of the step in the case. */
  readonly step: number;
  readonly expected: string;
  readonly actual: string;
};

/** What a Viridian-level case did: the statuses it saw, and the first violation. */
export type ViridianCaseOutcome = {
  readonly violation: ViridianViolation | undefined;
  readonly statuses: readonly { readonly call: number; readonly status: string }[];
  readonly steps: number;
  /** For each call step that ran: the rep start of every call the budgeted world made (the first is the step's own). */
  readonly restarts: ReadonlyMap<number, readonly number[]>;
  /** For each call step that ran: the outcome in the world without a rep budget. */
  readonly outcomes: ReadonlyMap<number, HypercallOutcome>;
};

const { HV_HYPERCALL, HV_STATUS } = viridianAbi;
const RSVD = BigInt(HV_HYPERCALL.HV_HYPERCALL_RSVD_MASK);
const INPUT_GPA = VIRIDIAN_WORLD_LAYOUT.inputGfn * 4096;
const OUTPUT_GPA = VIRIDIAN_WORLD_LAYOUT.outputGfn * 4096;

/**
 * Runs a case in two worlds (no rep budget, and the case's budget with restarts) and checks the
 * properties. `quirks` overrides the model's behaviour at disagreement points, to show in
 * xvc's own tests that a property catches a model that breaks it.
 */
export function runViridianCase(c: ViridianFuzzCase, quirks?: ViridianOptions['quirks']): ViridianCaseOutcome {
  const extra = quirks ? { quirks } : {};
  const whole = new ViridianWorld({ vcpus: c.vcpus, viridian: { profile: c.profile, compat: c.compat, ...extra } });
  const budgeted = new ViridianWorld({ vcpus: c.vcpus, viridian: { profile: c.profile, compat: c.compat, repsPerCall: c.repsPerCall, ...extra } });
  const statuses: { call: number; status: string }[] = [];
  const restarts = new Map<number, number[]>();
  const outcomes = new Map<number, HypercallOutcome>();
  const done = (violation: ViridianViolation | undefined, steps: number): ViridianCaseOutcome => ({ violation, statuses, steps, restarts, outcomes });
  for (const [i, step] of c.steps.entries()) {
    if (step.kind === 'touch') {
      for (const w of [whole, budgeted]) w.machine.vcpus[step.vp]?.tlb.fill(w.machine.vcpus[step.vp]?.space ?? 0n, step.va, step.global);
      continue;
    }
    if (!whole.machine.vcpus[step.vp] || whole.model.vps[step.vp]?.run !== 'running') continue;
    let a: HypercallOutcome;
    let b: { outcome: HypercallOutcome; starts: number[] };
    try {
      a = issue(whole, step, step.rcx);
      b = restarted(budgeted, step);
    } catch (error) {
      return done({ property: 'total', step: i, expected: 'an outcome', actual: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }, i + 1);
    }
    restarts.set(i, b.starts);
    outcomes.set(i, a);
    if (a.kind === 'result') statuses.push({ call: Number(step.rcx & 0xffffn), status: describeStatus(a.status) });
    const violation = checkCall(c.compat, step.rcx, a) ?? restartEquivalence(whole, budgeted, a, b.outcome);
    if (violation) return done({ ...violation, step: i }, i + 1);
  }
  return done(undefined, c.steps.length);
}

/** The properties of one call's outcome without a rep budget: reserved-bits, reps-bounded, reps-complete. */
export function checkCall(compat: ViridianCompat, rcx: bigint, a: HypercallOutcome): Omit<ViridianViolation, 'step'> | undefined {
  if (a.kind !== 'result') return undefined;
  const { repsCompleted } = decodeResult(a.value);
  const repCount = Number((rcx >> 32n) & 0xfffn);
  const definition = CALLS_BY_CODE.get(Number(rcx & 0xffffn));
  if ((rcx & RSVD) !== 0n && compat !== 'xen' && a.status !== HV_STATUS.HV_STATUS_ACCESS_DENIED && a.status !== HV_STATUS.HV_STATUS_INVALID_HYPERCALL_INPUT) {
    return { property: 'reserved-bits', expected: 'HV_STATUS_INVALID_HYPERCALL_INPUT (or HV_STATUS_ACCESS_DENIED)', actual: describeStatus(a.status) };
  }
  if (repsCompleted > repCount) return { property: 'reps-bounded', expected: `reps completed <= ${repCount}`, actual: String(repsCompleted) };
  if (definition && !definition.shape.rep && repsCompleted !== 0) return { property: 'reps-bounded', expected: 'reps completed 0 for a simple call', actual: String(repsCompleted) };
  if (definition?.shape.rep && a.status === HV_STATUS.HV_STATUS_SUCCESS && repsCompleted !== repCount) {
    return { property: 'reps-complete', expected: `${repCount} reps completed`, actual: String(repsCompleted) };
  }
  return undefined;
}

/** restart-equivalence: the same outcome, TLBs and output page in the world without a budget and the restarted one. */
export function restartEquivalence(whole: ViridianWorld, budgeted: ViridianWorld, a: HypercallOutcome, b: HypercallOutcome): Omit<ViridianViolation, 'step'> | undefined {
  const text = (o: HypercallOutcome): string => (o.kind === 'result' ? `${describeStatus(o.status)}, ${decodeResult(o.value).repsCompleted} reps` : o.kind === 'fault' ? `#${o.vector}` : o.kind);
  if (text(a) !== text(b)) return { property: 'restart-equivalence', expected: text(a), actual: text(b) };
  const tlbs = (w: ViridianWorld): string => JSON.stringify(w.machine.vcpus.map((v) => v.tlb.snapshot().map((e: TlbEntry) => `${e.space}:${e.va}:${e.global}`)));
  if (tlbs(whole) !== tlbs(budgeted)) return { property: 'restart-equivalence', expected: 'the same TLBs after the call', actual: 'different TLBs' };
  const out = (w: ViridianWorld): string => Buffer.from(w.machine.memory.readBytes(OUTPUT_GPA, 4096) as Uint8Array).toString('hex');
  if (out(whole) !== out(budgeted)) return { property: 'restart-equivalence', expected: 'the same output page', actual: 'a different output page' };
  return undefined;
}

/** Places the input and makes the call on `step.vp` (a restart keeps the pages as the previous call left them). */
function issue(world: ViridianWorld, step: RawCall, rcx: bigint, restart = false): HypercallOutcome {
  const fast = (rcx & BigInt(HV_HYPERCALL.HV_HYPERCALL_FAST_BIT)) !== 0n;
  const mem = world.machine.memory;
  const words = [...step.words];
  if (fast) {
    return world.model.hypercall(step.vp, { rcx, rdx: words[0] ?? 0n, r8: words[1] ?? 0n, xmm: words.slice(2) } satisfies HypercallRegisters);
  }
  // As the scenario runner does (harness/run/viridianRun.ts): both pages zeroed, the input at the
  // start of the input page, RDX and R8 at the chosen offsets or addresses.
  if (!restart) {
    mem.writeBytes(INPUT_GPA, new Uint8Array(8192));
    const bytes = new Uint8Array(words.length * 8);
    const view = new DataView(bytes.buffer);
    words.forEach((w, i) => view.setBigUint64(8 * i, w, true));
    mem.writeBytes(INPUT_GPA, bytes);
  }
  const rdx = step.input.at === 'page' ? BigInt(INPUT_GPA + step.input.offset) : step.input.gpa;
  const r8 = step.output.at === 'page' ? BigInt(OUTPUT_GPA + step.output.offset) : step.output.gpa;
  return world.model.hypercall(step.vp, { rcx, rdx, r8, xmm: [] });
}

/** The call under a rep budget, restarted from the reps completed while it succeeds short of the count (at most 4096 times). */
function restarted(world: ViridianWorld, step: RawCall): { outcome: HypercallOutcome; starts: number[] } {
  let outcome = issue(world, step, step.rcx);
  const repCount = Number((step.rcx >> 32n) & 0xfffn);
  const starts = [Number((step.rcx >> 48n) & 0xfffn)];
  while (starts.length < 4096) {
    if (outcome.kind !== 'result' || outcome.status !== HV_STATUS.HV_STATUS_SUCCESS) break;
    const completed = decodeResult(outcome.value).repsCompleted;
    if (completed >= repCount || !CALLS_BY_CODE.get(Number(step.rcx & 0xffffn))?.shape.rep) break;
    starts.push(completed);
    outcome = issue(world, step, withRepStart(step.rcx, completed), true);
  }
  return { outcome, starts };
}

/** The steps of a case as text, for a failure report. */
export function describeRawStep(step: RawStep): string {
  if (step.kind === 'touch') return `touch vp ${step.vp} va 0x${step.va.toString(16)}${step.global ? ' global' : ''}`;
  return `hypercall vp ${step.vp} rcx 0x${step.rcx.toString(16)} input ${step.input.at === 'page' ? `page+${step.input.offset}` : `0x${step.input.gpa.toString(16)}`} words [${step.words.map((w) => `0x${w.toString(16)}`).join(', ')}]`;
}
