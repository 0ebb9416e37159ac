import { HV_CALL_INPUT } from './abi/calls';
import { HV_SYNIC } from './abi/synic';
import type { HvStatusName } from './profiles';
import { enqueueMessage, EVENT_FLAGS_PER_SINT, setEventFlag, siefReady, simReady, sintMasked, type SynicHost } from './synic';
import type { ViridianVp } from './vp';

/*
 * The root partition's side of inter-partition communication (TLFS inter-partition-
 * communication.md "Ports and Connections"): ports the root owns, which the guest's connections
 * lead to, and ports in the guest that the root sends through. The environment (a test, or the
 * world that mirrors Xen's peer domain) creates them; the guest only sees connection ids and
 * SynIC deliveries.
 */

/** HV_PORT_TYPE as far as the model goes. */
export type PortKind = 'message' | 'event';

/** Why a port cannot take anything, if it cannot. */
export type PortState = 'active' | 'deleted' | 'owner-inactive';

/** How the root's receiving VP stands; anything but 'ready' fails the guest's post or signal with the TLFS status for it. */
export type RootTargetState = 'ready' | 'no-vp' | 'synic-disabled' | 'sint-masked';

/** A message the guest posted to a root port. */
export type RootMessage = { readonly type: number; readonly payload: Uint8Array; readonly time: bigint };

/** A port of the root partition. */
export type RootPort = {
  readonly id: number;
  readonly kind: PortKind;
  /** Event ports: the number of valid flag numbers (TLFS "flag count"). */
  readonly flagCount: number;
  state: PortState;
  target: RootTargetState;
  /** Message ports: posted messages the root has not taken yet; each holds one of the port's buffers. */
  readonly inbox: RootMessage[];
  /** Event ports: flags set and not yet cleared by the root. */
  readonly flags: Set<number>;
  /** Event ports: every HvCallSignalEvent that reached the port, with the time. */
  readonly signals: { readonly flag: number; readonly time: bigint; readonly newlySet: boolean }[];
};

/** A port in the guest partition through which the root sends messages or sets event flags. */
export type GuestPort = {
  readonly id: number;
  readonly kind: PortKind;
  /** A VP index, or HV_ANY_VP for the lowest VP that can take it. */
  readonly targetVp: number;
  readonly sint: number;
  readonly baseFlag: number;
  readonly flagCount: number;
  state: PortState;
  /** Messages queued at the guest and not yet in a SIM slot. */
  inFlight: number;
};

/** A result the root gets from sending (the status a HvCallPostMessage / HvCallSignalEvent of its own would return). */
export type RootSendResult = { readonly status: HvStatusName };

const OK: RootSendResult = Object.freeze({ status: 'HV_STATUS_SUCCESS' });
const fail = (status: HvStatusName): RootSendResult => ({ status });

/** Largest connection and port id: 24 bits (HV_CONNECTION_ID, HV_PORT_ID). */
export const MAX_CONNECTION_ID = 0xff_ffff;

/** What the root side needs from the partition. */
export type RootHost = SynicHost & {
  readonly vps: readonly ViridianVp[];
  readonly buffersPerPort: number;
};

/** The root partition's ports and connections, and the debug host. */
export class RootSide {
  private readonly host: RootHost;
  private readonly rootPorts = new Map<number, RootPort>();
  private readonly guestPorts = new Map<number, GuestPort>();
  /** The guest's connections: ConnectionId -> root port id. */
  private readonly connections = new Map<number, number>();

  constructor(host: RootHost) {
    this.host = host;
  }

  /** Creates a root port; throws on an id in use (an environment bug). */
  createRootPort(spec: { readonly id: number; readonly kind: PortKind; readonly flagCount?: number }): RootPort {
    checkId('port', spec.id);
    if (this.rootPorts.has(spec.id)) throw new Error(`[viridian] root port ${spec.id} exists`);
    const flagCount = spec.kind === 'event' ? (spec.flagCount ?? EVENT_FLAGS_PER_SINT) : 0;
    const port: RootPort = { id: spec.id, kind: spec.kind, flagCount, state: 'active', target: 'ready', inbox: [], flags: new Set(), signals: [] };
    this.rootPorts.set(spec.id, port);
    return port;
  }

  /** Connects a guest connection id to a root port (HvConnectPort on the guest's behalf). */
  connect(connectionId: number, rootPortId: number): void {
    checkId('connection', connectionId);
    if (this.connections.has(connectionId)) throw new Error(`[viridian] connection ${connectionId} exists`);
    if (!this.rootPorts.has(rootPortId)) throw new Error(`[viridian] no root port ${rootPortId}`);
    this.connections.set(connectionId, rootPortId);
  }

  /** Breaks a connection; later posts and signals on it fail with HV_STATUS_INVALID_CONNECTION_ID. */
  disconnect(connectionId: number): void {
    this.connections.delete(connectionId);
  }

  /** Marks a root port deleted: its connections stay but lead nowhere (HV_STATUS_INVALID_PORT_ID). */
  deleteRootPort(id: number): void {
    const port = this.rootPort(id);
    port.state = 'deleted';
    port.inbox.length = 0;
  }

  /** The root port behind a guest connection id, if the connection exists. */
  portOfConnection(connectionId: number): RootPort | undefined {
    const id = this.connections.get(connectionId);
    return id === undefined ? undefined : this.rootPorts.get(id);
  }

  /** A root port by id; throws when there is none (an environment bug). */
  rootPort(id: number): RootPort {
    const port = this.rootPorts.get(id);
    if (!port) throw new Error(`[viridian] no root port ${id}`);
    return port;
  }

