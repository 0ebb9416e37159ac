/**
 * The adapter protocol, version 1: the messages of docs/adapter-protocol.md, as JSON-safe types.
 *
 * An out-of-process adapter talks to xvc in JSON lines over its stdin and stdout. The harness's
 * requests (hello, start, hypercall, interrupt, returnToGuest) carry an `id`; the adapter answers
 * each with one final message carrying `re` = that id. While it works on a request, the adapter
 * performs the operations of the adapter API's host (docs/adapter-api.md "The host") one at a
 * time as `op` messages with their own `id`, each answered by an `opResult` with `re`.
 *
 * 64-bit values travel as {@link U64} strings, so that no JSON number loses precision; byte
 * strings as {@link HexBytes}. Guest frames the adapter holds directly (grant mappings) are
 * {@link FrameHandle}s whose contents both sides keep equal (frameTable.ts).
 */
import type { RootEndpoints } from '../adapterApi';

/** The protocol version this harness speaks. */
export const PROTOCOL_VERSION = 1 as const;

/** A 64-bit value: "0x" and 1 to 16 hex digits (the harness writes lowercase, unsigned two's complement; it also reads "-0x…"). */
export type U64 = string;
/** Bytes as lowercase hex digits, two per byte, no prefix. */
export type HexBytes = string;
/** A frame handle: "h<n>" when the harness named the frame first, "a<n>" when the adapter did. */
export type FrameHandle = string;
/** New contents of frames the sender changed since the other side last saw them (4096 bytes each). */
export type FrameUpdates = Readonly<Record<FrameHandle, HexBytes>>;

/** A guest memory access that faulted (the API's MemoryFault). */
export type WireMemoryFault = { readonly kind: 'memory-fault'; readonly gpa: number; readonly access: 'read' | 'write'; readonly reason: 'outside' | 'unpopulated' | 'read-only' };

/** The Xen guest to present, as in the API's `host.xen`; `options.initialPeriodNs` is a U64. */
export type WireXenSetup = { readonly options: Readonly<Record<string, unknown>>; readonly online: readonly number[]; readonly guestFrames: number };

/** What a Xen hypercall did (the API's XenCallResult). */
export type WireXenCallResult = { readonly kind: 'returned'; readonly value: U64 } | { readonly kind: 'blocked' } | { readonly kind: 'unimplemented'; readonly reason: string };

/** What a Viridian hypercall did (the API's HypercallOutcome). */
export type WireHypercallOutcome =
  | { readonly kind: 'result'; readonly value: U64; readonly status: number; readonly repsCompleted: number }
  | { readonly kind: 'fault'; readonly vector: 'UD' | 'GP' }
  | { readonly kind: 'intercept'; readonly gpa: number; readonly access: 'read' | 'write' }
  | { readonly kind: 'unimplemented'; readonly reason: string };

type Vp = { readonly vp: number };
type Gfn = { readonly gfn: number };
type Gpa = { readonly gpa: number };
type Fault = WireMemoryFault;

/** The arguments of every operation, by name: one row per member of the API's host. */
export type OpArgs = {
  'viridian.hypercall': Vp & { readonly rcx: U64; readonly rdx: U64; readonly r8: U64; readonly xmm?: readonly U64[] };
  'viridian.rdmsr': Vp & { readonly msr: number };
  'viridian.wrmsr': Vp & { readonly msr: number; readonly value: U64 };
  'viridian.cpuid': Vp & { readonly leaf: number };
  'viridian.rdtsc': Record<never, never>;
  'viridian.halt': Vp & { readonly interruptsEnabled: boolean };
  'viridian.apicEoi': Vp;
  'viridian.apicIcrWrite': Vp & { readonly icr: U64 };
  'viridian.invlpg': Vp & { readonly va: U64 };
  'viridian.readCr3': Vp;
  'viridian.writeCr3': Vp & { readonly cr3: U64 };
  'viridian.flushTlbGlobal': Vp;
  'memory.populatedPages': Record<never, never>;
  'memory.inSpace': Gfn;
  'memory.isPopulated': Gfn;
  'memory.check': Gpa & { readonly len: number; readonly access: 'read' | 'write' };
  'memory.read8': Gpa;
  'memory.read16': Gpa;
  'memory.read32': Gpa;
  'memory.read64': Gpa;
  'memory.write8': Gpa & { readonly value: number };
  'memory.write16': Gpa & { readonly value: number };
  'memory.write32': Gpa & { readonly value: number };
  'memory.write64': Gpa & { readonly value: U64 };
  'memory.readBytes': Gpa & { readonly len: number };
  'memory.writeBytes': Gpa & { readonly data: HexBytes };
  'memory.writeBytesPartial': Gpa & { readonly data: HexBytes };
  'platform.serialWrite': { readonly data: HexBytes };
  'platform.powerOff': Record<never, never>;
  'platform.reset': Record<never, never>;
  'platform.populate': Gfn;
  'platform.depopulate': Gfn;
  'platform.frameOf': Gfn;
  'platform.mapForeign': Gfn & { readonly frame: FrameHandle; readonly writable: boolean };
  'platform.unmapForeign': Gfn & { readonly restore: boolean };
  'platform.isForeign': Gfn;
  'platform.foreignMapping': Gfn;
  'guest.upcall': { readonly vcpu: number };
  'guest.resumed': { readonly vcpu: number; readonly value: U64 };
};

