/*
 * The peer protocol: how the translated world's root partition hands the peer domain's (dom0's)
 * actions to an adapter, and how the adapter answers. Interdomain state lives with the adapter
 * (there is no Xen to keep dom0's side), so the root partition only carries the actions:
 *
 * - a request is a SynIC message on the peer SINT of VP 0, MessageType PEER_MESSAGE_TYPE.request,
 *   whose payload is one JSON object {"id": n, "op": name, ...arguments} in UTF-8;
 * - dom0's EVTCHNOP_send on its port P sets event flag P of the peer SINT's SIEF area (P below
 *   2048, the flags of one SINT); a send on a port no flag can name is a request {"op": "send"};
 * - the adapter answers each request and each flag with HvCallPostMessage on the reply
 *   connection, MessageType PEER_MESSAGE_TYPE.reply, payload {"id": n, "op": name, "r": result}
 *   (for a flag: {"id": 0, "op": "send", "port": P, "r": result});
 * - when the guest makes a peer port pending (an interdomain EVTCHNOP_send), the adapter calls
 *   HvCallSignalEvent on the notify connection with flag number = the peer port.
 *
 * docs/adapter-api.md documents the same format for adapters in other languages.
 */

/** HV_MESSAGE_TYPE values of the protocol (guest-defined types: bit 31 clear, non-zero). */
export const PEER_MESSAGE_TYPE = { request: 0x5850_0001, reply: 0x5850_0002 } as const;

/** Largest data chunk one request or reply carries (hex-encoded, so that it fits in 240 bytes). */
export const PEER_DATA_CHUNK = 64;

/** A peer action as the root partition sends it. */
export type PeerRequest =
  | { readonly op: 'allocUnbound'; readonly remoteDom: number }
  | { readonly op: 'bindInterdomain'; readonly remotePort: number; readonly remoteDom: number }
  | { readonly op: 'close'; readonly port: number }
  | { readonly op: 'send'; readonly port: number }
  | { readonly op: 'takeEvents' }
  | { readonly op: 'grantAccess'; readonly ref: number; readonly frame: number; readonly readonly: boolean; readonly domid: number }
  | { readonly op: 'endAccess'; readonly ref: number }
  | { readonly op: 'writePage'; readonly frame: number; readonly offset: number; readonly data: string }
  | { readonly op: 'readPage'; readonly frame: number; readonly offset: number; readonly length: number }
  | { readonly op: 'mapGrant'; readonly ref: number; readonly readonly: boolean }
  | { readonly op: 'unmapGrant'; readonly handle: number }
  | { readonly op: 'writeMapped'; readonly frame: number; readonly offset: number; readonly data: string }
  | { readonly op: 'readMapped'; readonly frame: number; readonly offset: number; readonly length: number };

/** The result of an action: a number or errno name, a boolean, a map result, hex data, or null (no data). */
export type PeerResult = number | string | boolean | null | { readonly status: number; readonly handle?: number; readonly frame?: number } | readonly number[];

/** A reply from the adapter. */
export type PeerReply = { readonly id: number; readonly op: PeerRequest['op'] | 'send'; readonly r: PeerResult; readonly port?: number };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a request (throws when it does not fit in one message: a caller bug). */
export function encodePeerRequest(id: number, request: PeerRequest): Uint8Array {
  return fit(encoder.encode(JSON.stringify({ id, ...request })));
}

/** Encodes a reply. */
export function encodePeerReply(reply: PeerReply): Uint8Array {
  return fit(encoder.encode(JSON.stringify(reply)));
}

/** Decodes a request; undefined when the payload is not one. */
export function decodePeerRequest(payload: Uint8Array): { readonly id: number; readonly request: PeerRequest } | undefined {
  const value = parse(payload);
  if (!value || typeof value.id !== 'number' || typeof value.op !== 'string') return undefined;
  const { id, ...request } = value;
  return { id, request: request as PeerRequest };
}

/** Decodes a reply; undefined when the payload is not one. */
export function decodePeerReply(payload: Uint8Array): PeerReply | undefined {
  const value = parse(payload);
  if (!value || typeof value.id !== 'number' || typeof value.op !== 'string' || !('r' in value)) return undefined;
  return value as unknown as PeerReply;
}

/** Bytes as lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Hex to bytes (undefined for malformed input). */
export function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function fit(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 240) throw new RangeError(`peer protocol message of ${bytes.length} bytes does not fit in a SynIC message (240)`);
  return bytes;
}

function parse(payload: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(payload));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The peer actions both worlds offer (emulator/xen/peer.ts PeerActions has these). */
export type PeerActionsLike = {
  allocUnbound(remoteDom?: number): number | string;
  bindInterdomain(remotePort: number, remoteDom?: number): number | string;
  send(port: number): number | string;
  close(port: number): number | string;
  takeEvents(): number[];
  grantAccess(ref: number, frame: number, readonly: boolean, domid?: number): boolean;
  endAccess(ref: number): boolean;
  writePage(frame: number, offset: number, bytes: Uint8Array): boolean;
  readPage(frame: number, offset: number, length: number): Uint8Array | undefined;
  mapGrant(ref: number, readonly: boolean): { readonly status: number; readonly handle?: number; readonly frame?: number };
  unmapGrant(handle: number): number;
  writeMapped(frame: number, offset: number, bytes: Uint8Array): boolean;
  readMapped(frame: number, offset: number, length: number): Uint8Array | undefined;
};

/**
 * Carries out a request on a set of peer actions and returns its result in the protocol's form
 * (bytes as hex, a missing read as null, a map result as {status, handle, frame}). The Xen world
 * normalises its own results with the same function, so the two worlds' answers compare equal.
 */
export function performPeerRequest(peer: PeerActionsLike, request: PeerRequest): PeerResult {
  switch (request.op) {
    case 'allocUnbound':
      return peer.allocUnbound(request.remoteDom);
    case 'bindInterdomain':
      return peer.bindInterdomain(request.remotePort, request.remoteDom);
    case 'close':
      return peer.close(request.port);
    case 'send':
      return peer.send(request.port);
    case 'takeEvents':
      return peer.takeEvents();
    case 'grantAccess':
      return peer.grantAccess(request.ref, request.frame, request.readonly, request.domid);
    case 'endAccess':
      return peer.endAccess(request.ref);
    case 'writePage':
      return peer.writePage(request.frame, request.offset, fromHex(request.data) ?? new Uint8Array(0));
    case 'readPage':
      return hexOrNull(peer.readPage(request.frame, request.offset, request.length));
    case 'mapGrant': {
      const r = peer.mapGrant(request.ref, request.readonly);
      return { status: r.status, ...(r.handle !== undefined ? { handle: r.handle } : {}), ...(r.frame !== undefined ? { frame: r.frame } : {}) };
    }
    case 'unmapGrant':
      return peer.unmapGrant(request.handle);
    case 'writeMapped':
      return peer.writeMapped(request.frame, request.offset, fromHex(request.data) ?? new Uint8Array(0));
    case 'readMapped':
      return hexOrNull(peer.readMapped(request.frame, request.offset, request.length));
    default:
      return request satisfies never;
  }
}

function hexOrNull(bytes: Uint8Array | undefined): string | null {
  return bytes === undefined ? null : toHex(bytes);
}
