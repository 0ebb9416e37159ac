import type { Frame, MemoryFault } from '../../../../emulator/machine/memory';
import type { XenDomainOptions } from '../../../../emulator/xen/config';
import type { HypercallOutcome } from '../../../../emulator/viridian/outcome';
import { ADAPTER_API_VERSION, type AdapterHost, type RootEndpoints } from '../../adapterApi';
import type { FrameTable } from '../frameTable';
import type { FrameHandle, WireHypercallOutcome, WireMemoryFault } from '../protocol';
import { bytesOfHex, hexOf, parseU64, u64, type Fields } from '../wire';
import { ServerProtocolError, type Conversation } from './conversation';

/** What a `start` message says about the scenario. */
export type StartInfo = {
  readonly xen: AdapterHost['xen'];
  readonly vpCount: number;
  readonly addressSpacePages: number;
  readonly root: RootEndpoints;
};

/** Reads a `start` message. */
export function startInfo(f: Fields): StartInfo {
  const xen = f.nested('xen');
  const rawOptions = xen.raw('options');
  if (typeof rawOptions !== 'object' || rawOptions === null || Array.isArray(rawOptions)) throw new ServerProtocolError('[adapter-server] start: "xen.options" must be an object');
  // 64-bit options travel as U64 strings (docs/adapter-protocol.md "start").
  const options = { ...(rawOptions as Record<string, unknown>) };
  if (options['initialPeriodNs'] !== undefined) options['initialPeriodNs'] = parseU64(options['initialPeriodNs']) ?? 0n;
  const root = f.nested('root');
  return {
    xen: { options: options as XenDomainOptions, online: xen.intList('online', 4096), guestFrames: xen.int('guestFrames') },
    vpCount: f.int('vpCount', 1, 4096),
    addressSpacePages: f.int('addressSpacePages'),
    root: { vp: root.int('vp', 0, 0xffff_ffff), sint: root.int('sint', 0, 15), replyConnection: root.int('replyConnection', 0, 0xffff_ffff), notifyConnection: root.int('notifyConnection', 0, 0xffff_ffff) },
  };
}

function big(text: unknown): bigint {
  const v = parseU64(text);
  if (v === undefined) throw new ServerProtocolError(`[adapter-server] the harness sent ${JSON.stringify(text)} where a 64-bit value was due`);
  return v;
}

function bytes(text: unknown): Uint8Array {
  const v = bytesOfHex(text);
  if (!v) throw new ServerProtocolError('[adapter-server] the harness sent something other than hex where bytes were due');
  return v;
}

const isWireFault = (v: unknown): v is WireMemoryFault => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'memory-fault';
const fault = (v: WireMemoryFault): MemoryFault => ({ kind: 'memory-fault', gpa: v.gpa, access: v.access, reason: v.reason });
const orFault = (v: WireMemoryFault | null): MemoryFault | undefined => (v === null ? undefined : fault(v));

