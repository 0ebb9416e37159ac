import { decodeStruct, describeStatus, isFault, viridianAbi, xenAbi, type GuestMemory, type StructLayout, type XenCallResult } from '../sut/index';

/** One thing a run exercised: a Xen call's sub-op and result, a Viridian call's status, an MSR access in a profile. */
export type Fact =
  | { readonly kind: 'xen'; readonly hypercall: string; readonly subop: string; readonly result: string }
  | { readonly kind: 'viridian-call'; readonly call: string; readonly status: string }
  | { readonly kind: 'msr'; readonly msr: string; readonly profile: string; readonly access: 'read' | 'write'; readonly outcome: 'ok' | 'GP' };

/** A fact as one string (for sets and reports). */
export function factKey(f: Fact): string {
  switch (f.kind) {
    case 'xen':
      return `xen ${f.hypercall} ${f.subop} ${f.result}`;
    case 'viridian-call':
      return `viridian ${f.call} ${f.status}`;
    case 'msr':
      return `msr ${f.msr} ${f.profile} ${f.access} ${f.outcome}`;
    default:
      return f satisfies never;
  }
}

/** The sub-op of a command no ABI table names: one path in every model, whatever the number. */
export const UNKNOWN_SUBOP = 'cmd ?';

/** Constants of XENMEM that are sub-commands of a sub-op (XENMEM_sharing_op_share...), not sub-ops. */
const XENMEM_SUBCOMMAND = /^XENMEM_(paging_op|access_op|sharing_op|resource)_/;

/**
 * The ABI table a hypercall's first argument (its command) comes from, how to take the command
 * from the argument as the model's dispatcher does, and which names of the table are sub-ops.
 */
const SUBOPS: Readonly<Record<string, { readonly table: Readonly<Record<string, number>>; readonly cmd: (arg: bigint) => number; readonly names?: (name: string) => boolean }>> = {
  event_channel_op: { table: xenAbi.EVTCHNOP, cmd: (a) => Number(BigInt.asIntN(32, a)) },
  sched_op: { table: xenAbi.SCHEDOP, cmd: (a) => Number(BigInt.asIntN(32, a)) },
  vcpu_op: { table: xenAbi.VCPUOP, cmd: (a) => Number(BigInt.asIntN(32, a)) },
  // do_memory_op: cmd & MEMOP_CMD_MASK (the rest is the start extent of a continuation).
  memory_op: { table: xenAbi.XENMEM, cmd: (a) => Number(a & 0x3fn), names: (n) => !XENMEM_SUBCOMMAND.test(n) },
  // do_grant_table_op: cmd & GNTTABOP_CMD_MASK (0xfff; the rest is a continuation's progress).
  grant_table_op: { table: xenAbi.GNTTABOP, cmd: (a) => Number(a & 0xfffn) },
  xen_version: { table: xenAbi.XENVER, cmd: (a) => Number(BigInt.asIntN(32, a)) },
  console_io: { table: xenAbi.CONSOLEIO, cmd: (a) => Number(BigInt.asUintN(32, a)) },
  // do_hvm_op switches on the whole unsigned long.
  hvm_op: { table: xenAbi.HVMOP, cmd: (a) => (BigInt.asUintN(64, a) < 1n << 32n ? Number(a) : -1) },
  vm_assist: { table: xenAbi.VMASST as Readonly<Record<string, number>>, cmd: (a) => Number(BigInt.asUintN(32, a)), names: (n) => n.startsWith('VMASST_CMD_') },
};

const XEN_ERRNO_NAMES = new Map<number, string>((Object.entries(xenAbi.XEN_ERRNO) as [string, number][]).filter(([n]) => n !== 'XEN_EWOULDBLOCK' && n !== 'XEN_EDEADLOCK').map(([n, v]) => [v, n]));

/** The sub-op name of a Xen call, from the ABI table of its command argument ('' for calls without sub-ops; {@link UNKNOWN_SUBOP} for a number no table names). */
export function subopOf(hypercall: string, args: readonly bigint[], mmuextCmd?: number): string {
  if (hypercall === 'mmuext_op') return mmuextCmd === undefined ? '' : (nameOf(xenAbi.MMUEXT, mmuextCmd, (n) => n.startsWith('MMUEXT_')) ?? UNKNOWN_SUBOP);
  const s = SUBOPS[hypercall];
  if (!s) return '';
  return nameOf(s.table, s.cmd(args[0] ?? 0n), s.names) ?? UNKNOWN_SUBOP;
}

