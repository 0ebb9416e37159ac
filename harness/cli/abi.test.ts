import { main } from './main';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('xvc abi', () => {
  test('--json prints one object whose constants map header spellings to numbers', async () => {
    const { code, out } = await run(['abi', '--json']);
    expect(code).toBe(0);
    const doc = JSON.parse(out) as { formatVersion: number; constants: Record<string, number | string>; tables: { title: string; source: string }[] };
    expect(doc.formatVersion).toBe(1);
    expect(doc.constants).toMatchObject({
      __HYPERVISOR_event_channel_op: 32,
      EVTCHNOP_send: 4,
      XEN_EINVAL: 22,
      SCHEDOP_poll: 3,
      MMUEXT_TLB_FLUSH_MULTI: 8,
      XENMEM_populate_physmap: 6,
      GNTST_bad_handle: -4,
      VIRQ_TIMER: 0,
      HVM_PARAM_CALLBACK_IRQ_TYPE_MASK: '0xff00000000000000',
      HVCALL_SIGNAL_EVENT: 0x5d,
      HV_STATUS_INVALID_HYPERCALL_INPUT: 3,
      HV_X64_MSR_STIMER0_CONFIG: 0x400000b0,
      HV_FLUSH_ALL_PROCESSORS: 1,
      HVMSG_TIMER_EXPIRED: 0x80000010,
      HYPERV_CPUID_FEATURES: 0x40000003,
      HV_PARTITION_ID_SELF: '0xffffffffffffffff',
    });
    expect(doc.tables.every((t) => t.source.length > 0)).toBe(true);
  });

  test('the human listing shows each table with its source and each entry with its value and note', async () => {
    const { code, out } = await run(['abi']);
    expect(code).toBe(0);
    expect(out).toContain('event_channel_op commands  [xen/include/public/event_channel.h]');
    expect(out).toMatch(/^ {2}EVTCHNOP_send +4$/m);
    expect(out).toMatch(/^ {2}__HYPERVISOR_tmem_op +38 \(0x26\) +-- no handler for any guest type: always -ENOSYS$/m);
    expect(out).toMatch(/^xvc abi: \d+ constants in \d+ tables\n$/m);
  });

  test('the human listing shows the TLFS name of each Hyper-V call code next to its Linux spelling', async () => {
    const { out } = await run(['abi']);
    expect(out).toMatch(/^ {2}HVCALL_SIGNAL_EVENT \(HvCallSignalEvent\) +93 \(0x5d\)$/m);
    expect(out).toMatch(/^ {2}HVCALL_SEND_IPI_EX \(HvCallSendSyntheticClusterIpiEx\) +21 \(0x15\)$/m);
  });

  test('an unknown option is a usage error: exit 2 with the command help', async () => {
    const { code, err } = await run(['abi', '--jsn']);
    expect(code).toBe(2);
    expect(err).toContain("xvc abi: Unknown option '--jsn'");
    expect(err).toContain('Usage: xvc abi [--json]');
  });

  test('an unknown command exits 2; --help exits 0', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
    expect((await run(['abi', '--help'])).out).toContain('Usage: xvc abi');
  });
});
