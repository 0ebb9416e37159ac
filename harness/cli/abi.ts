import { parseArgs } from 'node:util';
import { VIRIDIAN_ABI_TABLES, XEN_ABI_TABLES, flattenTables, type AbiConstant, type AbiTable, type AbiValue } from '../sut/index';
import { EXIT, UsageError, type Command } from './command';

/** Every table `xvc abi` lists: the Xen model's, then the Viridian model's. */
export const ABI_TABLES: readonly AbiTable[] = [...XEN_ABI_TABLES, ...VIRIDIAN_ABI_TABLES];

/** A constant's value in JSON: a number when exact, else a hex string. */
export function jsonValue(value: AbiValue): number | string {
  if (typeof value === 'number') return value;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : `0x${value.toString(16)}`;
}

/** The `--json` document: `constants` maps each header spelling to its number. */
export function abiJson(tables: readonly AbiTable[]): { formatVersion: 1; constants: Record<string, number | string>; tables: unknown[] } {
  const constants: Record<string, number | string> = {};
  for (const c of flattenTables(tables)) constants[c.name] = jsonValue(c.value);
  return {
    formatVersion: 1,
    constants,
    tables: tables.map((t) => ({
      title: t.title,
      source: t.source,
      entries: flattenTables([t]).map((c: AbiConstant) => ({
        name: c.name,
        value: jsonValue(c.value),
        ...(c.alias !== undefined ? { alias: c.alias } : {}),
        ...(c.note !== undefined ? { note: c.note } : {}),
      })),
    })),
  };
}

function formatValue(value: AbiValue): string {
  const v = BigInt(value);
  return v < 0n || v <= 9n ? v.toString() : `${v} (0x${v.toString(16)})`;
}

/** The human listing: one block per table, each entry with its value and note. */
export function abiText(tables: readonly AbiTable[]): string {
  const out: string[] = [];
  for (const table of tables) {
    out.push(`${table.title}  [${table.source}]`);
    const rows = flattenTables([table]);
    const width = Math.max(...rows.map((r) => r.name.length + (r.alias ? r.alias.length + 3 : 0)));
    const values = rows.map((r) => formatValue(r.value));
    const valueWidth = Math.max(...values.map((v) => v.length));
    rows.forEach((r, i) => {
      const name = r.alias ? `${r.name} (${r.alias})` : r.name;
      const value = values[i] as string;
      out.push(r.note ? `  ${name.padEnd(width)}  ${value.padEnd(valueWidth)}  -- ${r.note}` : `  ${name.padEnd(width)}  ${value}`);
    });
    out.push('');
  }
  out.push(`xvc abi: ${flattenTables(tables).length} constants in ${tables.length} tables`);
  return `${out.join('\n')}\n`;
}

/** `xvc abi [--json]`. */
export const abiCommand: Command = {
  name: 'abi',
  summary: 'print the ABI tables the models implement, each with its source',
  help: [
    'Usage: xvc abi [--json]',
    '',
    'Prints every constant the models implement (Xen hypercall numbers, sub-commands, error',
    'numbers, flags; Hyper-V call codes, HV_STATUS values, synthetic MSRs, CPUID bits), grouped by',
    'table, each table with the header or specification it comes from. Constants use the header',
    "spelling (Xen's public headers, Linux include/hyperv/hvgdk_mini.h); the listing shows the",
    'TLFS name of each Hyper-V call code next to it.',
    '',
    'Options:',
    '  --json   one JSON object: {"formatVersion": 1, "constants": {NAME: value, ...}, "tables": [...]}',
    '           values wider than 2^53 are hex strings',
    '',
    'Examples:',
    '  xvc abi | grep EVTCHNOP_',
    "  xvc abi --json | node -e 'console.log(JSON.parse(require(\"fs\").readFileSync(0)).constants.XEN_EINVAL)'",
  ].join('\n'),
  async run(argv, io) {
    let json = false;
    try {
      const { values } = parseArgs({ args: [...argv], options: { json: { type: 'boolean' } }, strict: true, allowPositionals: false });
      json = values.json === true;
    } catch (error) {
      throw new UsageError(`xvc abi: ${(error as Error).message}`, { cause: error });
    }
    if (json) io.stdout(`${JSON.stringify(abiJson(ABI_TABLES), null, 2)}\n`);
    else io.stdout(abiText(ABI_TABLES));
    return EXIT.ok;
  },
};
