import { decodeInput } from '../../../emulator/viridian/control';
import { describeStatus, type HypercallOutcome } from '../../../emulator/viridian/outcome';
import { CALLS_BY_CODE } from '../../../emulator/viridian/hypercalls/table';
import { HV_X64_MSR } from '../../../emulator/viridian/abi/msrs';
import type { ViridianModel } from '../../../emulator/viridian/viridianModel';
import type { ViridianGuest } from '../adapterApi';

/**
 * One thing the adapter did on the Viridian machine, in a JSON-safe form (translation traces
 * in failure reports and golden files). 64-bit values are hex strings.
 */
export type TraceEntry =
  | {
      readonly kind: 'hypercall';
      readonly vp: number;
      readonly time: string;
      readonly call: string;
      readonly input: string;
      readonly rdx: string;
      readonly r8: string;
      readonly fast: boolean;
      readonly repCount: number;
      readonly repStart: number;
      readonly varHeadSize: number;
      /** HV_STATUS name, '#UD', 'intercept' or 'unimplemented'. */
      readonly result: string;
      readonly repsCompleted?: number;
    }
  | { readonly kind: 'rdmsr' | 'wrmsr'; readonly vp: number; readonly time: string; readonly msr: string; readonly value: string; readonly fault: boolean }
  | { readonly kind: 'halt'; readonly vp: number; readonly time: string; readonly interruptsEnabled: boolean; readonly result: string }
  | { readonly kind: 'icr'; readonly vp: number; readonly time: string; readonly value: string }
  | { readonly kind: 'eoi' | 'invlpg' | 'cr3' | 'flush-global'; readonly vp: number; readonly time: string; readonly value?: string }
  | { readonly kind: 'interrupt'; readonly vp: number; readonly time: string; readonly vector: number };

const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;
const MSR_NAMES = new Map<number, string>((Object.entries(HV_X64_MSR) as [string, number][]).map(([name, n]) => [n, name]));

/** The name of a call code (Linux spelling), or its hex. */
export function callName(code: number): string {
  return CALLS_BY_CODE.get(code)?.name ?? `0x${code.toString(16).padStart(4, '0')}`;
}

function outcomeText(outcome: HypercallOutcome): { result: string; repsCompleted?: number } {
  switch (outcome.kind) {
    case 'result':
      return { result: describeStatus(outcome.status), repsCompleted: outcome.repsCompleted };
    case 'fault':
      return { result: `#${outcome.vector}` };
    case 'intercept':
      return { result: 'intercept' };
    case 'unimplemented':
      return { result: 'unimplemented' };
    default:
      return outcome satisfies never;
  }
}

/**
 * The guest view of a Viridian model that records every operation into `trace`. The adapter
 * gets this view, so the trace is the full account of what it did, whatever the adapter is.
 */
export function tracedGuestView(model: ViridianModel, trace: TraceEntry[]): ViridianGuest {
  const now = (): string => model.now.toString();
  return {
    vpCount: model.vps.length,
    hypercall(vp, regs) {
      const outcome = model.hypercall(vp, regs);
      const c = decodeInput(regs.rcx);
      trace.push({
        kind: 'hypercall',
        vp,
        time: now(),
        call: callName(c.code),
        input: hex(regs.rcx),
        rdx: hex(regs.rdx),
        r8: hex(regs.r8),
        fast: c.fast,
        repCount: c.repCount,
        repStart: c.repStart,
        varHeadSize: c.varHeadSize,
        ...outcomeText(outcome),
      });
      return outcome;
    },
    rdmsr(vp, msr) {
      const r = model.rdmsr(vp, msr);
      trace.push({ kind: 'rdmsr', vp, time: now(), msr: MSR_NAMES.get(msr) ?? `0x${msr.toString(16)}`, value: r.kind === 'ok' ? hex(r.value) : '', fault: r.kind !== 'ok' });
      return r;
    },
    wrmsr(vp, msr, value) {
      const r = model.wrmsr(vp, msr, value);
      trace.push({ kind: 'wrmsr', vp, time: now(), msr: MSR_NAMES.get(msr) ?? `0x${msr.toString(16)}`, value: hex(value), fault: r.kind !== 'ok' });
      return r;
    },
    cpuid: (vp, leaf) => model.cpuid(vp, leaf),
    rdtsc: () => model.rdtsc(),
    halt(vp, interruptsEnabled) {
      const result = model.halt(vp, interruptsEnabled);
      trace.push({ kind: 'halt', vp, time: now(), interruptsEnabled, result });
      return result;
    },
    apicEoi(vp) {
      trace.push({ kind: 'eoi', vp, time: now() });
      model.apicEoi(vp);
    },
    apicIcrWrite(vp, icr) {
      trace.push({ kind: 'icr', vp, time: now(), value: hex(icr) });
      return model.apicIcrWrite(vp, icr);
    },
    invlpg(vp, va) {
      trace.push({ kind: 'invlpg', vp, time: now(), value: hex(va) });
      model.invlpg(vp, va);
    },
    readCr3: (vp) => model.readCr3(vp),
    writeCr3(vp, cr3) {
      trace.push({ kind: 'cr3', vp, time: now(), value: hex(cr3) });
      model.writeCr3(vp, cr3);
    },
    flushTlbGlobal(vp) {
      trace.push({ kind: 'flush-global', vp, time: now() });
      model.flushTlbGlobal(vp);
    },
  };
}
