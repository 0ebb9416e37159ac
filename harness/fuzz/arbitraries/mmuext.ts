import fc from 'fast-check';
import type { Step } from '../../spec/scenario';
import { call } from './call';
import { badPointer, count, va } from './values';

/*
 * mmuext_op (xen/include/public/xen.h struct mmuext_op, xen/arch/x86/mm.c do_mmuext_op): batches of
 * the TLB commands, whose vCPU masks have bits at 63, 64 and beyond, mixed with commands a PV
 * guest of this model cannot use and unknown numbers; and the TLB fills they act on.
 */

/** Where a batch's vCPU bitmap is stored. */
const MASK = '0x121000';
/** Where *pdone goes. */
const DONE = '0x121800';

/** A vCPU bitmap as two 64-bit words: low vCPUs, bit 63, bits 64 and 65, everyone. */
const mask = fc.constantFrom<readonly [string, string]>(['0x3', '0x0'], ['0x1', '0x1'], ['0x0', '0x1'], ['0x8000000000000001', '0x2'], ['0x1', '0x0'], ['0x2', '0x0'], ['0x0', '0x3'], ['0xffffffffffffffff', '0xffffffffffffffff'], ['0x0', '0x0']);

const command = fc.oneof(
  { arbitrary: fc.constantFrom('MMUEXT_TLB_FLUSH_LOCAL', 'MMUEXT_INVLPG_LOCAL', 'MMUEXT_TLB_FLUSH_MULTI', 'MMUEXT_INVLPG_MULTI', 'MMUEXT_TLB_FLUSH_ALL', 'MMUEXT_INVLPG_ALL'), weight: 8 },
  { arbitrary: fc.constantFrom<string | number>('MMUEXT_NEW_BASEPTR', 'MMUEXT_PIN_L4_TABLE', 'MMUEXT_FLUSH_CACHE', 'MMUEXT_SET_LDT', 'MMUEXT_CLEAR_PAGE', 'MMUEXT_MARK_SUPER', 14, 21, 0xffffffff), weight: 1 },
);

/** One op: cmd, arg1 (a linear address for INVLPG), arg2 (the vCPU bitmap for the MULTI forms). */
const op = fc.tuple(command, va, fc.oneof({ arbitrary: fc.constant(MASK), weight: 6 }, { arbitrary: badPointer, weight: 1 })).map(([cmd, addr, bitmap]) => [cmd, addr, bitmap] as const);

const batch: fc.Arbitrary<Step[]> = fc
  .tuple(fc.array(op, { minLength: 1, maxLength: 3 }), mask, fc.oneof({ arbitrary: fc.constant(-1), weight: 6 }, { arbitrary: count, weight: 1 }), fc.constantFrom<string | number>('DOMID_SELF', 0, 1, 7))
  .map(([ops, [lo, hi], n, foreign]) => [
    { store: { at: MASK, u64: lo } },
    { store: { at: '0x121008', u64: hi } },
    call('mmuext_op', [{ u64s: ops.flatMap(([cmd, addr, bitmap]) => [cmd, addr, bitmap]) }, n < 0 ? ops.length : n, DONE, foreign]),
  ]);

export const mmuextSteps: fc.Arbitrary<readonly Step[]> = fc.oneof(
  { arbitrary: batch, weight: 4 },
  { arbitrary: fc.tuple(badPointer, count).map(([ptr, n]) => [call('mmuext_op', [{ ptr }, n, 0, 'DOMID_SELF'])]), weight: 1 },
);