function outcome(o: WireHypercallOutcome): HypercallOutcome {
  switch (o.kind) {
    case 'result':
      return { kind: 'result', value: big(o.value), status: o.status, repsCompleted: o.repsCompleted };
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

/**
 * The host an adapter gets inside an adapter server: every member is an operation on the
 * harness's host, performed synchronously through the conversation. The adapter cannot tell it
 * from the host it gets in process.
 */
export function remoteHost(c: Conversation, start: StartInfo, frames: FrameTable): AdapterHost {
  const frame = (handle: FrameHandle | null): Frame | undefined => (handle === null ? undefined : frames.require(handle));
  const read = <T>(v: T | WireMemoryFault): T | MemoryFault => (isWireFault(v) ? fault(v) : v);
  return {
    apiVersion: ADAPTER_API_VERSION,
    xen: start.xen,
    root: start.root,
    viridian: {
      vpCount: start.vpCount,
      hypercall: (vp, regs) => outcome(c.call('viridian.hypercall', { vp, rcx: u64(regs.rcx), rdx: u64(regs.rdx), r8: u64(regs.r8), ...(regs.xmm ? { xmm: regs.xmm.map(u64) } : {}) })),
      rdmsr: (vp, msr) => {
        const r = c.call('viridian.rdmsr', { vp, msr });
        return r.kind === 'ok' ? { kind: 'ok', value: big(r.value) } : { kind: 'fault', vector: 'GP' };
      },
      wrmsr: (vp, msr, value) => {
        const r = c.call('viridian.wrmsr', { vp, msr, value: u64(value) });
        return r.kind === 'ok' ? { kind: 'ok' } : { kind: 'fault', vector: 'GP' };
      },
      cpuid: (vp, leaf) => c.call('viridian.cpuid', { vp, leaf }),
      rdtsc: () => big(c.call('viridian.rdtsc', {})),
      halt: (vp, interruptsEnabled) => c.call('viridian.halt', { vp, interruptsEnabled }),
      apicEoi: (vp) => void c.call('viridian.apicEoi', { vp }),
      apicIcrWrite: (vp, icr) => c.call('viridian.apicIcrWrite', { vp, icr: u64(icr) }),
      invlpg: (vp, va) => void c.call('viridian.invlpg', { vp, va: u64(va) }),
      readCr3: (vp) => big(c.call('viridian.readCr3', { vp })),
      writeCr3: (vp, cr3) => void c.call('viridian.writeCr3', { vp, cr3: u64(cr3) }),
      flushTlbGlobal: (vp) => void c.call('viridian.flushTlbGlobal', { vp }),
    },
    memory: {
      addressSpacePages: start.addressSpacePages,
      get populatedPages() {
        return c.call('memory.populatedPages', {});
      },
      inSpace: (gfn) => c.call('memory.inSpace', { gfn }),
      isPopulated: (gfn) => c.call('memory.isPopulated', { gfn }),
      check: (gpa, len, access) => orFault(c.call('memory.check', { gpa, len, access })),
      read8: (gpa) => read(c.call('memory.read8', { gpa })),
      read16: (gpa) => read(c.call('memory.read16', { gpa })),
      read32: (gpa) => read(c.call('memory.read32', { gpa })),
      read64: (gpa) => {
        const r = c.call('memory.read64', { gpa });
        return isWireFault(r) ? fault(r) : big(r);
      },
      write8: (gpa, value) => orFault(c.call('memory.write8', { gpa, value })),
      write16: (gpa, value) => orFault(c.call('memory.write16', { gpa, value })),
      write32: (gpa, value) => orFault(c.call('memory.write32', { gpa, value })),
      write64: (gpa, value) => orFault(c.call('memory.write64', { gpa, value: u64(value) })),
      readBytes: (gpa, len) => {
        const r = c.call('memory.readBytes', { gpa, len });
        return isWireFault(r) ? fault(r) : bytes(r);
      },
      writeBytes: (gpa, data) => orFault(c.call('memory.writeBytes', { gpa, data: hexOf(data) })),
      writeBytesPartial: (gpa, data) => orFault(c.call('memory.writeBytesPartial', { gpa, data: hexOf(data) })),
    },
    platform: {
      serialWrite: (data) => void c.call('platform.serialWrite', { data: hexOf(data) }),
      powerOff: () => void c.call('platform.powerOff', {}),
      reset: () => void c.call('platform.reset', {}),
      populate: (gfn) => c.call('platform.populate', { gfn }),
      depopulate: (gfn) => c.call('platform.depopulate', { gfn }),
      frameOf: (gfn) => frame(c.call('platform.frameOf', { gfn })),
      // A frame of the adapter's own (dom0's page) is named here; its contents go with this op.
      mapForeign: (gfn, f, writable) => c.call('platform.mapForeign', { gfn, frame: frames.handleOf(f), writable }),
      unmapForeign: (gfn, restore) => c.call('platform.unmapForeign', { gfn, restore }),
      isForeign: (gfn) => c.call('platform.isForeign', { gfn }),
      foreignMapping: (gfn) => {
        const m = c.call('platform.foreignMapping', { gfn });
        return m === null ? undefined : { frame: frames.require(m.frame), writable: m.writable };
      },
    },
    guest: {
      upcall: (vcpu) => void c.call('guest.upcall', { vcpu }),
      resumed: (vcpu, value) => void c.call('guest.resumed', { vcpu, value: u64(value) }),
    },
  };
}
