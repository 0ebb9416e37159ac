import { isFault, xenAbi, type GuestMemory, type Tlb } from '../sut/index';
import type { Observation } from '../oracle/observation';
import { EVENT_TIME_TOLERANCE_NS } from '../oracle/compare';
import type { Expect } from '../spec/scenario';
import { evalDuration, evalScalar, type Vars } from '../spec/values';

const { SHARED_INFO } = xenAbi;
const { SHUTDOWN_poweroff, SHUTDOWN_reboot } = xenAbi.SHUTDOWN;

/** One expectation checked in one world. */
export type Check = { readonly field: string; readonly expected: string; readonly actual: string; readonly ok: boolean };

/** What the observation checks read of a world. */
export type WorldView = {
  readonly memory: Pick<GuestMemory, 'read8' | 'readBytes'>;
  readonly observation: Observation;
  readonly console: Uint8Array;
  readonly vcpuSpace: (vcpu: number) => bigint;
  readonly tlb: (vcpu: number) => Pick<Tlb, 'has'> | undefined;
  readonly shutdownReason: () => number | undefined;
  /**
   * Whether a reason other than power-off and reboot may end as a power-off in this world: the
   * translated world of a profile without the crash MSRs (docs/semantics.md "Shutdown").
   */
  readonly anyReasonMayPowerOff?: boolean;
  readonly sharedInfo: number;
  readonly vcpuInfo: (vcpu: number) => number;
};

function bit(view: WorldView, array: number, port: number): boolean {
  const b = view.memory.read8(view.sharedInfo + array + (port >> 3));
  return !isFault(b) && ((b >> (port & 7)) & 1) === 1;
}

/**
 * The expectations on what a guest observes (events, run states, event-channel bits, console,
 * shutdown, TLB, memory), checked in one world. Event times: exact in the Xen world; in the
 * translated world the contract's tolerance applies (at most a tick late).
 */
export function checkCommon(e: Expect, view: WorldView, vars: Vars, world: 'xen' | 'translated'): Check[] {
  const out: Check[] = [];
  if (e.events) {
    const got = view.observation.events.filter((ev) => ev.kind === 'upcall' || ev.kind === 'resumed');
    const text = (ev: (typeof got)[number]): string => (ev.kind === 'upcall' ? `upcall v${ev.vcpu} @${ev.time}` : ev.kind === 'resumed' ? `resumed v${ev.vcpu} ${ev.value} @${ev.time}` : '');
    const want = e.events;
    let ok = got.length === want.length;
    want.forEach((w, i) => {
      const g = got[i];
      if (!g || !ok) {
        ok = false;
        return;
      }
      if (w.upcall !== undefined && !(g.kind === 'upcall' && g.vcpu === w.upcall)) ok = false;
      if (w.resumed !== undefined && !(g.kind === 'resumed' && g.vcpu === w.resumed && (w.value === undefined || g.value === evalScalar(w.value, vars)))) ok = false;
      if (w.at !== undefined) {
        const at = evalDuration(w.at, vars);
        const late = g.time - at;
        if (world === 'xen' ? late !== 0n : late < 0n || late >= EVENT_TIME_TOLERANCE_NS) ok = false;
      }
    });
    out.push({
      field: 'events',
      expected: want.map((w) => (w.upcall !== undefined ? `upcall v${w.upcall}` : `resumed v${w.resumed ?? '?'}${w.value !== undefined ? ` ${String(w.value)}` : ''}`) + (w.at !== undefined ? ` @${String(w.at)}` : '')).join(', ') || 'none',
      actual: got.map(text).join(', ') || 'none',
      ok,
    });
  }
  for (const [vcpu, state] of Object.entries(e.states ?? {})) {
    const got = view.observation.vcpus[Number(vcpu)]?.state;
    out.push({ field: `states.${vcpu}`, expected: state, actual: String(got), ok: got === state });
  }
  for (const [key, array, want] of [
    ['pending', SHARED_INFO.evtchn_pending, true],
    ['notPending', SHARED_INFO.evtchn_pending, false],
    ['masked', SHARED_INFO.evtchn_mask, true],
  ] as const) {
    for (const p of e[key] ?? []) {
      const port = Number(evalScalar(p, vars));
      const got = bit(view, array, port);
      out.push({ field: `${key} ${port}`, expected: String(want), actual: String(got), ok: got === want });
    }
  }
  for (const [vcpu, want] of Object.entries(e.upcallPending ?? {})) {
    const b = view.memory.read8(view.vcpuInfo(Number(vcpu)));
    const got = isFault(b) ? -1 : b;
    out.push({ field: `upcallPending.${vcpu}`, expected: String(want), actual: String(got), ok: got === want });
  }
  if (e.console !== undefined) {
    let text = '';
    for (const b of view.console) text += String.fromCharCode(b);
    out.push({ field: 'console', expected: JSON.stringify(e.console), actual: JSON.stringify(text), ok: text === e.console });
  }
  if (e.shutdown !== undefined) {
    const got = view.shutdownReason();
    const actual = got === undefined ? 'running' : String(got);
    if (e.shutdown === 'any') out.push({ field: 'shutdown', expected: 'any reason', actual, ok: got !== undefined });
    else {
      const want = Number(evalScalar(e.shutdown, vars));
      const poweredOff = view.anyReasonMayPowerOff === true && want !== SHUTDOWN_poweroff && want !== SHUTDOWN_reboot && got === SHUTDOWN_poweroff;
      out.push({ field: 'shutdown', expected: poweredOff ? `${want} (or a power-off)` : String(want), actual, ok: got === want || poweredOff });
    }
  }
  if (e.tlb) {
    const tlb = view.tlb(e.tlb.vcpu);
    const space = view.vcpuSpace(e.tlb.vcpu);
    for (const va of e.tlb.has ?? []) {
      const v = evalScalar(va, vars);
      const got = tlb?.has(space, v) ?? false;
      // The translated world may flush more than asked (the contract's "refines"): has: is a Xen-world check.
      if (world === 'xen') out.push({ field: `tlb vcpu ${e.tlb.vcpu} has 0x${v.toString(16)}`, expected: 'cached', actual: got ? 'cached' : 'flushed', ok: got });
    }
    // A down vCPU's TLB is not observed in the translated world (docs/semantics.md "Observation").
    const down = world === 'translated' && view.observation.vcpus[e.tlb.vcpu]?.state === 'down';
    for (const va of down ? [] : (e.tlb.lacks ?? [])) {
      const v = evalScalar(va, vars);
      const got = tlb?.has(space, v) ?? false;
      out.push({ field: `tlb vcpu ${e.tlb.vcpu} lacks 0x${v.toString(16)}`, expected: 'flushed', actual: got ? 'cached' : 'flushed', ok: !got });
    }
  }
  const memory = (e as Record<string, unknown>)['memory'] as MemoryExpectation | readonly MemoryExpectation[] | undefined;
  for (const m of memory === undefined ? [] : Array.isArray(memory) ? memory : [memory as MemoryExpectation]) out.push(...checkMemory(m, view, vars));
  return out;
}

