import fc from 'fast-check';
import type { Argument, Step } from '../../spec/scenario';
import { badPointer, placement } from './values';

/** A hypercall step by its __HYPERVISOR_ name or number. */
export function call(name: string | number, args: readonly Argument[]): Step {
  return { call: name, args };
}

/**
 * A struct argument: usually in the scratch area, sometimes placed unaligned or across a page,
 * sometimes replaced by a bad pointer (the copy in or out faults).
 */
export function structArg(struct: string, fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Argument> {
  return fc.oneof(
    { arbitrary: fc.tuple(fields, placement).map(([f, at]) => ({ struct, ...f, ...(at !== undefined ? { at } : {}) })), weight: 12 },
    { arbitrary: badPointer.map((ptr) => ({ ptr })), weight: 1 },
  );
}

/** A sub-op call: `name(cmd, struct)`. */
export function subop(name: string, cmd: string, struct: string, fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Step> {
  return structArg(struct, fields).map((arg) => call(name, [cmd, arg]));
}
