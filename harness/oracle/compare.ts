import { xenAbi, type MachineEvent, type TlbEntry } from '../sut/index';
import type { Observation } from './observation';

/** How a field of the two worlds must relate (docs/semantics.md). */
export type Relation = 'equal' | 'refines' | 'tolerance';

/** One field where the translated world breaks the contract. */
export type Difference = {
  /** Where: "memory gfn 0x400 +0x800 (shared_info.evtchn_pending word 0)", "vcpu[1].state", "events vcpu[0][2].time". */
  readonly field: string;
  readonly relation: Relation;
  readonly xen: string;
  readonly translated: string;
};

/**
 * A timer-driven event may reach the guest up to one 100 ns tick of reference time later than
 * its Xen deadline, never earlier (synthetic timers count 100 ns units; design.md section 3).
 */
export const EVENT_TIME_TOLERANCE_NS = 100n;

/** What the comparison needs besides the two observations. */
export type CompareContext = {
  /** Frame of shared_info, for naming fields. */
  readonly sharedInfoGfn: number;
  readonly grantTableGfn: number;
  /** Frames the adapter keeps for itself. */
  readonly privateFrames: ReadonlySet<number>;
  /** Page images of each world. */
  readonly xenPage: (gfn: number) => Uint8Array | null;
  readonly translatedPage: (gfn: number) => Uint8Array | null;
  /** The translated world's shutdown reason as the guest would tell it (crash MSR P0 where used). */
  readonly translatedShutdownReason: number | undefined;
  /** Whether the profile can report every Xen shutdown reason (it has the crash MSRs). */
  readonly reasonsExpressible: boolean;
  /** The console bytes each world wrote since the last comparison. */
  readonly xenConsole: Uint8Array;
  readonly translatedConsole: Uint8Array;
};

const { SHARED_INFO, vcpu_info, vcpu_time_info, VCPU_INFO_TIME } = xenAbi;
const ZERO_PAGE = new Uint8Array(4096);

/**
 * Compares the two worlds' observations under the contract and returns every difference, the
 * most telling first: how the domain ended, vCPU states, events, memory, TLBs, console.
 */
export function compareObservations(x: Observation, t: Observation, ctx: CompareContext): Difference[] {
  const out: Difference[] = [];
  compareShutdown(x, t, ctx, out);
  // Once the domain has ended in both worlds it runs nothing: its vCPUs' states and TLBs are not observable.
  const ended = x.shutdown !== null && t.shutdown !== null;
  x.vcpus.forEach((xv, i) => {
    const tv = t.vcpus[i];
    if (tv && !ended && tv.state !== xv.state) out.push({ field: `vcpu[${i}].state`, relation: 'equal', xen: xv.state, translated: tv.state });
  });
  compareEvents(x.events, t.events, out);
  compareMemory(x, t, ctx, out);
  x.vcpus.forEach((xv, i) => {
    const tv = t.vcpus[i];
    if (!tv || tv.state === 'down' || ended) return; // a down vCPU's TLB is emptied by INIT when it comes back
    const allowed = new Set(xv.tlb.map(tlbKey));
    const extra = tv.tlb.filter((e) => !allowed.has(tlbKey(e)));
    if (extra.length > 0) out.push({ field: `vcpu[${i}].tlb`, relation: 'refines', xen: `${xv.tlb.length} entries, without ${tlbText(extra[0] as TlbEntry)}`, translated: `${tlbText(extra[0] as TlbEntry)} still cached (${extra.length} entries the Xen world flushed)` });
  });
  if (!bytesEqual(ctx.xenConsole, ctx.translatedConsole)) {
    out.push({ field: 'console', relation: 'equal', xen: JSON.stringify(latin1(ctx.xenConsole)), translated: JSON.stringify(latin1(ctx.translatedConsole)) });
  }
  return out;
}

function compareShutdown(x: Observation, t: Observation, ctx: CompareContext, out: Difference[]): void {
  const xs = x.shutdown;
  const ts = t.shutdown;
  if (!xs && !ts) return;
  if (!xs || !ts) {
    out.push({ field: 'shutdown', relation: 'equal', xen: xs ? `reason ${xs.reason}` : 'running', translated: ts ? `reason ${ctx.translatedShutdownReason ?? ts.reason}` : 'running' });
    return;
  }
  const reason = ctx.translatedShutdownReason ?? ts.reason;
  // Without crash MSRs a Hyper-V guest can only power off or reset: other Xen reasons may end as power-off.
  const ok = reason === xs.reason || (!ctx.reasonsExpressible && xs.reason > 1 && reason === 0);
  if (!ok) out.push({ field: 'shutdown.reason', relation: 'equal', xen: String(xs.reason), translated: String(reason) });
  const late = ts.time - xs.time;
  if (late < 0n || late >= EVENT_TIME_TOLERANCE_NS) out.push({ field: 'shutdown.time', relation: 'tolerance', xen: `${xs.time} ns`, translated: `${ts.time} ns` });
}

type GuestEventText = { readonly what: string; readonly time: bigint };

function perVcpu(events: readonly MachineEvent[]): Map<number, GuestEventText[]> {
  const out = new Map<number, GuestEventText[]>();
  for (const e of events) {
    if (e.kind !== 'upcall' && e.kind !== 'resumed') continue;
    const list = out.get(e.vcpu) ?? [];
    list.push({ what: e.kind === 'upcall' ? 'upcall' : `resumed(${e.value})`, time: e.time });
    out.set(e.vcpu, list);
  }
  return out;
}