/** `memory: { at, u8 / u16 / u32 / u64 / bytes }` (or a list of them). */
export type MemoryExpectation = { readonly at: unknown; readonly u8?: unknown; readonly u16?: unknown; readonly u32?: unknown; readonly u64?: unknown; readonly bytes?: string };

/** A named buffer without a struct: its contents as `u32s`, `u64s` or `bytes`, from its address. */
export function checkRawBuffer(name: string, gpa: number, want: { readonly u32s?: readonly unknown[]; readonly u64s?: readonly unknown[]; readonly bytes?: string }, view: Pick<WorldView, 'memory'>, vars: Vars): Check[] {
  const out: Check[] = [];
  for (const [key, size] of [['u32s', 4], ['u64s', 8]] as const) {
    (want[key] ?? []).forEach((w, i) => out.push(...checkMemory({ at: gpa + i * size, [size === 4 ? 'u32' : 'u64']: w }, view, vars).map((c) => ({ ...c, field: `${name}.${key}[${i}]` }))));
  }
  if (want.bytes !== undefined) out.push(...checkMemory({ at: gpa, bytes: want.bytes }, view, vars).map((c) => ({ ...c, field: `${name}.bytes` })));
  return out;
}

function checkMemory(memory: MemoryExpectation, view: Pick<WorldView, 'memory'>, vars: Vars): Check[] {
  const out: Check[] = [];
  {
    const at = Number(evalScalar(memory.at, vars));
    for (const [key, size] of [['u8', 1], ['u16', 2], ['u32', 4], ['u64', 8]] as const) {
      if (memory[key] === undefined) continue;
      const bytes = view.memory.readBytes(at, size);
      let got = 0n;
      if (!isFault(bytes)) for (let i = size - 1; i >= 0; i--) got = (got << 8n) | BigInt(bytes[i] as number);
      const want = BigInt.asUintN(8 * size, evalScalar(memory[key], vars));
      out.push({ field: `memory 0x${at.toString(16)} ${key}`, expected: `0x${want.toString(16)}`, actual: isFault(bytes) ? 'fault' : `0x${got.toString(16)}`, ok: !isFault(bytes) && got === want });
    }
    if (memory.bytes !== undefined) {
      const want = memory.bytes.toLowerCase();
      const bytes = view.memory.readBytes(at, want.length / 2);
      const got = isFault(bytes) ? 'fault' : Array.from(bytes as Uint8Array, (b) => b.toString(16).padStart(2, '0')).join('');
      out.push({ field: `memory 0x${at.toString(16)} bytes`, expected: want, actual: got, ok: got === want });
    }
  }
  return out;
}
