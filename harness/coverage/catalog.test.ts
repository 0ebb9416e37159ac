import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CALLS_BY_CODE,
  hypercallTable,
  knowsCall,
  VIRIDIAN_PROFILE_NAMES,
  VIRIDIAN_PROFILES,
  VIRIDIAN_QUIRKS,
  viridianAbi,
  XEN_PROFILE_NAMES,
  xenAbi,
  xenProfile,
  type ViridianCallDefinition,
  type ViridianCompat,
} from '../sut/index';
import { REPO_ROOT } from '../checks/repoRoot';
import { loadCatalog, type Catalog } from './catalog';
import { hvCallName, hypercallNameOf, subopOf, UNKNOWN_SUBOP } from './facts';

/*
 * vectors/coverage/catalog.json against the models' source (emulator/xen, emulator/viridian) and
 * the ABI tables. The source is read as text: each hypercall's (or call's) definition and every
 * top-level declaration it reaches, in its own file and through the value imports it follows
 * into the model's helpers (evtchn/, grants/, timers.ts, guestAccess.ts, vpSet.ts, ...). Failures
 * list what is missing, with the declaration it was found in.
 */

const catalog: Catalog = loadCatalog(path.join(REPO_ROOT, 'vectors/coverage/catalog.json'));
const XEN_DIR = path.join(REPO_ROOT, 'emulator/xen');
const VIRIDIAN_DIR = path.join(REPO_ROOT, 'emulator/viridian');

// ---------------------------------------------------------------------------------------------
// A small reader of the models' TypeScript: top-level declarations and their value imports.
// ---------------------------------------------------------------------------------------------

type Module = {
  readonly file: string;
  /** Top-level value declarations (functions, constants, classes) by name: their text, comments removed. */
  readonly decls: ReadonlyMap<string, string>;
  /** Local name of a named value import -> the module file and the exported name. */
  readonly imports: ReadonlyMap<string, { readonly file: string; readonly name: string }>;
  /** Local name of a namespace import (`import * as ops`) -> the module file. */
  readonly namespaces: ReadonlyMap<string, string>;
};

const DECL = /^(?:export\s+)?(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|var|class|type|interface|enum)\s+([A-Za-z_$][\w$]*)/;

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');
}

const modules = new Map<string, Module>();

/** Parses a model source file (once). */
function moduleOf(file: string): Module {
  const cached = modules.get(file);
  if (cached) return cached;
  const text = stripComments(fs.readFileSync(file, 'utf8'));
  const decls = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const close = (): void => {
    if (current !== undefined) decls.set(current, lines.join('\n'));
  };
  for (const line of text.split('\n')) {
    const m = DECL.exec(line);
    if (m || /^import\b/.test(line)) {
      close();
      // Type declarations describe values, they do not produce them: they are not followed.
      current = m && !/^(?:export\s+)?(?:declare\s+)?(?:type|interface)\s/.test(line) ? m[1] : undefined;
      lines = [];
    }
    if (current !== undefined) lines.push(line);
  }
  close();
  const resolve = (spec: string): string | undefined => (spec.startsWith('.') ? path.resolve(path.dirname(file), `${spec}.ts`) : undefined);
  const imports = new Map<string, { file: string; name: string }>();
  for (const m of text.matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/gm)) {
    const target = resolve(m[3] as string);
    if (m[1] || !target) continue;
    for (const part of (m[2] as string).split(',')) {
      const spec = part.trim();
      if (spec === '' || spec.startsWith('type ')) continue;
      const [name, local] = spec.split(/\s+as\s+/) as [string, string | undefined];
      imports.set(local ?? name, { file: target, name });
    }
  }
  const namespaces = new Map<string, string>();
  for (const m of text.matchAll(/^import\s+\*\s+as\s+(\w+)\s+from\s+'([^']+)'/gm)) {
    const target = resolve(m[2] as string);
    if (target) namespaces.set(m[1] as string, target);
  }
  const parsed: Module = { file, decls, imports, namespaces };
  modules.set(file, parsed);
  return parsed;
}

/** A declaration reached from a definition: where it is and its text. */
type Reached = { readonly where: string; readonly text: string };

