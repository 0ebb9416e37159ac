import { Machine } from '../../../emulator/machine/machine';
import { XenModel } from '../../../emulator/xen/xenModel';
import { performPeerRequest, type PeerRequest, type PeerResult } from '../../../emulator/adapter/peerProtocol';
import type { XenCallResult, XenHypercallArgs } from '../adapterApi';
import { machineShape, type World, type WorldOptions } from './world';

/** The Xen world: the Xen reference model on the shared machine. */
export class XenWorld implements World {
  readonly kind = 'xen';
  readonly machine: Machine;
  readonly xen: XenModel;
  readonly privateFrames: ReadonlySet<number> = new Set();

  constructor(options: WorldOptions = {}) {
    const shape = machineShape(options);
    this.machine = new Machine({
      vcpus: shape.vcpus,
      online: shape.online,
      memory: { ramPages: shape.ramPages, addressSpacePages: shape.addressSpacePages },
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.xen = new XenModel(this.machine, options.xen ?? {});
  }

  hypercall(vcpu: number, nr: bigint, args: XenHypercallArgs): XenCallResult {
    return this.xen.hypercall(vcpu, nr, args);
  }

  write(gpa: number, bytes: Uint8Array) {
    return this.machine.memory.writeBytes(gpa, bytes);
  }

  returnToGuest(_vcpu?: number): void {
    this.xen.checkEvents();
  }

  touch(vcpu: number, space: bigint, va: bigint, global: boolean): void {
    this.machine.vcpus[vcpu]?.tlb.fill(space, va, global);
  }

  advanceTo(ns: bigint): void {
    this.xen.advanceTo(ns);
  }

  peer(request: PeerRequest): PeerResult {
    const result = performPeerRequest(this.xen.peerActions, request);
    this.xen.checkEvents();
    return result;
  }

  peerSend(port: number): PeerResult {
    const result = this.xen.peerActions.send(port);
    this.xen.checkEvents();
    return result;
  }
}
