/**
 * An authoring error in a scenario file: where it is (file:line:col), the offending text, what
 * was expected and a hint. Every error of a corpus is collected; none stops the others.
 */
export type Diagnostic = {
  readonly file: string;
  /** 1-based line and column. */
  readonly line: number;
  readonly col: number;
  /** The offending text (the scalar or the start of the node). */
  readonly text: string;
  readonly message: string;
  readonly expected?: string;
  readonly hint?: string;
};

/** One diagnostic as a terminal shows it. */
export function formatDiagnostic(d: Diagnostic): string {
  const lines = [`${d.file}:${d.line}:${d.col}: error: ${d.message}`];
  if (d.text) lines.push(`    ${d.text}`);
  if (d.expected) lines.push(`  expected: ${d.expected}`);
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join('\n');
}

/** The closest of `candidates` to `name` (Levenshtein distance at most a third of its length), for "did you mean". */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return prev[b.length] as number;
}
