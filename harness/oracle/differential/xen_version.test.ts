import { decodeStruct, xenAbi, type GuestType, type ViridianProfileName, type XenProfileName } from '../../sut/index';
import { PairGuest } from '../pairTestkit';
import { PAIR_PROFILES } from '../pair';

/*
 * xen_version in both worlds (xen/common/kernel.c do_xen_version; xsm_xen_version in
 * xen/include/xsm/dummy.h). The adapter answers it from the Xen profile ('emulated' in
 * TRANSLATIONS); every sub-op must give the same return value and the same guest memory, and the
 * Xen world must give what Xen gives.
 */

const { XENVER, XENFEAT, VMASST, XEN_ERRNO, GNTTABOP, GNTMAP, GNTST, xen_feature_info, gnttab_map_grant_ref } = xenAbi;
const E = (name: keyof typeof XEN_ERRNO): bigint => -BigInt(XEN_ERRNO[name]);
const K = 'xen/common/kernel.c do_xen_version';
const XEN_PROFILES: readonly XenProfileName[] = ['xen-4.22', 'xen-4.18', 'xen-4.17'];
const GUESTS: readonly GuestType[] = ['pv', 'pvhvm'];
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: every copy faults
const FILL = 0xee;
const CAPABILITIES = 'xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 ';
const CHANGESET = 'xvc Xen model';
const VIRT_START = 0xffff_8000_0000_0000n;

type Opts = { readonly profile?: XenProfileName; readonly guestType?: GuestType; readonly build?: 'debug' | 'release' };
const pair = (vp: ViridianProfileName, o: Opts = {}) =>
  new PairGuest({ viridian: { profile: vp }, xen: { profile: o.profile ?? 'xen-4.22', guestType: o.guestType ?? 'pv', build: o.build ?? 'debug' } });
const ver = (g: PairGuest, cmd: number | bigint, ptr: bigint | number = 0n) => g.ret('xen_version', cmd, ptr);
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** `text` NUL-padded to `size`, then `after` bytes of FILL (an overrun shows). */
function padded(text: string, size: number, after = 8): Uint8Array {
  const out = new Uint8Array(size + after).fill(FILL);
  out.fill(0, 0, size);
  out.set(latin1(text).subarray(0, size), 0);
  return out;
}

/** `len` bytes of FILL in both worlds. */
function filled(g: PairGuest, len: number): bigint {
  const at = g.alloc(len);
  g.write(at, new Uint8Array(len).fill(FILL));
  return at;
}

/** An address `len` bytes before the first frame with no page in either world (just after grant frame 0), filled with FILL. */
function beforeHole(g: PairGuest, len: number): bigint {
  const gfn = g.pair.xen.xen.memoryMap.grantTableGfn + 1;
  expect([g.pair.xen.machine.memory.isPopulated(gfn), g.pair.translated.machine.memory.isPopulated(gfn)]).toEqual([false, false]);
  const at = BigInt(gfn * 4096 - len);
  g.write(at, new Uint8Array(len).fill(FILL));
  return at;
}

/** A xen_varbuf: u32 len, then `room` bytes of FILL. */
function varbuf(g: PairGuest, len: number, room: number): bigint {
  const at = filled(g, 4 + room);
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, len, true);
  g.write(at, head);
  return at;
}

const u64 = (g: PairGuest, at: bigint) => {
  const b = g.read(at, 8);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
};
const features = (g: PairGuest, idx = 0, vcpu = 0) => {
  const at = g.put(xen_feature_info, { submap_idx: idx, submap: 0xffff_ffff });
  return { rc: g.retOn(vcpu, 'xen_version', XENVER.XENVER_get_features, at), out: decodeStruct(g.read(at, 8), xen_feature_info) };
};

