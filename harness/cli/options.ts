import { UsageError } from './command';

/* Option values shared by the commands: whole numbers and time limits. */

/** The whole number a text spells (a sign only when `min` is negative), if it is one of at least `min`. */
function wholeNumber(text: string, min: number): number | undefined {
  const n = Number(text);
  return (min < 0 ? /^-?\d+$/ : /^\d+$/).test(text.trim()) && Number.isSafeInteger(n) && n >= min ? n : undefined;
}

/** A whole number option of at least `min` (negative ones too when `min` allows), or undefined when it is absent. */
export function integerOption(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = wholeNumber(text, min);
  if (n === undefined) throw new UsageError(`--${name}: "${text}" is not a whole number of at least ${min}`);
  return n;
}

/** A whole number of milliseconds (at least 1), or the fallback when the option is absent. */
export function millisecondsOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = wholeNumber(text, 1);
  if (n === undefined) throw new UsageError(`--${name}: "${text}" is not a whole number of milliseconds (at least 1)`);
  return n;
}
