import { xenAbi, type AdapterFactory } from '../sut/index';
import { flushForgotten, neverHalts, timerRoundedDown, timerShifted, wrongErrno } from './brokenAdapters';
import { Disagreement, formatDifferences, PairGuest } from './pairTestkit';

const { EVTCHNOP, VIRQ, SCHEDOP, MMUEXT, DOMID, evtchn_port_arg, evtchn_bind_virq, mmuext_op } = xenAbi;

/** Runs `steps` and returns the first disagreement's report, or '' when the worlds agree. */
function firstFailure(adapter: AdapterFactory | undefined, profile: 'modern' | 'ws2008' | 'minimal', steps: (g: PairGuest) => void): string {
  const g = new PairGuest({ vcpus: 2, viridian: { profile }, ...(adapter ? { adapter } : {}) });
  try {
    steps(g);
    return '';
  } catch (error) {
    if (error instanceof Disagreement) return formatDifferences(error.differences.slice(0, 1));
    throw error;
  }
}

const sendOnClosedPort = (g: PairGuest) => {
  g.retOn(0, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, g.put(evtchn_port_arg, { port: 5 }));
};

const timerTick = (g: PairGuest) => {
  g.setUpcallMask(0, 0);
  g.retOn(0, 'event_channel_op', EVTCHNOP.EVTCHNOP_bind_virq, g.put(evtchn_bind_virq, { virq: VIRQ.VIRQ_TIMER, vcpu: 0 }));
  g.retOn(0, 'set_timer_op', 5_000_000n);
  g.advance(6_000_000n);
};

describe('the contract catches a broken translation, one relation at a time', () => {
  test('the reference adapter passes each of these sequences', () => {
    expect(firstFailure(undefined, 'modern', sendOnClosedPort)).toBe('');
    expect(firstFailure(undefined, 'modern', timerTick)).toBe('');
    expect(firstFailure(undefined, 'ws2008', timerTick)).toBe('');
  });

  test('equal (return values): an errno translated to the wrong value', () => {
    expect(firstFailure(wrongErrno, 'modern', sendOnClosedPort)).toBe('return value [equal]: xen returned -22 | translated returned -38');
  });

  test('tolerance (timers): a timer rounded down to the tick fires early, and early is never allowed', () => {
    const late = (g: PairGuest) => {
      g.setUpcallMask(0, 0);
      g.retOn(0, 'event_channel_op', EVTCHNOP.EVTCHNOP_bind_virq, g.put(evtchn_bind_virq, { virq: VIRQ.VIRQ_TIMER, vcpu: 0 }));
      g.retOn(0, 'set_timer_op', 5_000_042n);
      g.advance(6_000_000n);
    };
    expect(firstFailure(undefined, 'ws2008', late)).toBe('');
    expect(firstFailure(timerRoundedDown, 'ws2008', late)).toBe(
      'events vcpu[0][0].time [tolerance]: xen upcall at 5000042 ns | translated upcall at 5000000 ns (early by 42 ns)',
    );
  });

  test('tolerance (timers): a timer two ticks late is caught', () => {
    expect(firstFailure(timerShifted(2n), 'modern', timerTick)).toBe(
      'events vcpu[0][0].time [tolerance]: xen upcall at 5000000 ns | translated upcall at 5000200 ns (late by 200 ns)',
    );
  });

  test('refines (TLB): a remote flush that never happens leaves entries the Xen world flushed', () => {
    const failure = firstFailure(flushForgotten, 'modern', (g) => {
      g.pair.touch(1, 0x1000n, 0x40000n, false);
      const mask = g.putU64s([0b10n]);
      const ops = g.put(mmuext_op, { cmd: MMUEXT.MMUEXT_TLB_FLUSH_MULTI, arg2: mask });
      g.ret('mmuext_op', ops, 1, 0, DOMID.DOMID_SELF);
    });
    expect(failure).toBe('vcpu[1].tlb [refines]: xen 0 entries, without space 0x1000 va 0x40000 | translated space 0x1000 va 0x40000 still cached (1 entries the Xen world flushed)');
  });

  test('equal (vCPU state): a vCPU that should block keeps running', () => {
    const failure = firstFailure(neverHalts, 'modern', (g) => {
      g.callOn(1, 'sched_op', SCHEDOP.SCHEDOP_block, 0);
    });
    expect(failure).toBe('vcpu[1].state [equal]: xen blocked | translated running');
  });
});
