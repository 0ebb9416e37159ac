/** Limits of the adapter protocol's harness side (docs/adapter-protocol.md "Limits"). */

/** How long the adapter may take to answer one request (its operations included), unless --call-timeout says otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/**
 * How long the hello may take at least: it includes the program's start-up (npx, a JIT, loading
 * the adapter), which the call timeout is not meant for. The call timeout applies when it is longer.
 */
export const START_TIMEOUT_MS = 30_000;

/** The longest line either side may write, in bytes (newline excluded). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * The most operations an adapter may perform while answering one request. The reference adapter
 * needs 3092 at most over the whole corpus (a memory_op reservation of 512 extents); the cap
 * stops a runaway adapter long before the call timeout would, and leaves room for heavier calls.
 */
export const MAX_OPS_PER_REQUEST = 50_000;

/** The most bytes one memory.readBytes may ask for (the answer must fit in a line). */
export const MAX_READ_BYTES = 4 * 1024 * 1024;

/** How much of the adapter's stderr is kept for error messages. */
export const STDERR_TAIL_BYTES = 4096;

/** How long to wait for the adapter to go after it was killed (for the rest of its stderr). */
export const EXIT_WAIT_MS = 1000;

/** After this many failed starts in a row the command is not started again: every further scenario fails at once. */
export const MAX_FAILED_STARTS = 2;
