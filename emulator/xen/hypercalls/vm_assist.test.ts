import { VMASST } from '../abi/mmuext';
import { XENVER, XENFEAT } from '../abi/version';
import { xen_feature_info } from '../abi/layouts';
import type { GuestType } from '../config';
import { XEN_PROFILE_NAMES, type XenProfileName } from '../profiles';
import { E, XenTestGuest } from '../xenTestkit';

const DOMAIN = 'xen/common/domain.c do_vm_assist; xen/arch/x86/include/asm/domain.h arch_vm_assist_valid_mask';
const { VMASST_CMD_enable: ENABLE, VMASST_CMD_disable: DISABLE } = VMASST;

const guest = (guestType: GuestType = 'pv', profile: XenProfileName = 'xen-4.22') => new XenTestGuest({ xen: { guestType, profile } });
const assist = (g: XenTestGuest, cmd: number | bigint, type: number | bigint) => g.ret('vm_assist', cmd, type);

/** The domain's vm_assist word as Xen keeps it (bit 32 is m2p_strict). */
const vmAssistWord = (g: XenTestGuest) => BigInt(g.xen.guest.vmAssist) | (g.xen.guest.vmAssistM2pStrict ? 1n << 32n : 0n);

function features(g: XenTestGuest): number {
  const at = g.put(xen_feature_info, { submap_idx: 0 });
  expect(g.ret('xen_version', XENVER.XENVER_get_features, at)).toBe(0n);
  return g.get(xen_feature_info, at).submap;
}

/** PV64_VM_ASSIST_MASK: 4gb_segments, 4gb_segments_notify, writable_pagetables, pae_extended_cr3, architectural_iopl, runstate_update_flag, m2p_strict. */
const PV64_TYPES = [
  VMASST.VMASST_TYPE_4gb_segments,
  VMASST.VMASST_TYPE_4gb_segments_notify,
  VMASST.VMASST_TYPE_writable_pagetables,
  VMASST.VMASST_TYPE_pae_extended_cr3,
  VMASST.VMASST_TYPE_architectural_iopl,
  VMASST.VMASST_TYPE_runstate_update_flag,
  VMASST.VMASST_TYPE_m2p_strict,
];

describe(`vm_assist types a 64-bit PV guest may set (${DOMAIN})`, () => {
  test('the valid types are 0-5 and 32 (m2p_strict)', () => {
    expect(PV64_TYPES).toEqual([0, 1, 2, 3, 4, 5, 32]);
  });

  test.each(PV64_TYPES)('type %s can be enabled and disabled; each returns 0 and sets or clears its bit of d->vm_assist', (type) => {
    const g = guest('pv');
    expect(assist(g, ENABLE, type)).toBe(0n);
    expect(vmAssistWord(g)).toBe(1n << BigInt(type));
    expect(assist(g, DISABLE, type)).toBe(0n);
    expect(vmAssistWord(g)).toBe(0n);
  });

  test('the bits are independent; enabling twice or disabling a clear bit is fine', () => {
    const g = guest('pv');
    for (const type of PV64_TYPES) expect(assist(g, ENABLE, type)).toBe(0n);
    expect(assist(g, ENABLE, VMASST.VMASST_TYPE_writable_pagetables)).toBe(0n);
    expect(vmAssistWord(g)).toBe(0x1_0000_003fn);
    expect(assist(g, DISABLE, VMASST.VMASST_TYPE_4gb_segments)).toBe(0n);
    expect(assist(g, DISABLE, VMASST.VMASST_TYPE_4gb_segments)).toBe(0n);
    expect(vmAssistWord(g)).toBe(0x1_0000_003en);
  });

  test('any other type below 64 is -EINVAL and changes nothing', () => {
    const g = guest('pv');
    for (let type = 0; type < 64; type++) {
      if (PV64_TYPES.includes(type as (typeof PV64_TYPES)[number])) continue;
      expect([type, assist(g, ENABLE, type)]).toEqual([type, E('XEN_EINVAL')]);
      expect([type, assist(g, DISABLE, type)]).toEqual([type, E('XEN_EINVAL')]);
    }
    expect(vmAssistWord(g)).toBe(0n);
  });

  test('a type of 64 or more (BITS_PER_LONG) is -EINVAL', () => {
    const g = guest('pv');
    for (const type of [64, 65, 96, 0x7fff_ffff, 0xffff_ffff]) expect(assist(g, ENABLE, type)).toBe(E('XEN_EINVAL'));
  });
});

