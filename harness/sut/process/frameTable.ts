import { writeToFrame, type Frame } from '../../../emulator/machine/memory';
import { PAGE_SIZE } from '../../../emulator/machine/units';
import type { FrameHandle, FrameUpdates } from './protocol';
import { bytesOfHex, hexOf, ProtocolViolation } from './wire';

/**
 * The frames both sides of the protocol hold directly, by handle (docs/adapter-protocol.md
 * "Frames").
 *
 * In process, `platform.frameOf` hands the adapter the guest's frame itself, and `mapForeign`
 * puts a frame of the adapter's (dom0's page, in the reference adapter) into the guest's space:
 * both sides then read and write the same bytes. Across a process boundary each side keeps a copy
 * and a handle names it. The conversation is strictly synchronous, so the copies only have to
 * agree when control passes from one side to the other: every message carries the frames its
 * sender changed since the other side last saw them, and the receiver applies them before
 * anything else. Both sides use this class; they differ in the prefix of the handles they make.
 */
export class FrameTable {
  private readonly prefix: string;
  private readonly byHandle = new Map<FrameHandle, Frame>();
  private readonly handles = new WeakMap<Frame, FrameHandle>();
  /** Each frame's contents as the other side last saw them (absent: never sent). */
  private readonly seen = new Map<FrameHandle, Buffer>();
  private readonly create: () => Frame;
  private next = 1;

  /** `prefix`: 'h' on the harness side, 'a' on the adapter side; `create` makes a frame for a handle the other side named. */
  constructor(prefix: 'h' | 'a', create: () => Frame) {
    this.prefix = prefix;
    this.create = create;
  }

  /** How many frames are shared. */
  get size(): number {
    return this.byHandle.size;
  }

  /** The handle of a frame, naming it now if it has none. */
  handleOf(frame: Frame): FrameHandle {
    let handle = this.handles.get(frame);
    if (handle === undefined) {
      handle = `${this.prefix}${this.next++}`;
      this.byHandle.set(handle, frame);
      this.handles.set(frame, handle);
    }
    return handle;
  }

  /** The frame a handle names, if it is known. */
  frameOf(handle: FrameHandle): Frame | undefined {
    return this.byHandle.get(handle);
  }

  /** The frames whose contents the other side has not seen (new frames included), as updates to send; undefined when there are none. */
  changes(): FrameUpdates | undefined {
    let out: Record<FrameHandle, string> | undefined;
    for (const [handle, frame] of this.byHandle) {
      const bytes = Buffer.from(frame.bytes.buffer, frame.bytes.byteOffset, frame.bytes.byteLength);
      const before = this.seen.get(handle);
      if (before && before.equals(bytes)) continue;
      (out ??= {})[handle] = hexOf(frame.bytes);
      this.seen.set(handle, Buffer.from(bytes));
    }
    return out;
  }

  /**
   * Applies the other side's updates: a handle in the other side's namespace that is new here
   * becomes a new frame. Writes go through writeToFrame, so every memory holding the frame marks
   * it dirty as a store by the adapter in process would.
   */
  apply(updates: unknown): void {
    if (updates === undefined) return;
    if (typeof updates !== 'object' || updates === null || Array.isArray(updates)) throw new ProtocolViolation('"frames" must be an object of frame handles to hex contents');
    for (const [handle, text] of Object.entries(updates as Record<string, unknown>)) {
      const bytes = bytesOfHex(text);
      if (!bytes || bytes.length !== PAGE_SIZE) throw new ProtocolViolation(`"frames"."${handle}" must be ${PAGE_SIZE} bytes as hex`);
      let frame = this.byHandle.get(handle);
      if (!frame) {
        if (!/^[ah][1-9]\d*$/.test(handle) || handle.startsWith(this.prefix)) throw new ProtocolViolation(`"frames" names frame ${JSON.stringify(handle)}, which this side never handed out`);
        frame = this.create();
        this.byHandle.set(handle, frame);
        this.handles.set(frame, handle);
      }
      writeToFrame(frame, 0, bytes);
      this.seen.set(handle, Buffer.from(bytes));
    }
  }

  /** The frame a handle in a message names; a handle nobody handed out is a {@link ProtocolViolation}. */
  require(handle: FrameHandle): Frame {
    const frame = this.byHandle.get(handle);
    if (!frame) throw new ProtocolViolation(`unknown frame handle ${JSON.stringify(handle)} (a frame is known once its contents were sent in "frames")`);
    return frame;
  }
}
