import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/**
 * A synchronous line channel to a child process, for the main thread.
 *
 * The adapter API is synchronous (adapter.hypercall returns its answer), so the harness has to
 * wait for the adapter's lines without returning to the event loop. A worker thread
 * (pipeWorker.ts) owns the process and its pipes and runs its own event loop; it posts every
 * line on a MessagePort and bumps a counter in a SharedArrayBuffer. The main thread takes posted
 * messages with receiveMessageOnPort (synchronous) and, when there is none, sleeps in
 * Atomics.wait on the counter until the worker bumps it or the deadline passes. No busy waiting,
 * no native addon, and a timeout on every wait.
 */

/** What the worker posts to the main thread. */
export type ChannelEvent =
  | { readonly kind: 'spawned'; readonly pid: number }
  | { readonly kind: 'line'; readonly text: string }
  /** The process wrote a line longer than the cap; the worker killed it. */
  | { readonly kind: 'overflow'; readonly bytes: number }
  | { readonly kind: 'spawn-error'; readonly message: string }
  /** The process is gone (always the last event); `stderr` is the tail of what it wrote there. */
  | { readonly kind: 'exit'; readonly code: number | null; readonly signal: string | null; readonly stderr: string };

/** What the main thread posts to the worker. */
export type ToWorker = { readonly kind: 'write'; readonly text: string } | { readonly kind: 'end' } | { readonly kind: 'kill' };

/** The worker's workerData. */
export type WorkerSetup = {
  readonly command: string;
  readonly cwd: string;
  readonly maxLineBytes: number;
  readonly stderrTailBytes: number;
  readonly signal: SharedArrayBuffer;
  readonly port: MessagePort;
};

/** What {@link ChildChannel.receive} gives. */
export type Received = Exclude<ChannelEvent, { kind: 'spawned' }> | { readonly kind: 'timeout' };

/** The exit of a process. */
export type ExitInfo = Extract<ChannelEvent, { kind: 'exit' }>;

/** Channels whose process may still run: killed when the harness exits, so that no adapter outlives a run. */
const live = new Set<ChildChannel>();
let exitHook = false;

/** Told of every adapter process this process starts and sees end (a worker of the run pool passes them on, so that the pool can kill them with the worker). */
let processListener: ((pid: number, alive: boolean) => void) | undefined;

/** Sets the listener for adapter processes started and ended in this process. */
export function setAdapterProcessListener(listener: ((pid: number, alive: boolean) => void) | undefined): void {
  processListener = listener;
}

/** Kills an adapter process group by its leader's pid (the pool, for a worker it had to stop). */
export function killAdapterProcessGroup(pid: number): void {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** One child process started from a shell command line, with synchronous line I/O. */
export class ChildChannel {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal: Int32Array;
  private pid: number | undefined;
  private exit: ExitInfo | undefined;
  private pending: Received[] = [];

  constructor(options: { readonly command: string; readonly cwd: string; readonly maxLineBytes: number; readonly stderrTailBytes: number }) {
    const { port1, port2 } = new MessageChannel();
    const shared = new SharedArrayBuffer(4);
    this.signal = new Int32Array(shared);
    this.port = port1;
    const setup: WorkerSetup = { ...options, signal: shared, port: port2 };
    this.worker = new Worker(path.join(__dirname, 'pipeWorker.js'), { workerData: setup, transferList: [port2] });
    // Neither the worker nor the process keeps the harness alive: a run ends when its work does.
    this.worker.unref();
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const c of live) c.kill('SIGTERM');
      });
    }
  }

  /** The process id, once the worker reported it. */
  get processId(): number | undefined {
    return this.pid;
  }

  /** Whether the process is known to be gone. */
  get exited(): ExitInfo | undefined {
    return this.exit;
  }

  /** Writes text (whole lines) to the process's stdin; nothing happens once it has gone. */
  send(text: string): void {
    if (this.exit) return;
    this.port.postMessage({ kind: 'write', text } satisfies ToWorker);
  }

  /** Closes the process's stdin: a well-behaved adapter exits. */
  end(): void {
    if (!this.exit) this.port.postMessage({ kind: 'end' } satisfies ToWorker);
  }

  /** The next event, waiting until `deadline` (a performance.now() time) at the latest. After the exit, the exit again. */
  receive(deadline: number): Received {
    for (;;) {
      const queued = this.pending.shift();
      if (queued) return queued;
      if (this.exit) return this.exit;
      const seen = Atomics.load(this.signal, 0);
      const message = receiveMessageOnPort(this.port);
      if (message) {
        this.take(message.message as ChannelEvent);
        continue;
      }
      const left = deadline - performance.now();
      if (left <= 0) return { kind: 'timeout' };
      Atomics.wait(this.signal, 0, seen, Math.ceil(left));
    }
  }

  private take(event: ChannelEvent): void {
    if (event.kind === 'spawned') {
      this.pid = event.pid;
      processListener?.(event.pid, true);
    } else if (event.kind === 'exit') {
      this.exit = event;
      if (this.pid !== undefined) processListener?.(this.pid, false);
      live.delete(this);
      void this.worker.terminate();
    } else this.pending.push(event);
  }

  /** Kills the process (and its process group) at once. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exit) return;
    if (this.pid !== undefined) {
      try {
        process.kill(process.platform === 'win32' ? this.pid : -this.pid, signal);
        return;
      } catch {
        // Already gone, or not a group leader yet: let the worker try.
      }
    }
    this.port.postMessage({ kind: 'kill' } satisfies ToWorker);
  }

  /** Waits up to `ms` for the process to go (after {@link kill} or {@link end}); drops lines still queued. */
  awaitExit(ms: number): ExitInfo | undefined {
    const deadline = performance.now() + ms;
    this.pending = [];
    for (;;) {
      const r = this.receive(deadline);
      if (r.kind === 'exit') return r;
      if (r.kind === 'timeout') return undefined;
    }
  }
}
