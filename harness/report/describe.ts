import { describeStatus, describeXenReturn, type MachineEvent, type TraceEntry, type XenCallResult } from '../sut/index';
import { actionOf, type Step } from '../spec/scenario';

/*
 * Text for what happened in a step: return values, events, the adapter's Viridian operations.
 * Shared by xvc replay, the step logs of a run and the reports.
 */

/** A step's result as text: a Xen return value, a Viridian outcome, or JSON. */
export function describeResult(r: unknown): string {
  if (typeof r === 'object' && r !== null && 'kind' in r) {
    const x = r as XenCallResult;
    if (x.kind === 'returned') return describeXenReturn(x.value);
    if (x.kind === 'blocked') return 'blocked';
    if (x.kind === 'unimplemented') return `unimplemented (${x.reason})`;
    const v = r as { kind: string; status?: number; repsCompleted?: number; vector?: string; value?: bigint; gpa?: number };
    if (v.kind === 'result' && typeof v.status === 'number') return `${describeStatus(v.status)}${v.repsCompleted ? `, ${v.repsCompleted} reps` : ''}`;
    if (v.kind === 'fault' && typeof v.vector === 'string') return `#${v.vector}`;
    if (v.kind === 'intercept') return `memory intercept at 0x${(v.gpa ?? 0).toString(16)}`;
    if (v.kind === 'ok' && typeof v.value === 'bigint') return `0x${v.value.toString(16)}`;
  }
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'none';
}

/** A world's events as text. */
export function describeEvents(events: readonly MachineEvent[]): string {
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

/** The adapter's Viridian operations, one line each. */
export function describeTrace(trace: readonly TraceEntry[]): string[] {
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


/** A step as a short label: "call event_channel_op EVTCHNOP_send", "hv HvCallSignalEvent", "advance 5ms". */
export function stepTitle(step: Step): string {
  if (step.name) return step.name;
  const action = actionOf(step);
  if (action === 'call') {
    const sub = step.args?.[0];
    return `call ${String(step.call)}${typeof sub === 'string' && /^[A-Z]/.test(sub) ? ` ${sub}` : ''}`;
  }
  if (action === 'hv') return `hv ${String(step.hv?.call)}`;
  const value = (step as Record<string, unknown>)[action];
  return typeof value === 'string' || typeof value === 'number' ? `${action} ${value}` : action;
}

/** A value made JSON-safe: bigints as decimal strings, typed arrays as hex. */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
}

