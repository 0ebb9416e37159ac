import type { ViridianModel } from './viridianModel';
import type { ViridianVp } from './vp';

/*
 * The part of the local APIC an adapter uses to reach other processors: the interrupt command
 * register (Intel SDM vol. 3 10.6.1, xAPIC format, which HV_X64_MSR_ICR carries as ICR high in
 * 63:32 and ICR low in 31:0, TLFS virtual-interrupts.md). APIC ids equal VP indices.
 */

/** ICR delivery modes (bits 10:8). */
export const ICR_DELIVERY = { fixed: 0, lowestPriority: 1, smi: 2, nmi: 4, init: 5, startup: 6, extInt: 7 } as const;

/** A decoded ICR write. */
export type IcrCommand = {
  readonly vector: number;
  readonly delivery: number;
  /** Bit 14: level assert (INIT de-assert has it clear). */
  readonly assert: boolean;
  /** Bits 19:18: 0 the destination field, 1 self, 2 all including self, 3 all excluding self. */
  readonly shorthand: number;
  /** ICR high bits 31:24 (xAPIC destination). */
  readonly destination: number;
};

/** Splits a 64-bit ICR value. */
export function decodeIcr(icr: bigint): IcrCommand {
  const low = Number(icr & 0xffff_ffffn);
  return {
    vector: low & 0xff,
    delivery: (low >>> 8) & 7,
    assert: ((low >>> 14) & 1) === 1,
    shorthand: (low >>> 18) & 3,
    destination: Number((icr >> 56n) & 0xffn),
  };
}

/**
 * Sends what an ICR write asks for: a fixed (or lowest-priority, delivered as fixed) interrupt,
 * INIT (the target stops and waits for a start), or a start-up IPI (a target waiting after INIT
 * starts at vector * 4096). NMI, SMI and ExtINT are not modelled and go nowhere; a level
 * de-assert INIT does nothing, as on current processors.
 */
export function sendIcr(model: ViridianModel, sender: ViridianVp, icr: bigint): void {
  const cmd = decodeIcr(icr);
  const targets = targetsOf(model, sender, cmd);
  for (const vp of targets) {
    switch (cmd.delivery) {
      case ICR_DELIVERY.fixed:
      case ICR_DELIVERY.lowestPriority:
        // Vectors 0-15 are illegal for the local APIC: raiseInterrupt drops them (Intel SDM vol. 3 10.5.2).
        if (vp.run !== 'not-started') model.raiseInterrupt(vp, cmd.vector);
        break;
      case ICR_DELIVERY.init:
        if (cmd.assert) model.initVp(vp);
        break;
      case ICR_DELIVERY.startup:
        if (vp.waitingForSipi && vp.run === 'not-started') model.startVp(vp, { rip: BigInt(cmd.vector) << 12n, rsp: 0n, cr3: 0n, via: 'SIPI' });
        break;
      default:
        break;
    }
  }
}

function targetsOf(model: ViridianModel, sender: ViridianVp, cmd: IcrCommand): readonly ViridianVp[] {
  switch (cmd.shorthand) {
    case 0: {
      // Destination 0xFF in xAPIC physical mode is a broadcast (Intel SDM vol. 3 10.6.2.1).
      if (cmd.destination === 0xff) return model.vps;
      const vp = model.vps[cmd.destination];
      return vp ? [vp] : [];
    }
    case 1:
      return [sender];
    case 2:
      return model.vps;
    default:
      return model.vps.filter((vp) => vp !== sender);
  }
}
