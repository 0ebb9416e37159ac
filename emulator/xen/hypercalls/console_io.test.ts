import { CONSOLEIO } from '../abi/console_io';
import type { XenDomainOptions } from '../config';
import { XEN_PROFILE_NAMES } from '../profiles';
import { E, XenTestGuest } from '../xenTestkit';

const CONSOLE = 'xen/drivers/char/console.c';
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: copy_from_guest faults

const guest = (xen: XenDomainOptions = {}) => new XenTestGuest({ xen });

/** Bytes of a Latin-1 string. */
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Places `bytes` in guest memory and issues CONSOLEIO_write for all of them. */
function write(g: XenTestGuest, bytes: Uint8Array | string, cmd: number | bigint = CONSOLEIO.CONSOLEIO_write): bigint {
  const data = typeof bytes === 'string' ? latin1(bytes) : bytes;
  const at = g.alloc(data.length);
  g.write(at, data);
  return g.ret('console_io', cmd, data.length, at);
}

/** Places `bytes` so that they end exactly where guest memory ends (just after grant frame 0). */
function beforeHole(g: XenTestGuest, bytes: string): bigint {
  const hole = (g.xen.memoryMap.grantTableGfn + 1) * 4096;
  expect(g.machine.memory.isPopulated(hole / 4096)).toBe(false);
  const at = BigInt(hole - bytes.length);
  g.write(at, latin1(bytes));
  return at;
}

const out = (g: XenTestGuest) => g.machine.console.text();

describe(`CONSOLEIO_write, debug build (${CONSOLE} guest_console_write, guest_printk)`, () => {
  test('a line ending in a newline is printed with the "(dN) " prefix and the call returns 0, not a byte count', () => {
    const g = guest();
    expect(write(g, 'hello world\n')).toBe(0n);
    expect(out(g)).toBe('(d1) hello world\n');
  });

  test('the prefix carries the domain id', () => {
    const g = guest({ domid: 7 });
    write(g, 'x\n');
    expect(out(g)).toBe('(d7) x\n');
  });

  test('an HVM guest writes the same way', () => {
    const g = guest({ guestType: 'pvhvm' });
    expect(write(g, 'hvm\n')).toBe(0n);
    expect(out(g)).toBe('(d1) hvm\n');
  });

  test('text without a newline is buffered per domain until a newline arrives, across calls', () => {
    const g = guest();
    expect(write(g, 'abc')).toBe(0n);
    expect(write(g, 'def')).toBe(0n);
    expect(out(g)).toBe('');
    write(g, 'gh\n');
    expect(out(g)).toBe('(d1) abcdefgh\n');
  });

  test('a lone newline prints an empty line', () => {
    const g = guest();
    write(g, '\n\n');
    expect(out(g)).toBe('(d1) \n(d1) \n');
  });

  test('several lines in one call are printed separately; the tail stays buffered', () => {
    const g = guest();
    write(g, 'one\ntwo\nthr');
    expect(out(g)).toBe('(d1) one\n(d1) two\n');
    write(g, 'ee\n');
    expect(out(g)).toBe('(d1) one\n(d1) two\n(d1) three\n');
  });

  test('non-printable bytes are dropped: control characters, DEL, 0x80-0x9f and NUL; tab, 0x20-0x7e and 0xa0-0xff are kept', () => {
    const g = guest();
    write(g, '\x01a\tb\x7fc\x80d\x9fe\xa0f\xffg\x1b[0m\r\x00h\n');
    expect(out(g)).toBe('(d1) a\tbcde\xa0f\xffg[0mh\n');
  });

  test('every byte value but newline is either kept or dropped by the is_console_printable rule', () => {
    const g = guest();
    let expected = '';
    for (let b = 0; b < 256; b++) {
      if (b === 0x0a) continue;
      write(g, Uint8Array.of(b, 0x0a));
      const kept = (b >= 0x20 && b <= 0x7e) || b >= 0xa0 || b === 0x09;
      expected += `(d1) ${kept ? String.fromCharCode(b) : ''}\n`;
    }
    expect(out(g)).toBe(expected);
  });

  test('a count of 0 returns 0, prints nothing and does not read the buffer', () => {
    const g = guest();
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_write, 0, BAD_PTR)).toBe(0n);
    expect(out(g)).toBe('');
  });

  test('only count bytes are taken; count is an unsigned int (the upper 32 bits are ignored)', () => {
    const g = guest();
    const at = g.alloc(16);
    g.write(at, latin1('abcdefgh\n'));
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_write, 3, at)).toBe(0n);
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_write, 0x1_0000_0002n, at + 7n)).toBe(0n);
    expect(out(g)).toBe('(d1) abch\n');
  });

  test('cmd is an unsigned int: the upper 32 bits are ignored', () => {
    const g = guest();
    expect(write(g, 'ok\n', 0x1_0000_0000n | BigInt(CONSOLEIO.CONSOLEIO_write))).toBe(0n);
    expect(out(g)).toBe('(d1) ok\n');
  });

  test('a newline inside a long write splits it into lines regardless of 127-byte chunks', () => {
    const g = guest();
    write(g, `${'a'.repeat(130)}\n${'b'.repeat(126)}\nc`);
    expect(out(g)).toBe(`(d1) ${'a'.repeat(130)}\n(d1) ${'b'.repeat(126)}\n`);
  });

  test('xen-4.22: the buffer check is per 127-byte chunk: 300 bytes with no newline are printed as one forced line (buffered 254 + 46 >= 255)', () => {
    const g = guest();
    write(g, 'x'.repeat(300));
    expect(out(g)).toBe(`(d1) ${'x'.repeat(300)}\n`);
  });

  test('xen-4.17 and 4.18 (200-byte pbuf): the second 127-byte chunk forces the line out, the third stays buffered', () => {
    for (const profile of ['xen-4.17', 'xen-4.18'] as const) {
      const g = guest({ profile });
      write(g, 'x'.repeat(300));
      expect(out(g)).toBe(`(d1) ${'x'.repeat(254)}\n`);
      write(g, '\n');
      expect(out(g)).toBe(`(d1) ${'x'.repeat(254)}\n(d1) ${'x'.repeat(46)}\n`);
    }
  });

  test.each([
    ['xen-4.22', 256],
    ['xen-4.18', 200],
    ['xen-4.17', 200],
  ] as const)('%s: text is buffered while buffered + kept < %s - 1; reaching that forces a line break with a synthesised newline', (profile, size) => {
    const g = guest({ profile });
    write(g, 'y'.repeat(size - 3)); // two chunks (127 + the rest), both buffered
    expect(out(g)).toBe('');
    write(g, 'z'); // size - 2 buffered: still below size - 1
    expect(out(g)).toBe('');
    write(g, 'w'); // size - 2 + 1 is not below size - 1
    expect(out(g)).toBe(`(d1) ${'y'.repeat(size - 3)}zw\n`);
    write(g, 'next\n');
    expect(out(g)).toBe(`(d1) ${'y'.repeat(size - 3)}zw\n(d1) next\n`);
  });

  test('dropped bytes do not count towards the line buffer', () => {
    const g = guest();
    // 127 bytes of which only 1 is printable, many times over: nothing is forced out.
    const chunk = new Uint8Array(127).fill(0x01);
    chunk[0] = 0x41;
    for (let i = 0; i < 200; i++) write(g, chunk);
    expect(out(g)).toBe('');
    write(g, '\n');
    expect(out(g)).toBe(`(d1) ${'A'.repeat(200)}\n`);
  });

  test('an unreadable buffer is -EFAULT', () => {
    const g = guest();
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_write, 10, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(out(g)).toBe('');
  });

  test('a fault in a later chunk is -EFAULT; the earlier chunks were already consumed into the line buffer', () => {
    const g = guest();
    const at = beforeHole(g, 'p'.repeat(127)); // exactly one chunk before the hole
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_write, 137, at)).toBe(E('XEN_EFAULT'));
    expect(out(g)).toBe('');
    write(g, '\n');
    expect(out(g)).toBe(`(d1) ${'p'.repeat(127)}\n`);
  });

  test('a chunk ends at its first newline: the line is printed, the next chunk starts after it and faults', () => {
    const g = guest();
    const at = beforeHole(g, `line\n${'q'.repeat(122)}`); // 127 readable bytes
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_write, 130, at)).toBe(E('XEN_EFAULT')); // 125 left from after the newline
    expect(out(g)).toBe('(d1) line\n');
    write(g, '\n'); // the q's were never consumed
    expect(out(g)).toBe('(d1) line\n(d1) \n');
  });

  test('a chunk that itself runs into the hole is not consumed at all', () => {
    const g = guest();
    const at = beforeHole(g, 'abc\n');
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_write, 5, at)).toBe(E('XEN_EFAULT'));
    expect(out(g)).toBe('');
  });
});

