import type { FrameTable } from '../frameTable';
import type { AnswerMessage, OpArgs, OpName, OpResults } from '../protocol';
import { excerpt, parseLine } from '../wire';
import type { LineIo } from './stdioLines';

/** The harness broke the protocol, or went away in the middle of a request: the server cannot go on. */
export class ServerProtocolError extends Error {
  override readonly name = 'ServerProtocolError';
}

/**
 * The adapter side of the conversation: answers go out, operations go out and wait for their
 * results. Every message out carries the shared frames this side changed, every message in is
 * applied to them first (frameTable.ts).
 */
export class Conversation {
  private readonly io: LineIo;
  private nextOp = 1;
  /** The frames of the current scenario (none before the first start). */
  frames: FrameTable | undefined;
  /** Set once the conversation cannot go on (an adapter that caught the error does not hide it). */
  broken: ServerProtocolError | undefined;

  constructor(io: LineIo) {
    this.io = io;
  }

  /** The next message from the harness, or undefined at the end of its input. */
  receive(): Record<string, unknown> | undefined {
    const line = this.io.readLine();
    if (line === undefined) return undefined;
    const parsed = parseLine(line);
    if (parsed.kind === 'bad') throw this.break(`the harness wrote a line that is ${parsed.why}: ${excerpt(line)}`);
    this.frames?.apply(parsed.value['frames']);
    return parsed.value;
  }

  /** Sends the answer to a request. */
  answer(message: AnswerMessage): void {
    const frames = message.type === 'hello' || message.type === 'error' ? undefined : this.frames?.changes();
    this.io.writeLine(JSON.stringify(frames ? { ...message, frames } : message));
  }

  /** Performs an operation on the harness's host and returns its result as the harness sent it. */
  call<K extends OpName>(op: K, args: OpArgs[K]): OpResults[K] {
    if (this.broken) throw this.broken;
    const id = this.nextOp++;
    const frames = this.frames?.changes();
    this.io.writeLine(JSON.stringify({ type: 'op', id, op, ...args, ...(frames ? { frames } : {}) }));
    const reply = this.receive();
    if (reply === undefined) throw this.break(`the harness closed the input while operation ${op} was outstanding`);
    if (reply['type'] !== 'opResult' || reply['re'] !== id) throw this.break(`the harness answered operation ${id} (${op}) with ${excerpt(JSON.stringify(reply), 200)}`);
    return reply['result'] as OpResults[K];
  }

  private break(message: string): ServerProtocolError {
    this.broken = new ServerProtocolError(`[adapter-server] ${message}`);
    return this.broken;
  }
}
