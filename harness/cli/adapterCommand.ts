import { CommandAdapter, commandSource, DEFAULT_CALL_TIMEOUT_MS } from '../sut/index';
import { HARNESS_VERSION } from '../version';
import { UsageError } from './command';
import { millisecondsOption } from './options';
import type { AdapterChoice } from './run';

/*
 * --adapter-cmd and --call-timeout: the options that run an adapter as a separate program
 * (docs/adapter-protocol.md), shared by xvc run, fuzz and replay.
 */

/** The parseArgs entries of --adapter-cmd and --call-timeout (xvc run has its own --scenario-timeout, which applies to every adapter). */
export const ADAPTER_CMD_OPTIONS = {
  'adapter-cmd': { type: 'string' },
  'call-timeout': { type: 'string' },
} as const;

/** The parseArgs entry of --scenario-timeout, for the commands that have no other use for it (xvc fuzz). */
export const SCENARIO_TIMEOUT_OPTION = { 'scenario-timeout': { type: 'string' } } as const;

/** The values parseArgs gives for them. */
export type AdapterCmdValues = { readonly adapter?: string; readonly 'adapter-cmd'?: string; readonly 'call-timeout'?: string };

/** Help lines for --adapter-cmd and --call-timeout. */
export const ADAPTER_CMD_HELP: readonly string[] = [
  '  --adapter-cmd "CMD"   an adapter that is a program speaking the adapter protocol on its stdin and',
  '                        stdout (docs/adapter-protocol.md); CMD is a shell command line, such as',
  '                        "npx xvc adapter-server" or "python3 my_adapter.py". A crash, hang or protocol',
  '                        error fails the scenario (infrastructure error) and the program is restarted',
  `  --call-timeout MS     with --adapter-cmd: the longest the program may take to answer one call (default ${DEFAULT_CALL_TIMEOUT_MS})`,
];

/** The help line for --scenario-timeout where it only concerns --adapter-cmd (xvc fuzz). */
export function scenarioTimeoutHelp(defaultMs: number): string {
  return `  --scenario-timeout MS with --adapter-cmd: the longest one case may take (default ${defaultMs})`;
}

/** How to run an adapter command, from the options; undefined without --adapter-cmd. */
export type AdapterCommandRequest = { readonly command: string; readonly callTimeoutMs: number; readonly scenarioTimeoutMs: number };

/** --scenario-timeout where only an adapter command uses it (xvc fuzz): a UsageError without --adapter-cmd. */
export function commandScenarioTimeout(values: { readonly 'adapter-cmd'?: string; readonly 'scenario-timeout'?: string }, fallback: number): number {
  if (values['scenario-timeout'] !== undefined && values['adapter-cmd'] === undefined) throw new UsageError('--scenario-timeout applies to --adapter-cmd only here');
  return millisecondsOption('scenario-timeout', values['scenario-timeout'], fallback);
}

/**
 * Checks --adapter-cmd and --call-timeout; undefined without --adapter-cmd. A UsageError for a
 * bad value, for --call-timeout alone (an in-process adapter runs in the harness's own thread,
 * where no call can be cut short) and for --adapter together with --adapter-cmd.
 */
export function adapterCommandOf(values: AdapterCmdValues, scenarioTimeoutMs: number): AdapterCommandRequest | undefined {
  const command = values['adapter-cmd'];
  if (command === undefined) {
    if (values['call-timeout'] !== undefined) throw new UsageError('--call-timeout applies to --adapter-cmd only (an in-process adapter runs in the harness\'s own thread)');
    return undefined;
  }
  if (values.adapter !== undefined) throw new UsageError('--adapter and --adapter-cmd exclude each other: give a module or a command');
  if (command.trim() === '') throw new UsageError('--adapter-cmd: the command line is empty');
  return { command, callTimeoutMs: millisecondsOption('call-timeout', values['call-timeout'], DEFAULT_CALL_TIMEOUT_MS), scenarioTimeoutMs };
}

/**
 * Starts the adapter command and learns its name and version from the handshake. A command that
 * cannot shake hands is still a choice: its factory fails every scenario as an infrastructure
 * error at once (the run's reports stay complete), and `problem` says why, for the console.
 */
export function commandAdapterChoice(req: AdapterCommandRequest, cwd: string): AdapterChoice {
  const spec = { command: req.command, cwd, callTimeoutMs: req.callTimeoutMs, scenarioTimeoutMs: req.scenarioTimeoutMs, harness: `xvc ${HARNESS_VERSION}` };
  const adapter = new CommandAdapter(spec);
  const probe = adapter.probe();
  const source = commandSource(req.command);
  switch (probe.kind) {
    case 'ready':
      return { factory: adapter.factory, identity: { name: probe.name, version: probe.version, source }, reference: false, command: spec, close: () => adapter.close() };
    case 'unusable':
      return { factory: adapter.factory, identity: { name: req.command, version: 'unknown', source }, reference: false, problem: probe.message, close: () => adapter.close() };
    default:
      return probe satisfies never;
  }
}