describe(`CONSOLEIO_write, release build (${CONSOLE} do_console_io; xen/include/xsm/dummy.h xsm_console_io)`, () => {
  test.each(XEN_PROFILE_NAMES)('%s: without CONFIG_VERBOSE_DEBUG a domU may not write: -EPERM, nothing printed, even for count 0', (profile) => {
    const g = guest({ profile, build: 'release' });
    expect(write(g, 'hello\n')).toBe(E('XEN_EPERM'));
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_write, 0, 0)).toBe(E('XEN_EPERM'));
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_write, 10, BAD_PTR)).toBe(E('XEN_EPERM'));
    expect(out(g)).toBe('');
  });

  test('the line buffer is untouched by a refused write', () => {
    const g = guest({ build: 'release', guestType: 'pvhvm' });
    write(g, 'abc');
    expect(g.xen.guest.consoleLine).toEqual([]);
  });
});

describe(`CONSOLEIO_read and unknown commands (${CONSOLE} do_console_io; xen/include/xsm/dummy.h xsm_console_io)`, () => {
  test.each(['debug', 'release'] as const)('%s build: CONSOLEIO_read is -EPERM for a domU (XSM_PRIV)', (build) => {
    const g = guest({ build });
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_read, 16, g.alloc(16))).toBe(E('XEN_EPERM'));
    expect(g.ret('console_io', CONSOLEIO.CONSOLEIO_read, 0x8000_0000, BAD_PTR)).toBe(E('XEN_EPERM'));
  });

  test.each(['debug', 'release'] as const)('%s build: an unknown command is -EPERM, not -ENOSYS: the XSM check comes before the switch', (build) => {
    const g = guest({ build });
    for (const cmd of [2, 3, 0x7fff_ffff, 0xffff_ffff]) expect(g.ret('console_io', cmd, 4, g.alloc(4))).toBe(E('XEN_EPERM'));
    expect(out(g)).toBe('');
  });
});
