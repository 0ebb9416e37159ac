import { Machine } from '../../../emulator/machine/machine';
import { ViridianModel } from '../../../emulator/viridian/viridianModel';
import type { ViridianOptions } from '../../../emulator/viridian/config';
import { HV_X64_MSR } from '../../../emulator/viridian/abi/msrs';

/** Options of a Viridian-only world. */
export type ViridianWorldOptions = {
  readonly vcpus?: number;
  readonly online?: readonly number[];
  readonly ramPages?: number;
  readonly viridian?: ViridianOptions;
  /** Report a guest OS id and enable the hypercall page at the start. Default: true. */
  readonly hypercalls?: boolean;
};

/** A guest OS id in the open-source encoding (Linux, HV_LINUX_VENDOR_ID 0x8100). */
const GUEST_OS_ID = 0x8100_0006_0001_0000n;

/** Where the world keeps the hypercall page and the input and output pages. */
export const VIRIDIAN_WORLD_LAYOUT = { hypercallGfn: 0x10, inputGfn: 0x20, outputGfn: 0x21, scratchGfn: 0x30 } as const;

/**
 * The Viridian model alone, for world: viridian scenarios (specs/viridian/): the scenario is the
 * enlightened guest, issuing hypercalls and MSR accesses itself. There is no Xen world and no
 * adapter; the steps' expectations are the checks.
 */
export class ViridianWorld {
  readonly machine: Machine;
  readonly model: ViridianModel;

  constructor(options: ViridianWorldOptions = {}) {
    const vcpus = options.vcpus ?? 2;
    const ramPages = options.ramPages ?? 256;
    this.machine = new Machine({ vcpus, online: options.online ?? [...Array(vcpus).keys()], memory: { ramPages, addressSpacePages: ramPages * 4 } });
    this.model = new ViridianModel(this.machine, options.viridian ?? {});
    if (options.hypercalls ?? true) {
      const vp = this.model.vps.findIndex((v) => v.run === 'running');
      this.model.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_GUEST_OS_ID, GUEST_OS_ID);
      this.model.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_HYPERCALL, (BigInt(VIRIDIAN_WORLD_LAYOUT.hypercallGfn) << 12n) | 1n);
    }
    this.machine.memory.takeDirty();
    this.machine.takeEvents();
  }
}
