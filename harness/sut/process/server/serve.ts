import { newFrame } from '../../../../emulator/machine/memory';
import type { Adapter, AdapterFactory } from '../../adapterApi';
import { FrameTable } from '../frameTable';
import { PROTOCOL_VERSION, type AnswerMessage } from '../protocol';
import { Fields, ProtocolViolation, u64 } from '../wire';
import { Conversation, ServerProtocolError } from './conversation';
import { remoteHost, startInfo } from './remoteHost';
import type { LineIo } from './stdioLines';

/** What an adapter server serves. */
export type ServeOptions = {
  readonly factory: AdapterFactory;
  /** The adapter's name and version, for the hello (the harness reports them before any scenario). */
  readonly name: string;
  readonly version: string;
  readonly io: LineIo;
  /** Where the server says why it stops on a protocol error. */
  readonly log: (text: string) => void;
};

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Serves an in-process adapter over the adapter protocol (docs/adapter-protocol.md): answers the
 * hello, builds an adapter for each `start` with a host whose every member is an operation on
 * the harness's side, and passes hypercalls, interrupts and returns to the guest to it. An
 * exception in the adapter is answered with `error` (the harness fails that scenario, as it does
 * for an adapter that throws in process) and the server goes on. Returns the process exit code:
 * 0 at the end of the input, 1 when the harness broke the protocol.
 */
export function serveAdapter(options: ServeOptions): number {
  const c = new Conversation(options.io);
  let adapter: Adapter | undefined;
  const run = (re: number, body: () => AnswerMessage): void => {
    let answer: AnswerMessage;
    try {
      answer = body();
    } catch (error) {
      if (error instanceof ServerProtocolError || error instanceof ProtocolViolation) throw error;
      answer = { type: 'error', re, message: errorText(error) };
    }
    // An adapter that caught the protocol error must not hide it: the stream is out of step.
    if (c.broken) throw c.broken;
    c.answer(answer);
  };
  try {
    for (;;) {
      const message = c.receive();
      if (message === undefined) return 0;
      const f = new Fields(message, `the harness's "${String(message['type'])}" message`);
      const type = f.str('type', 40);
      const id = f.int('id');
      switch (type) {
        case 'hello':
          run(id, () => {
            const protocol = f.int('protocol');
            if (protocol !== PROTOCOL_VERSION) throw new Error(`this adapter server speaks protocol version ${PROTOCOL_VERSION}, not ${protocol}`);
            return { type: 'hello', re: id, protocol: PROTOCOL_VERSION, name: options.name, version: options.version };
          });
          break;
        case 'start':
          // A new scenario: the previous adapter and the frames it shared are dropped.
          adapter = undefined;
          c.frames = new FrameTable('a', newFrame);
          run(id, () => {
            adapter = options.factory(remoteHost(c, startInfo(f), c.frames as FrameTable));
            return { type: 'started', re: id, privateFrames: [...adapter.privateFrames] };
          });
          break;
        case 'hypercall':
          run(id, () => {
            const args = f.u64List('args', 5);
            if (args.length !== 5) throw new ProtocolViolation('hypercall: "args" must hold 5 values');
            const r = current(adapter).hypercall(f.int('vcpu', 0, 0xffff_ffff), f.u64('nr'), args as [bigint, bigint, bigint, bigint, bigint]);
            return { type: 'result', re: id, result: r.kind === 'returned' ? { kind: 'returned', value: u64(r.value) } : r };
          });
          break;
        case 'interrupt':
          run(id, () => {
            current(adapter).interrupt(f.int('vp', 0, 0xffff_ffff), f.int('vector', 0, 255));
            return { type: 'done', re: id };
          });
          break;
        case 'returnToGuest':
          run(id, () => {
            current(adapter).returnToGuest(f.int('vcpu', 0, 0xffff_ffff));
            return { type: 'done', re: id };
          });
          break;
        default:
          throw new ProtocolViolation(`unexpected message type ${JSON.stringify(type)}`);
      }
    }
  } catch (error) {
    options.log(`xvc adapter-server: ${errorText(error)}\n`);
    return 1;
  }
}

function current(adapter: Adapter | undefined): Adapter {
  if (!adapter) throw new Error('no scenario has started (or its adapter failed to start)');
  return adapter;
}
