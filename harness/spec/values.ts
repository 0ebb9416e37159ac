import { CONSTANTS } from './symbols';

/** Saved values of a running scenario. */
export type Vars = ReadonlyMap<string, bigint>;

/** A scalar that could not be evaluated, with what was wrong. */
export class ValueError extends Error {
  override readonly name = 'ValueError';
  readonly expected: string;
  readonly hint: string | undefined;
  constructor(message: string, expected: string, hint?: string) {
    super(message);
    this.expected = expected;
    this.hint = hint;
  }
}

const SCALAR_EXPECTED = 'a number, 0x hex, 0b binary, a duration (5ms), an ABI constant (EVTCHNOP_send), -CONSTANT, A|B, $saved or $saved+N';

const UNITS: Readonly<Record<string, bigint>> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };

/** A literal: decimal, 0x hex or 0b binary (underscores allowed), or a whole number of ns, us, ms or s; undefined when the text is not one. */
function literal(text: string): bigint | undefined {
  const negative = text.startsWith('-');
  const t = (negative ? text.slice(1) : text).replace(/_/g, '');
  let v: bigint | undefined;
  if (/^\d+$/.test(t) || /^0x[0-9a-f]+$/i.test(t) || /^0b[01]+$/i.test(t)) v = BigInt(t.toLowerCase());
  else {
    const m = /^(\d+)\s*(ns|us|ms|s)$/.exec(t);
    if (m) v = BigInt(m[1] as string) * (UNITS[m[2] as string] as bigint);
  }
  return v === undefined ? undefined : negative ? -v : v;
}

function term(text: string, vars: Vars | undefined): bigint {
  const t = text.trim();
  const lit = literal(t);
  if (lit !== undefined) return lit;
  const variable = /^\$([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:([+-])\s*([0-9][0-9a-zA-Z_]*))?$/.exec(t);
  if (variable) {
    const name = variable[1] as string;
    const delta = variable[3] !== undefined ? literal(variable[3]) : 0n;
    if (delta === undefined) throw new ValueError(`"${variable[3] ?? ''}" is not a number to add to $${name}`, 'a literal: 16, 0x10, 0b1, 5ms');
    if (!vars) return 0n; // validation: only the name is checked (elsewhere)
    const v = vars.get(name);
    if (v === undefined) throw new ValueError(`$${name} is not saved by an earlier step`, 'a name saved with save: by an earlier step');
    return variable[2] === '-' ? v - delta : v + delta;
  }
  const negative = t.startsWith('-');
  const name = negative ? t.slice(1).trim() : t;
  const value = CONSTANTS.get(name);
  if (value === undefined) throw new ValueError(`unknown name "${name}"`, SCALAR_EXPECTED);
  return negative ? -value : value;
}

/**
 * Evaluates a scalar: a number, or a string holding a literal, a constant, a negated constant,
 * an OR of several, or a saved value (optionally plus or minus a literal). Without `vars` only
 * the names are checked and saved values read as 0.
 */
export function evalScalar(value: unknown, vars?: Vars): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new ValueError(`${value} is not an exact integer`, 'an integer below 2^53, or a string for bigger values');
    return BigInt(value);
  }
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value !== 'string' || value.trim() === '') throw new ValueError(`${JSON.stringify(value)} is not a scalar`, SCALAR_EXPECTED);
  return value.split('|').reduce((acc, part) => acc | term(part, vars), 0n);
}

/** The $names a scalar reads. */
export function varsOf(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return [...value.matchAll(/\$([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1] as string);
}

/** A duration in nanoseconds: a number, or a string such as "37ns", "10us", "5ms", "2s", "$now+5ms" (any scalar). */
export function evalDuration(value: unknown, vars?: Vars): bigint {
  try {
    return evalScalar(value, vars);
  } catch (error) {
    if (error instanceof ValueError) throw new ValueError(`${JSON.stringify(value)} is not a duration`, 'nanoseconds, or a number with a unit: 37ns, 10us, 5ms, 2s');
    throw error;
  }
}
