import type { AbiTable } from '../../abi/abiTable';
import { CALL_INPUT_TABLES } from './calls';
import { CPUID_TABLES } from './cpuid';
import { HYPERCALL_TABLES } from './hypercalls';
import { INPUT_TABLES } from './input';
import { MSR_TABLES } from './msrs';
import { STATUS_TABLES } from './status';
import { SYNIC_TABLES } from './synic';

export * from './calls';
export * from './cpuid';
export * from './hypercalls';
export * from './input';
export * from './layouts';
export * from './msrs';
export * from './status';
export * from './synic';

/** Every Viridian ABI table the model implements, in the order `xvc abi` lists them. */
export const VIRIDIAN_ABI_TABLES: readonly AbiTable[] = [
  ...HYPERCALL_TABLES,
  ...STATUS_TABLES,
  ...INPUT_TABLES,
  ...CALL_INPUT_TABLES,
  ...MSR_TABLES,
  ...SYNIC_TABLES,
  ...CPUID_TABLES,
];
