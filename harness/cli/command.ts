/** Exit codes of the command line (shared/design.md section 6). */
export const EXIT = {
  /** Passed. */
  ok: 0,
  /** Conformance failures, regressions or unexpected passes. */
  failures: 1,
  /** Invalid input: scenarios, config, usage. */
  invalidInput: 2,
  /** Adapter or infrastructure error. */
  infrastructure: 3,
} as const;

/** What a command writes to; tests pass their own. */
export type CommandIo = {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress is then redrawn in place). */
  readonly isTTY?: boolean;
};

/** One `xvc` sub-command. */
export type Command = {
  readonly name: string;
  /** One line for `xvc --help`. */
  readonly summary: string;
  /** Full help text, examples included. */
  readonly help: string;
  /** Runs the command; resolves to the exit code. */
  readonly run: (argv: readonly string[], io: CommandIo) => Promise<number>;
};

/** An error in how the command was called: reported with the usage hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
