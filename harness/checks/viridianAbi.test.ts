import * as fs from 'node:fs';
import * as path from 'node:path';
import { VIRIDIAN_ABI_TABLES, CALLS_BY_NAME, flattenTables, viridianAbi } from '../sut/index';
import { REPO_ROOT } from './repoRoot';

type ConstantsVector = { constants: Record<string, { source: 'linux' | 'tlfs'; value: number | string }> };

const vector = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'vectors/encoding/hyperv-constants.json'), 'utf8')) as ConstantsVector).constants;

describe('Viridian ABI tables against Linux hvgdk_mini.h and the TLFS (vectors/encoding/hyperv-constants.json)', () => {
  const model = new Map(flattenTables(VIRIDIAN_ABI_TABLES).map((c) => [c.name, c]));

  test('the vector and the model tables hold the same names with the same values', () => {
    const missing = Object.keys(vector).filter((name) => !model.has(name));
    const extra = [...model.keys()].filter((name) => !(name in vector));
    const wrong = Object.entries(vector)
      .filter(([name, { value }]) => model.has(name) && BigInt(model.get(name)?.value ?? -1) !== BigInt(value))
      .map(([name, { value }]) => `${name}: model ${String(model.get(name)?.value)}, source ${value}`);
    expect({ missing, extra, wrong }).toEqual({ missing: [], extra: [], wrong: [] });
  });

  test('values that only the TLFS defines are marked as such in the vector', () => {
    const tlfsOnly = Object.entries(vector)
      .filter(([, v]) => v.source === 'tlfs')
      .map(([name]) => name);
    expect(tlfsOnly).toContain('HV_STATUS_NO_DATA');
    expect(tlfsOnly).toContain('HV_EXT_CALL_QUERY_CAPABILITIES');
    expect(tlfsOnly).not.toContain('HVCALL_SIGNAL_EVENT');
  });

  test('a few well-known values in the Linux spelling', () => {
    expect(viridianAbi.HVCALL.HVCALL_SIGNAL_EVENT).toBe(0x5d);
    expect(viridianAbi.HV_STATUS.HV_STATUS_INVALID_HYPERCALL_INPUT).toBe(3);
    expect(viridianAbi.HV_STATUS.HV_STATUS_INSUFFICIENT_BUFFERS).toBe(0x13);
    expect(viridianAbi.HV_X64_MSR.HV_X64_MSR_STIMER0_CONFIG).toBe(0x400000b0);
    expect(viridianAbi.HV_CALL_INPUT.HV_FLUSH_ALL_PROCESSORS).toBe(1);
    expect(viridianAbi.HVMSG.HVMSG_TIMER_EXPIRED).toBe(0x80000010);
    expect(viridianAbi.HYPERV_CPUID.HYPERV_CPUID_FEATURES).toBe(0x40000003);
  });

  test('every call code has a decision, and the modelled ones carry their TLFS name', () => {
    const names = Object.keys(viridianAbi.HVCALL);
    expect(Object.keys(CALLS_BY_NAME).sort()).toEqual([...names].sort());
    const aliases = flattenTables(VIRIDIAN_ABI_TABLES).filter((c) => c.alias !== undefined);
    expect(aliases.find((c) => c.name === 'HVCALL_SEND_IPI')?.alias).toBe('HvCallSendSyntheticClusterIpi');
  });
});
