import { parseArgs } from 'node:util';
import { DEFAULT_SCENARIO_PATHS } from '../paths';
import { formatDiagnostic } from '../spec/diagnostics';
import { loadCorpus } from '../spec/load';
import { EXIT, UsageError, type Command } from './command';

/** `xvc validate`. */
export const validateCommand: Command = {
  name: 'validate',
  summary: 'check scenarios against the schema and the ABI tables; nothing runs',
  help: [
    'Usage: xvc validate [PATH...]',
    '',
    'Checks every scenario under PATH (default: specs/ and vectors/regression/): YAML syntax, the JSON',
    'Schema (specs/scenario.schema.json), names of hypercalls, constants, structs and fields, saved',
    'values, duplicate ids. Every error is reported as file:line:col with the offending text, what was',
    'expected and a hint; one broken file does not stop the others from being checked.',
    '',
    'Exit codes: 0 all valid, 2 errors found.',
  ].join('\n'),
  async run(argv, io) {
    let positionals: string[];
    try {
      ({ positionals } = parseArgs({ args: [...argv], options: {}, allowPositionals: true, strict: true }));
    } catch (error) {
      throw new UsageError(`xvc validate: ${(error as Error).message}`, { cause: error });
    }
    const corpus = loadCorpus(positionals.length > 0 ? positionals : DEFAULT_SCENARIO_PATHS);
    for (const d of corpus.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
    const bad = new Set(corpus.diagnostics.map((d) => d.file)).size;
    io.stdout(`xvc validate: ${corpus.files} files, ${corpus.scenarios.length} valid scenarios, ${corpus.diagnostics.length} errors in ${bad} files\n`);
    return corpus.diagnostics.length > 0 ? EXIT.invalidInput : EXIT.ok;
  },
};
