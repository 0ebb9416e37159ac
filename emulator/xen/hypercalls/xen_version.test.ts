import { XENVER, XENFEAT } from '../abi/version';
import { VMASST } from '../abi/mmuext';
import { gnttab_map_grant_ref, xen_feature_info } from '../abi/layouts';
import { GNTMAP, GNTST, GNTTABOP } from '../abi/grant_table';
import { isFault } from '../../machine/memory';
import type { GuestType } from '../config';
import { XEN_PROFILE_NAMES, type XenProfileName } from '../profiles';
import { E, XenTestGuest } from '../xenTestkit';

const KERNEL = 'xen/common/kernel.c';
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: every copy faults
const FILL = 0xee;

const CAPABILITIES = 'xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 ';
const CHANGESET = 'xvc Xen model';
const GUEST_HANDLE = 'xvc-guest-domain';

const guest = (profile: XenProfileName = 'xen-4.22', guestType: GuestType = 'pv', build: 'debug' | 'release' = 'debug') =>
  new XenTestGuest({ xen: { profile, guestType, build } });
const ver = (g: XenTestGuest, cmd: number | bigint, arg: bigint = 0n) => g.ret('xen_version', cmd, arg);

/** Bytes of a Latin-1 string. */
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** A string NUL-padded to `size` bytes, followed by `after` bytes of the FILL pattern (to catch overruns). */
function padded(text: string, size: number, after = 8): Uint8Array {
  const out = new Uint8Array(size + after).fill(FILL);
  out.fill(0, 0, size);
  out.set(latin1(text), 0);
  return out;
}

/** `len` bytes of guest memory filled with the FILL pattern. */
function filled(g: XenTestGuest, len: number): bigint {
  const at = g.alloc(len);
  g.write(at, new Uint8Array(len).fill(FILL));
  return at;
}

function read(g: XenTestGuest, at: bigint | number, len: number): Uint8Array {
  const bytes = g.machine.memory.readBytes(Number(at), len);
  if (isFault(bytes)) throw new Error('test read faulted');
  return bytes;
}

/** The address `len` bytes before the first frame without a page (just after grant frame 0). */
function beforeHole(g: XenTestGuest, len: number): number {
  const hole = (g.xen.memoryMap.grantTableGfn + 1) * 4096;
  expect(g.machine.memory.isPopulated(hole / 4096)).toBe(false);
  g.write(BigInt(hole - len), new Uint8Array(len).fill(FILL));
  return hole - len;
}

/** A xen_varbuf in guest memory: u32 len, then `room` bytes of the FILL pattern. */
function varbuf(g: XenTestGuest, len: number, room: number): bigint {
  const at = filled(g, 4 + room);
  g.machine.memory.write32(Number(at), len);
  return at;
}

describe(`XENVER_version (${KERNEL} do_xen_version)`, () => {
  test.each([
    ['xen-4.22', 0x0004_0016n],
    ['xen-4.18', 0x0004_0012n],
    ['xen-4.17', 0x0004_0011n],
  ] as const)('%s returns (major << 16) | minor = %s for PV and HVM; the argument is not used', (profile, value) => {
    expect(ver(guest(profile, 'pv'), XENVER.XENVER_version, BAD_PTR)).toBe(value);
    expect(ver(guest(profile, 'pvhvm'), XENVER.XENVER_version)).toBe(value);
  });

  test('cmd is an int: the upper 32 bits of the register are ignored', () => {
    expect(ver(guest(), 0x1_0000_0000n | BigInt(XENVER.XENVER_version))).toBe(0x0004_0016n);
    expect(ver(guest(), 0xffff_ffff_0000_0007n)).toBe(4096n); // XENVER_pagesize
  });
});

