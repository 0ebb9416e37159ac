import { Machine } from '../../../emulator/machine/machine';
import { asGfn } from '../../../emulator/machine/units';
import { ViridianModel } from '../../../emulator/viridian/viridianModel';
import { ReferenceAdapter } from '../../../emulator/adapter/referenceAdapter';
import { decodePeerReply, encodePeerRequest, PEER_MESSAGE_TYPE, type PeerRequest, type PeerResult } from '../../../emulator/adapter/peerProtocol';
import { ADAPTER_API_VERSION, type Adapter, type AdapterFactory, type AdapterHost, type XenCallResult, type XenHypercallArgs } from '../adapterApi';
import { tracedGuestView, type TraceEntry } from './trace';
import { adapterReserveFrames, machineShape, type World, type WorldOptions } from './world';

/** The root partition's ports and connections for the peer protocol (emulator/adapter/peerProtocol.ts). */
/** Event flags of the peer SINT's sends port: one per dom0 port below this. */
const SEND_FLAGS = 2048;

export const ROOT_LAYOUT = {
  /** Root event port (and the guest's connection to it): the guest's notifications to the peer. */
  notify: 1,
  /** Root message port (and connection): the adapter's replies. */
  reply: 2,
  /** Guest message port on the peer SINT: the peer's requests. */
  requests: 3,
  /** Guest event port on the peer SINT: the peer's sends, flag = peer port. */
  sends: 4,
  /** The guest ports deliver to any VP (HV_ANY_VP): the lowest one whose SynIC is on. */
  vp: 0xffff_ffff,
  sint: 4,
} as const;

/** The reference adapter through the public API (it satisfies it structurally). */
export const referenceAdapterFactory: AdapterFactory = (host) => new ReferenceAdapter(host);

/** An error of the world itself or of the adapter's conduct (an infrastructure error, not a conformance failure). */
export class WorldError extends Error {
  override readonly name = 'WorldError';
}

/**
 * The translated world: the same machine, the Viridian model on it, the root partition's side,
 * and an adapter between the Xen guest and the Viridian machine. Interrupts the machine raises
 * reach the adapter at once (after each guest operation) or at their virtual time (while time
 * moves).
 */
export class TranslatedWorld implements World {
  readonly kind = 'translated';
  readonly machine: Machine;
  readonly viridian: ViridianModel;
  readonly adapter: Adapter;
  readonly privateFrames: ReadonlySet<number>;
  /** What the adapter did while it booted. */
  readonly bootTrace: readonly TraceEntry[];
  /** What the adapter did on the Viridian machine since the last {@link takeTrace}. */
  private trace: TraceEntry[] = [];
  private nextRequest = 1;
  private readonly deliver = (vp: number, vector: number): void => {
    this.trace.push({ kind: 'interrupt', vp, time: this.machine.clock.now.toString(), vector });
    this.adapter.interrupt(vp, vector);
  };

