import { parseArgs } from 'node:util';
import { referenceAdapterFactory, serveAdapter, StdioLines } from '../sut/index';
import { chooseAdapterOrSay } from './run';
import { EXIT, UsageError, type Command } from './command';

/** `xvc adapter-server`. */
export const adapterServerCommand: Command = {
  name: 'adapter-server',
  summary: 'serve the reference adapter (or an adapter module) over the adapter protocol on stdin/stdout',
  help: [
    'Usage: xvc adapter-server [--adapter FILE]',
    '',
    'Runs an adapter as a separate program speaking the adapter protocol (docs/adapter-protocol.md):',
    'JSON lines on stdin and stdout, one scenario after another, until stdin closes. It serves the',
    'reference adapter, or the adapter module given with --adapter (docs/adapter-api.md). xvc starts',
    'it itself when given --adapter-cmd; run it by hand only to watch the protocol.',
    '',
    'Options:',
    '  --adapter FILE   an adapter module to serve (default: the reference adapter)',
    '',
    'Exit codes: 0 at the end of the input, 1 when the harness broke the protocol, 3 adapter cannot be loaded.',
    '',
    'Examples:',
    '  xvc run --adapter-cmd "npx xvc adapter-server"',
    '  xvc run --adapter-cmd "npx xvc adapter-server --adapter ./my-adapter.mjs"',
  ].join('\n'),
  async run(argv, io) {
    let values: { adapter?: string };
    try {
      ({ values } = parseArgs({ args: [...argv], options: { adapter: { type: 'string' } }, allowPositionals: false, strict: true }));
    } catch (error) {
      throw new UsageError(`xvc adapter-server: ${(error as Error).message}`, { cause: error });
    }
    const choice = await chooseAdapterOrSay('adapter-server', values.adapter, process.cwd(), io);
    if (choice === undefined) return EXIT.infrastructure;
    // stdout is the protocol channel (written with fs.writeSync on fd 1): whatever the adapter
    // prints goes to stderr instead.
    for (const method of ['log', 'info', 'debug'] as const) console[method] = (...args: unknown[]) => console.error(...args);
    process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
    return serveAdapter({
      factory: choice.factory ?? referenceAdapterFactory,
      name: choice.identity.name,
      version: choice.identity.version,
      io: new StdioLines(0, 1),
      log: (text) => io.stderr(text),
    });
  },
};