function nameOf(table: Readonly<Record<string, number>>, value: number, names?: (name: string) => boolean): string | undefined {
  return Object.entries(table).find(([n, v]) => v === value && (names === undefined || names(n)))?.[0];
}

/** A Xen call's result as coverage names it: ok, an errno name, blocked, unimplemented. */
export function resultOf(r: XenCallResult): string {
  if (r.kind !== 'returned') return r.kind;
  return returnName(r.value);
}

function returnName(value: bigint): string {
  const v = BigInt.asIntN(64, value);
  if (v >= 0n) return 'ok';
  return XEN_ERRNO_NAMES.get(Number(-v)) ?? `${v}`;
}

/** A grant status (GNTST_*) name. */
export function gntstName(status: number): string {
  return nameOf(xenAbi.GNTST, status) ?? `GNTST ${status}`;
}

const HVCALL_NAMES = new Map<number, string>((Object.entries(viridianAbi.HVCALL) as [string, number][]).map(([n, v]) => [v, n]));
/** The extended call codes (0x8001 to 0x8041, docs/decisions.md): an unknown code there is its own path. */
const EXTENDED = { first: 0x8001, last: 0x8041 } as const;

/** The Linux name of a Viridian call code; 'unknown' or 'unknown extended' (0x8001-0x8041) for a code no table names. */
export function hvCallName(code: number): string {
  return HVCALL_NAMES.get(code) ?? (code >= EXTENDED.first && code <= EXTENDED.last ? 'unknown extended' : 'unknown');
}

/** Grant sub-ops whose element status the call writes when it returns 0 (xen/common/grant_table.c). */
const GNTST_SUBOPS = new Set(['GNTTABOP_map_grant_ref', 'GNTTABOP_unmap_grant_ref', 'GNTTABOP_setup_table', 'GNTTABOP_copy', 'GNTTABOP_query_size', 'GNTTABOP_unmap_and_replace', 'GNTTABOP_transfer']);

/** What the facts of a Xen call read: the guest memory after the call, the first struct argument, a multicall's entries as they were before it. */
export type CallFactContext = {
  readonly memory: Pick<GuestMemory, 'read32' | 'read64' | 'readBytes'>;
  readonly out?: { readonly gpa: number; readonly layout: StructLayout };
  /** op and args[6] of each multicall entry, read before the call (a debug build of Xen overwrites them, xen/common/multicall.c). */
  readonly multicallEntries?: readonly (readonly bigint[])[];
  /** An mmuext_op continuation's *pdone before the call (the ops done in earlier legs). */
  readonly mmuextDoneBefore?: number;
};

/** Number of hypercall slots (NR_hypercalls, xen/include/public/xen.h). */
const NR_HYPERCALLS = 64;

/**
 * A hypercall number's name as coverage records it: the __HYPERVISOR_ name, or for a number
 * without one 'nr unassigned' (a gap below NR_hypercalls) or 'nr out of range' (at or above it,
 * or negative): one path each, whatever the number.
 */
export function hypercallNameOf(nr: bigint): string {
  const name = XEN_HYPERCALL_NAMES.get(nr);
  if (name !== undefined) return name;
  return nr >= 0n && nr < BigInt(NR_HYPERCALLS) ? 'nr unassigned' : 'nr out of range';
}

const XEN_HYPERCALL_NAMES = new Map<bigint, string>((Object.entries(xenAbi.XenHypercall) as [string, number][]).map(([n, v]) => [BigInt(v), n]));

/** *pdone of an mmuext_op before the call, when it has one that can be read. */
export function mmuextDoneBefore(memory: Pick<GuestMemory, 'read32'>, pdone: bigint): number | undefined {
  const at = Number(BigInt.asUintN(64, pdone));
  if (at === 0 || !Number.isSafeInteger(at)) return undefined;
  const done = memory.read32(at);
  return isFault(done) ? undefined : done;
}

