import { isFault, type MemoryFault } from '../../../emulator/machine/memory';
import type { HypercallOutcome } from '../../../emulator/viridian/outcome';
import type { AdapterHost } from '../adapterApi';
import type { FrameTable } from './frameTable';
import { MAX_READ_BYTES } from './limits';
import type { OpName, OpResults, WireHypercallOutcome, WireMemoryFault } from './protocol';
import { Fields, hexOf, u64 } from './wire';

/**
 * The harness side of every operation (docs/adapter-protocol.md "Operations"): reads the op's
 * arguments, performs it on the adapter's host (the same host an in-process adapter gets, so the
 * translation trace and the well-formedness checks see it alike), and encodes the result.
 */

/** What an operation runs against. */
export type OpContext = { readonly host: AdapterHost; readonly frames: FrameTable };

type Handler<K extends OpName> = (ctx: OpContext, f: Fields) => OpResults[K];

const U32 = 0xffff_ffff;
const GPA_MAX = Number.MAX_SAFE_INTEGER;

function fault(f: MemoryFault): WireMemoryFault {
  return { kind: 'memory-fault', gpa: f.gpa, access: f.access, reason: f.reason };
}

const orNull = (f: MemoryFault | undefined): WireMemoryFault | null => (f ? fault(f) : null);

function outcome(o: HypercallOutcome): WireHypercallOutcome {
  switch (o.kind) {
    case 'result':
      return { kind: 'result', value: u64(o.value), status: o.status, repsCompleted: o.repsCompleted };
    case 'fault':
      return { kind: 'fault', vector: o.vector };
    case 'intercept':
      return { kind: 'intercept', gpa: o.gpa, access: o.access };
    case 'unimplemented':
      return { kind: 'unimplemented', reason: o.reason };
    default:
      return o satisfies never;
  }
}

const vp = (f: Fields): number => f.int('vp', 0, U32);
const gfn = (f: Fields): number => f.int('gfn', 0, GPA_MAX);
const gpa = (f: Fields): number => f.int('gpa', 0, GPA_MAX);

