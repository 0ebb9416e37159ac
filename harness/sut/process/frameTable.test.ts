import { newFrame, writeToFrame, GuestMemory, asGfn } from '../index';
import { FrameTable } from './frameTable';

/*
 * Shared frames (docs/adapter-protocol.md "Frames"): two tables, one per side, kept equal by the
 * updates each message carries, as the protocol passes them back and forth.
 */

test('a frame handed out travels with its contents; later changes travel from whichever side made them', () => {
  const harness = new FrameTable('h', newFrame);
  const adapter = new FrameTable('a', newFrame);
  const guestFrame = newFrame();
  guestFrame.bytes[5] = 0x55;
  // The harness answers platform.frameOf with a handle, and the frame's contents go with it.
  const handle = harness.handleOf(guestFrame);
  expect(handle).toBe('h1');
  adapter.apply(harness.changes());
  const copy = adapter.frameOf(handle);
  expect(copy?.bytes[5]).toBe(0x55);
  // Nothing changed: nothing to send.
  expect(harness.changes()).toBeUndefined();
  expect(adapter.changes()).toBeUndefined();
  // The adapter writes (a grant copy): its next message carries the frame, and the harness's
  // memories holding it see a store.
  const memory = new GuestMemory({ ramPages: 4, addressSpacePages: 8 });
  memory.mapForeign(asGfn(6), guestFrame, true);
  memory.takeDirty();
  writeToFrame(copy as NonNullable<typeof copy>, 100, Uint8Array.of(1, 2, 3));
  harness.apply(adapter.changes());
  expect([...guestFrame.bytes.subarray(100, 103)]).toEqual([1, 2, 3]);
  expect([...memory.takeDirty()]).toContain(6);
  expect(adapter.changes()).toBeUndefined();
  expect(harness.changes()).toBeUndefined();
});

test('an adapter frame named for the first time (mapForeign) arrives under its own handle', () => {
  const harness = new FrameTable('h', newFrame);
  const adapter = new FrameTable('a', newFrame);
  const dom0Page = newFrame();
  dom0Page.bytes.fill(0xaa);
  expect(adapter.handleOf(dom0Page)).toBe('a1');
  harness.apply(adapter.changes());
  expect(harness.require('a1').bytes.every((b) => b === 0xaa)).toBe(true);
  expect(harness.handleOf(harness.require('a1'))).toBe('a1');
});

test('handles nobody handed out and contents of the wrong size are refused', () => {
  const harness = new FrameTable('h', newFrame);
  expect(() => harness.require('h9')).toThrow('unknown frame handle "h9"');
  expect(() => harness.apply({ h3: '00'.repeat(4096) })).toThrow('"frames" names frame "h3", which this side never handed out');
  expect(() => harness.apply({ a1: '00' })).toThrow('"frames"."a1" must be 4096 bytes as hex');
  expect(() => harness.apply([1])).toThrow('"frames" must be an object');
});