/** A multicall list's entries before the call: op and the six arguments of each of the first `count` (at most 64). */
export function multicallEntries(memory: Pick<GuestMemory, 'read64'>, list: bigint, count: bigint): bigint[][] {
  const out: bigint[][] = [];
  const base = Number(BigInt.asUintN(64, list));
  const size = xenAbi.multicall_entry.size;
  for (let i = 0; i < Math.min(Number(BigInt.asUintN(32, count)), 64) && Number.isSafeInteger(base); i++) {
    const words = [0, 2, 3, 4, 5, 6, 7].map((w) => memory.read64(base + i * size + 8 * w));
    if (words.some(isFault)) break;
    out.push(words as bigint[]);
  }
  return out;
}

/**
 * What a Xen call exercised: its sub-op and result; a grant sub-op's element status when the call
 * succeeded; and for a multicall, each entry's hypercall, sub-op and result as if issued directly
 * (xen/common/multicall.c runs each through the same table). mmuext_op is named by its first op
 * ('' when the batch is empty or unreadable).
 */
export function xenCallFacts(hypercall: string, args: readonly bigint[], result: XenCallResult, ctx: CallFactContext): Fact[] {
  const out: Fact[] = [];
  const name = resultOf(result);
  const subop = subopForCall(hypercall, args, ctx, name !== 'ok' && name !== 'blocked');
  out.push({ kind: 'xen', hypercall, subop, result: name });
  const elements = BigInt.asUintN(32, args[2] ?? 0n);
  if (hypercall === 'grant_table_op' && name === 'ok' && elements > 0n && GNTST_SUBOPS.has(subop) && ctx.out && 'status' in ctx.out.layout.fields) {
    const bytes = ctx.memory.readBytes(ctx.out.gpa, ctx.out.layout.size);
    if (!isFault(bytes)) out.push({ kind: 'xen', hypercall, subop, result: gntstName(Number((decodeStruct(bytes, ctx.out.layout) as Record<string, number>)['status'])) });
  }
  if (hypercall === 'multicall' && name === 'ok') {
    const list = Number(BigInt.asUintN(64, args[0] ?? 0n));
    (ctx.multicallEntries ?? []).forEach(([op = 0n, ...entryArgs], i) => {
      const res = ctx.memory.read64(list + i * xenAbi.multicall_entry.size + 8);
      if (isFault(res)) return;
      const entryCall = hypercallNameOf(op);
      out.push({ kind: 'xen', hypercall: entryCall, subop: subopForCall(entryCall, entryArgs, ctx), result: returnName(res) });
    });
  }
  return out;
}

/**
 * The sub-op of a call. An mmuext_op batch is named by the op that ended it: for an error, the op
 * at index *pdone (the ops done before it, do_mmuext_op), less the ops of earlier legs for a
 * continuation (MMU_UPDATE_PREEMPTED in count: done starts from *pdone and uops points at the
 * rest of the batch); otherwise the first; '' when the batch is empty or that op cannot be read.
 */
function subopForCall(hypercall: string, args: readonly bigint[], ctx: CallFactContext, failed = false): string {
  if (hypercall !== 'mmuext_op') return subopOf(hypercall, args);
  const raw = BigInt.asUintN(32, args[1] ?? 0n);
  const count = raw & 0x7fff_ffffn;
  const earlier = (raw & 0x8000_0000n) !== 0n ? (ctx.mmuextDoneBefore ?? 0) : 0;
  const uops = Number(BigInt.asUintN(64, args[0] ?? 0n));
  const pdone = Number(BigInt.asUintN(64, args[2] ?? 0n));
  let index = 0;
  if (failed && pdone !== 0 && Number.isSafeInteger(pdone)) {
    const done = ctx.memory.read32(pdone);
    if (!isFault(done) && done >= earlier && BigInt(done - earlier) < count) index = done - earlier;
  }
  const at = uops + index * xenAbi.mmuext_op.size;
  const op = count === 0n || uops === 0 || !Number.isSafeInteger(at) ? undefined : ctx.memory.read32(at);
  return subopOf(hypercall, args, op === undefined || isFault(op) ? undefined : op);
}

export { describeStatus };
