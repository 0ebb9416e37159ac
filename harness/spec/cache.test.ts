import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../checks/repoRoot';
import { ScenarioCache } from './cache';
import { loadCorpus } from './load';

/* The scenario cache (cache.ts) changes how fast a corpus loads, never what it loads. */

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-cache-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const GOOD = (id: string, port: number): string => `id: ${id}\ntitle: close port ${port}\nrefs: [r]\nsteps:\n  - call: event_channel_op\n    args: [EVTCHNOP_close, { struct: evtchn_port_arg, port: ${port} }]\n`;

test('a corpus loaded through the cache (cold, then warm) equals the corpus loaded without it', () => {
  const paths = [path.join(REPO_ROOT, 'specs', 'event_channel_op'), path.join(REPO_ROOT, 'specs', 'viridian', 'synic')];
  const plain = loadCorpus(paths);
  const cache = path.join(dir, 'cache');
  const first = ScenarioCache.open(cache);
  const cold = loadCorpus(paths, process.cwd(), { cache: first });
  const second = ScenarioCache.open(cache);
  const warm = loadCorpus(paths, process.cwd(), { cache: second });
  expect(first.hits).toBe(0);
  expect(second.hits).toBe(plain.scenarios.length);
  const view = (c: ReturnType<typeof loadCorpus>): unknown => c.scenarios.map((s) => [s.file, s.scenario]);
  expect(plain.scenarios.length).toBeGreaterThan(50);
  expect(view(cold)).toEqual(view(plain));
  expect(view(warm)).toEqual(view(plain));
});

test('an edited file is loaded again, a broken one is reported, and a cached scenario still gives positions for diagnostics', () => {
  const a = path.join(dir, 'a.yaml');
  fs.writeFileSync(a, GOOD('cache.a', 1));
  const first = loadCorpus([dir], dir, { cache: ScenarioCache.open(path.join(dir, 'cache')) });
  expect(first.scenarios.map((s) => s.scenario.title)).toEqual(['close port 1']);

  fs.writeFileSync(a, GOOD('cache.a', 2));
  expect(loadCorpus([dir], dir, { cache: ScenarioCache.open(path.join(dir, 'cache')) }).scenarios.map((s) => s.scenario.title)).toEqual(['close port 2']);

  fs.writeFileSync(a, GOOD('cache.a', 2).replace('event_channel_op', 'event_chanel_op'));
  const broken = loadCorpus([dir], dir, { cache: ScenarioCache.open(path.join(dir, 'cache')) });
  expect(broken.scenarios).toEqual([]);
  expect(broken.diagnostics[0]).toMatchObject({ line: 5, message: 'unknown hypercall "event_chanel_op"' });

  // Two files with the same id, both from the cache: the duplicate is placed at its id line.
  fs.writeFileSync(a, GOOD('cache.a', 2));
  fs.writeFileSync(path.join(dir, 'b.yaml'), `# a comment first\n${GOOD('cache.a', 2)}`);
  loadCorpus([dir], dir, { cache: ScenarioCache.open(path.join(dir, 'cache')) });
  const dup = loadCorpus([dir], dir, { cache: ScenarioCache.open(path.join(dir, 'cache')) });
  expect(dup.diagnostics).toEqual([expect.objectContaining({ file: 'b.yaml', line: 2, col: 5, text: 'cache.a', message: 'duplicate id "cache.a"' })]);
});
