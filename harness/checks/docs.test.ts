import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { COMMANDS } from '../cli/main';
import { REPO_ROOT } from './repoRoot';

/*
 * The documents' command lines against the command line itself: every `npx xvc COMMAND --option`
 * in the README, docs/ci.md and the GitHub Actions example names a command that exists and
 * options its help lists, so that the examples cannot drift from the tool.
 */

/** `npx xvc ...` invocations in a text: the command and the options used. */
function invocations(text: string): { line: string; command: string; options: string[] }[] {
  const out: { line: string; command: string; options: string[] }[] = [];
  for (const m of text.matchAll(/npx xvc ([a-z-]+)([^\n`|;]*)/g)) {
    out.push({ line: m[0], command: m[1] as string, options: [...(m[2] ?? '').matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((o) => o[1] as string) });
  }
  return out;
}

const DOCS = ['README.md', 'docs/ci.md', 'docs/fuzzing.md', 'docs/adapter-api.md'];

test('the GitHub Actions example is valid YAML with a shard matrix and a merge job that needs it', () => {
  const workflow = parse(fs.readFileSync(path.join(REPO_ROOT, 'docs/examples/github-actions/xvc.yml'), 'utf8')) as { env: Record<string, unknown>; jobs: Record<string, { needs?: string; strategy?: { matrix: { shard: number[] } }; steps: { run?: string }[] }> };
  const shards = workflow.jobs['shard']?.strategy?.matrix.shard ?? [];
  expect(shards).toEqual(Array.from({ length: Number(workflow.env['SHARDS']) }, (_v, i) => i + 1));
  expect(workflow.jobs['merge']?.needs).toBe('shard');
  const runs = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.run ?? '')).join('\n');
  expect(runs).toContain('npx xvc merge-reports');
  expect(runs).toContain('npx xvc report');
});

test.each([...DOCS, 'docs/examples/github-actions/xvc.yml'])('every xvc command line in %s exists with the options it uses', (doc) => {
  const text = fs.readFileSync(path.join(REPO_ROOT, doc), 'utf8');
  const problems: string[] = [];
  const found = invocations(text);
  for (const { line, command, options } of found) {
    const c = COMMANDS.find((x) => x.name === command);
    if (!c) problems.push(`${line}: no command "${command}"`);
    else for (const o of options) if (!new RegExp(`(^|[\\s\\[|])${o}(?![a-z-])`).test(c.help)) problems.push(`${line}: "${command}" has no option ${o}`);
  }
  expect(problems).toEqual([]);
  if (doc !== 'docs/adapter-api.md') expect(found.length).toBeGreaterThan(0);
});
