import fc from 'fast-check';
import type { Scalar, Step } from '../../spec/scenario';
import { call } from './call';
import { badPointer, deadline, leHex, likelyPort, vcpuArg } from './values';

/*
 * multicall (xen/common/multicall.c do_multicall): lists of entries that succeed, fail in the
 * middle (Xen carries on with the next entry and stores each result), block, nest, or have
 * their visible effects (console bytes, timers, events) after a failing entry.
 */

/** Where the data entries point at is stored: an evtchn_port_arg and console text. */
const PORT_ARG = '0x124000';
const TEXT = '0x124100';

type Entry = { readonly op: Scalar; readonly args: readonly Scalar[] };

const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.constant<Entry>({ op: 'xen_version', args: ['XENVER_version', 0] }),
  fc.constant<Entry>({ op: 'xen_version', args: [99, 0] }),
  fc.constant<Entry>({ op: 'event_channel_op', args: ['EVTCHNOP_send', PORT_ARG] }),
  fc.constant<Entry>({ op: 'event_channel_op', args: ['EVTCHNOP_unmask', PORT_ARG] }),
  vcpuArg.map<Entry>((v) => ({ op: 'vcpu_op', args: ['VCPUOP_is_up', v, 0] })),
  fc.constant<Entry>({ op: 'sched_op', args: ['SCHEDOP_yield', 0] }),
  fc.constant<Entry>({ op: 'sched_op', args: ['SCHEDOP_block', 0] }),
  deadline.map<Entry>((d) => ({ op: 'set_timer_op', args: [d] })),
  fc.constant<Entry>({ op: 'console_io', args: ['CONSOLEIO_write', 4, TEXT] }),
  badPointer.map<Entry>((p) => ({ op: 'console_io', args: ['CONSOLEIO_write', 4, p] })),
  fc.constant<Entry>({ op: 'multicall', args: [0, 0] }),
  fc.constantFrom<Scalar>(11, 63, 'mmu_update', 'sysctl', '0x100000000').map<Entry>((op) => ({ op, args: [] })),
);

const OPS = new Map<string, number>([
  ['xen_version', 17],
  ['event_channel_op', 32],
  ['vcpu_op', 24],
  ['sched_op', 29],
  ['set_timer_op', 15],
  ['console_io', 18],
  ['multicall', 13],
  ['mmu_update', 1],
  ['sysctl', 35],
]);

export const multicallSteps: fc.Arbitrary<readonly Step[]> = fc.oneof(
  {
    arbitrary: fc.tuple(fc.array(entry, { minLength: 1, maxLength: 4 }), likelyPort, fc.constantFrom(-1, -1, -1, 0, 1, 5)).map(([entries, port, extra]): Step[] => [
      { store: { at: PORT_ARG, bytes: leHex(port, 4) } },
      { store: { at: TEXT, bytes: '6d630a21' } },
      call('multicall', [{ u64s: entries.flatMap((e) => [typeof e.op === 'string' && OPS.has(e.op) ? (OPS.get(e.op) as number) : e.op, 0, ...pad(e.args)]) }, extra < 0 ? entries.length : extra]),
    ]),
    weight: 5,
  },
  { arbitrary: fc.tuple(badPointer, fc.constantFrom(1, 2)).map(([ptr, n]) => [call('multicall', [{ ptr }, n])]), weight: 1 },
  // Huge counts only with lists outside RAM: in RAM, Xen runs (and the models run) every entry.
  { arbitrary: fc.tuple(fc.constantFrom('0x7ffff0000000', '0x800000000000'), fc.constantFrom(0xffffffff, '0x100000001')).map(([ptr, n]) => [call('multicall', [{ ptr }, n])]), weight: 1 },
);

function pad(args: readonly Scalar[]): Scalar[] {
  return [...args, 0, 0, 0, 0, 0, 0].slice(0, 6);
}
