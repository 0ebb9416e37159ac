import { console_io } from './console_io';
import { event_channel_op } from './event_channel_op';
import { grant_table_op } from './grant_table_op';
import { hvm_op } from './hvm_op';
import { memory_op } from './memory_op';
import { mmuext_op } from './mmuext_op';
import { multicall } from './multicall';
import { NOT_MODELLED_HYPERCALLS } from './notModelled';
import { sched_op } from './sched_op';
import { set_timer_op } from './set_timer_op';
import { vcpu_op } from './vcpu_op';
import { vm_assist } from './vm_assist';
import { xen_version } from './xen_version';
import type { XenHypercallDefinition } from './types';

/** The hypercalls the Xen model implements, in hypercall-number order. */
export const MODELLED_HYPERCALLS: readonly XenHypercallDefinition[] = [
  memory_op,
  multicall,
  set_timer_op,
  xen_version,
  console_io,
  grant_table_op,
  vm_assist,
  vcpu_op,
  mmuext_op,
  sched_op,
  event_channel_op,
  hvm_op,
];

/** Every hypercall a guest can reach: modelled ones and those answered as unimplemented. */
export const ALL_HYPERCALLS: readonly XenHypercallDefinition[] = [...MODELLED_HYPERCALLS, ...NOT_MODELLED_HYPERCALLS];
