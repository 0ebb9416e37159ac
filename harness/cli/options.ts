import { AdapterLoadError } from '../sut/index';
import { UsageError } from './command';

/* Option values shared by the commands: whole numbers, time limits, and the unusable-adapter message. */

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

/** What a command prints when its adapter cannot be loaded or started: the error, and the hint when it has one. */
export function unusableAdapterText(command: string, error: unknown): string {
  const hint = error instanceof AdapterLoadError ? `\n  hint: ${error.hint}` : '';
  return `xvc ${command}: the adapter cannot be used: ${(error as Error).message}${hint}\n`;
}
