import { CONSOLEIO } from '../abi/console_io';
import { arg, readGuestBytes } from '../guestAccess';
import { OK, errno, type XenOutcome } from '../outcome';
import type { XenDomain } from '../domain';
import { defineHypercall, type HypercallContext } from './types';

/** Guest bytes are copied 127 at a time (kbuf[128]). */
const CHUNK = 127;

/** Xen's isprint (xen/lib/ctype.c) or '\t': 0x20-0x7e, 0xa0-0xff, tab. */
function printable(c: number): boolean {
  return (c >= 0x20 && c <= 0x7e) || c >= 0xa0 || c === 0x09;
}

/** Emits a finished line as guest_printk does: "(dN) " + text + "\n". */
function emitLine(d: XenDomain, text: number[]): void {
  const prefix = `(d${d.domid}) `;
  const bytes = new Uint8Array(prefix.length + text.length + 1);
  for (let i = 0; i < prefix.length; i++) bytes[i] = prefix.charCodeAt(i);
  bytes.set(text, prefix.length);
  bytes[bytes.length - 1] = 0x0a;
  d.machine.console.write(bytes);
}

/**
 * guest_console_write (xen/drivers/char/console.c) for a domU: strip non-printable bytes, buffer
 * until a newline, or until the line buffer would overflow, which forces a line break.
 */
function guestConsoleWrite(ctx: HypercallContext, buffer: bigint, count: number): XenOutcome {
  const { xen, d } = ctx;
  const bufferSize = xen.profile.consoleLineBuffer;
  let ptr = buffer;
  let left = count;
  while (left > 0) {
    const kcount = Math.min(left, CHUNK);
    const chunk = readGuestBytes(d, ptr, kcount);
    if (!chunk) return errno('XEN_EFAULT');
    const kept: number[] = [];
    let consumed = 0;
    let newline = false;
    for (const c of chunk) {
      consumed++;
      if (c === 0x0a) {
        newline = true;
        break;
      }
      if (printable(c)) kept.push(c);
    }
    if (!newline && d.consoleLine.length + kept.length < bufferSize - 1) {
      d.consoleLine.push(...kept);
    } else {
      emitLine(d, [...d.consoleLine, ...kept]);
      d.consoleLine = [];
    }
    ptr += BigInt(consumed);
    left -= consumed;
  }
  return OK;
}

/** HYPERVISOR_console_io(unsigned cmd, unsigned count, char *buffer): xen/drivers/char/console.c do_console_io. */
export const console_io = defineHypercall({
  name: 'console_io',
  guests: ['pv', 'pvhvm'],
  source: 'xen/drivers/char/console.c do_console_io, guest_console_write; xen/include/xsm/dummy.h xsm_console_io',
  handler(ctx, args) {
    const cmd = arg.uint(args[0]);
    const count = arg.uint(args[1]);
    // xsm_console_io comes before the switch: a domU may only write, and only in a debug build
    // (CONFIG_VERBOSE_DEBUG); everything else, unknown commands included, is -EPERM.
    if (cmd !== CONSOLEIO.CONSOLEIO_write || ctx.xen.config.build !== 'debug') return errno('XEN_EPERM');
    return guestConsoleWrite(ctx, args[2], count);
  },
});
