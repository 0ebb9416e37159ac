import { XENVER, XENFEAT } from '../abi/version';
import { VMASST } from '../abi/mmuext';
import { XENVER_SIZES, xen_feature_info, xen_varbuf } from '../abi/layouts';
import { arg, copyFromGuest, copyToGuest, isNullHandle, writeGuestBytes } from '../guestAccess';
import { OK, errno, returned, type XenOutcome } from '../outcome';
import type { AnyXenModel } from '../xenModel';
import { defineHypercall, type HypercallContext } from './types';

/** The build identity the model reports (what a real Xen takes from its build). */
export const XEN_BUILD_IDENTITY = {
  compiler: 'gcc (Debian 12.2.0-14+deb12u1) 12.2.0',
  compileBy: 'xvc',
  compileDomain: 'model.invalid',
  compileDate: 'Thu Jan  1 00:00:00 UTC 2026',
  changeset: 'xvc Xen model',
  /** arch/x86/setup.c: PV64 and HVM hosts, PV32 not built (the Kconfig default). */
  capabilities: 'xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 ',
  /** The domain's 16-byte handle (its UUID). */
  domainHandle: [0x78, 0x76, 0x63, 0x2d, 0x67, 0x75, 0x65, 0x73, 0x74, 0x2d, 0x64, 0x6f, 0x6d, 0x61, 0x69, 0x6e],
  /** xen_deny(): what a denied string query returns. */
  denied: '<denied>',
} as const;

/** HYPERVISOR_VIRT_START for x86_64 (xen/include/public/arch-x86/xen-x86_64.h). */
const HYPERVISOR_VIRT_START = 0xffff_8000_0000_0000n;
const PAGE_SIZE = 4096;

/** A NUL-padded fixed-size string buffer (safe_strcpy truncates to size - 1). */
function fixedString(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < Math.min(text.length, size - 1); i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** XENVER_get_features submap 0 for the calling domain. */
export function featureSubmap(xen: AnyXenModel, vmAssist: number, hvm: boolean): number {
  let submap = hvm ? xen.profile.features.hvm : xen.profile.features.pv;
  if ((vmAssist & (1 << VMASST.VMASST_TYPE_pae_extended_cr3)) !== 0) submap |= 1 << XENFEAT.XENFEAT_pae_pgdir_above_4gb;
  return submap >>> 0;
}

/** xenver_varbuf_op (Xen 4.20+): length-prefixed string queries. */
function varbuf(ctx: HypercallContext, text: string, ptr: bigint): XenOutcome {
  const size = text.length;
  if (size > 64 * 1024) return errno('XEN_E2BIG');
  if (isNullHandle(ptr)) return returned(size);
  const head = copyFromGuest(ctx.d, ptr, xen_varbuf);
  if (!head) return errno('XEN_EFAULT');
  if (size > head.len) return errno('XEN_ENOBUFS');
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return writeGuestBytes(ctx.d, ptr + 4n, bytes) ? returned(size) : errno('XEN_EFAULT');
}

/** HYPERVISOR_xen_version(int cmd, void *arg): xen/common/kernel.c do_xen_version. */
export const xen_version = defineHypercall({
  name: 'xen_version',
  guests: ['pv', 'pvhvm'],
  source: 'xen/common/kernel.c do_xen_version; xen/include/xsm/dummy.h xsm_xen_version',
  handler(ctx, args) {
    const { xen, d } = ctx;
    const cmd = arg.int(args[0]);
    const ptr = args[1];
    const id = XEN_BUILD_IDENTITY;
    const { major, minor, extra } = xen.profile.version;
    const copyOut = (bytes: Uint8Array): XenOutcome => (writeGuestBytes(d, ptr, bytes) ? OK : errno('XEN_EFAULT'));
    switch (cmd) {
      case XENVER.XENVER_version:
        return returned((major << 16) | minor);
      case XENVER.XENVER_extraversion:
        return copyOut(fixedString(extra, XENVER_SIZES.xen_extraversion_t));
      case XENVER.XENVER_compile_info: {
        const info = new Uint8Array(XENVER_SIZES.xen_compile_info);
        info.set(fixedString(id.compiler, 64), 0);
        info.set(fixedString(id.compileBy, 16), 64);
        info.set(fixedString(id.compileDomain, 32), 80);
        info.set(fixedString(id.compileDate, 32), 112);
        return copyOut(info);
      }
      case XENVER.XENVER_capabilities:
        return copyOut(fixedString(id.capabilities, XENVER_SIZES.xen_capabilities_info_t));
      case XENVER.XENVER_changeset:
        return copyOut(fixedString(id.changeset, XENVER_SIZES.xen_changeset_info_t));
      case XENVER.XENVER_platform_parameters: {
        const pv = !d.isHvm;
        const virtStart = xen.profile.platformParameters === 'always' || (pv && xen.config.build === 'release') ? HYPERVISOR_VIRT_START : 0n;
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setBigUint64(0, virtStart, true);
        return copyOut(bytes);
      }
      case XENVER.XENVER_get_features: {
        const fi = copyFromGuest(d, ptr, xen_feature_info);
        if (!fi) return errno('XEN_EFAULT');
        if (fi.submap_idx !== 0) return errno('XEN_EINVAL');
        const submap = featureSubmap(xen, d.vmAssist, d.isHvm);
        return copyToGuest(d, ptr, xen_feature_info, { submap_idx: 0, submap }) ? OK : errno('XEN_EFAULT');
      }
      case XENVER.XENVER_pagesize:
        return isNullHandle(ptr) ? returned(PAGE_SIZE) : errno('XEN_EINVAL');
      case XENVER.XENVER_guest_handle:
        return copyOut(Uint8Array.from(id.domainHandle));
      case XENVER.XENVER_commandline:
        // Denied for a domU: "<denied>" and its NUL are copied, and the call succeeds.
        return copyOut(fixedString(id.denied, id.denied.length + 1));
      case XENVER.XENVER_build_id:
        return errno('XEN_EPERM');
      case XENVER.XENVER_extraversion2:
        return xen.profile.varbufOps ? varbuf(ctx, extra, ptr) : errno('XEN_ENOSYS');
      case XENVER.XENVER_capabilities2:
        return xen.profile.varbufOps ? varbuf(ctx, id.capabilities, ptr) : errno('XEN_ENOSYS');
      case XENVER.XENVER_changeset2:
        return xen.profile.varbufOps ? varbuf(ctx, id.changeset, ptr) : errno('XEN_ENOSYS');
      case XENVER.XENVER_commandline2:
        return xen.profile.varbufOps ? errno('XEN_EPERM') : errno('XEN_ENOSYS');
      default:
        return errno('XEN_ENOSYS');
    }
  },
});
