import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../checks/repoRoot';

/*
 * Adapter modules are loaded with import(), which Jest's module sandbox does not allow, so each
 * test runs a small Node.js program in a child process: the program loads the module from a
 * directory outside the project (where the package is installed as a dependency would be) and
 * drives both worlds with it.
 */

/** A directory outside the project with the package installed, holding `files`. */
function outsideProject(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-adapter-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(REPO_ROOT, path.join(dir, 'node_modules', 'xen-viridian-conformance'), 'dir');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const build = (p: string): string => JSON.stringify(path.join(REPO_ROOT, 'build/harness', p));

/** Loads `module` in `dir` and runs a short differential sequence with it; prints JSON. */
function drive(dir: string, module: string, profiles: readonly string[]): unknown {
  const program = `
    const { loadAdapterModule } = require(${build('sut/loadAdapter.js')});
    const { PairGuest } = require(${build('oracle/pairTestkit.js')});
    const { xenAbi } = require(${build('sut/index.js')});
    const { EVTCHNOP, VIRQ, evtchn_bind_virq } = xenAbi;
    (async () => {
      try {
        const { factory } = await loadAdapterModule(${JSON.stringify(module)}, ${JSON.stringify(dir)});
        const out = [];
        for (const profile of ${JSON.stringify(profiles)}) {
          const g = new PairGuest({ viridian: { profile }, adapter: factory });
          g.setUpcallMask(0, 0);
          g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_virq, g.put(evtchn_bind_virq, { virq: VIRQ.VIRQ_TIMER, vcpu: 0 }));
          g.ret('set_timer_op', 3000000n);
          g.advance(4000000n);
          const a = g.pair.translated.adapter;
          out.push({ profile, name: a.name, counts: typeof a.counts === 'function' ? a.counts() : null });
        }
        console.log(JSON.stringify({ ok: out }));
      } catch (error) {
        console.log(JSON.stringify({ error: { name: error.name, message: error.message, hint: error.hint } }));
      }
    })();`;
  return JSON.parse(execFileSync(process.execPath, ['-e', program], { cwd: dir, encoding: 'utf8' }));
}

describe('loading an adapter module (docs/adapter-api.md)', () => {
  test('the example adapter, copied outside the project, loads through the package name and agrees in two profiles', () => {
    const example = fs.readFileSync(path.join(REPO_ROOT, 'docs/examples/adapters/counting-adapter.mjs'), 'utf8');
    const dir = outsideProject({ 'counting-adapter.mjs': example });
    expect(drive(dir, 'counting-adapter.mjs', ['modern', 'minimal'])).toEqual({
      ok: [
        { profile: 'modern', name: 'counting-adapter', counts: { calls: { '32': 1, '15': 1 }, interrupts: expect.any(Number) } },
        { profile: 'minimal', name: 'counting-adapter', counts: { calls: { '32': 1, '15': 1 }, interrupts: expect.any(Number) } },
      ],
    });
  });

  test('a CommonJS module with module.exports = factory loads too', () => {
    const dir = outsideProject({
      'cjs-adapter.cjs':
        "const { createReferenceAdapter } = require('xen-viridian-conformance');\n" +
        "module.exports = (host) => { const a = createReferenceAdapter(host); return { name: 'cjs', version: '1', privateFrames: a.privateFrames, hypercall: (...x) => a.hypercall(...x), interrupt: (...x) => a.interrupt(...x), returnToGuest: (v) => a.returnToGuest(v) }; };\n",
    });
    expect(drive(dir, 'cjs-adapter.cjs', ['ws2008'])).toEqual({ ok: [{ profile: 'ws2008', name: 'cjs', counts: null }] });
  });

  test('a module without a default export, for another API version, with a missing member, or missing is refused with a hint', () => {
    const dir = outsideProject({
      'none.mjs': 'export const x = 1;\n',
      'v2.mjs': 'export const apiVersion = 2;\nexport default () => ({});\n',
      'half.mjs': "export default () => ({ name: 'half', version: '1' });\n",
    });
    expect(drive(dir, 'none.mjs', ['modern'])).toEqual({ error: { name: 'AdapterLoadError', message: `adapter module ${path.join(dir, 'none.mjs')} has no default export function`, hint: expect.stringContaining('export default') } });
    expect(drive(dir, 'v2.mjs', ['modern'])).toMatchObject({ error: { message: expect.stringContaining('was written for adapter API version 2; this xvc speaks version 1') } });
    expect(drive(dir, 'half.mjs', ['modern'])).toMatchObject({ error: { message: expect.stringContaining('lacks privateFrames, hypercall, interrupt, returnToGuest') } });
    expect(drive(dir, 'missing.mjs', ['modern'])).toMatchObject({ error: { message: expect.stringContaining('cannot load adapter module') } });
  });
});