/**
 * The declarations a definition reaches: `start` in `file`, then every top-level declaration of
 * the same file it names, and every imported value it names in a module under `root` that
 * `follow` accepts, transitively.
 */
function reach(file: string, start: readonly string[], root: string, follow: (file: string) => boolean): Reached[] {
  const out: Reached[] = [];
  const seen = new Set<string>();
  const queue: [string, string][] = start.map((d) => [file, d]);
  while (queue.length > 0) {
    const [f, name] = queue.shift() as [string, string];
    const key = `${f}#${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const mod = moduleOf(f);
    const text = mod.decls.get(name);
    if (text === undefined) continue;
    out.push({ where: `${path.relative(root, f)} ${name}`, text });
    for (const m of text.matchAll(/\b([A-Za-z_$][\w$]*)(?:\.([A-Za-z_$][\w$]*))?/g)) {
      const id = m[1] as string;
      if (id !== name && mod.decls.has(id)) queue.push([f, id]);
      const imported = mod.imports.get(id);
      if (imported && imported.file.startsWith(root) && follow(imported.file)) queue.push([imported.file, imported.name]);
      const ns = mod.namespaces.get(id);
      if (ns && m[2] && ns.startsWith(root) && follow(ns)) queue.push([ns, m[2]]);
    }
  }
  return out;
}

/** Adds each name found by `pattern` (group 1) in the reached text to `into`, with where it was found. */
function collect(reached: readonly Reached[], pattern: RegExp, into: Map<string, string>): void {
  for (const r of reached) for (const m of r.text.matchAll(pattern)) if (!into.has(m[1] as string)) into.set(m[1] as string, r.where);
}

// ---------------------------------------------------------------------------------------------
// The catalog, indexed.
// ---------------------------------------------------------------------------------------------

/** Every result the catalog lists for a Xen hypercall (all sub-ops). */
function xenResults(hypercall: string): Set<string> {
  return new Set(catalog.xen.filter((e) => e.hypercall === hypercall).flatMap((e) => e.results));
}

function viridianEntry(call: string): Catalog['viridian'][number] | undefined {
  return catalog.viridian.find((e) => e.call === call);
}

/** The ABI table of each hypercall's command argument, as facts.ts names sub-ops (prefix for shared tables). */
const SUBOP_TABLES: Readonly<Record<string, { readonly table: Readonly<Record<string, number>>; readonly prefix?: string }>> = {
  memory_op: { table: xenAbi.XENMEM },
  xen_version: { table: xenAbi.XENVER },
  console_io: { table: xenAbi.CONSOLEIO },
  grant_table_op: { table: xenAbi.GNTTABOP },
  vm_assist: { table: xenAbi.VMASST as Readonly<Record<string, number>>, prefix: 'VMASST_CMD_' },
  vcpu_op: { table: xenAbi.VCPUOP },
  mmuext_op: { table: xenAbi.MMUEXT, prefix: 'MMUEXT_' },
  sched_op: { table: xenAbi.SCHEDOP },
  event_channel_op: { table: xenAbi.EVTCHNOP },
  hvm_op: { table: xenAbi.HVMOP },
};

/** The sub-op name facts.ts records for command value `cmd` of a hypercall. */
function factSubop(hypercall: string, cmd: number): string {
  return subopOf(hypercall, [BigInt(cmd)], cmd);
}

const ERRNO_NAMES = new Set(Object.keys(xenAbi.XEN_ERRNO).filter((n) => n !== 'XEN_EWOULDBLOCK' && n !== 'XEN_EDEADLOCK'));
const GNTST_NAMES = new Set(Object.keys(xenAbi.GNTST));
const HV_STATUS_NAMES = new Set(Object.keys(viridianAbi.HV_STATUS));
const COMPATS = Object.keys(VIRIDIAN_QUIRKS) as ViridianCompat[];

/** Xen hypercalls with a definition file in emulator/xen/hypercalls/. */
const MODELLED_XEN = fs
  .readdirSync(path.join(XEN_DIR, 'hypercalls'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !['index.ts', 'types.ts', 'notModelled.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

/** Helper modules a Xen hypercall's analysis follows: the model's own files, not the ABI tables or the outcome constructors. */
function followXen(file: string): boolean {
  const rel = path.relative(XEN_DIR, file);
  return !rel.startsWith('abi') && rel !== 'outcome.ts' && fs.existsSync(file);
}

function followViridian(file: string): boolean {
  const rel = path.relative(VIRIDIAN_DIR, file);
  return !rel.startsWith('abi') && rel !== 'outcome.ts' && fs.existsSync(file);
}

/** Errno names a profile field can hold (e.g. profile.altp2mSet), over every Xen profile. */
function profileErrnos(field: string): string[] {
  const out = new Set<string>();
  for (const name of XEN_PROFILE_NAMES) {
    const value = (xenProfile(name) as unknown as Readonly<Record<string, unknown>>)[field];
    if (typeof value === 'string' && ERRNO_NAMES.has(value)) out.add(value);
  }
  return [...out];
}

/** Status names a quirk (ctx.model.quirks.X) can hold, over every compat mode. */
function quirkStatuses(field: string): string[] {
  const out = new Set<string>();
  for (const compat of COMPATS) {
    const value = (VIRIDIAN_QUIRKS[compat] as unknown as Readonly<Record<string, unknown>>)[field];
    if (typeof value === 'string' && HV_STATUS_NAMES.has(value)) out.add(value);
  }
  return [...out];
}

describe('coverage catalog (vectors/coverage/catalog.json)', () => {
  test('is format 1 with Xen and Viridian entries', () => {
    expect(catalog.formatVersion).toBe(1);
    expect(catalog.xen.length).toBeGreaterThan(100);
    expect(catalog.viridian.length).toBe(CALLS_BY_CODE.size + catalog.viridian.filter((e) => e.call.startsWith('unknown')).length);
  });

  describe('(a) Xen: every result the model source can give is listed', () => {
    test('the analysis finds the definition of every modelled hypercall', () => {
      const missing = MODELLED_XEN.filter((name) => !moduleOf(path.join(XEN_DIR, 'hypercalls', `${name}.ts`)).decls.has(name));
      expect(missing).toEqual([]);
      expect(MODELLED_XEN.length).toBeGreaterThanOrEqual(12);
    });

    test.each(MODELLED_XEN)('%s: every errno of its source (and of the profile fields it reads) is among its results', (name) => {
      const reached = reach(path.join(XEN_DIR, 'hypercalls', `${name}.ts`), [name], XEN_DIR, followXen);
      const found = new Map<string, string>();
      collect(reached, /'(XEN_E[A-Z0-9]+)'/g, found);
      const fields = new Map<string, string>();
      collect(reached, /\bprofile\.(\w+)/g, fields);
      for (const [field, where] of fields) for (const e of profileErrnos(field)) if (!found.has(e)) found.set(e, `${where} (profile.${field})`);
      const listed = xenResults(name);
      const missing = [...found].filter(([e]) => !listed.has(e)).map(([e, where]) => `${name}: ${e} (from ${where})`);
      expect(missing).toEqual([]);
    });

    test.each(MODELLED_XEN)('%s: blocked and unimplemented outcomes of its source are listed', (name) => {
      const reached = reach(path.join(XEN_DIR, 'hypercalls', `${name}.ts`), [name], XEN_DIR, followXen);
      const found = new Map<string, string>();
      collect(reached, /\b(BLOCKED|unimplemented)\b(?!:)/g, found);
      const listed = xenResults(name);
      const missing = [...found.entries()]
        .map(([token, where]) => [token === 'BLOCKED' ? 'blocked' : 'unimplemented', where] as const)
        .filter(([r]) => !listed.has(r))
        .map(([r, where]) => `${name}: ${r} (from ${where})`);
      expect(missing).toEqual([]);
    });

    test('grant_table_op: every GNTST status the grant code sets is among its results', () => {
      const reached = reach(path.join(XEN_DIR, 'hypercalls/grant_table_op.ts'), ['grant_table_op'], XEN_DIR, followXen);
      const found = new Map<string, string>();
      collect(reached, /\bGNTST\.(GNTST_\w+)/g, found);
      const listed = xenResults('grant_table_op');
      expect([...found].filter(([s]) => !listed.has(s)).map(([s, where]) => `grant_table_op: ${s} (from ${where})`)).toEqual([]);
      expect(found.size).toBeGreaterThan(5);
    });

    test('every hypercall number without a handler for some guest type lists XEN_ENOSYS; every not-modelled one lists unimplemented', () => {
      const pv = hypercallTable('pv');
      const hvm = hypercallTable('pvhvm');
      const notModelled = [...fs.readFileSync(path.join(XEN_DIR, 'hypercalls/notModelled.ts'), 'utf8').matchAll(/name: '(\w+)'/g)].map((m) => m[1] as string);
      const missing: string[] = [];
      for (const [name, nr] of Object.entries(xenAbi.XenHypercall)) {
        const listed = xenResults(name);
        if ((!pv[nr] || !hvm[nr]) && !listed.has('XEN_ENOSYS')) missing.push(`${name} (${nr}): XEN_ENOSYS (no handler for ${!pv[nr] && !hvm[nr] ? 'any guest type' : !pv[nr] ? 'pv' : 'pvhvm'})`);
        if (notModelled.includes(name) && !listed.has('unimplemented')) missing.push(`${name} (${nr}): unimplemented (emulator/xen/hypercalls/notModelled.ts)`);
      }
      expect(notModelled.length).toBeGreaterThan(20);
      expect(missing).toEqual([]);
    });

    test('every modelled hypercall lists the unknown-command path, and an unnamed number lists XEN_ENOSYS', () => {
      const missing: string[] = [];
      for (const hypercall of Object.keys(SUBOP_TABLES)) {
        const unknown = catalog.xen.filter((e) => e.hypercall === hypercall && e.subop === UNKNOWN_SUBOP);
        if (unknown.length === 0) missing.push(`${hypercall}: no entry for an unknown command (sub-op "${UNKNOWN_SUBOP}")`);
      }
      for (const nr of [11n, 64n]) {
        const name = hypercallNameOf(nr);
        if (!catalog.xen.some((e) => e.hypercall === name && e.results.includes('XEN_ENOSYS'))) missing.push(`no entry for a hypercall number without a name ("${name}" -> XEN_ENOSYS)`);
      }
      expect(missing).toEqual([]);
    });
  });

  describe('(b) Viridian: every status the model source can give is listed', () => {
    const hypercallsDir = path.join(VIRIDIAN_DIR, 'hypercalls');
    const sources = fs.readdirSync(hypercallsDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'table.ts' && f !== 'types.ts');

    /**
     * The file and declarations that define a call: the defineCall that names it; for calls whose
     * definitions are generated from a table (notModelled.ts), every defineCall of the file that
     * names the call.
     */
    function definitionOf(def: ViridianCallDefinition): { file: string; decls: string[] } | undefined {
      const defining = sources.map((f) => {
        const file = path.join(hypercallsDir, f);
        return { file, mod: moduleOf(file), decls: [...moduleOf(file).decls].filter(([, t]) => t.includes('defineCall(')) };
      });
      for (const d of defining) {
        const named = d.decls.filter(([, t]) => t.includes(`'${def.name}'`)).map(([n]) => n);
        if (named.length > 0) return { file: d.file, decls: named };
      }
      const word = new RegExp(`\\b${def.name}\\b`);
      for (const d of defining) if (d.decls.length > 0 && [...d.mod.decls.values()].some((t) => word.test(t))) return { file: d.file, decls: d.decls.map(([n]) => n) };
      return undefined;
    }

    const calls = [...CALLS_BY_CODE.entries()].map(([code, def]) => ({ code, def, name: hvCallName(code) }));

    test('every call code of the model has a catalog entry under its Linux name', () => {
      const missing = calls.filter((c) => !viridianEntry(c.name)).map((c) => `${c.name} (0x${c.code.toString(16)})`);
      expect(missing).toEqual([]);
    });

    test.each(calls.map((c) => [c.name, c] as const))('%s: every status of its handler (and of the quirks it reads) is listed', (_name, c) => {
      const where = definitionOf(c.def);
      if (!where) throw new Error(`${c.name}: no defineCall in emulator/viridian/hypercalls/ names it`);
      const reached = reach(where.file, where.decls, VIRIDIAN_DIR, followViridian);
      const found = new Map<string, string>();
      collect(reached, /'(HV_STATUS_\w+)'/g, found);
      const quirks = new Map<string, string>();
      collect(reached, /\bquirks\.(\w+)/g, quirks);
      for (const [field, at] of quirks) for (const s of quirkStatuses(field)) if (!found.has(s)) found.set(s, `${at} (quirks.${field})`);
      collect(reached, /kind: '(intercept|unimplemented)'/g, found);
      const listed = new Set(viridianEntry(c.name)?.statuses ?? []);
      const missing = [...found].filter(([s]) => !listed.has(s)).map(([s, at]) => `${c.name}: ${s} (from ${at})`);
      expect(missing).toEqual([]);
    });

    test('the generic checks of emulator/viridian/hypercall.ts: statuses every call can reach are listed for it', () => {
      const generic = moduleOf(path.join(VIRIDIAN_DIR, 'hypercall.ts'));
      const slowOnly = new Set([...(generic.decls.get('XEN_SLOW_ONLY') ?? '').matchAll(/HVCALL\.(\w+)/g)].map((m) => m[1] as string));
      expect(slowOnly.size).toBeGreaterThan(0);
      const missing: string[] = [];
      for (const c of calls) {
        const listed = new Set(viridianEntry(c.name)?.statuses ?? []);
        const need = (status: string, why: string): void => {
          if (!listed.has(status)) missing.push(`${c.name}: ${status} (${why})`);
        };
        const shape = c.def.shape;
        // Compat modes whose dispatcher has a case for the code (quirk knownCalls, V33); the others answer INVALID_HYPERCALL_CODE first.
        const knowing = COMPATS.filter((compat) => knowsCall(VIRIDIAN_QUIRKS[compat].knownCalls, c.code));
        need('#UD', 'no hypercall page');
        need('HV_STATUS_INVALID_HYPERCALL_INPUT', 'reserved input bits, rep count or variable header size');
        if (knowing.length < COMPATS.length) need('HV_STATUS_INVALID_HYPERCALL_CODE', `no case for the code in compat ${COMPATS.filter((x) => !knowing.includes(x)).join(', ')}`);
        else if (listed.has('HV_STATUS_INVALID_HYPERCALL_CODE')) missing.push(`${c.name}: HV_STATUS_INVALID_HYPERCALL_CODE is listed, but every compat knows the code`);
        // HvCallNotifyLongSpinWait reads no parameter where quirk spinWaitInput says so (V33).
        const readsInput = (compat: ViridianCompat): boolean => c.name !== 'HVCALL_NOTIFY_LONG_SPIN_WAIT' || VIRIDIAN_QUIRKS[compat].spinWaitInput === 'checked';
        if (shape.inputHeader + shape.inputElement + shape.outputHeader + shape.outputElement > 0) {
          if (knowing.some(readsInput)) need('HV_STATUS_INVALID_ALIGNMENT', 'memory form: misaligned or page-crossing GPA');
          for (const compat of knowing.filter(readsInput)) {
            const policy = VIRIDIAN_QUIRKS[compat].unreadableInput;
            need(policy, `memory form: a GPA with no page behind it, compat ${compat}`);
          }
        }
        if (!shape.fast) for (const compat of knowing) need(VIRIDIAN_QUIRKS[compat].fastNotSupported, `fast bit on a call without a fast form, compat ${compat}`);
        else if (slowOnly.has(c.name)) need('HV_STATUS_INVALID_PARAMETER', 'fast form refused with compat xen');
      }
      // Every status the generic checks name appears somewhere in the catalog.
      const all = new Set(catalog.viridian.flatMap((e) => e.statuses));
      const named = new Map<string, string>();
      collect([{ where: 'hypercall.ts', text: [...generic.decls.values()].join('\n') }], /'(HV_STATUS_\w+)'/g, named);
      for (const [s] of named) if (!all.has(s)) missing.push(`(any call): ${s} (emulator/viridian/hypercall.ts)`);
      expect(missing).toEqual([]);
    });

    test('HV_STATUS_ACCESS_DENIED is listed (and reachable) exactly where a built-in profile and compat refuse the call', () => {
      const generic = fs.readFileSync(path.join(VIRIDIAN_DIR, 'hypercall.ts'), 'utf8');
      const range = /first:\s*(0x[0-9a-fA-F]+),\s*last:\s*(0x[0-9a-fA-F]+)/.exec(generic);
      expect(range).not.toBeNull();
      const [first, last] = [Number(range?.[1]), Number(range?.[2])];
      const denials = (code: number, access: ViridianCallDefinition['access'] | undefined): string[] => {
        const out: string[] = [];
        for (const profileName of VIRIDIAN_PROFILE_NAMES) {
          const p = VIRIDIAN_PROFILES[profileName];
          for (const compat of COMPATS) {
            const q = VIRIDIAN_QUIRKS[compat];
            if (q.hypercallGating !== 'privileges') continue;
            let ok = !(code >= first && code <= last && (p.privileges.ebx & viridianAbi.HV_PRIVILEGES_EBX.HV_ENABLE_EXTENDED_HYPERCALLS) === 0);
            // A code the compat's dispatcher has no case for is unknown there: no access rule of its own (V33).
            if (ok && access && knowsCall(q.knownCalls, code)) {
              switch (access.kind) {
                case 'any':
                  break;
                case 'privilege':
                  ok = ((access.register === 'eax' ? p.privileges.eax : p.privileges.ebx) & access.bit) !== 0;
                  break;
                case 'recommendation':
                  ok = (p.recommendations & access.bits) === access.bits;
                  break;
                case 'spin-wait':
                  ok = q.spinWaitGate === 'none' || (p.spinRetries !== 0 && p.spinRetries !== 0xffff_ffff);
                  break;
              }
            }
            if (!ok) out.push(`${profileName}/${compat}`);
          }
        }
        return out;
      };
      const wrong: string[] = [];
      const entries = [...calls.map((c) => ({ name: c.name, code: c.code, access: c.def.access as ViridianCallDefinition['access'] | undefined }))];
      for (const e of catalog.viridian) if (/^0x[0-9a-f]+$/.test(e.call)) entries.push({ name: e.call, code: Number(e.call), access: undefined });
      for (const c of entries) {
        const entry = viridianEntry(c.name);
        const listed = entry?.statuses.includes('HV_STATUS_ACCESS_DENIED') ?? false;
        const unreachable = entry?.unreachable?.['HV_STATUS_ACCESS_DENIED'] !== undefined;
        const where = denials(c.code, c.access);
        if (where.length > 0 && (!listed || unreachable)) wrong.push(`${c.name}: refused in ${where.join(', ')}, so HV_STATUS_ACCESS_DENIED must be listed as reachable`);
        if (where.length === 0 && listed && !unreachable) wrong.push(`${c.name}: no built-in profile refuses it, so HV_STATUS_ACCESS_DENIED must carry an unreachable reason`);
      }
      expect(wrong).toEqual([]);
    });

    test('an unknown call code is listed with HV_STATUS_INVALID_HYPERCALL_CODE, inside and outside the extended range', () => {
      const unknown = catalog.viridian.filter((e) => e.call.startsWith('unknown') && e.statuses.includes('HV_STATUS_INVALID_HYPERCALL_CODE'));
      expect(unknown.map((e) => e.call).sort()).toEqual([hvCallName(0xbeef), hvCallName(0x8041)].sort());
    });
  });

  describe('(c) every name in the catalog is a real ABI name, spelt as facts.ts records it', () => {
    test('Xen hypercalls, sub-ops and results', () => {
      const bad: string[] = [];
      for (const e of catalog.xen) {
        const at = `${e.hypercall} ${JSON.stringify(e.subop)}`;
        if (e.hypercall === hypercallNameOf(11n) || e.hypercall === hypercallNameOf(64n)) {
          // facts.ts: a number without a name, below NR_hypercalls or not
        } else if (!(e.hypercall in xenAbi.XenHypercall)) bad.push(`${at}: not a hypercall name (__HYPERVISOR_*)`);
        const sub = SUBOP_TABLES[e.hypercall];
        if (!sub) {
          if (e.subop !== '') bad.push(`${at}: this hypercall has no sub-ops (facts record '')`);
        } else if (e.subop === '' && e.hypercall === 'mmuext_op') {
          // facts.ts: '' when the first op's cmd cannot be read from the uops pointer.
        } else {
          if (e.subop === UNKNOWN_SUBOP) {
            // facts.ts records every number no table names as one path
          } else if (!(e.subop in sub.table) || (sub.prefix !== undefined && !e.subop.startsWith(sub.prefix))) {
            bad.push(`${at}: not a sub-op name of its ABI table`);
          } else {
            const recorded = factSubop(e.hypercall, sub.table[e.subop] as number);
            if (recorded !== e.subop) bad.push(`${at}: facts record command ${sub.table[e.subop]} as ${recorded}`);
          }
        }
        for (const r of e.results) {
          const known = r === 'ok' || r === 'blocked' || r === 'unimplemented' || ERRNO_NAMES.has(r) || (e.hypercall === 'grant_table_op' && GNTST_NAMES.has(r));
          if (!known) bad.push(`${at}: result ${r} is not ok, blocked, unimplemented, an XEN_ERRNO name${e.hypercall === 'grant_table_op' ? ' or a GNTST name' : ''}`);
        }
      }
      expect(bad).toEqual([]);
    });

    test('Viridian calls and statuses', () => {
      const bad: string[] = [];
      for (const e of catalog.viridian) {
        if (e.call === hvCallName(0xbeef) || e.call === hvCallName(0x8041)) {
          // facts.ts: a code no table names, outside or inside the extended range
        } else if (!(e.call in viridianAbi.HVCALL)) bad.push(`${e.call}: not an HVCALL_ name`);
        for (const s of e.statuses) if (!HV_STATUS_NAMES.has(s) && !['#UD', 'intercept', 'unimplemented'].includes(s)) bad.push(`${e.call}: status ${s} is not an HV_STATUS name, #UD, intercept or unimplemented`);
      }
      expect(bad).toEqual([]);
    });

    test('every hypercall and every named command has an entry; no entry or result appears twice', () => {
      const missing: string[] = [];
      for (const name of Object.keys(xenAbi.XenHypercall)) if (!catalog.xen.some((e) => e.hypercall === name)) missing.push(`xen ${name}: no entry`);
      for (const [hypercall, sub] of Object.entries(SUBOP_TABLES)) {
        for (const [n, value] of Object.entries(sub.table)) {
          if (sub.prefix !== undefined && !n.startsWith(sub.prefix)) continue;
          const recorded = factSubop(hypercall, value);
          if (!catalog.xen.some((e) => e.hypercall === hypercall && e.subop === recorded)) missing.push(`xen ${hypercall} ${recorded} (command ${value}): no entry`);
        }
      }
      const keys = [...catalog.xen.map((e) => `xen ${e.hypercall} ${JSON.stringify(e.subop)}`), ...catalog.viridian.map((e) => `viridian ${e.call}`)];
      const twice = [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))].map((k) => `${k}: listed twice`);
      for (const e of catalog.xen) if (new Set(e.results).size !== e.results.length) twice.push(`xen ${e.hypercall} ${JSON.stringify(e.subop)}: a result listed twice`);
      for (const e of catalog.viridian) if (new Set(e.statuses).size !== e.statuses.length) twice.push(`viridian ${e.call}: a status listed twice`);
      expect([...new Set(missing)]).toEqual([]);
      expect(twice).toEqual([]);
    });
  });

  describe('(d) unreachable results', () => {
    test('every unreachable result is listed and carries a reason', () => {
      const bad: string[] = [];
      const check = (at: string, listed: readonly string[], unreachable: Readonly<Record<string, string>> | undefined): void => {
        for (const [result, why] of Object.entries(unreachable ?? {})) {
          if (!listed.includes(result)) bad.push(`${at} ${result}: unreachable but not among the results`);
          if (typeof why !== 'string' || why.trim().length < 10) bad.push(`${at} ${result}: no reason given (${JSON.stringify(why)})`);
        }
      };
      for (const e of catalog.xen) check(`xen ${e.hypercall} ${e.subop || '-'}`, e.results, e.unreachable);
      for (const e of catalog.viridian) check(`viridian ${e.call}`, e.statuses, e.unreachable);
      expect(bad).toEqual([]);
    });
  });
});
