/**
 * How an adapter command appears in reports (the `source` of the adapter's identity) and in the
 * replay lines printed for failures.
 */

const PREFIX = 'command: ';

/** The `source` of a command adapter's identity: "command: <the command line>". */
export function commandSource(command: string): string {
  return `${PREFIX}${command}`;
}

/** The command line of a command adapter's source, or undefined for a module or the reference adapter. */
export function commandOfSource(source: string): string | undefined {
  return source.startsWith(PREFIX) ? source.slice(PREFIX.length) : undefined;
}

/** A word for a POSIX shell: as is when it is safe, single-quoted otherwise. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The option that selects an adapter again, after an identity's source: "" for the reference adapter, " --adapter FILE" or " --adapter-cmd '…'". */
export function adapterOptionOf(source: string): string {
  if (source === 'reference') return '';
  const command = commandOfSource(source);
  return command !== undefined ? ` --adapter-cmd ${shellQuote(command)}` : ` --adapter ${source}`;
}
