import * as fs from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { SCENARIO_SCHEMA_PATH } from '../paths';
import { closest, type Diagnostic } from './diagnostics';
import { ALL_ACTIONS, VIRIDIAN_ACTIONS, XEN_ACTIONS, type Argument, type BufferSpec, type Scenario, type Step } from './scenario';
import type { DocPath, ScenarioSource } from './source';
import { CONSTANTS, HV_CALLS, HYPERCALLS, PEER_OPS, ROOT_OPS, STRUCTS } from './symbols';
import { evalDuration, evalScalar, ValueError, varsOf } from './values';

/** The JSON Schema the package ships (specs/scenario.schema.json). */
export const SCENARIO_SCHEMA: Record<string, unknown> = JSON.parse(fs.readFileSync(SCENARIO_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;

/** The schema's validator, compiled on first use (a run whose scenarios all come from the cache needs none). */
let compiled: ValidateFunction | undefined;
const schemaValidator = (): ValidateFunction => (compiled ??= new Ajv({ allErrors: true, strict: false }).compile(SCENARIO_SCHEMA));

/** Keys each part of a scenario may have, for "did you mean". */
const KEYS: Readonly<Record<string, readonly string[]>> = {
  '': ['id', 'title', 'refs', 'tags', 'world', 'profiles', 'xen', 'viridian', 'setup', 'steps', 'provenance'],
  step: [...ALL_ACTIONS, 'name', 'vcpu', 'args', 'expect', 'save'],
  expect: ['return', 'status', 'reps', 'fault', 'value', 'result', 'ports', 'events', 'states', 'pending', 'notPending', 'masked', 'upcallPending', 'console', 'shutdown', 'tlb', 'reference', 'interrupts', 'memory', 'eax', 'ebx', 'ecx', 'edx', 'out'],
};

/**
 * Checks a parsed scenario: first against the JSON Schema, then what a schema cannot say (one
 * action per step, names of hypercalls, constants, structs and fields, saved values used only
 * after they are saved, vCPU numbers in range). Every problem becomes a diagnostic at its place.
 */
export function validateScenario(source: ScenarioSource, value: unknown): Diagnostic[] {
  const schemaCheck = schemaValidator();
  if (!schemaCheck(value)) return schemaDiagnostics(source, schemaCheck.errors ?? []);
  const scenario = value as Scenario;
  return new SemanticCheck(source, scenario).run();
}

function schemaDiagnostics(source: ScenarioSource, errors: readonly ErrorObject[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  // anyOf/oneOf produce one error per branch; the first, most specific one per place is enough.
  for (const e of errors) {
    const path: (string | number)[] = e.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
    let d: Diagnostic;
    if (e.keyword === 'additionalProperties') {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const where = path.includes('steps') && path.length === 2 ? 'step' : path.length === 0 ? '' : String(path[path.length - 1]);
      const known = KEYS[where] ?? Object.keys(((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}));
      const guess = closest(key, known);
      d = source.diagnostic([...path, key], `unknown field "${key}"`, `one of: ${known.join(', ')}`, guess ? `did you mean "${guess}"?` : 'see docs/scenarios.md for the fields', true);
    } else if (e.keyword === 'required') {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      d = source.diagnostic(path, `missing field "${missing}"`, `a "${missing}" field here`, `add "${missing}:" (docs/scenarios.md)`);
    } else if (e.keyword === 'enum' || e.keyword === 'const') {
      const allowed = (e.params as { allowedValues?: unknown[]; allowedValue?: unknown }).allowedValues ?? [(e.params as { allowedValue?: unknown }).allowedValue];
      const got = source.locate(path).text;
      const guess = closest(String(got), allowed.map(String));
      d = source.diagnostic(path, `"${got}" is not allowed here`, `one of: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, guess ? `did you mean ${JSON.stringify(guess)}?` : undefined);
    } else {
      d = source.diagnostic(path, `${path.length > 0 ? path.join('.') : 'the scenario'} ${e.message ?? 'is invalid'}`, schemaExpectation(e), 'see docs/scenarios.md');
    }
    const key = `${d.line}:${d.col}:${d.message}`;
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function schemaExpectation(e: ErrorObject): string {
  switch (e.keyword) {
    case 'type':
      return `a value of type ${String((e.params as { type: string }).type)}`;
    case 'pattern':
      return `text matching ${String((e.params as { pattern: string }).pattern)}`;
    case 'minItems':
      return `at least ${String((e.params as { limit: number }).limit)} item(s)`;
    case 'maxItems':
      return `at most ${String((e.params as { limit: number }).limit)} item(s)`;
    case 'minimum':
    case 'maximum':
      return `a number ${e.keyword === 'minimum' ? '>=' : '<='} ${String((e.params as { limit: number }).limit)}`;
    default:
      return e.message ?? 'a valid value';
  }
}

/** The checks a JSON Schema cannot express. */
class SemanticCheck {
  private readonly source: ScenarioSource;
  private readonly scenario: Scenario;
  private readonly out: Diagnostic[] = [];
  /** Saved names so far; the built-in ones are always there ($shared_info, $grant_table). */
  private readonly saved: Set<string>;
  private readonly vcpus: number;

  constructor(source: ScenarioSource, scenario: Scenario) {
    this.source = source;
    this.scenario = scenario;
    this.vcpus = scenario.setup?.vcpus ?? 2;
    this.saved = new Set((scenario.world ?? 'xen') === 'xen' ? ['shared_info', 'grant_table', 'now'] : ['input_page', 'output_page']);
  }

  run(): Diagnostic[] {
    const world = this.scenario.world ?? 'xen';
    for (const [i, v] of (this.scenario.setup?.online ?? []).entries()) {
      if (v >= this.vcpus) this.error(['setup', 'online', i], `vCPU ${v} does not exist`, `a vCPU below setup.vcpus (${this.vcpus})`);
    }
    this.scenario.steps.forEach((step, i) => this.step(step, i, world));
    return this.out;
  }

  private error(path: DocPath, message: string, expected?: string, hint?: string, key = false): void {
    this.out.push(this.source.diagnostic(path, message, expected, hint, key));
  }

  private scalar(path: DocPath, value: unknown): void {
    for (const name of varsOf(value)) {
      if (!this.saved.has(name)) this.error(path, `$${name} is used before any step saves it`, 'a name saved by an earlier step (save: { name: path })', this.saved.size > 0 ? `saved so far: ${[...this.saved].map((s) => `$${s}`).join(', ')}` : 'add save: to an earlier step');
    }
    try {
      evalScalar(value);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      const name = typeof value === 'string' ? value.replace(/^-/, '').trim() : '';
      const guess = name ? closest(name, CONSTANTS.keys()) : undefined;
      this.error(path, error.message, error.expected, guess ? `did you mean ${guess}?` : 'run `npx xvc abi` for the names');
    }
  }

  private step(step: Step, i: number, world: 'xen' | 'viridian'): void {
    const at: DocPath = ['steps', i];
    const actions = ALL_ACTIONS.filter((a) => (step as Record<string, unknown>)[a] !== undefined);
    if (actions.length !== 1) {
      this.error(at, actions.length === 0 ? 'the step has no action' : `the step has ${actions.length} actions (${actions.join(', ')})`, `exactly one of: ${(world === 'xen' ? XEN_ACTIONS : VIRIDIAN_ACTIONS).join(', ')}`, 'split it into one step per action');
      return;
    }
    const action = actions[0] as (typeof ALL_ACTIONS)[number];
    const allowed: readonly string[] = world === 'xen' ? XEN_ACTIONS : VIRIDIAN_ACTIONS;
    if (!allowed.includes(action)) {
      this.error([...at, action], `"${action}" is not a step of a world: ${world} scenario`, `one of: ${allowed.join(', ')}`, world === 'xen' ? 'Viridian-level steps need world: viridian at the top' : 'Xen hypercalls need world: xen (the default)', true);
      return;
    }
    if (step.vcpu !== undefined && step.vcpu >= this.vcpus) this.error([...at, 'vcpu'], `vCPU ${step.vcpu} does not exist`, `a vCPU below setup.vcpus (${this.vcpus})`);
    const buffers = new Map<string, string | undefined>();
    switch (action) {
      case 'call':
        this.call(step, at, buffers);
        break;
      case 'hv':
        this.hv(step, at);
        break;
      case 'peer':
        this.op(step.peer as { op: string }, [...at, 'peer'], PEER_OPS, 'peer');
        break;
      case 'root':
        this.op(step.root as { op: string }, [...at, 'root'], ROOT_OPS, 'root');
        break;
      case 'advance':
      case 'advanceTo':
        try {
          evalDuration(step[action]);
        } catch (error) {
          if (error instanceof ValueError) this.error([...at, action], error.message, error.expected);
          else throw error;
        }
        break;
      case 'store':
        this.scalar([...at, 'store', 'at'], step.store?.at);
        for (const k of ['u8', 'u16', 'u32', 'u64'] as const) if (step.store?.[k] !== undefined) this.scalar([...at, 'store', k], step.store[k]);
        break;
      case 'touch':
        this.scalar([...at, 'touch', 'va'], step.touch?.va);
        if (step.touch?.space !== undefined) this.scalar([...at, 'touch', 'space'], step.touch.space);
        break;
      case 'wrmsr':
        this.scalar([...at, 'wrmsr', 'msr'], step.wrmsr?.msr);
        this.scalar([...at, 'wrmsr', 'value'], step.wrmsr?.value);
        break;
      case 'mask':
      case 'unmask':
      case 'clearPending':
      case 'setSpace':
      case 'peerSend':
      case 'rdmsr':
      case 'cpuid':
      case 'icr':
        this.scalar([...at, action], step[action]);
        break;
      case 'upcallMask':
      case 'handleUpcall':
      case 'halt':
      case 'eoi':
      case 'deliver':
        break;
      default:
        action satisfies never;
    }
    if (step.expect) this.expect(step, at, buffers, action);
    for (const [name, path] of Object.entries(step.save ?? {})) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) this.error([...at, 'save', name], `"${name}" cannot be a saved name`, 'letters, digits and _ (used later as $name)', undefined, true);
      const head = path.split('.')[0] ?? '';
      const ok = ['return', 'result', 'value', 'status', 'reps'].includes(path) || (buffers.has(head) && path.split('.').length === 2);
      if (!ok) this.error([...at, 'save', name], `cannot save "${path}"`, `return, result, value, status, reps, or BUFFER.FIELD of a struct argument (${[...buffers.keys()].join(', ') || 'none here'})`);
      else if (buffers.has(head)) this.field(buffers.get(head), path.split('.')[1] ?? '', [...at, 'save', name]);
      this.saved.add(name);
    }
  }

  private call(step: Step, at: DocPath, buffers: Map<string, string | undefined>): void {
    if (typeof step.call === 'number') this.scalar([...at, 'call'], step.call);
    else if (typeof step.call === 'string' && /^-?(\d|0x|0b)/i.test(step.call.trim())) this.scalar([...at, 'call'], step.call);
    else if (typeof step.call === 'string' && !HYPERCALLS.has(step.call.replace(/^__HYPERVISOR_/, ''))) {
      const guess = closest(step.call, HYPERCALLS.keys());
      this.error([...at, 'call'], `unknown hypercall "${step.call}"`, 'a __HYPERVISOR_ name such as event_channel_op, or a number', guess ? `did you mean ${guess}?` : 'run `npx xvc abi | grep __HYPERVISOR_`');
    }
    (step.args ?? []).forEach((arg, j) => this.argument(arg, [...at, 'args', j], buffers));
  }

  private argument(arg: Argument, path: DocPath, buffers: Map<string, string | undefined>): void {
    if (typeof arg !== 'object' || arg === null) {
      this.scalar(path, arg);
      return;
    }
    this.buffer(arg, path, buffers);
  }

  private buffer(buf: BufferSpec, path: DocPath, buffers: Map<string, string | undefined>): void {
    const kinds = ['struct', 'u32s', 'u64s', 'bytes', 'zeros', 'ptr'].filter((k) => buf[k] !== undefined);
    if (kinds.length !== 1) {
      this.error(path, kinds.length === 0 ? 'the buffer says nothing about its content' : `the buffer is several things (${kinds.join(', ')})`, 'exactly one of struct, u32s, u64s, bytes, zeros, ptr');
      return;
    }
    if (buf.at !== undefined) this.scalar([...path, 'at'], buf.at);
    const name = buf.as ?? (buf.struct !== undefined && !buffers.has('out') ? 'out' : undefined);
    if (buf.struct !== undefined) {
      const layout = STRUCTS.get(buf.struct);
      if (!layout) {
        const guess = closest(buf.struct, STRUCTS.keys());
        this.error([...path, 'struct'], `unknown struct "${buf.struct}"`, 'a struct of the Xen or Hyper-V ABI', guess ? `did you mean ${guess}?` : 'see the layouts in emulator/xen/abi/layouts.ts and emulator/viridian/abi/layouts.ts');
        return;
      }
      for (const [key, value] of Object.entries(buf)) {
        if (['struct', 'as', 'at'].includes(key)) continue;
        if (!(key in layout.fields)) {
          const guess = closest(key, Object.keys(layout.fields));
          this.error([...path, key], `${buf.struct} has no field "${key}"`, `one of: ${Object.keys(layout.fields).join(', ')}`, guess ? `did you mean ${guess}?` : undefined, true);
        } else this.scalar([...path, key], value);
      }
    } else if (buf.u32s || buf.u64s) (buf.u32s ?? buf.u64s ?? []).forEach((v, k) => this.scalar([...path, buf.u32s ? 'u32s' : 'u64s', k], v));
    else if (buf.ptr !== undefined) this.scalar([...path, 'ptr'], buf.ptr);
    if (name !== undefined) buffers.set(name, buf.struct);
  }

  private field(struct: string | undefined, field: string, path: DocPath): void {
    const layout = struct ? STRUCTS.get(struct) : undefined;
    if (!layout) {
      this.error(path, 'only struct buffers have fields', 'a buffer given with struct:');
      return;
    }
    if (!(field in layout.fields)) {
      const guess = closest(field, Object.keys(layout.fields));
      this.error(path, `${layout.name} has no field "${field}"`, `one of: ${Object.keys(layout.fields).join(', ')}`, guess ? `did you mean ${guess}?` : undefined);
    }
  }

  private hv(step: Step, at: DocPath): void {
    const hv = step.hv;
    if (!hv) return;
    if (typeof hv.call === 'string' && !HV_CALLS.has(hv.call)) {
      const guess = closest(hv.call, HV_CALLS.keys());
      this.error([...at, 'hv', 'call'], `unknown Viridian call "${hv.call}"`, 'an HVCALL_ name, a TLFS name (HvCallSignalEvent) or a number', guess ? `did you mean ${guess}?` : 'run `npx xvc abi | grep HVCALL_`');
    }
    for (const k of ['reserved', 'rdx', 'r8'] as const) if (hv[k] !== undefined) this.scalar([...at, 'hv', k], hv[k]);
    (hv.xmm ?? []).forEach((v, j) => this.scalar([...at, 'hv', 'xmm', j], v));
    if (hv.input) this.buffer(hv.input, [...at, 'hv', 'input'], new Map());
  }

  private op(spec: { op: string; [k: string]: unknown }, path: DocPath, ops: ReadonlyMap<string, readonly string[]>, what: string): void {
    const args = ops.get(spec.op);
    if (!args) {
      const guess = closest(spec.op, ops.keys());
      this.error([...path, 'op'], `unknown ${what} operation "${spec.op}"`, `one of: ${[...ops.keys()].join(', ')}`, guess ? `did you mean ${guess}?` : undefined);
      return;
    }
    for (const [key, value] of Object.entries(spec)) {
      if (key === 'op') continue;
      if (!args.includes(key)) {
        const guess = closest(key, args);
        this.error([...path, key], `${what} ${spec.op} takes no "${key}"`, args.length > 0 ? `one of: ${args.join(', ')}` : 'no arguments', guess ? `did you mean ${guess}?` : undefined, true);
      } else if (typeof value !== 'boolean' && key !== 'data' && key !== 'kind' && key !== 'target') this.scalar([...path, key], value);
    }
  }

  private expect(step: Step, at: DocPath, buffers: Map<string, string | undefined>, action: string): void {
    const e = step.expect ?? {};
    const path: DocPath = [...at, 'expect'];
    for (const [key, value] of Object.entries(e)) {
      if (KEYS['expect']?.includes(key) && key !== 'out') {
        if (['return', 'status', 'value', 'shutdown', 'eax', 'ebx', 'ecx', 'edx'].includes(key) && !(key === 'return' && (value === 'blocked' || value === 'unimplemented')) && !(key === 'shutdown' && value === 'any')) this.scalar([...path, key], value);
        if (key === 'memory') {
          const list = Array.isArray(value) ? value : [value];
          list.forEach((m, j) => {
            for (const [k, v] of Object.entries((m ?? {}) as Record<string, unknown>)) if (k !== 'bytes') this.scalar(Array.isArray(value) ? [...path, key, j, k] : [...path, key, k], v);
          });
        }
        for (const listKey of ['ports', 'pending', 'notPending', 'masked'] as const) if (key === listKey) (value as unknown[]).forEach((v, j) => this.scalar([...path, key, j], v));
        continue;
      }
      if (!buffers.has(key)) {
        const known = [...(KEYS['expect'] ?? []).filter((k) => k !== 'out'), ...buffers.keys()];
        const guess = closest(key, known);
        this.error([...path, key], `unknown expectation "${key}"`, `one of: ${known.join(', ')}`, guess ? `did you mean "${guess}"?` : action === 'call' ? 'name a struct argument with as:' : undefined, true);
        continue;
      }
      const struct = buffers.get(key);
      if (struct === undefined) {
        // A buffer without a struct: its contents as u32s, u64s or bytes.
        for (const [kind, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
          if (kind === 'u32s' || kind === 'u64s') (Array.isArray(v) ? v : []).forEach((x, j) => this.scalar([...path, key, kind, j], x));
          else if (kind !== 'bytes') this.error([...path, key, kind], `"${kind}" is not how a buffer without a struct is checked`, 'u32s: [...], u64s: [...] or bytes: hex, from the buffer\'s address');
        }
        continue;
      }
      for (const [field, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        this.field(struct, field, [...path, key, field]);
        this.scalar([...path, key, field], v);
      }
    }
  }
}
