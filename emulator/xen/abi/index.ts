import type { AbiTable } from '../../abi/abiTable';
import { CONSOLE_IO_TABLES } from './console_io';
import { ERRNO_TABLES } from './errno';
import { EVENT_CHANNEL_TABLES } from './event_channel';
import { GRANT_TABLE_TABLES } from './grant_table';
import { HVM_OP_TABLES } from './hvm_op';
import { HYPERCALL_TABLES } from './hypercalls';
import { MEMORY_TABLES } from './memory';
import { MMUEXT_TABLES } from './mmuext';
import { SCHED_TABLES } from './sched';
import { VCPU_TABLES } from './vcpu';
import { VERSION_TABLES } from './version';
import { XEN_MISC_TABLES } from './xen';

export * from './console_io';
export * from './errno';
export * from './event_channel';
export * from './grant_table';
export * from './hvm_op';
export * from './hypercalls';
export * from './layouts';
export * from './memory';
export * from './mmuext';
export * from './sched';
export * from './vcpu';
export * from './version';
export * from './xen';

/** Every Xen ABI table the model implements, in the order `xvc abi` lists them. */
export const XEN_ABI_TABLES: readonly AbiTable[] = [
  ...HYPERCALL_TABLES,
  ...ERRNO_TABLES,
  ...EVENT_CHANNEL_TABLES,
  ...SCHED_TABLES,
  ...VCPU_TABLES,
  ...MMUEXT_TABLES,
  ...MEMORY_TABLES,
  ...GRANT_TABLE_TABLES,
  ...VERSION_TABLES,
  ...CONSOLE_IO_TABLES,
  ...HVM_OP_TABLES,
  ...XEN_MISC_TABLES,
];