/** The copy-out sub-ops: command, the bytes Xen writes. */
const COPIES = [
  ['extraversion', XENVER.XENVER_extraversion, padded('.0', 16, 0)],
  ['capabilities', XENVER.XENVER_capabilities, padded(CAPABILITIES, 1024, 0)],
  ['changeset', XENVER.XENVER_changeset, padded(CHANGESET, 64, 0)],
  ['guest_handle', XENVER.XENVER_guest_handle, latin1('xvc-guest-domain')],
  ['commandline (denied: "<denied>" and its NUL)', XENVER.XENVER_commandline, padded('<denied>', 9, 0)],
] as const;

describe.each(PAIR_PROFILES)('xen_version agrees (Viridian %s)', (vp) => {
  test.each(XEN_PROFILES)(`XENVER_version on %s: (major << 16) | minor for PV and PVHVM, the argument unused, cmd an int (${K})`, (profile) => {
    const minor = { 'xen-4.22': 22n, 'xen-4.18': 18n, 'xen-4.17': 17n }[profile];
    for (const guestType of GUESTS) {
      const g = pair(vp, { profile, guestType });
      expect(ver(g, XENVER.XENVER_version, BAD_PTR)).toBe((4n << 16n) | minor);
      expect(g.retOn(1, 'xen_version', 0x1_0000_0000n | BigInt(XENVER.XENVER_version))).toBe((4n << 16n) | minor);
    }
  });

  test.each(COPIES)(`XENVER_%s copies its fixed-size buffer and nothing beyond, in every Xen profile and guest type (${K})`, (_name, cmd, bytes) => {
    for (const profile of XEN_PROFILES) {
      for (const guestType of GUESTS) {
        const g = pair(vp, { profile, guestType });
        const at = filled(g, bytes.length + 8);
        expect(ver(g, cmd, at)).toBe(0n);
        const expected = new Uint8Array(bytes.length + 8).fill(FILL);
        expected.set(bytes);
        expect(g.read(at, bytes.length + 8)).toEqual(expected);
      }
    }
  });

  test(`XENVER_compile_info: compiler[64], compile_by[16], compile_domain[32], compile_date[32], 144 bytes (${K})`, () => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType });
      const at = filled(g, 152);
      expect(ver(g, XENVER.XENVER_compile_info, at)).toBe(0n);
      const out = g.read(at, 152);
      expect(out.subarray(0, 64)).toEqual(padded('gcc (Debian 12.2.0-14+deb12u1) 12.2.0', 64, 0));
      expect(out.subarray(64, 80)).toEqual(padded('xvc', 16, 0));
      expect(out.subarray(80, 112)).toEqual(padded('model.invalid', 32, 0));
      expect(out.subarray(112, 144)).toEqual(padded('Thu Jan  1 00:00:00 UTC 2026', 32, 0));
      expect(out.subarray(144)).toEqual(new Uint8Array(8).fill(FILL));
    }
  });

  test.each([...COPIES.map(([n, c]) => [n, c] as const), ['compile_info', XENVER.XENVER_compile_info] as const, ['platform_parameters', XENVER.XENVER_platform_parameters] as const])(
    `XENVER_%s to an unmapped buffer is -EFAULT for PV and PVHVM (${K}: copy_to_guest fails)`,
    (_name, cmd) => {
      for (const guestType of GUESTS) expect(ver(pair(vp, { guestType }), cmd, BAD_PTR)).toBe(E('XEN_EFAULT'));
    },
  );

  test(`a buffer running into a missing page: -EFAULT after the bytes before the hole were written (${K}; copy_to_guest stops at the fault)`, () => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType });
      const at = beforeHole(g, 8);
      expect(ver(g, XENVER.XENVER_extraversion, at)).toBe(E('XEN_EFAULT'));
      expect(g.read(at, 8)).toEqual(padded('.0', 8, 0));
      const cap = beforeHole(g, 16);
      expect(ver(g, XENVER.XENVER_capabilities, cap)).toBe(E('XEN_EFAULT'));
      expect(g.read(cap, 16)).toEqual(latin1(CAPABILITIES.slice(0, 16)));
    }
  });

  /** The adapter's input page and SIM page of VP 0 (emulator/adapter/platform/viridianDriver.ts privateLayout): holes in the Xen world. */
  /** The adapter's input and output pages of VP 0: above the guest's space, populated in the translated world only. */
  const adapterFrames = (g: PairGuest) => g.pair.translated.adapter.privateFrames.slice(1, 3);

  test('the frames the adapter keeps for itself lie above the guest\'s space: no page there in the Xen world, one in the translated world', () => {
    const g = pair(vp);
    const guestFrames = g.pair.xen.machine.memory.addressSpacePages;
    for (const gfn of adapterFrames(g)) {
      expect(gfn).toBeGreaterThanOrEqual(guestFrames);
      expect([g.pair.xen.machine.memory.inSpace(gfn), g.pair.translated.machine.memory.isPopulated(gfn)]).toEqual([false, true]);
      expect(g.pair.translated.privateFrames.has(gfn)).toBe(true);
    }
  });

  test(`XENVER_extraversion to a frame the adapter keeps for itself is -EFAULT, as for any address past the guest's space (${K}: copy_to_guest faults)`, () => {
    const g = pair(vp);
    for (const gfn of adapterFrames(g)) expect(ver(g, XENVER.XENVER_extraversion, BigInt(gfn * 4096))).toBe(E('XEN_EFAULT'));
    const top = g.pair.xen.machine.memory.addressSpacePages - 1;
    expect(ver(g, XENVER.XENVER_extraversion, BigInt(top * 4096))).toBe(E('XEN_EFAULT')); // the guest's last frame: a hole in both
  });

  type Platform = readonly [XenProfileName, GuestType, 'debug' | 'release', bigint];
  const PLATFORM: readonly Platform[] = [
    // 4.18+: only a PV guest of a release build keeps HYPERVISOR_VIRT_START; everyone else gets 0.
    ...(['xen-4.22', 'xen-4.18'] as const).flatMap((p): Platform[] => [
      [p, 'pv', 'release', VIRT_START],
      [p, 'pv', 'debug', 0n],
      [p, 'pvhvm', 'release', 0n],
      [p, 'pvhvm', 'debug', 0n],
    ]),
    // 4.17: every 64-bit caller gets HYPERVISOR_VIRT_START.
    ...(['pv', 'pvhvm'] as const).flatMap((t): Platform[] => [
      ['xen-4.17', t, 'release', VIRT_START],
      ['xen-4.17', t, 'debug', VIRT_START],
    ]),
  ];
  test.each(PLATFORM)(`XENVER_platform_parameters on %s, %s guest, %s build: virt_start = %s (${K})`, (profile, guestType, build, virtStart) => {
    const g = pair(vp, { profile, guestType, build });
    const at = filled(g, 16);
    expect(ver(g, XENVER.XENVER_platform_parameters, at)).toBe(0n);
    expect([u64(g, at), u64(g, at + 8n)]).toEqual([virtStart, 0xeeee_eeee_eeee_eeeen]);
  });

  test.each([
    ['xen-4.22', 'pv', 0x001e_20e0],
    ['xen-4.22', 'pvhvm', 0x001d_2305],
    ['xen-4.18', 'pv', 0x000e_20e0],
    ['xen-4.18', 'pvhvm', 0x000d_2305],
    ['xen-4.17', 'pv', 0x0002_20e0],
    ['xen-4.17', 'pvhvm', 0x0001_2305],
  ] as const)(`XENVER_get_features submap 0 on %s for a %s guest is %s, from either vCPU (${K})`, (profile, guestType, submap) => {
    const g = pair(vp, { profile, guestType });
    expect(features(g)).toEqual({ rc: 0n, out: { submap_idx: 0, submap } });
    expect(features(g, 0, 1)).toEqual({ rc: 0n, out: { submap_idx: 0, submap } });
  });

  test(`XENVER_get_features: submap_idx 1, 2 and 0xffffffff (>= XENFEAT_NR_SUBMAPS) are -EINVAL and the struct is left alone (${K})`, () => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType });
      for (const idx of [XENFEAT.XENFEAT_NR_SUBMAPS, 2, 0xffff_ffff]) expect(features(g, idx)).toEqual({ rc: E('XEN_EINVAL'), out: { submap_idx: idx, submap: 0xffff_ffff } });
    }
  });

  test.each(XEN_PROFILES)(`XENVER_get_features on %s: VMASST_TYPE_pae_extended_cr3 adds XENFEAT_pae_pgdir_above_4gb for PV, and disabling removes it (${K})`, (profile) => {
    const g = pair(vp, { profile });
    const base = features(g).out.submap;
    expect(base & (1 << XENFEAT.XENFEAT_pae_pgdir_above_4gb)).toBe(0);
    expect(g.ret('vm_assist', VMASST.VMASST_CMD_enable, VMASST.VMASST_TYPE_pae_extended_cr3)).toBe(0n);
    expect(features(g).out.submap).toBe((base | (1 << XENFEAT.XENFEAT_pae_pgdir_above_4gb)) >>> 0);
    expect(g.ret('vm_assist', VMASST.VMASST_CMD_disable, VMASST.VMASST_TYPE_pae_extended_cr3)).toBe(0n);
    expect(features(g).out.submap).toBe(base);
  });

  test(`XENVER_get_features with an unreadable argument is -EFAULT (${K}: copy_from_guest)`, () => {
    for (const guestType of GUESTS) expect(ver(pair(vp, { guestType }), XENVER.XENVER_get_features, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test(`XENVER_get_features on a read-only grant mapping: readable, not writable, so -EFAULT on the copy back (${K})`, () => {
    const g = pair(vp);
    const granted = g.pair.peer({ op: 'grantAccess', ref: 10, frame: 9, readonly: true, domid: 1 });
    expect([granted.xen, granted.differences]).toEqual([true, []]);
    const host = 0x300n << 12n;
    const map = g.put(gnttab_map_grant_ref, { host_addr: host, flags: GNTMAP.GNTMAP_host_map | GNTMAP.GNTMAP_readonly, ref: 10, dom: 0 });
    expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, map, 1)).toBe(0n);
    expect(decodeStruct(g.read(map, 32), gnttab_map_grant_ref).status).toBe(GNTST.GNTST_okay);
    expect(ver(g, XENVER.XENVER_get_features, host)).toBe(E('XEN_EFAULT'));
    expect(decodeStruct(g.read(host, 8), xen_feature_info)).toEqual({ submap_idx: 0, submap: 0 });
  });

  test(`XENVER_pagesize: a NULL argument returns 4096; any other is -EINVAL and nothing is written (${K})`, () => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType });
      expect(ver(g, XENVER.XENVER_pagesize, 0n)).toBe(4096n);
      expect(g.ret('xen_version', 0xffff_ffff_0000_0007n)).toBe(4096n);
      const at = filled(g, 8);
      expect(ver(g, XENVER.XENVER_pagesize, at)).toBe(E('XEN_EINVAL'));
      expect(ver(g, XENVER.XENVER_pagesize, BAD_PTR)).toBe(E('XEN_EINVAL'));
      expect(g.read(at, 8)).toEqual(new Uint8Array(8).fill(FILL));
    }
  });

  test.each(XEN_PROFILES)(`XENVER_build_id on %s is -EPERM for a domU, NULL argument, buffer or bad pointer (${K}; xsm_xen_version)`, (profile) => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { profile, guestType });
      expect(ver(g, XENVER.XENVER_build_id, 0n)).toBe(E('XEN_EPERM'));
      expect(ver(g, XENVER.XENVER_build_id, varbuf(g, 64, 64))).toBe(E('XEN_EPERM'));
      expect(ver(g, XENVER.XENVER_build_id, BAD_PTR)).toBe(E('XEN_EPERM'));
    }
  });

  const VARBUF = [
    ['extraversion2', XENVER.XENVER_extraversion2, '.0'],
    ['capabilities2', XENVER.XENVER_capabilities2, CAPABILITIES],
    ['changeset2', XENVER.XENVER_changeset2, CHANGESET],
  ] as const;

  test.each(VARBUF)(`XENVER_%s on xen-4.22 (xenver_varbuf_op, 4.20+): NULL gives the length; the string (no NUL) follows len, which stays (${K})`, (_name, cmd, text) => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { guestType });
      expect(ver(g, cmd, 0n)).toBe(BigInt(text.length));
      const at = varbuf(g, text.length, text.length + 8);
      expect(ver(g, cmd, at)).toBe(BigInt(text.length));
      const expected = new Uint8Array(4 + text.length + 8).fill(FILL);
      new DataView(expected.buffer).setUint32(0, text.length, true);
      expected.set(latin1(text), 4);
      expect(g.read(at, expected.length)).toEqual(expected);
      const big = varbuf(g, 4096, 100);
      expect(ver(g, cmd, big)).toBe(BigInt(text.length));
      expect(g.read(big + 4n + BigInt(text.length), 100 - text.length)).toEqual(new Uint8Array(100 - text.length).fill(FILL));
    }
  });

  test.each(VARBUF)(`XENVER_%s on xen-4.22 errors: len too small -ENOBUFS (nothing written), unreadable len -EFAULT, unwritable string -EFAULT (${K})`, (_name, cmd, text) => {
    const g = pair(vp);
    const small = varbuf(g, text.length - 1, 80);
    expect(ver(g, cmd, small)).toBe(E('XEN_ENOBUFS'));
    expect(g.read(small + 4n, 80)).toEqual(new Uint8Array(80).fill(FILL));
    expect(ver(g, cmd, varbuf(g, 0, 8))).toBe(E('XEN_ENOBUFS'));
    expect(ver(g, cmd, BAD_PTR)).toBe(E('XEN_EFAULT'));
    const at = beforeHole(g, 4);
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, text.length, true);
    g.write(at, head);
    expect(ver(g, cmd, at)).toBe(E('XEN_EFAULT'));
  });

  test(`XENVER_commandline2 on xen-4.22 is -EPERM before the argument is looked at (${K})`, () => {
    const g = pair(vp, { guestType: 'pvhvm' });
    expect(ver(g, XENVER.XENVER_commandline2, 0n)).toBe(E('XEN_EPERM'));
    expect(ver(g, XENVER.XENVER_commandline2, BAD_PTR)).toBe(E('XEN_EPERM'));
    const at = varbuf(g, 1024, 16);
    expect(ver(g, XENVER.XENVER_commandline2, at)).toBe(E('XEN_EPERM'));
    expect(g.read(at + 4n, 16)).toEqual(new Uint8Array(16).fill(FILL));
  });

  test.each(['xen-4.18', 'xen-4.17'] as const)(`%s has no varbuf sub-ops (before 4.20): extraversion2 .. commandline2 are -ENOSYS, NULL argument or not (${K})`, (profile) => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { profile, guestType });
      for (const cmd of [XENVER.XENVER_extraversion2, XENVER.XENVER_capabilities2, XENVER.XENVER_changeset2, XENVER.XENVER_commandline2]) {
        expect(ver(g, cmd, 0n)).toBe(E('XEN_ENOSYS'));
        expect(ver(g, cmd, varbuf(g, 1024, 8))).toBe(E('XEN_ENOSYS'));
        expect(ver(g, cmd, BAD_PTR)).toBe(E('XEN_ENOSYS'));
      }
    }
  });

  test.each(XEN_PROFILES)(`unknown commands on %s are -ENOSYS, negative ints included, and write nothing (${K} default case)`, (profile) => {
    for (const guestType of GUESTS) {
      const g = pair(vp, { profile, guestType });
      const at = filled(g, 64);
      for (const cmd of [15, 16, 100, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_ffff_ffff_fff0n]) expect(ver(g, cmd, at)).toBe(E('XEN_ENOSYS'));
      expect(g.read(at, 64)).toEqual(new Uint8Array(64).fill(FILL));
    }
  });
});