  constructor(options: WorldOptions = {}) {
    const shape = machineShape(options);
    this.machine = new Machine({
      vcpus: shape.vcpus,
      online: shape.online,
      memory: { ramPages: shape.ramPages, addressSpacePages: shape.addressSpacePages + adapterReserveFrames(shape.vcpus) },
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const machine = this.machine;
    const v = new ViridianModel(machine, options.viridian ?? {});
    this.viridian = v;
    v.root.createRootPort({ id: ROOT_LAYOUT.notify, kind: 'event', flagCount: 2048 });
    v.root.connect(ROOT_LAYOUT.notify, ROOT_LAYOUT.notify);
    v.root.createRootPort({ id: ROOT_LAYOUT.reply, kind: 'message' });
    v.root.connect(ROOT_LAYOUT.reply, ROOT_LAYOUT.reply);
    v.root.createGuestPort({ id: ROOT_LAYOUT.requests, kind: 'message', targetVp: ROOT_LAYOUT.vp, sint: ROOT_LAYOUT.sint });
    v.root.createGuestPort({ id: ROOT_LAYOUT.sends, kind: 'event', targetVp: ROOT_LAYOUT.vp, sint: ROOT_LAYOUT.sint, baseFlag: 0, flagCount: SEND_FLAGS });
    const mem = machine.memory;
    const host: AdapterHost = {
      apiVersion: ADAPTER_API_VERSION,
      xen: { options: options.xen ?? {}, online: shape.online, guestFrames: shape.addressSpacePages },
      viridian: tracedGuestView(v, this.trace),
      memory: mem,
      platform: {
        serialWrite: (bytes) => v.serialWrite(bytes),
        powerOff: () => v.platformPowerOff(),
        reset: () => v.platformReset(),
        populate: (gfn) => mem.populate(asGfn(gfn)),
        depopulate: (gfn) => mem.depopulate(asGfn(gfn)),
        frameOf: (gfn) => mem.frameOf(asGfn(gfn)),
        mapForeign: (gfn, frame, writable) => mem.mapForeign(asGfn(gfn), frame, writable),
        unmapForeign: (gfn, restore) => mem.unmapForeign(asGfn(gfn), restore),
        isForeign: (gfn) => mem.isForeign(gfn),
        foreignMapping: (gfn) => mem.foreignMapping(gfn),
      },
      guest: {
        upcall: (vcpu) => machine.vcpus[vcpu]?.upcall(),
        resumed: (vcpu, value) => machine.recordResumed(vcpu, value),
      },
      root: { vp: ROOT_LAYOUT.vp, sint: ROOT_LAYOUT.sint, replyConnection: ROOT_LAYOUT.reply, notifyConnection: ROOT_LAYOUT.notify },
    };
    this.adapter = (options.adapter ?? referenceAdapterFactory)(host);
    // The adapter's frames are above the guest's space; none of them is compared.
    this.privateFrames = new Set(Array.from({ length: adapterReserveFrames(shape.vcpus) }, (_, i) => shape.addressSpacePages + i));
    v.deliverInterrupts(this.deliver);
    // The adapter's boot is not a step: forget what it wrote and logged, and keep its trace apart.
    machine.memory.takeDirty();
    machine.takeEvents();
    this.bootTrace = this.takeTrace();
  }

  /** Everything the adapter did on the Viridian machine since the last call. */
  takeTrace(): TraceEntry[] {
    return this.trace.splice(0, this.trace.length);
  }

  hypercall(vcpu: number, nr: bigint, args: XenHypercallArgs): XenCallResult {
    const result = this.adapter.hypercall(vcpu, nr, args);
    this.viridian.deliverInterrupts(this.deliver);
    return result;
  }

  write(gpa: number, bytes: Uint8Array) {
    return this.machine.memory.writeBytes(gpa, bytes);
  }

  returnToGuest(vcpu: number): void {
    this.adapter.returnToGuest(vcpu);
    this.viridian.deliverInterrupts(this.deliver);
  }

  touch(vcpu: number, space: bigint, va: bigint, global: boolean): void {
    this.machine.vcpus[vcpu]?.tlb.fill(space, va, global);
  }

  advanceTo(ns: bigint): void {
    this.viridian.advanceTo(ns, this.deliver);
  }

  /**
   * A peer action: the root partition posts the request to the guest's request port, the
   * adapter takes the interrupt and answers on the reply connection. `takeEvents` answers with
   * the notifications the root received (HvCallSignalEvent flags), after the adapter has been
   * told to clear its copy.
   */
  peer(request: PeerRequest): PeerResult {
    const id = this.nextRequest++;
    const posted = this.viridian.root.postToGuest(ROOT_LAYOUT.requests, PEER_MESSAGE_TYPE.request, encodePeerRequest(id, request));
    if (posted.status !== 'HV_STATUS_SUCCESS') throw new WorldError(`the root could not post peer request ${request.op}: ${posted.status}`);
    this.viridian.deliverInterrupts(this.deliver);
    const reply = this.takeReply((r) => r.id === id);
    if (request.op === 'takeEvents') return this.viridian.root.takeFlags(ROOT_LAYOUT.notify);
    return reply.r;
  }

  peerSend(port: number): PeerResult {
    // A SINT has 2048 event flags (TLFS "SynIC Event Flags"); a port past them goes as a request.
    if (!Number.isInteger(port) || port < 0 || port >= SEND_FLAGS) return this.peer({ op: 'send', port });
    const sent = this.viridian.root.signalGuest(ROOT_LAYOUT.sends, port);
    if (sent.status !== 'HV_STATUS_SUCCESS') throw new WorldError(`the root could not signal peer send on port ${port}: ${sent.status}`);
    this.viridian.deliverInterrupts(this.deliver);
    return this.takeReply((r) => r.op === 'send' && r.port === port).r;
  }

  private takeReply(match: (reply: NonNullable<ReturnType<typeof decodePeerReply>>) => boolean): NonNullable<ReturnType<typeof decodePeerReply>> {
    const messages = this.viridian.root.takeMessages(ROOT_LAYOUT.reply);
    for (const m of messages) {
      if (m.type !== PEER_MESSAGE_TYPE.reply) continue;
      const reply = decodePeerReply(m.payload);
      if (reply && match(reply)) return reply;
    }
    throw new WorldError(`the adapter did not answer the peer (${messages.length} message(s) on the reply port)`);
  }
}