  /** Takes the messages a root port received (freeing their buffers). */
  takeMessages(rootPortId: number): RootMessage[] {
    const port = this.rootPort(rootPortId);
    return port.inbox.splice(0, port.inbox.length);
  }

  /** Clears the event flags a root port holds and returns them, ascending. */
  takeFlags(rootPortId: number): number[] {
    const port = this.rootPort(rootPortId);
    const out = [...port.flags].sort((a, b) => a - b);
    port.flags.clear();
    return out;
  }

  /** Creates a port in the guest that the root sends through; throws on a bad spec (an environment bug). */
  createGuestPort(spec: { readonly id: number; readonly kind: PortKind; readonly targetVp: number; readonly sint: number; readonly baseFlag?: number; readonly flagCount?: number }): GuestPort {
    checkId('port', spec.id);
    if (this.guestPorts.has(spec.id)) throw new Error(`[viridian] guest port ${spec.id} exists`);
    if (!Number.isInteger(spec.sint) || spec.sint < 0 || spec.sint >= HV_SYNIC.HV_SYNIC_SINT_COUNT) throw new RangeError(`bad SINT ${spec.sint}`);
    const baseFlag = spec.baseFlag ?? 0;
    const flagCount = spec.kind === 'event' ? (spec.flagCount ?? EVENT_FLAGS_PER_SINT - baseFlag) : 0;
    if (spec.kind === 'event' && (baseFlag < 0 || flagCount < 1 || baseFlag + flagCount > EVENT_FLAGS_PER_SINT)) {
      throw new RangeError(`event port flags ${baseFlag}+${flagCount} exceed ${EVENT_FLAGS_PER_SINT}`);
    }
    const port: GuestPort = { id: spec.id, kind: spec.kind, targetVp: spec.targetVp, sint: spec.sint, baseFlag, flagCount, state: 'active', inFlight: 0 };
    this.guestPorts.set(spec.id, port);
    return port;
  }

  /** Deletes a guest port: its queued messages are dropped and their buffers freed (TLFS "Reliability and Sequencing"). */
  deleteGuestPort(id: number): void {
    const port = this.guestPort(id);
    port.state = 'deleted';
    for (const vp of this.host.vps) {
      const queue = vp.queues[port.sint];
      if (!queue) continue;
      for (let i = queue.length - 1; i >= 0; i--) if (queue[i]?.portId === id) queue.splice(i, 1);
    }
    port.inFlight = 0;
  }

  /** A guest port by id; throws when there is none. */
  guestPort(id: number): GuestPort {
    const port = this.guestPorts.get(id);
    if (!port) throw new Error(`[viridian] no guest port ${id}`);
    return port;
  }

  /**
   * The root posts a message to a guest port, with the checks of HvCallPostMessage
   * (hypercalls/HvCallPostMessage.md "Return Values") on the receiving side.
   */
  postToGuest(portId: number, type: number, payload: Uint8Array): RootSendResult {
    const port = this.guestPorts.get(portId);
    if (!port || port.state !== 'active' || port.kind !== 'message') return fail('HV_STATUS_INVALID_PORT_ID');
    if (type === 0 || type >= 0x8000_0000 || payload.length > HV_SYNIC.HV_MESSAGE_PAYLOAD_BYTE_COUNT) return fail('HV_STATUS_INVALID_PARAMETER');
    if (port.inFlight >= this.host.buffersPerPort) return fail('HV_STATUS_INSUFFICIENT_BUFFERS');
    const vp = this.targetOf(port, simReady);
    if (typeof vp === 'string') return fail(vp);
    port.inFlight++;
    const copy = payload.slice();
    enqueueMessage(this.host, vp, port.sint, {
      type,
      sender: BigInt(port.id),
      portId: port.id,
      payload: () => copy,
      released: () => {
        port.inFlight--;
      },
    });
    return OK;
  }

  /** The root sets event flag `flag` of a guest event port, with the checks of HvCallSignalEvent. */
  signalGuest(portId: number, flag: number): RootSendResult {
    const port = this.guestPorts.get(portId);
    if (!port || port.state !== 'active' || port.kind !== 'event') return fail('HV_STATUS_INVALID_PORT_ID');
    if (!Number.isInteger(flag) || flag < 0 || flag >= port.flagCount) return fail('HV_STATUS_INVALID_PARAMETER');
    const vp = this.targetOf(port, (v) => siefReady(v) && !sintMasked(v, port.sint));
    if (typeof vp === 'string') return fail(vp);
    setEventFlag(this.host, vp, port.sint, port.baseFlag + flag);
    return OK;
  }

  /**
   * The VP a guest port delivers to: its own VP, which must exist and be able to take the
   * delivery (HV_STATUS_INVALID_VP_INDEX, HV_STATUS_INVALID_SYNIC_STATE), or for HV_ANY_VP the
   * lowest-numbered VP that can (the TLFS leaves the choice to the hypervisor).
   */
  private targetOf(port: GuestPort, ready: (vp: ViridianVp) => boolean): ViridianVp | HvStatusName {
    if (port.targetVp === HV_CALL_INPUT.HV_ANY_VP) return this.host.vps.find(ready) ?? 'HV_STATUS_INVALID_VP_INDEX';
    const vp = this.host.vps[port.targetVp];
    if (!vp) return 'HV_STATUS_INVALID_VP_INDEX';
    return ready(vp) ? vp : 'HV_STATUS_INVALID_SYNIC_STATE';
  }
}

function checkId(what: string, id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > MAX_CONNECTION_ID) throw new RangeError(`bad ${what} id ${id}: 1..0x${MAX_CONNECTION_ID.toString(16)}`);
}
