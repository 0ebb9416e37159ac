import { ChildChannel, type ExitInfo } from './channel';
import { performOp, isOpName, type OpContext } from './hostOps';
import { EXIT_WAIT_MS, MAX_LINE_BYTES, MAX_OPS_PER_REQUEST, START_TIMEOUT_MS, STDERR_TAIL_BYTES } from './limits';
import { ANSWER_OF, PROTOCOL_VERSION, type HarnessMessage, type HarnessRequest } from './protocol';
import { excerpt, Fields, parseLine, ProtocolViolation } from './wire';

/** An adapter process failed or broke the protocol: the scenario that was running fails as an infrastructure error. */
export class AdapterProcessError extends Error {
  override readonly name = 'AdapterProcessError';
}

/** When the wait for the adapter ends, and which limit that is (for the message). */
export type Deadline = { readonly at: number; readonly limit: 'start' | 'call' | 'scenario'; readonly ms: number };

/** A request without its id (the process numbers them). */
export type RequestBody = HarnessRequest extends infer R ? (R extends HarnessRequest ? Omit<R, 'id'> : never) : never;

/** What a process is started with. */
export type ProcessSpec = { readonly command: string; readonly cwd: string; readonly callTimeoutMs: number; readonly harness: string };

/** The name and version the adapter gave in its hello. */
export type HelloInfo = { readonly name: string; readonly version: string };

/** What the adapter is asked, in words ("hypercall 0x11 on vCPU 0"). */
export function describeRequest(r: RequestBody): string {
  switch (r.type) {
    case 'hello':
      return 'the hello';
    case 'start':
      return 'the start of a scenario';
    case 'hypercall':
      return `hypercall ${r.nr} on vCPU ${r.vcpu}`;
    case 'interrupt':
      return `interrupt 0x${r.vector.toString(16)} on VP ${r.vp}`;
    case 'returnToGuest':
      return `returnToGuest on vCPU ${r.vcpu}`;
    default:
      return r satisfies never;
  }
}

/** The end of what the adapter wrote to stderr, on one line (a failure message is one line). */
export function stderrTail(stderr: string, max = 600): string {
  const text = stderr.trim().split(/\r?\n/).join(' | ');
  if (text === '') return 'its stderr was empty';
  return `its stderr ended with: ${JSON.stringify(text.length > max ? `…${text.slice(-max)}` : text)}`;
}

function describeExit(e: ExitInfo): string {
  return e.signal !== null ? `was killed by ${e.signal}` : `exited with code ${e.code ?? '?'}`;
}

/**
 * One running adapter process and its conversation (docs/adapter-protocol.md): the handshake,
 * then requests, each with the operations the adapter performs until it answers. Any fault of
 * the adapter (it exits, hangs past a limit, writes something that is not a message of the
 * protocol, answers another request, floods) kills it and throws an {@link AdapterProcessError};
 * the owner starts a fresh process for the next scenario.
 */
export class AdapterProcess {
  private readonly channel: ChildChannel;
  private readonly spec: ProcessSpec;
  private nextId = 1;
  private dead = false;
  private greeting: HelloInfo | undefined;

  private constructor(channel: ChildChannel, spec: ProcessSpec) {
    this.channel = channel;
    this.spec = spec;
  }

  /** Starts the command and shakes hands; throws an AdapterProcessError when that fails. */
  static start(spec: ProcessSpec): AdapterProcess {
    const p = new AdapterProcess(new ChildChannel({ command: spec.command, cwd: spec.cwd, maxLineBytes: MAX_LINE_BYTES, stderrTailBytes: STDERR_TAIL_BYTES }), spec);
    // The hello also waits for the program to start up, which may take longer than a call.
    const ms = Math.max(spec.callTimeoutMs, START_TIMEOUT_MS);
    const deadline: Deadline = { at: performance.now() + ms, limit: ms === spec.callTimeoutMs ? 'call' : 'start', ms };
    p.greeting = p.request({ type: 'hello', protocol: PROTOCOL_VERSION, harness: spec.harness }, undefined, deadline, (f) => {
      const protocol = f.int('protocol');
      if (protocol !== PROTOCOL_VERSION) throw new ProtocolViolation(`the adapter speaks protocol version ${protocol}; this xvc speaks version ${PROTOCOL_VERSION}`);
      return { name: f.str('name', 200), version: f.str('version', 200) };
    });
    return p;
  }

  /** The name and version the adapter gave in its hello. */
  get hello(): HelloInfo {
    return this.greeting ?? { name: this.spec.command, version: 'unknown' };
  }

  /** Whether the process was killed or went away (it cannot take more requests). */
  get alive(): boolean {
    return !this.dead && this.channel.exited === undefined;
  }

  /** Closes the adapter's stdin (it should exit); a process that does not is killed when the harness exits. */
  close(): void {
    this.dead = true;
    this.channel.end();
  }

