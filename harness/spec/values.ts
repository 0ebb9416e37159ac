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

const SCALAR_EXPECTED = 'a number, 0x hex, an ABI constant (EVTCHNOP_send), -CONSTANT, A|B, $saved or $saved+N';

function term(text: string, vars: Vars | undefined): bigint {
  const t = text.trim();
  if (/^-?\d[\d_]*$/.test(t)) return BigInt(t.replace(/_/g, ''));
  if (/^-?0x[0-9a-f_]+$/i.test(t)) return t.startsWith('-') ? -BigInt(t.slice(1).replace(/_/g, '')) : BigInt(t.replace(/_/g, ''));
  const variable = /^\$([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:([+-])\s*(\d+|0x[0-9a-fA-F]+))?$/.exec(t);
  if (variable) {
    const name = variable[1] as string;
    if (!vars) return 0n; // validation: only the name is checked (elsewhere)
    const v = vars.get(name);
    if (v === undefined) throw new ValueError(`$${name} is not saved by an earlier step`, 'a name saved with save: by an earlier step');
    const delta = variable[3] ? BigInt(variable[3]) : 0n;
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

const UNITS: Readonly<Record<string, bigint>> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };

/** A duration in nanoseconds: a number, or a string such as "37ns", "10us", "5ms", "2s". */
export function evalDuration(value: unknown, vars?: Vars): bigint {
  if (typeof value === 'string') {
    const m = /^\s*(\d[\d_]*)\s*(ns|us|ms|s)\s*$/.exec(value);
    if (m) return BigInt((m[1] as string).replace(/_/g, '')) * (UNITS[m[2] as string] as bigint);
  }
  try {
    return evalScalar(value, vars);
  } catch (error) {
    if (error instanceof ValueError) throw new ValueError(`${JSON.stringify(value)} is not a duration`, 'nanoseconds, or a number with a unit: 37ns, 10us, 5ms, 2s');
    throw error;
  }
}
