import type { AbiTable } from '../../abi/abiTable';

/*
 * Values as the C compiler evaluates the Xen public headers at xen-project/xen
 * c447b7308b1330ec6dcfef37220736c28f41daa0 (4.23-unstable), interface version 0x00041300; every
 * number here is also checked against vectors/encoding/xen-public-constants.json by the tests.
 * Unchanged since RELEASE-4.17.0 (shared/reference/xen-abi.md, provenance table).
 */

/** event_channel_op commands (xen/include/public/event_channel.h). */
export const EVTCHNOP = {
  EVTCHNOP_bind_interdomain: 0,
  EVTCHNOP_bind_virq: 1,
  EVTCHNOP_bind_pirq: 2,
  EVTCHNOP_close: 3,
  EVTCHNOP_send: 4,
  EVTCHNOP_status: 5,
  EVTCHNOP_alloc_unbound: 6,
  EVTCHNOP_bind_ipi: 7,
  EVTCHNOP_bind_vcpu: 8,
  EVTCHNOP_unmask: 9,
  EVTCHNOP_reset: 10,
  EVTCHNOP_init_control: 11,
  EVTCHNOP_expand_array: 12,
  EVTCHNOP_set_priority: 13,
  // Defined only with __XEN__, yet a guest that passes 14 reaches the reset continuation
  // (xen/common/event_channel.c do_event_channel_op).
  EVTCHNOP_reset_cont: 14,
} as const;

/** evtchn_status.status values (xen/include/public/event_channel.h). */
export const EVTCHNSTAT = {
  EVTCHNSTAT_closed: 0,
  EVTCHNSTAT_unbound: 1,
  EVTCHNSTAT_interdomain: 2,
  EVTCHNSTAT_pirq: 3,
  EVTCHNSTAT_virq: 4,
  EVTCHNSTAT_ipi: 5,
} as const;

/** Event channel limits and flags (xen/include/public/event_channel.h). */
export const EVTCHN_LIMITS = {
  BIND_PIRQ__WILL_SHARE: 1,
  EVTCHN_2L_NR_CHANNELS: 4096,
  EVTCHN_FIFO_PRIORITY_MAX: 0,
  EVTCHN_FIFO_PRIORITY_DEFAULT: 7,
  EVTCHN_FIFO_PRIORITY_MIN: 15,
  EVTCHN_FIFO_MAX_QUEUES: 16,
  EVTCHN_FIFO_PENDING: 31,
  EVTCHN_FIFO_MASKED: 30,
  EVTCHN_FIFO_LINKED: 29,
  EVTCHN_FIFO_BUSY: 28,
  EVTCHN_FIFO_LINK_BITS: 17,
  EVTCHN_FIFO_LINK_MASK: 131071,
  EVTCHN_FIFO_NR_CHANNELS: 131072,
} as const;

/** Virtual IRQ numbers (xen/include/public/xen.h). */
export const VIRQ = {
  VIRQ_TIMER: 0,
  VIRQ_DEBUG: 1,
  VIRQ_CONSOLE: 2,
  VIRQ_DOM_EXC: 3,
  VIRQ_TBUF: 4,
  VIRQ_DEBUGGER: 6,
  VIRQ_XENOPROF: 7,
  VIRQ_CON_RING: 8,
  VIRQ_PCPU_STATE: 9,
  VIRQ_MEM_EVENT: 10,
  VIRQ_ARGO: 11,
  VIRQ_ENOMEM: 12,
  VIRQ_XENPMU: 13,
  VIRQ_ARCH_0: 16,
  VIRQ_ARCH_1: 17,
  VIRQ_ARCH_2: 18,
  VIRQ_ARCH_3: 19,
  VIRQ_ARCH_4: 20,
  VIRQ_ARCH_5: 21,
  VIRQ_ARCH_6: 22,
  VIRQ_ARCH_7: 23,
  NR_VIRQS: 24,
} as const;

/** The tables of this file, for `xvc abi`. */
export const EVENT_CHANNEL_TABLES: readonly AbiTable[] = [
  {
    title: 'event_channel_op commands',
    source: 'xen/include/public/event_channel.h',
    values: EVTCHNOP,
    notes: { EVTCHNOP_reset_cont: 'Xen-internal (#ifdef __XEN__) but reachable: resumes a reset, -EBUSY when none is in progress' },
  },
  { title: 'evtchn_status.status values', source: 'xen/include/public/event_channel.h', values: EVTCHNSTAT },
  { title: 'Event channel limits and flags', source: 'xen/include/public/event_channel.h', values: EVTCHN_LIMITS },
  { title: 'Virtual IRQ numbers', source: 'xen/include/public/xen.h', values: VIRQ },
];