describe(`vm_assist types an HVM guest may set (${DOMAIN})`, () => {
  test('only runstate_update_flag (5) is valid', () => {
    const g = guest('pvhvm');
    expect(assist(g, ENABLE, VMASST.VMASST_TYPE_runstate_update_flag)).toBe(0n);
    expect(vmAssistWord(g)).toBe(0x20n);
    expect(assist(g, DISABLE, VMASST.VMASST_TYPE_runstate_update_flag)).toBe(0n);
    expect(vmAssistWord(g)).toBe(0n);
  });

  test('every other type, the PV ones and m2p_strict included, is -EINVAL', () => {
    const g = guest('pvhvm');
    for (let type = 0; type < 70; type++) {
      if (type === VMASST.VMASST_TYPE_runstate_update_flag) continue;
      expect([type, assist(g, ENABLE, type)]).toEqual([type, E('XEN_EINVAL')]);
    }
    expect(vmAssistWord(g)).toBe(0n);
  });
});

describe(`vm_assist commands (${DOMAIN})`, () => {
  test('an unknown cmd with a valid type is -ENOSYS and changes nothing', () => {
    for (const [guestType, type] of [
      ['pv', VMASST.VMASST_TYPE_writable_pagetables],
      ['pvhvm', VMASST.VMASST_TYPE_runstate_update_flag],
    ] as const) {
      const g = guest(guestType);
      for (const cmd of [2, 3, 0xffff_ffff]) expect(assist(g, cmd, type)).toBe(E('XEN_ENOSYS'));
      expect(vmAssistWord(g)).toBe(0n);
    }
  });

  test('the type is checked first: an unknown cmd with an invalid type is -EINVAL', () => {
    expect(assist(guest('pv'), 7, 6)).toBe(E('XEN_EINVAL'));
    expect(assist(guest('pvhvm'), 7, 0)).toBe(E('XEN_EINVAL'));
  });

  test('cmd and type are unsigned ints: the upper 32 bits of both registers are ignored', () => {
    const g = guest('pv');
    expect(assist(g, 0x1_0000_0000n | BigInt(ENABLE), 0x5_0000_0000n | BigInt(VMASST.VMASST_TYPE_m2p_strict))).toBe(0n);
    expect(vmAssistWord(g)).toBe(1n << 32n);
    expect(assist(g, 0xffff_ffff_0000_0000n | BigInt(DISABLE), 0x1_0000_0000n | BigInt(VMASST.VMASST_TYPE_m2p_strict))).toBe(0n);
    expect(vmAssistWord(g)).toBe(0n);
  });
});

describe(`VMASST_TYPE_pae_extended_cr3 and XENVER_get_features (xen/common/kernel.c do_xen_version)`, () => {
  test.each(XEN_PROFILE_NAMES)('%s: enabling it adds XENFEAT_pae_pgdir_above_4gb to submap 0; disabling removes it', (profile) => {
    const g = guest('pv', profile);
    const base = features(g);
    expect(base & (1 << XENFEAT.XENFEAT_pae_pgdir_above_4gb)).toBe(0);
    expect(assist(g, ENABLE, VMASST.VMASST_TYPE_pae_extended_cr3)).toBe(0n);
    expect(features(g)).toBe((base | (1 << XENFEAT.XENFEAT_pae_pgdir_above_4gb)) >>> 0);
    expect(assist(g, DISABLE, VMASST.VMASST_TYPE_pae_extended_cr3)).toBe(0n);
    expect(features(g)).toBe(base);
  });

  test('xen-4.22 PV: 0x001E20E0 becomes 0x001E20F0', () => {
    const g = guest('pv');
    expect(features(g)).toBe(0x001e_20e0);
    assist(g, ENABLE, VMASST.VMASST_TYPE_pae_extended_cr3);
    expect(features(g)).toBe(0x001e_20f0);
  });

  test('other vm_assist types leave the feature submap alone', () => {
    const g = guest('pv');
    for (const type of PV64_TYPES) if (type !== VMASST.VMASST_TYPE_pae_extended_cr3) assist(g, ENABLE, type);
    expect(features(g)).toBe(0x001e_20e0);
  });

  test('an HVM guest cannot enable it, so its submap never has the bit', () => {
    const g = guest('pvhvm');
    expect(assist(g, ENABLE, VMASST.VMASST_TYPE_pae_extended_cr3)).toBe(E('XEN_EINVAL'));
    expect(features(g)).toBe(0x001d_2305);
  });
});
