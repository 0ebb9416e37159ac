import { fork, type ChildProcess } from 'node:child_process';
import { killAdapterProcessGroup, setAdapterProcessListener } from '../sut/index';

/*
 * The workers of `--workers N` are child processes, not worker threads (docs/decisions.md H2):
 * a process keeps a crash, an out-of-memory or an adapter that calls process.exit to itself,
 * and on the 2-vCPU development machine two processes ran a long fuzz campaign 1.25-1.8x faster
 * than one where two worker threads of one process gave 1.1-1.3x (they share V8's platform
 * threads and the allocator, and the emulator allocates a great deal). Messages use the
 * structured-clone serialisation, so results keep their bigints.
 */

/** What serveWorker sends on its own: an adapter program the worker started, or that ended. */
type AdapterProcessNote = { readonly kind: 'adapter-process'; readonly pid: number; readonly alive: boolean };

const isAdapterProcessNote = (m: unknown): m is AdapterProcessNote => (m as { kind?: unknown } | null)?.kind === 'adapter-process';

/**
 * The harness's side of one worker process. It knows the adapter programs the worker started
 * (adapter process groups outlive a killed parent) and kills them with it.
 */
export class WorkerProcess<Request, Reply> {
  private readonly child: ChildProcess;
  private readonly adapters = new Set<number>();
  private ended = false;

  /** Starts `script` (a compiled harness file that calls serveWorker) and sends it `setup`. */
  constructor(script: string, setup: unknown) {
    // The worker's stdout (an adapter's console.log) goes to our stderr: our stdout is the report.
    this.child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 2, 2, 'ipc'] });
    this.child.on('message', (m) => {
      if (!isAdapterProcessNote(m)) return;
      if (m.alive) this.adapters.add(m.pid);
      else this.adapters.delete(m.pid);
    });
    this.child.send({ kind: 'setup', setup });
  }

  post(message: Request): void {
    if (this.child.connected) this.child.send(message as object);
  }

  onMessage(handler: (reply: Reply) => void): void {
    this.child.on('message', (m) => {
      if (!this.ended && !isAdapterProcessNote(m)) handler(m as Reply);
    });
  }

  /** Called once when the process ends or cannot be started, with why. */
  onEnd(handler: (why: string) => void): void {
    const end = (why: string): void => {
      if (this.ended) return;
      this.ended = true;
      handler(why);
    };
    this.child.on('error', (error) => end(`${error.name}: ${error.message}`));
    this.child.on('exit', (code, signal) => end(signal ? `killed by ${signal}` : `exit code ${String(code)}`));
  }

  /** Stops listening to its replies and its end (before it is stopped or left to finish). */
  detach(): void {
    this.ended = true;
  }

  /** Stops it at once, with the adapter programs it started. */
  kill(): void {
    this.child.kill('SIGKILL');
    for (const pid of this.adapters) killAdapterProcessGroup(pid);
  }

  /** Asks it to finish on its own (`closing` is sent), and stops it if it has not within `graceMs`. */
  close(closing: Request, graceMs: number): void {
    this.post(closing);
    setTimeout(() => this.child.kill('SIGKILL'), graceMs).unref();
    this.child.unref();
    (this.child.channel as { unref?: () => void } | null | undefined)?.unref?.();
  }
}

/**
 * The worker's side: receives its setup, then requests. Ctrl-C reaches every process of the
 * terminal's group; a run worker leaves stopping to the harness, which reports what finished
 * (`leaveSignals`), a fuzz worker stops with it. A worker whose harness has gone exits.
 */
export function serveWorker<Setup, Request, Reply>(start: (setup: Setup, post: (reply: Reply) => void) => Promise<(request: Request) => void>, options: { readonly leaveSignals: boolean } = { leaveSignals: true }): void {
  if (!process.send) throw new Error('this is a worker process of the run pool, started with fork()');
  const post = (reply: Reply): void => void process.send?.(reply as object);
  // The harness kills the adapter programs of a worker it has to stop.
  setAdapterProcessListener((pid, alive) => void process.send?.({ kind: 'adapter-process', pid, alive } satisfies AdapterProcessNote));
  if (options.leaveSignals) {
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', () => undefined);
  }
  process.on('disconnect', () => process.exit(0));
  let handle: ((request: Request) => void) | undefined;
  const queue: Request[] = [];
  process.on('message', (m: unknown) => {
    const message = m as { kind?: string; setup?: Setup };
    if (handle === undefined && message.kind === 'setup') {
      void start(message.setup as Setup, post).then((h) => {
        handle = h;
        for (const q of queue.splice(0)) h(q);
      });
      return;
    }
    if (handle) handle(m as Request);
    else queue.push(m as Request);
  });
}