/** Events per vCPU: the same upcalls and returns in the same order, each no earlier and less than a tick later. */
function compareEvents(xe: readonly MachineEvent[], te: readonly MachineEvent[], out: Difference[]): void {
  const xs = perVcpu(xe);
  const ts = perVcpu(te);
  const vcpus = [...new Set([...xs.keys(), ...ts.keys()])].sort((a, b) => a - b);
  for (const v of vcpus) {
    const a = xs.get(v) ?? [];
    const b = ts.get(v) ?? [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const p = a[i];
      const q = b[i];
      const field = `events vcpu[${v}][${i}]`;
      if (!p || !q || p.what !== q.what) {
        out.push({ field, relation: 'equal', xen: p ? `${p.what} at ${p.time} ns` : 'none', translated: q ? `${q.what} at ${q.time} ns` : 'none' });
        return;
      }
      const late = q.time - p.time;
      if (late < 0n || late >= EVENT_TIME_TOLERANCE_NS) {
        out.push({ field: `${field}.time`, relation: 'tolerance', xen: `${p.what} at ${p.time} ns`, translated: `${q.what} at ${q.time} ns (${late < 0n ? 'early' : 'late'} by ${late < 0n ? -late : late} ns)` });
        return;
      }
    }
  }
}

function compareMemory(x: Observation, t: Observation, ctx: CompareContext, out: Difference[]): void {
  const frames = [...new Set([...x.dirty, ...t.dirty])].filter((g) => !ctx.privateFrames.has(g)).sort((a, b) => a - b);
  for (const gfn of frames) {
    const a = ctx.xenPage(gfn);
    const b = ctx.translatedPage(gfn);
    if ((a === null) !== (b === null)) {
      out.push({ field: `memory gfn 0x${gfn.toString(16)}`, relation: 'equal', xen: a === null ? 'not populated' : 'populated', translated: b === null ? 'not populated' : 'populated' });
      continue;
    }
    if (a === null || b === null) continue;
    const pa = a.length === 0 ? ZERO_PAGE : a;
    const pb = b.length === 0 ? ZERO_PAGE : b;
    for (let off = 0; off < 4096; off++) {
      if (pa[off] === pb[off]) continue;
      out.push({ field: `memory gfn 0x${gfn.toString(16)} +0x${off.toString(16)}${nameOf(gfn, off, ctx)}`, relation: 'equal', xen: hexAround(pa, off), translated: hexAround(pb, off) });
      break;
    }
  }
}

/** A name for a guest address in the Xen ABI's own terms, where it has one. */
export function nameOf(gfn: number, off: number, ctx: Pick<CompareContext, 'sharedInfoGfn' | 'grantTableGfn'>): string {
  if (gfn === ctx.sharedInfoGfn) {
    if (off < SHARED_INFO.evtchn_pending) {
      const v = Math.floor(off / 64);
      const inner = off % 64;
      if (inner >= VCPU_INFO_TIME) return ` (shared_info.vcpu_info[${v}].time.${fieldAt(vcpu_time_info.fields, inner - VCPU_INFO_TIME)})`;
      return ` (shared_info.vcpu_info[${v}].${fieldAt(vcpu_info.fields, inner)})`;
    }
    if (off < SHARED_INFO.evtchn_mask) return ` (shared_info.evtchn_pending ports ${8 * (off - SHARED_INFO.evtchn_pending)}-${8 * (off - SHARED_INFO.evtchn_pending) + 7})`;
    if (off < SHARED_INFO.wc_version) return ` (shared_info.evtchn_mask ports ${8 * (off - SHARED_INFO.evtchn_mask)}-${8 * (off - SHARED_INFO.evtchn_mask) + 7})`;
    return ' (shared_info wallclock / arch)';
  }
  if (gfn >= ctx.grantTableGfn && gfn < ctx.grantTableGfn + 64) return ` (grant table frame ${gfn - ctx.grantTableGfn}, entry ${Math.floor(off / 8)})`;
  return '';
}

function fieldAt(fields: Readonly<Record<string, { readonly offset: number; readonly type: string }>>, off: number): string {
  const sizes: Record<string, number> = { u8: 1, s8: 1, u16: 2, s16: 2, u32: 4, s32: 4, u64: 8 };
  for (const [name, f] of Object.entries(fields)) if (off >= f.offset && off < f.offset + (sizes[f.type] ?? 1)) return name;
  return `+${off}`;
}

function hexAround(page: Uint8Array, off: number): string {
  const start = off & ~7;
  return `${Array.from(page.subarray(start, start + 8), (b) => b.toString(16).padStart(2, '0')).join(' ')} (byte +0x${off.toString(16)} = 0x${(page[off] ?? 0).toString(16).padStart(2, '0')})`;
}

function tlbKey(e: TlbEntry): string {
  return `${e.global ? 'g' : e.space.toString(16)}:${e.va.toString(16)}`;
}

function tlbText(e: TlbEntry): string {
  return e.global ? `global 0x${e.va.toString(16)}` : `space 0x${e.space.toString(16)} va 0x${e.va.toString(16)}`;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
