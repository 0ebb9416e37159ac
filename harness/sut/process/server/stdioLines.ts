import * as fs from 'node:fs';

/** Lines in and out, synchronously: what an adapter server talks through. */
export type LineIo = {
  /** The next line without its newline, or undefined at the end of the input. */
  readLine(): string | undefined;
  writeLine(text: string): void;
};

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps without spinning (the server has nothing else to do while its input is empty). */
function sleep(ms: number): void {
  Atomics.wait(pause, 0, 0, ms);
}

function isAgain(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/**
 * Lines over file descriptors, read and written synchronously, for an adapter server whose host
 * calls must return their results (the adapter API is synchronous). It reads fd 0 with
 * fs.readSync and never touches process.stdin: once Node opens process.stdin it switches the
 * descriptor to non-blocking mode and reads it on the event loop. A descriptor that is
 * non-blocking anyway (a pipe shared with such a process) answers EAGAIN when it is empty; the
 * reader then sleeps a millisecond and tries again.
 */
export class StdioLines implements LineIo {
  private readonly input: number;
  private readonly output: number;
  private readonly maxLineBytes: number;
  private readonly chunk = Buffer.alloc(1 << 16);
  /** Bytes read after the last complete line. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  private ended = false;

  constructor(input = 0, output = 1, maxLineBytes = 16 * 1024 * 1024) {
    this.input = input;
    this.output = output;
    this.maxLineBytes = maxLineBytes;
  }

  readLine(): string | undefined {
    for (;;) {
      const line = this.takeLine();
      if (line !== undefined) return line;
      if (this.ended) return undefined;
      let n: number;
      try {
        n = fs.readSync(this.input, this.chunk, 0, this.chunk.length, null);
      } catch (error) {
        if (isAgain(error)) {
          sleep(1);
          continue;
        }
        if ((error as NodeJS.ErrnoException).code === 'EOF') n = 0;
        else throw error;
      }
      if (n === 0) {
        // A last line without a newline is still a line.
        this.ended = true;
        if (this.partBytes === 0) return undefined;
        const rest = Buffer.concat(this.parts).toString('utf8');
        this.parts = [];
        this.partBytes = 0;
        return rest;
      }
      this.parts.push(Buffer.from(this.chunk.subarray(0, n)));
      this.partBytes += n;
    }
  }

  /** A complete line from what was read, if there is one. */
  private takeLine(): string | undefined {
    if (this.parts.length === 0) return undefined;
    const last = this.parts[this.parts.length - 1] as Buffer;
    const nl = last.indexOf(10);
    if (nl < 0) {
      if (this.partBytes > this.maxLineBytes) throw new Error(`[adapter-server] an input line is longer than ${this.maxLineBytes} bytes`);
      return undefined;
    }
    // Only the newest chunk can hold the first newline: earlier ones were searched when they came.
    const head = this.parts.slice(0, -1);
    const whole = Buffer.concat([...head, last.subarray(0, nl)]);
    const rest = last.subarray(nl + 1);
    this.parts = rest.length > 0 ? [rest] : [];
    this.partBytes = rest.length;
    const end = whole.length > 0 && whole[whole.length - 1] === 13 ? whole.length - 1 : whole.length;
    return whole.toString('utf8', 0, end);
  }

  writeLine(text: string): void {
    const data = Buffer.from(`${text}\n`, 'utf8');
    for (let off = 0; off < data.length; ) {
      try {
        off += fs.writeSync(this.output, data, off, data.length - off);
      } catch (error) {
        if (!isAgain(error)) throw error;
        sleep(1);
      }
    }
  }
}
