/**
 * The worker thread behind {@link ChildChannel} (channel.ts). It owns the adapter process and its
 * pipes, because the main thread, blocked in Atomics.wait while the adapter works, cannot run an
 * event loop. It writes what the main thread sends to the adapter's stdin, cuts the adapter's
 * stdout into lines and posts each to the main thread, bumping the shared counter the main
 * thread waits on. It enforces the line length cap and keeps the tail of stderr.
 */
import { spawn } from 'node:child_process';
import { workerData } from 'node:worker_threads';
import type { ChannelEvent, ToWorker, WorkerSetup } from './channel';

const setup = workerData as WorkerSetup;
const signal = new Int32Array(setup.signal);
const port = setup.port;

function post(event: ChannelEvent): void {
  port.postMessage(event);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

// detached: the adapter gets its own process group, so that killing it also kills what the
// shell started (sh -c may fork rather than exec the command).
const group = process.platform !== 'win32';
const child = spawn(setup.command, { shell: true, cwd: setup.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: group });

function kill(): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (group) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

let finished = false;
let stderrTail = Buffer.alloc(0);
let exit: { code: number | null; signal: string | null } | undefined;

function finish(): void {
  if (finished) return;
  finished = true;
  post({ kind: 'exit', code: exit?.code ?? null, signal: exit?.signal ?? null, stderr: stderrTail.toString('utf8') });
  port.close();
}

child.on('error', (error) => {
  post({ kind: 'spawn-error', message: error.message });
  finish();
});
if (child.pid !== undefined) post({ kind: 'spawned', pid: child.pid });

child.stderr.on('data', (chunk: Buffer) => {
  stderrTail = Buffer.concat([stderrTail, chunk]);
  if (stderrTail.length > setup.stderrTailBytes) stderrTail = stderrTail.subarray(stderrTail.length - setup.stderrTailBytes);
});

let parts: Buffer[] = [];
let partBytes = 0;
let flooded = false;

function overflow(bytes: number): void {
  flooded = true;
  parts = [];
  post({ kind: 'overflow', bytes });
  kill();
}

child.stdout.on('data', (chunk: Buffer) => {
  if (flooded) return;
  let start = 0;
  for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
    const piece = chunk.subarray(start, nl);
    if (partBytes + piece.length > setup.maxLineBytes) return overflow(partBytes + piece.length);
    const whole = parts.length === 0 ? piece : Buffer.concat([...parts, piece]);
    parts = [];
    partBytes = 0;
    // A CR before the newline is tolerated (an adapter on Windows, or a Python print in text mode).
    const end = whole.length > 0 && whole[whole.length - 1] === 13 ? whole.length - 1 : whole.length;
    post({ kind: 'line', text: whole.toString('utf8', 0, end) });
    start = nl + 1;
  }
  if (start < chunk.length) {
    partBytes += chunk.length - start;
    if (partBytes > setup.maxLineBytes) return overflow(partBytes);
    parts.push(chunk.subarray(start));
  }
});

child.on('exit', (code, sig) => {
  exit = { code, signal: sig };
  // 'close' follows once stdout and stderr are drained; something the adapter started may hold
  // them open, so do not wait for it for long.
  setTimeout(finish, 500).unref();
});
child.on('close', finish);

// Writing to an adapter that has gone fails with EPIPE; its exit is reported on its own.
child.stdin.on('error', () => undefined);

port.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'write':
      if (child.stdin.writable) child.stdin.write(message.text);
      break;
    case 'end':
      child.stdin.end();
      break;
    case 'kill':
      kill();
      break;
    default:
      message satisfies never;
  }
});
