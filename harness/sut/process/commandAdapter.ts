import { newFrame } from '../../../emulator/machine/memory';
import type { Adapter, AdapterFactory, AdapterHost, XenCallResult, XenHypercallArgs } from '../adapterApi';
import { AdapterProcess, AdapterProcessError, type Deadline, type RequestBody } from './adapterProcess';
import { FrameTable } from './frameTable';
import type { OpContext } from './hostOps';
import { MAX_FAILED_STARTS } from './limits';
import type { WireXenSetup } from './protocol';
import { u64, type Fields } from './wire';

/** How to run an adapter command. */
export type AdapterCommandSpec = {
  /** A shell command line. */
  readonly command: string;
  /** Where it runs. */
  readonly cwd: string;
  readonly callTimeoutMs: number;
  readonly scenarioTimeoutMs: number;
  /** The harness's name and version, for the hello ("xvc 0.1.0"). */
  readonly harness: string;
};

/** What starting the command gave: the adapter's name and version, or why it cannot be used. */
export type ProbeResult = { readonly kind: 'ready'; readonly name: string; readonly version: string } | { readonly kind: 'unusable'; readonly message: string };

/** The domain options on the wire: 64-bit fields (initialPeriodNs) as U64 strings. */
export function wireXenSetup(xen: AdapterHost['xen']): WireXenSetup {
  const options = Object.fromEntries(Object.entries(xen.options).map(([k, v]) => [k, typeof v === 'bigint' ? u64(v) : v]));
  return { options, online: [...xen.online], guestFrames: xen.guestFrames };
}

function xenCallResult(f: Fields): XenCallResult {
  const r = f.nested('result');
  const kind = r.oneOf('kind', ['returned', 'blocked', 'unimplemented'] as const);
  switch (kind) {
    case 'returned':
      // RAX is a C long: the harness keeps it signed, as the Xen world does (-22n is -EINVAL).
      return { kind, value: BigInt.asIntN(64, r.u64('value')) };
    case 'blocked':
      return { kind };
    case 'unimplemented':
      return { kind, reason: r.str('reason') };
    default:
      return kind satisfies never;
  }
}

/**
 * An adapter that is a separate program (docs/adapter-protocol.md), as an {@link AdapterFactory}.
 *
 * One process serves scenario after scenario: each factory call sends a `start`. When a
 * scenario's conversation fails (the adapter crashed, hung, broke the protocol), the process is
 * killed, the scenario fails as an infrastructure error, and the next factory call starts a
 * fresh process. A command that cannot even shake hands {@link MAX_FAILED_STARTS} times in a row
 * (or at the first probe) is given up: every later scenario fails at once with the same message,
 * rather than waiting for it again.
 */
export class CommandAdapter {
  private readonly spec: AdapterCommandSpec;
  private process: AdapterProcess | undefined;
  private failedStarts = 0;
  private givenUp: string | undefined;
  /** Counts scenarios, so that an adapter object of an earlier scenario cannot talk to the process. */
  private generation = 0;

  constructor(spec: AdapterCommandSpec) {
    this.spec = spec;
  }

  /** Starts the command and shakes hands; a command that cannot is given up for good. */
  probe(): ProbeResult {
    try {
      const p = this.running();
      return { kind: 'ready', name: p.hello.name, version: p.hello.version };
    } catch (error) {
      this.givenUp = `${(error as Error).message} (the command is not started again in this run)`;
      return { kind: 'unusable', message: (error as Error).message };
    }
  }

  /** The factory the runner calls once per scenario and profile. */
  readonly factory: AdapterFactory = (host) => this.open(host);

  /** Ends the process (closes its stdin). */
  close(): void {
    this.process?.close();
    this.process = undefined;
  }

  private running(): AdapterProcess {
    if (this.givenUp !== undefined) throw new AdapterProcessError(this.givenUp);
    if (this.process?.alive) return this.process;
    this.process = undefined;
    try {
      this.process = AdapterProcess.start({ command: this.spec.command, cwd: this.spec.cwd, callTimeoutMs: this.spec.callTimeoutMs, harness: this.spec.harness });
      this.failedStarts = 0;
      return this.process;
    } catch (error) {
      if (++this.failedStarts >= MAX_FAILED_STARTS) this.givenUp = `${(error as Error).message} (${this.failedStarts} starts failed in a row: the command is not started again in this run)`;
      throw error;
    }
  }

  private open(host: AdapterHost): Adapter {
    const proc = this.running();
    const generation = ++this.generation;
    const scenarioEnds = performance.now() + this.spec.scenarioTimeoutMs;
    const ops: OpContext = { host, frames: new FrameTable('h', newFrame) };
    const deadline = (): Deadline => {
      const callEnds = performance.now() + this.spec.callTimeoutMs;
      return callEnds <= scenarioEnds ? { at: callEnds, limit: 'call', ms: this.spec.callTimeoutMs } : { at: scenarioEnds, limit: 'scenario', ms: this.spec.scenarioTimeoutMs };
    };
    const ask = <T>(body: RequestBody, decode: (f: Fields) => T): T => {
      if (generation !== this.generation || proc !== this.process) throw new AdapterProcessError(`[adapter-cmd] an adapter of an earlier scenario was asked for ${body.type}; each scenario has its own`);
      return proc.request(body, ops, deadline(), decode);
    };
    const start: RequestBody = {
      type: 'start',
      xen: wireXenSetup(host.xen),
      vpCount: host.viridian.vpCount,
      addressSpacePages: host.memory.addressSpacePages,
      root: { vp: host.root.vp, sint: host.root.sint, replyConnection: host.root.replyConnection, notifyConnection: host.root.notifyConnection },
    };
    const privateFrames = ask(start, (f) => f.intList('privateFrames', 1 << 20));
    return {
      name: proc.hello.name,
      version: proc.hello.version,
      privateFrames,
      hypercall: (vcpu: number, nr: bigint, args: XenHypercallArgs): XenCallResult =>
        ask({ type: 'hypercall', vcpu, nr: u64(nr), args: [u64(args[0]), u64(args[1]), u64(args[2]), u64(args[3]), u64(args[4])] }, xenCallResult),
      interrupt: (vp: number, vector: number): void => ask({ type: 'interrupt', vp, vector }, () => undefined),
      returnToGuest: (vcpu: number): void => ask({ type: 'returnToGuest', vcpu }, () => undefined),
    };
  }
}
