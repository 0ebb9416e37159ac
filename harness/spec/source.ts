import { isNode, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic } from './diagnostics';

/** A path into a YAML document: keys and indices. */
export type DocPath = readonly (string | number)[];

/**
 * A scenario file parsed with source positions (yaml's LineCounter): the document, its plain
 * value, and a way to turn any path into `line:col` and the text there.
 */
export class ScenarioSource {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** The YAML syntax errors, as diagnostics. */
  syntaxErrors(): Diagnostic[] {
    return this.doc.errors.map((e) => {
      const [start] = e.pos;
      const pos = this.lines.linePos(start);
      return {
        file: this.file,
        line: pos.line,
        col: pos.col,
        text: this.lineText(pos.line),
        message: `YAML: ${e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? e.code}`,
        expected: 'valid YAML',
        hint: e.code === 'BAD_INDENT' || e.code === 'MISSING_CHAR' ? 'check indentation and closing brackets' : `see the YAML error code ${e.code}`,
      };
    });
  }

  /** The plain JavaScript value of the document. */
  value(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /** Where a path points: the node's start (or its key's, for a missing child: the parent's). */
  locate(path: DocPath, key = false): { line: number; col: number; text: string } {
    let at: DocPath = path;
    let node: unknown = this.doc.getIn(at, true);
    while (!isNode(node) && at.length > 0) {
      at = at.slice(0, -1);
      node = this.doc.getIn(at, true);
    }
    let offset = 0;
    if (key && at.length > 0) {
      const pair = this.pairOf(at);
      if (pair && isNode(pair.key)) {
        offset = (pair.key as Node).range?.[0] ?? 0;
        node = pair.key;
      }
    } else if (isNode(node)) offset = (node as Node).range?.[0] ?? 0;
    else if (this.doc.contents && isNode(this.doc.contents)) offset = this.doc.contents.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    return { line: pos.line, col: pos.col, text: this.textAt(node, pos.line) };
  }

  /** A diagnostic at a path. */
  diagnostic(path: DocPath, message: string, expected?: string, hint?: string, key = false): Diagnostic {
    const at = this.locate(path, key);
    return { file: this.file, line: at.line, col: at.col, text: at.text, message, ...(expected ? { expected } : {}), ...(hint ? { hint } : {}) };
  }

  private pairOf(path: DocPath): { key: unknown; value: unknown } | undefined {
    const parent = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    const items = (parent as { items?: unknown[] } | null)?.items;
    if (!items) return undefined;
    const last = path[path.length - 1];
    for (const item of items) if (isPair(item) && isScalar(item.key) && item.key.value === last) return item as { key: unknown; value: unknown };
    return undefined;
  }

  private textAt(node: unknown, line: number): string {
    if (isScalar(node) && node.source !== undefined) return String(node.source);
    return this.lineText(line);
  }

  private lineText(line: number): string {
    return (this.text.split('\n')[line - 1] ?? '').trim();
  }
}