describe(`XENVER_extraversion (${KERNEL} do_xen_version)`, () => {
  test.each(XEN_PROFILE_NAMES)('%s copies xen_extraversion_t: ".0" NUL-padded to 16 bytes, nothing beyond', (profile) => {
    const g = guest(profile);
    const at = filled(g, 24);
    expect(ver(g, XENVER.XENVER_extraversion, at)).toBe(0n);
    expect(read(g, at, 24)).toEqual(padded('.0', 16));
  });

  test('an unwritable buffer is -EFAULT', () => {
    expect(ver(guest(), XENVER.XENVER_extraversion, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(ver(guest('xen-4.22', 'pvhvm'), XENVER.XENVER_extraversion, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test('a buffer running into a missing page is -EFAULT after the bytes before the hole were written (copy_to_guest stops at the fault)', () => {
    const g = guest();
    const at = beforeHole(g, 8);
    expect(ver(g, XENVER.XENVER_extraversion, BigInt(at))).toBe(E('XEN_EFAULT'));
    expect(read(g, at, 8)).toEqual(padded('.0', 8, 0));
  });
});

describe(`XENVER_compile_info (${KERNEL} do_xen_version)`, () => {
  test('copies xen_compile_info_t (144 bytes): compiler[64] @0, compile_by[16] @64, compile_domain[32] @80, compile_date[32] @112, each NUL-padded', () => {
    const g = guest();
    const at = filled(g, 152);
    expect(ver(g, XENVER.XENVER_compile_info, at)).toBe(0n);
    const out = read(g, at, 152);
    expect(out.subarray(0, 64)).toEqual(padded('gcc (Debian 12.2.0-14+deb12u1) 12.2.0', 64, 0));
    expect(out.subarray(64, 80)).toEqual(padded('xvc', 16, 0));
    expect(out.subarray(80, 112)).toEqual(padded('model.invalid', 32, 0));
    expect(out.subarray(112, 144)).toEqual(padded('Thu Jan  1 00:00:00 UTC 2026', 32, 0));
    expect(out.subarray(144)).toEqual(new Uint8Array(8).fill(FILL));
  });

  test('an unwritable buffer is -EFAULT', () => {
    expect(ver(guest(), XENVER.XENVER_compile_info, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe(`XENVER_capabilities (${KERNEL} do_xen_version; xen/arch/x86/setup.c)`, () => {
  test.each(['pv', 'pvhvm'] as const)('%s: the host-wide string (PV64 and HVM, no PV32), each token ending in a space, NUL-padded to 1024 bytes', (guestType) => {
    for (const profile of XEN_PROFILE_NAMES) {
      const g = guest(profile, guestType);
      const at = filled(g, 1032);
      expect(ver(g, XENVER.XENVER_capabilities, at)).toBe(0n);
      expect(read(g, at, 1032)).toEqual(padded(CAPABILITIES, 1024));
    }
  });

  test('an unwritable buffer is -EFAULT', () => {
    expect(ver(guest(), XENVER.XENVER_capabilities, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe(`XENVER_changeset (${KERNEL} do_xen_version)`, () => {
  test('copies xen_changeset_info_t: the changeset NUL-padded to 64 bytes', () => {
    const g = guest('xen-4.17', 'pvhvm');
    const at = filled(g, 72);
    expect(ver(g, XENVER.XENVER_changeset, at)).toBe(0n);
    expect(read(g, at, 72)).toEqual(padded(CHANGESET, 64));
  });

  test('an unwritable buffer is -EFAULT', () => {
    expect(ver(guest(), XENVER.XENVER_changeset, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe(`XENVER_platform_parameters (${KERNEL} do_xen_version)`, () => {
  const VIRT_START = 0xffff_8000_0000_0000n; // HYPERVISOR_VIRT_START, x86_64
  test.each([
    // 4.18+: only a 64-bit PV guest of a release build keeps the (useless) value.
    ['xen-4.22', 'pv', 'release', VIRT_START],
    ['xen-4.22', 'pv', 'debug', 0n],
    ['xen-4.22', 'pvhvm', 'release', 0n],
    ['xen-4.22', 'pvhvm', 'debug', 0n],
    ['xen-4.18', 'pv', 'release', VIRT_START],
    ['xen-4.18', 'pv', 'debug', 0n],
    ['xen-4.18', 'pvhvm', 'release', 0n],
    ['xen-4.18', 'pvhvm', 'debug', 0n],
    // 4.17: HYPERVISOR_VIRT_START for every 64-bit caller.
    ['xen-4.17', 'pv', 'release', VIRT_START],
    ['xen-4.17', 'pv', 'debug', VIRT_START],
    ['xen-4.17', 'pvhvm', 'release', VIRT_START],
    ['xen-4.17', 'pvhvm', 'debug', VIRT_START],
  ] as const)('%s %s %s build: virt_start = %s', (profile, guestType, build, virtStart) => {
    const g = guest(profile, guestType, build);
    const at = filled(g, 16);
    expect(ver(g, XENVER.XENVER_platform_parameters, at)).toBe(0n);
    expect(g.getU64s(at, 2)).toEqual([virtStart, 0xeeee_eeee_eeee_eeeen]);
  });

  test('an unwritable buffer is -EFAULT', () => {
    expect(ver(guest('xen-4.22', 'pv', 'release'), XENVER.XENVER_platform_parameters, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(ver(guest('xen-4.17', 'pvhvm'), XENVER.XENVER_platform_parameters, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe(`XENVER_get_features (${KERNEL} do_xen_version)`, () => {
  const features = (g: XenTestGuest, submapIdx = 0) => {
    const at = g.put(xen_feature_info, { submap_idx: submapIdx, submap: 0xffff_ffff });
    return { rc: ver(g, XENVER.XENVER_get_features, at), out: g.get(xen_feature_info, at) };
  };
  const bits = (...n: number[]) => n.reduce((m, b) => m | (1 << b), 0) >>> 0;
  const F = XENFEAT;

  test.each([
    ['xen-4.22', 'pv', 0x001e_20e0],
    ['xen-4.22', 'pvhvm', 0x001d_2305],
    ['xen-4.18', 'pv', 0x000e_20e0],
    ['xen-4.18', 'pvhvm', 0x000d_2305],
    ['xen-4.17', 'pv', 0x0002_20e0],
    ['xen-4.17', 'pvhvm', 0x0001_2305],
  ] as const)('%s %s: submap 0 is %s', (profile, guestType, submap) => {
    expect(features(guest(profile, guestType))).toEqual({ rc: 0n, out: { submap_idx: 0, submap } });
  });

  test('the submaps are made of: PV 5, 6, 7, 17; HVM 0, 2, 8, 9, 16; both 13; 18 and 19 from 4.18; 20 from 4.20', () => {
    const common = [F.XENFEAT_memory_op_vnode_supported];
    const pv = [F.XENFEAT_mmu_pt_update_preserve_ad, F.XENFEAT_highmem_assist, F.XENFEAT_gnttab_map_avail_bits, F.XENFEAT_direct_mapped];
    const hvm = [F.XENFEAT_writable_page_tables, F.XENFEAT_auto_translated_physmap, F.XENFEAT_hvm_callback_vector, F.XENFEAT_hvm_safe_pvclock, F.XENFEAT_not_direct_mapped];
    const v418 = [F.XENFEAT_runstate_phys_area, F.XENFEAT_vcpu_time_phys_area];
    const v420 = [F.XENFEAT_dm_msix_all_writes];
    expect(features(guest('xen-4.17', 'pv')).out.submap).toBe(bits(...common, ...pv));
    expect(features(guest('xen-4.17', 'pvhvm')).out.submap).toBe(bits(...common, ...hvm));
    expect(features(guest('xen-4.18', 'pv')).out.submap).toBe(bits(...common, ...pv, ...v418));
    expect(features(guest('xen-4.22', 'pvhvm')).out.submap).toBe(bits(...common, ...hvm, ...v418, ...v420));
  });

  test.each(XEN_PROFILE_NAMES)('%s: with the pae_extended_cr3 vm_assist on, a PV guest also sees XENFEAT_pae_pgdir_above_4gb (bit 4)', (profile) => {
    const g = guest(profile, 'pv');
    const before = features(g).out.submap;
    expect(g.ret('vm_assist', VMASST.VMASST_CMD_enable, VMASST.VMASST_TYPE_pae_extended_cr3)).toBe(0n);
    expect(features(g).out.submap).toBe((before | 0x10) >>> 0);
    expect(before & 0x10).toBe(0);
  });

  test('a submap_idx other than 0 is -EINVAL and the struct is left alone', () => {
    for (const idx of [1, 2, 0xffff_ffff]) {
      const g = guest();
      expect(features(g, idx)).toEqual({ rc: E('XEN_EINVAL'), out: { submap_idx: idx, submap: 0xffff_ffff } });
    }
  });

  test('an unreadable argument is -EFAULT', () => {
    expect(ver(guest(), XENVER.XENVER_get_features, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(ver(guest('xen-4.22', 'pvhvm'), XENVER.XENVER_get_features, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test('an argument that can be read but not written is -EFAULT (the copy back fails)', () => {
    const g = guest();
    expect(g.xen.peerActions.grantAccess(10, 9, true)).toBe(true);
    const map = g.put(gnttab_map_grant_ref, { host_addr: 0x300n << 12n, flags: GNTMAP.GNTMAP_host_map | GNTMAP.GNTMAP_readonly, ref: 10, dom: 0 });
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, map, 1)).toBe(0n);
    expect(g.get(gnttab_map_grant_ref, map).status).toBe(GNTST.GNTST_okay);
    expect(ver(g, XENVER.XENVER_get_features, 0x300n << 12n)).toBe(E('XEN_EFAULT'));
    expect(g.get(xen_feature_info, 0x300n << 12n)).toEqual({ submap_idx: 0, submap: 0 });
  });
});

describe(`XENVER_pagesize (${KERNEL} do_xen_version)`, () => {
  test('a NULL argument returns PAGE_SIZE (4096)', () => {
    expect(ver(guest(), XENVER.XENVER_pagesize, 0n)).toBe(4096n);
    expect(ver(guest('xen-4.17', 'pvhvm'), XENVER.XENVER_pagesize, 0n)).toBe(4096n);
  });

  test('any other argument is -EINVAL, valid memory or not, and nothing is written', () => {
    const g = guest();
    const at = filled(g, 8);
    expect(ver(g, XENVER.XENVER_pagesize, at)).toBe(E('XEN_EINVAL'));
    expect(ver(g, XENVER.XENVER_pagesize, BAD_PTR)).toBe(E('XEN_EINVAL'));
    expect(read(g, at, 8)).toEqual(new Uint8Array(8).fill(FILL));
  });
});

describe(`XENVER_guest_handle (${KERNEL} do_xen_version)`, () => {
  test('copies the 16-byte domain handle, nothing beyond', () => {
    for (const guestType of ['pv', 'pvhvm'] as const) {
      const g = guest('xen-4.22', guestType);
      const at = filled(g, 24);
      expect(ver(g, XENVER.XENVER_guest_handle, at)).toBe(0n);
      expect(read(g, at, 24)).toEqual(padded(GUEST_HANDLE, 16));
    }
  });

  test('an unwritable buffer is -EFAULT', () => {
    expect(ver(guest(), XENVER.XENVER_guest_handle, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe(`XENVER_commandline (${KERNEL} do_xen_version; xen/include/xsm/dummy.h xsm_xen_version)`, () => {
  test.each(XEN_PROFILE_NAMES)('%s: denied to a domU, which gets "<denied>" and its NUL (9 bytes) and a return of 0', (profile) => {
    const g = guest(profile);
    const at = filled(g, 1024);
    expect(ver(g, XENVER.XENVER_commandline, at)).toBe(0n);
    expect(read(g, at, 12)).toEqual(padded('<denied>', 9, 3));
  });

  test('an unwritable buffer is -EFAULT', () => {
    expect(ver(guest(), XENVER.XENVER_commandline, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe(`XENVER_build_id (${KERNEL} do_xen_version)`, () => {
  test.each(XEN_PROFILE_NAMES)('%s: denied to a domU: -EPERM, NULL argument or not', (profile) => {
    const g = guest(profile);
    expect(ver(g, XENVER.XENVER_build_id, 0n)).toBe(E('XEN_EPERM'));
    expect(ver(g, XENVER.XENVER_build_id, varbuf(g, 64, 64))).toBe(E('XEN_EPERM'));
    expect(ver(guest(profile, 'pvhvm'), XENVER.XENVER_build_id, BAD_PTR)).toBe(E('XEN_EPERM'));
  });
});

describe(`XENVER_extraversion2 / capabilities2 / changeset2 (${KERNEL} xenver_varbuf_op, Xen 4.20+)`, () => {
  const ops = [
    ['extraversion2', XENVER.XENVER_extraversion2, '.0'],
    ['capabilities2', XENVER.XENVER_capabilities2, CAPABILITIES],
    ['changeset2', XENVER.XENVER_changeset2, CHANGESET],
  ] as const;

  test.each(ops)('%s with a NULL argument returns the string length without its NUL', (_name, cmd, text) => {
    expect(ver(guest(), cmd, 0n)).toBe(BigInt(text.length));
    expect(ver(guest('xen-4.22', 'pvhvm'), cmd, 0n)).toBe(BigInt(text.length));
  });

  test('the lengths are 2, 61 and 13', () => {
    expect([ver(guest(), XENVER.XENVER_extraversion2), ver(guest(), XENVER.XENVER_capabilities2), ver(guest(), XENVER.XENVER_changeset2)]).toEqual([2n, 61n, 13n]);
  });

  test.each(ops)('%s copies the string (no NUL) after the len field, returns its length and leaves len alone', (_name, cmd, text) => {
    const g = guest();
    const at = varbuf(g, text.length, text.length + 8);
    expect(ver(g, cmd, at)).toBe(BigInt(text.length));
    expect(g.machine.memory.read32(Number(at))).toBe(text.length);
    const expected = new Uint8Array(text.length + 8).fill(FILL);
    expected.set(latin1(text));
    expect(read(g, at + 4n, text.length + 8)).toEqual(expected);
  });

  test.each(ops)('%s with a larger buffer still copies only the string', (_name, cmd, text) => {
    const g = guest();
    const at = varbuf(g, 4096, 200);
    expect(ver(g, cmd, at)).toBe(BigInt(text.length));
    expect(read(g, at + 4n + BigInt(text.length), 200 - text.length)).toEqual(new Uint8Array(200 - text.length).fill(FILL));
  });

  test.each(ops)('%s with len smaller than the string is -ENOBUFS and nothing is written', (_name, cmd, text) => {
    const g = guest();
    const at = varbuf(g, text.length - 1, 80);
    expect(ver(g, cmd, at)).toBe(E('XEN_ENOBUFS'));
    expect(read(g, at + 4n, 80)).toEqual(new Uint8Array(80).fill(FILL));
    expect(ver(g, cmd, varbuf(g, 0, 8))).toBe(E('XEN_ENOBUFS'));
  });

  test.each(ops)('%s with an unreadable len is -EFAULT', (_name, cmd) => {
    expect(ver(guest(), cmd, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test.each(ops)('%s whose buffer cannot be written is -EFAULT', (_name, cmd, text) => {
    const g = guest();
    const at = beforeHole(g, 4);
    g.machine.memory.write32(at, text.length);
    expect(ver(g, cmd, BigInt(at))).toBe(E('XEN_EFAULT'));
  });

  test.each(['xen-4.18', 'xen-4.17'] as const)('%s has no varbuf sub-ops: -ENOSYS, NULL argument or not', (profile) => {
    const g = guest(profile);
    for (const cmd of [XENVER.XENVER_extraversion2, XENVER.XENVER_capabilities2, XENVER.XENVER_changeset2, XENVER.XENVER_commandline2]) {
      expect(ver(g, cmd, 0n)).toBe(E('XEN_ENOSYS'));
      expect(ver(g, cmd, varbuf(g, 1024, 8))).toBe(E('XEN_ENOSYS'));
    }
  });
});

describe(`XENVER_commandline2 (${KERNEL} do_xen_version)`, () => {
  test('xen-4.22: denied to a domU: -EPERM, before the argument is looked at', () => {
    const g = guest();
    expect(ver(g, XENVER.XENVER_commandline2, 0n)).toBe(E('XEN_EPERM'));
    expect(ver(g, XENVER.XENVER_commandline2, BAD_PTR)).toBe(E('XEN_EPERM'));
    const at = varbuf(g, 1024, 16);
    expect(ver(g, XENVER.XENVER_commandline2, at)).toBe(E('XEN_EPERM'));
    expect(read(g, at + 4n, 16)).toEqual(new Uint8Array(16).fill(FILL));
  });
});

describe(`unknown xen_version commands (${KERNEL} do_xen_version)`, () => {
  test.each(XEN_PROFILE_NAMES)('%s: -ENOSYS, negative commands included', (profile) => {
    const g = guest(profile);
    for (const cmd of [15, 16, 100, 0x7fff_ffff, 0xffff_ffff, 0x8000_0000]) expect(ver(g, cmd, g.alloc(64))).toBe(E('XEN_ENOSYS'));
  });
});