/** The result of every operation, by name (`null` for an operation with nothing to say). */
export type OpResults = {
  'viridian.hypercall': WireHypercallOutcome;
  'viridian.rdmsr': { readonly kind: 'ok'; readonly value: U64 } | { readonly kind: 'fault'; readonly vector: 'GP' };
  'viridian.wrmsr': { readonly kind: 'ok' } | { readonly kind: 'fault'; readonly vector: 'GP' };
  'viridian.cpuid': { readonly eax: number; readonly ebx: number; readonly ecx: number; readonly edx: number };
  'viridian.rdtsc': U64;
  'viridian.halt': 'halted' | 'woken' | 'stopped';
  'viridian.apicEoi': null;
  'viridian.apicIcrWrite': null;
  'viridian.invlpg': null;
  'viridian.readCr3': U64;
  'viridian.writeCr3': null;
  'viridian.flushTlbGlobal': null;
  'memory.populatedPages': number;
  'memory.inSpace': boolean;
  'memory.isPopulated': boolean;
  'memory.check': Fault | null;
  'memory.read8': number | Fault;
  'memory.read16': number | Fault;
  'memory.read32': number | Fault;
  'memory.read64': U64 | Fault;
  'memory.write8': Fault | null;
  'memory.write16': Fault | null;
  'memory.write32': Fault | null;
  'memory.write64': Fault | null;
  'memory.readBytes': HexBytes | Fault;
  'memory.writeBytes': Fault | null;
  'memory.writeBytesPartial': Fault | null;
  'platform.serialWrite': null;
  'platform.powerOff': null;
  'platform.reset': null;
  'platform.populate': boolean;
  'platform.depopulate': boolean;
  'platform.frameOf': FrameHandle | null;
  'platform.mapForeign': boolean;
  'platform.unmapForeign': boolean;
  'platform.isForeign': boolean;
  'platform.foreignMapping': { readonly frame: FrameHandle; readonly writable: boolean } | null;
  'guest.upcall': null;
  'guest.resumed': null;
};

/** The name of an operation. */
export type OpName = keyof OpArgs;

/** Fields any message may carry: frame contents that changed (frameTable.ts). */
type Synced = { readonly frames?: FrameUpdates };

/** An operation the adapter performs (adapter to harness). */
export type OpMessage = { [K in OpName]: { readonly type: 'op'; readonly id: number; readonly op: K } & OpArgs[K] & Synced }[OpName];

/** A request from the harness; the adapter answers it with the message named in {@link AnswerOf}. */
export type HarnessRequest =
  | { readonly type: 'hello'; readonly id: number; readonly protocol: number; readonly harness: string }
  | ({ readonly type: 'start'; readonly id: number; readonly xen: WireXenSetup; readonly vpCount: number; readonly addressSpacePages: number; readonly root: RootEndpoints } & Synced)
  | ({ readonly type: 'hypercall'; readonly id: number; readonly vcpu: number; readonly nr: U64; readonly args: readonly [U64, U64, U64, U64, U64] } & Synced)
  | ({ readonly type: 'interrupt'; readonly id: number; readonly vp: number; readonly vector: number } & Synced)
  | ({ readonly type: 'returnToGuest'; readonly id: number; readonly vcpu: number } & Synced);

/** The harness's answer to an operation. */
export type OpResultMessage = { readonly type: 'opResult'; readonly re: number; readonly result: OpResults[OpName] } & Synced;

/** Everything the harness writes. */
export type HarnessMessage = HarnessRequest | OpResultMessage;

/** The adapter's final answer to a request. */
export type AnswerMessage =
  | { readonly type: 'hello'; readonly re: number; readonly protocol: number; readonly name: string; readonly version: string }
  | ({ readonly type: 'started'; readonly re: number; readonly privateFrames: readonly number[] } & Synced)
  | ({ readonly type: 'result'; readonly re: number; readonly result: WireXenCallResult } & Synced)
  | ({ readonly type: 'done'; readonly re: number } & Synced)
  /** The adapter could not carry out the request (an exception in its code): the scenario fails as an infrastructure error. */
  | { readonly type: 'error'; readonly re: number; readonly message: string };

/** Everything the adapter writes. */
export type AdapterMessage = AnswerMessage | OpMessage;

/** Which answer each request expects (besides `error`). */
export const ANSWER_OF = { hello: 'hello', start: 'started', hypercall: 'result', interrupt: 'done', returnToGuest: 'done' } as const satisfies Record<HarnessRequest['type'], AnswerMessage['type']>;
