import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { hypercallTable, XenModel } from '../sut/index';
import { writeFileAtomic } from '../report/files';
import type { Scenario, Step } from '../spec/scenario';
import { HYPERCALLS } from '../spec/symbols';

/*
 * Regression vectors: a shrunk failing case written as an ordinary scenario file under
 * vectors/regression/, which `xvc run` runs from then on (harness/paths.ts). The id is a hash of
 * the case, so finding the same minimal case again writes the same file.
 */

/** A short, stable id for a case: the first 10 hex digits of SHA-256 over its canonical JSON. */
export function caseHash(value: unknown): string {
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return createHash('sha256').update(json).digest('hex').slice(0, 10);
}

/** A file-name slug: lower case, words joined by '-', at most 48 characters. */
export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48)
      .replace(/-+$/, '') || 'case'
  );
}

/** The Xen source each hypercall of the steps is modelled from (the definitions' `source`), for `refs`. */
export function refsOfSteps(steps: readonly Step[], guestType: 'pv' | 'pvhvm'): string[] {
  const table = hypercallTable(guestType);
  const refs = new Set<string>();
  for (const s of steps) {
    if (s.call === undefined) continue;
    const nr = typeof s.call === 'number' ? s.call : HYPERCALLS.get(String(s.call));
    const def = nr !== undefined && nr >= 0 && nr < table.length ? table[nr] : undefined;
    if (def) refs.add(def.source);
    else if (nr !== undefined) refs.add(`xen/include/public/xen.h __HYPERVISOR_${XenModel.hypercallName(nr) ?? nr} (no handler for this guest type)`);
  }
  return [...refs].sort();
}

/** The text of a regression file: the schema line, a comment saying where it came from, the scenario. */
export function regressionText(scenario: Scenario, comment: readonly string[], schemaPath: string): string {
  const head = [`# yaml-language-server: $schema=${schemaPath}`, ...comment.map((l) => `# ${l}`)].join('\n');
  return `${head}\n${stringify(scenario, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/**
 * Writes a regression file to `dir` as `<hash>-<slug>.yaml` (atomically); returns its path. An
 * existing file with the same hash is replaced (the same minimal case, found again).
 */
export function writeRegression(dir: string, hash: string, name: string, text: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (f.startsWith(`${hash}-`) && f.endsWith('.yaml')) fs.rmSync(path.join(dir, f), { force: true });
  const file = path.join(dir, `${hash}-${slug(name)}.yaml`);
  writeFileAtomic(file, text);
  return file;
}