/** One handler per operation: the table has a row for every member of the host. */
const HANDLERS: { readonly [K in OpName]: Handler<K> } = {
  'viridian.hypercall': ({ host }, f) => {
    const regs = { rcx: f.u64('rcx'), rdx: f.u64('rdx'), r8: f.u64('r8'), ...(f.has('xmm') ? { xmm: f.u64List('xmm', 12) } : {}) };
    return outcome(host.viridian.hypercall(vp(f), regs));
  },
  'viridian.rdmsr': ({ host }, f) => {
    const r = host.viridian.rdmsr(vp(f), f.int('msr', 0, U32));
    return r.kind === 'ok' ? { kind: 'ok', value: u64(r.value) } : { kind: 'fault', vector: 'GP' };
  },
  'viridian.wrmsr': ({ host }, f) => {
    const r = host.viridian.wrmsr(vp(f), f.int('msr', 0, U32), f.u64('value'));
    return r.kind === 'ok' ? { kind: 'ok' } : { kind: 'fault', vector: 'GP' };
  },
  'viridian.cpuid': ({ host }, f) => {
    const r = host.viridian.cpuid(vp(f), f.int('leaf', 0, U32));
    return { eax: r.eax, ebx: r.ebx, ecx: r.ecx, edx: r.edx };
  },
  'viridian.rdtsc': ({ host }) => u64(host.viridian.rdtsc()),
  'viridian.halt': ({ host }, f) => host.viridian.halt(vp(f), f.bool('interruptsEnabled')),
  'viridian.apicEoi': ({ host }, f) => (host.viridian.apicEoi(vp(f)), null),
  'viridian.apicIcrWrite': ({ host }, f) => (host.viridian.apicIcrWrite(vp(f), f.u64('icr')), null),
  'viridian.invlpg': ({ host }, f) => (host.viridian.invlpg(vp(f), f.u64('va')), null),
  'viridian.readCr3': ({ host }, f) => u64(host.viridian.readCr3(vp(f))),
  'viridian.writeCr3': ({ host }, f) => (host.viridian.writeCr3(vp(f), f.u64('cr3')), null),
  'viridian.flushTlbGlobal': ({ host }, f) => (host.viridian.flushTlbGlobal(vp(f)), null),
  'memory.populatedPages': ({ host }) => host.memory.populatedPages,
  'memory.inSpace': ({ host }, f) => host.memory.inSpace(gfn(f)),
  'memory.isPopulated': ({ host }, f) => host.memory.isPopulated(gfn(f)),
  'memory.check': ({ host }, f) => orNull(host.memory.check(gpa(f), f.int('len', 0, GPA_MAX), f.oneOf('access', ['read', 'write'] as const))),
  'memory.read8': ({ host }, f) => {
    const r = host.memory.read8(gpa(f));
    return isFault(r) ? fault(r) : r;
  },
  'memory.read16': ({ host }, f) => {
    const r = host.memory.read16(gpa(f));
    return isFault(r) ? fault(r) : r;
  },
  'memory.read32': ({ host }, f) => {
    const r = host.memory.read32(gpa(f));
    return isFault(r) ? fault(r) : r;
  },
  'memory.read64': ({ host }, f) => {
    const r = host.memory.read64(gpa(f));
    return isFault(r) ? fault(r) : u64(r);
  },
  'memory.write8': ({ host }, f) => orNull(host.memory.write8(gpa(f), f.int('value', 0, 0xff))),
  'memory.write16': ({ host }, f) => orNull(host.memory.write16(gpa(f), f.int('value', 0, 0xffff))),
  'memory.write32': ({ host }, f) => orNull(host.memory.write32(gpa(f), f.int('value', 0, U32))),
  'memory.write64': ({ host }, f) => orNull(host.memory.write64(gpa(f), f.u64('value'))),
  'memory.readBytes': ({ host }, f) => {
    const r = host.memory.readBytes(gpa(f), f.int('len', 0, MAX_READ_BYTES));
    return isFault(r) ? fault(r) : hexOf(r);
  },
  'memory.writeBytes': ({ host }, f) => orNull(host.memory.writeBytes(gpa(f), f.hex('data'))),
  'memory.writeBytesPartial': ({ host }, f) => orNull(host.memory.writeBytesPartial(gpa(f), f.hex('data'))),
  'platform.serialWrite': ({ host }, f) => (host.platform.serialWrite(f.hex('data')), null),
  'platform.powerOff': ({ host }) => (host.platform.powerOff(), null),
  'platform.reset': ({ host }) => (host.platform.reset(), null),
  'platform.populate': ({ host }, f) => host.platform.populate(gfn(f)),
  'platform.depopulate': ({ host }, f) => host.platform.depopulate(gfn(f)),
  'platform.frameOf': ({ host, frames }, f) => {
    const frame = host.platform.frameOf(gfn(f));
    return frame ? frames.handleOf(frame) : null;
  },
  'platform.mapForeign': ({ host, frames }, f) => host.platform.mapForeign(gfn(f), frames.require(f.str('frame', 32)), f.bool('writable')),
  'platform.unmapForeign': ({ host }, f) => host.platform.unmapForeign(gfn(f), f.bool('restore')),
  'platform.isForeign': ({ host }, f) => host.platform.isForeign(gfn(f)),
  'platform.foreignMapping': ({ host, frames }, f) => {
    const m = host.platform.foreignMapping(gfn(f));
    return m ? { frame: frames.handleOf(m.frame), writable: m.writable } : null;
  },
  'guest.upcall': ({ host }, f) => (host.guest.upcall(f.int('vcpu', 0, U32)), null),
  // The value a blocked call returns is a C long, kept signed as the Xen world keeps it.
  'guest.resumed': ({ host }, f) => (host.guest.resumed(f.int('vcpu', 0, U32), BigInt.asIntN(64, f.u64('value'))), null),
};

/** Whether a name is an operation of this protocol version. */
export function isOpName(name: unknown): name is OpName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(HANDLERS, name);
}

/** Performs one operation message (its `op` already checked with {@link isOpName}); a malformed argument is a ProtocolViolation. */
export function performOp(ctx: OpContext, op: OpName, message: Record<string, unknown>): OpResults[OpName] {
  const handler = HANDLERS[op] as Handler<OpName>;
  return handler(ctx, new Fields(message, `op ${op}`));
}
