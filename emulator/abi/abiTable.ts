/** A numeric ABI constant: a safe integer, or a bigint when it does not fit in 2^53. */
export type AbiValue = number | bigint;

/**
 * One table of ABI constants as `xvc abi` prints it: the constants in their source's own
 * spelling, where they come from, and notes on entries whose meaning depends on a version or a
 * guest type.
 */
export type AbiTable = {
  /** What the constants are, e.g. "event_channel_op commands". */
  readonly title: string;
  /** The header or specification section the values were read from. */
  readonly source: string;
  /** Spelling prefix that turns a key into its source spelling (only for tables keyed by short names). */
  readonly prefix?: string;
  /** The constants, keyed by their source spelling (after `prefix`). */
  readonly values: Readonly<Record<string, AbiValue>>;
  /** Per-entry notes (version, guest type, internal use), keyed like `values`. */
  readonly notes?: Readonly<Record<string, string>>;
  /** Human name shown next to the spelling (e.g. the TLFS name of a Linux `HVCALL_*`). */
  readonly aliases?: Readonly<Record<string, string>>;
};

/** A flattened constant for listings. */
export type AbiConstant = {
  readonly name: string;
  readonly value: AbiValue;
  readonly table: string;
  readonly source: string;
  readonly note?: string;
  readonly alias?: string;
};

/** Flattens tables into one list in table order; a name defined twice with two values is a bug. */
export function flattenTables(tables: readonly AbiTable[]): AbiConstant[] {
  const out: AbiConstant[] = [];
  const seen = new Map<string, AbiConstant>();
  for (const table of tables) {
    for (const [key, value] of Object.entries(table.values)) {
      const name = (table.prefix ?? '') + key;
      const note = table.notes?.[key];
      const alias = table.aliases?.[key];
      const constant: AbiConstant = {
        name,
        value,
        table: table.title,
        source: table.source,
        ...(note !== undefined ? { note } : {}),
        ...(alias !== undefined ? { alias } : {}),
      };
      const earlier = seen.get(name);
      if (earlier) {
        if (earlier.value !== value) {
          throw new Error(`[abi] ${name} is ${String(earlier.value)} in "${earlier.table}" but ${String(value)} in "${table.title}"`);
        }
        continue;
      }
      seen.set(name, constant);
      out.push(constant);
    }
  }
  return out;
}

/** Builds the number-to-name map of a table; the first name of a number wins (aliases share numbers). */
export function namesByValue<T extends Readonly<Record<string, AbiValue>>>(values: T): ReadonlyMap<AbiValue, keyof T & string> {
  const out = new Map<AbiValue, keyof T & string>();
  for (const [name, value] of Object.entries(values)) if (!out.has(value)) out.set(value, name as keyof T & string);
  return out;
}