  /**
   * Sends a request and carries out the adapter's operations against `ops` until its answer,
   * which `decode` reads. An `error` answer throws without killing the adapter (the conversation
   * is still in step); anything else that goes wrong kills it.
   */
  request<T>(body: RequestBody, ops: OpContext | undefined, deadline: Deadline, decode: (f: Fields) => T): T {
    if (!this.alive) throw new AdapterProcessError(`[adapter-cmd] the adapter process is gone; ${describeRequest(body)} was not sent`);
    const id = this.nextId++;
    let opCount = 0;
    try {
      // type and id first: the lines read well in a trace.
      const { type, ...fields } = body;
      this.write({ type, id, ...fields, ...this.framesOf(ops) } as HarnessMessage);
      for (;;) {
        const event = this.channel.receive(deadline.at);
        switch (event.kind) {
          case 'timeout':
            return this.fail(
              `no answer to ${describeRequest(body)} within the ${deadline.limit} timeout of ${deadline.ms} ms${opCount > 0 ? ` (after ${opCount} operations)` : ''}; the adapter was killed`,
              deadline.limit === 'start' ? 'the program must answer the hello once it has started (docs/adapter-protocol.md)' : `raise it with --${deadline.limit}-timeout MS if the adapter is slow rather than stuck`,
            );
          case 'exit':
            return this.fail(`the adapter ${describeExit(event)} while answering ${describeRequest(body)}${opCount > 0 ? ` (after ${opCount} operations)` : ''}`, undefined, event);
          case 'spawn-error':
            return this.fail(`the adapter command could not be started: ${event.message}`);
          case 'overflow':
            return this.fail(`the adapter wrote a line of more than ${MAX_LINE_BYTES} bytes while answering ${describeRequest(body)}; it was killed`);
          case 'line':
            break;
          default:
            return event satisfies never;
        }
        const parsed = parseLine(event.text);
        if (parsed.kind === 'bad') return this.fail(`the adapter wrote a line that is ${parsed.why} while answering ${describeRequest(body)}: ${excerpt(event.text)}`, 'stdout is the protocol channel: write diagnostics to stderr');
        const message = parsed.value;
        const f = new Fields(message, `the adapter's ${typeof message['type'] === 'string' ? `"${message['type']}" message` : 'message'}`);
        const type = f.str('type', 40);
        if (type === 'op') {
          if (!ops) throw new ProtocolViolation(`an operation during ${describeRequest(body)}, before any scenario started`);
          if (++opCount > MAX_OPS_PER_REQUEST) return this.fail(`the adapter performed more than ${MAX_OPS_PER_REQUEST} operations while answering ${describeRequest(body)}; it was killed`);
          const opId = f.int('id');
          const op = message['op'];
          if (!isOpName(op)) throw new ProtocolViolation(`unknown operation ${excerpt(JSON.stringify(op ?? null), 60)} (the operations are listed in docs/adapter-protocol.md)`);
          ops.frames.apply(message['frames']);
          const result = performOp(ops, op, message);
          this.write({ type: 'opResult', re: opId, result, ...this.framesOf(ops) });
          continue;
        }
        const re = f.int('re');
        if (re !== id) {
          return this.fail(
            `the adapter answered request ${re} while request ${id} (${describeRequest(body)}) was outstanding${re < id ? ' (an old request: out of order)' : ' (a request never sent)'}`,
          );
        }
        if (type === 'error') throw new AdapterProcessError(`[adapter-cmd] the adapter could not answer ${describeRequest(body)}: ${f.str('message', 64 * 1024)}`);
        const expected = ANSWER_OF[body.type];
        if (type !== expected) throw new ProtocolViolation(`the adapter answered ${describeRequest(body)} with "${type}" where "${expected}" (or "error") was due`);
        ops?.frames.apply(message['frames']);
        return decode(f);
      }
    } catch (error) {
      if (error instanceof ProtocolViolation) return this.fail(`protocol error while answering ${describeRequest(body)}: ${error.message}`, 'see docs/adapter-protocol.md');
      // An error of the harness's own (a model that threw in an operation) leaves the adapter in
      // the middle of a request: it cannot go on, but the error is the harness's to report.
      if (!(error instanceof AdapterProcessError)) this.kill();
      throw error;
    }
  }

  private framesOf(ops: OpContext | undefined): { frames?: Record<string, string> } {
    const frames = ops?.frames.changes();
    return frames ? { frames } : {};
  }

  private write(message: HarnessMessage): void {
    this.channel.send(`${JSON.stringify(message)}\n`);
  }

  private kill(): ExitInfo | undefined {
    this.dead = true;
    this.channel.kill();
    return this.channel.awaitExit(EXIT_WAIT_MS);
  }

  /** Kills the adapter and throws the error that fails the scenario, with the command and the tail of its stderr. */
  private fail(what: string, hint?: string, exited?: ExitInfo): never {
    const exit = exited ?? this.kill();
    this.dead = true;
    throw new AdapterProcessError(`[adapter-cmd] ${what}; command: ${this.spec.command}; ${stderrTail(exit?.stderr ?? '')}${hint ? `; hint: ${hint}` : ''}`);
  }
}
