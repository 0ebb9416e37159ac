/** The machine's console: an append-only byte sink that either world's console path writes to. */
export class ConsoleSink {
  private chunks: Uint8Array[] = [];
  private length = 0;

  /** Appends bytes as they reach the console. */
  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  /** Everything written so far. */
  bytes(): Uint8Array {
    if (this.chunks.length !== 1) {
      const all = new Uint8Array(this.length);
      let at = 0;
      for (const chunk of this.chunks) {
        all.set(chunk, at);
        at += chunk.length;
      }
      this.chunks = [all];
    }
    return this.chunks[0] ?? new Uint8Array(0);
  }

  /** Number of bytes written so far. */
  get size(): number {
    return this.length;
  }

  /** The output decoded as Latin-1, one character per byte (for reports). */
  text(): string {
    let out = '';
    for (const byte of this.bytes()) out += String.fromCharCode(byte);
    return out;
  }
}
