import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT, SCENARIO_SCHEMA_PATH } from '../paths';
import { HARNESS_VERSION } from '../version';

/*
 * Scenarios that loaded cleanly, by the SHA-1 of their text, so that `xvc run` does not parse and
 * validate an unchanged corpus again (YAML parsing with positions is most of a run's start-up).
 * The cache lives in node_modules/.cache/xvc/, one file per harness build: its key covers the harness version, the scenario schema and every compiled file of the
 * scenario language and of the ABI tables it resolves names against. Only files without
 * diagnostics are kept; `xvc validate` never uses it. A cache that cannot be read or written is
 * ignored: it only ever saves time.
 */

const DIR = path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'xvc');
/** Caches of other harness builds are removed once they have not been written for this long. */
const STALE_MS = 7 * 24 * 3600 * 1000;
/** Entries kept across loads of different corpora before unused ones are dropped. */
const MAX_ENTRIES = 20_000;

/** What the scenario language's result depends on, besides the scenario's text. */
function fingerprint(): string {
  const hash = createHash('sha1').update(HARNESS_VERSION);
  const add = (file: string): void => {
    try {
      const st = fs.statSync(file);
      hash.update(`${file}\0${st.size}\0${st.mtimeMs}\n`);
    } catch {
      hash.update(`${file}\0missing\n`);
    }
  };
  add(SCENARIO_SCHEMA_PATH);
  for (const dir of ['build/harness/spec', 'build/emulator/xen/abi', 'build/emulator/viridian/abi']) {
    const full = path.join(PACKAGE_ROOT, dir);
    let names: string[] = [];
    try {
      names = fs.readdirSync(full).filter((n) => n.endsWith('.js')).sort();
    } catch {
      hash.update(`${dir}\0missing\n`);
    }
    for (const n of names) add(path.join(full, n));
  }
  return hash.digest('hex');
}

/** The key of a scenario's text. */
export function textKey(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** A scenario cache: read once, written back (whole) when it gained entries. */
export class ScenarioCache {
  private readonly key: string;
  private readonly entries: Map<string, unknown>;
  private readonly used = new Set<string>();
  private changed = false;

  private readonly file: string;
  private readonly dir: string;
  /** Loads answered from the cache (for tests and curiosity). */
  hits = 0;

  private constructor(dir: string, key: string, entries: Map<string, unknown>) {
    this.dir = dir;
    this.file = path.join(dir, `scenarios-${key.slice(0, 20)}.json`);
    this.key = key;
    this.entries = entries;
  }

  /** Opens the cache (empty when there is none, or it was made by another harness build); `dir` for tests. */
  static open(dir = DIR): ScenarioCache {
    const key = fingerprint();
    try {
      const data = JSON.parse(fs.readFileSync(path.join(dir, `scenarios-${key.slice(0, 20)}.json`), 'utf8')) as { key?: unknown; entries?: unknown };
      if (data.key === key && data.entries && typeof data.entries === 'object') return new ScenarioCache(dir, key, new Map(Object.entries(data.entries)));
    } catch {
      // no cache yet, or an unreadable one: start empty
    }
    return new ScenarioCache(dir, key, new Map());
  }

  /** The validated scenario value of a text, if cached. */
  get(textHash: string): unknown {
    const v = this.entries.get(textHash);
    if (v !== undefined) {
      this.used.add(textHash);
      this.hits++;
    }
    return v;
  }

  /** Keeps a text's validated scenario value. */
  set(textHash: string, value: unknown): void {
    this.entries.set(textHash, value);
    this.used.add(textHash);
    this.changed = true;
  }

  /** Writes the cache back when it gained entries; past MAX_ENTRIES, only those this load used are kept. */
  save(): void {
    if (!this.changed) return;
    const entries = Object.fromEntries([...this.entries].filter(([k]) => this.entries.size <= MAX_ENTRIES || this.used.has(k)));
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ key: this.key, entries }));
      fs.renameSync(tmp, this.file);
      for (const name of fs.readdirSync(this.dir)) {
        const other = path.join(this.dir, name);
        if (other !== this.file && name.startsWith('scenarios-') && Date.now() - fs.statSync(other).mtimeMs > STALE_MS) fs.rmSync(other, { force: true });
      }
    } catch {
      // a read-only install: run without the cache
    }
  }
}
