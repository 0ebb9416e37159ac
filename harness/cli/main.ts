import { HARNESS_VERSION } from '../version';
import { abiCommand } from './abi';
import { adapterServerCommand } from './adapterServer';
import { coverageCommand } from './coverage';
import { fuzzCommand } from './fuzz';
import { mergeReportsCommand } from './mergeReports';
import { replayCommand } from './replay';
import { reportCommand } from './report';
import { runCommand } from './run';
import { validateCommand } from './validate';
import { EXIT, UsageError, type Command, type CommandIo } from './command';

/** The sub-commands, in help order. */
export const COMMANDS: readonly Command[] = [runCommand, fuzzCommand, validateCommand, replayCommand, coverageCommand, reportCommand, mergeReportsCommand, adapterServerCommand, abiCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `xvc ${HARNESS_VERSION}: conformance harness for Xen-to-Viridian hypercall adapters`,
    '',
    'Usage: xvc <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "xvc <command> --help" for the options of a command.',
    'Exit codes: 0 passed, 1 failures, 2 invalid input or usage, 3 adapter or infrastructure error.',
  ].join('\n');
}

/** Runs `xvc` with the given arguments (without the node and script paths); resolves to the exit code. */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(`${usage()}\n`);
    return name === undefined ? EXIT.invalidInput : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${HARNESS_VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`xvc: unknown command "${name}".\n${usage()}\n`);
    return EXIT.invalidInput;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.help}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${command.help}\n`);
      return EXIT.invalidInput;
    }
    throw error;
  }
}
