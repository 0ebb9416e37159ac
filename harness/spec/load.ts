import * as fs from 'node:fs';
import * as path from 'node:path';
import { textKey, type ScenarioCache } from './cache';
import type { Diagnostic } from './diagnostics';
import type { Scenario } from './scenario';
import { ScenarioSource } from './source';
import { validateScenario } from './validate';

/** A scenario that passed every check, with the file it came from. */
export type LoadedScenario = { readonly file: string; readonly scenario: Scenario; readonly source: ScenarioSource };

/** What loading a corpus gives: the good scenarios and every authoring error. */
export type Corpus = { readonly scenarios: readonly LoadedScenario[]; readonly diagnostics: readonly Diagnostic[]; readonly files: number };

/** Scenario files under `paths` (files as given, directories searched for *.yaml / *.yml), sorted. */
export function scenarioFiles(paths: readonly string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (p: string): void => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      missing.push(p);
      return;
    }
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) {
        const child = path.join(p, entry);
        if (fs.statSync(child).isDirectory()) walk(child);
        else if (/\.ya?ml$/.test(entry)) files.push(child);
      }
    } else files.push(p);
  };
  for (const p of paths) walk(p);
  return { files: [...new Set(files)].sort(), missing };
}

/** Loads one file: parses with positions, validates; a broken file gives diagnostics, never a throw. */
export function loadScenarioFile(file: string, display = file, cache?: ScenarioCache): { scenario?: LoadedScenario; diagnostics: Diagnostic[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { diagnostics: [{ file: display, line: 1, col: 1, text: '', message: `cannot read the file: ${(error as Error).message}`, hint: 'check the path and its permissions' }] };
  }
  if (!cache) return loadScenarioText(display, text);
  const key = textKey(text);
  const cached = cache.get(key);
  if (cached !== undefined) {
    // The positions are only wanted for a diagnostic: parse again then.
    let source: ScenarioSource | undefined;
    return { scenario: { file: display, scenario: cached as Scenario, get source() { return (source ??= new ScenarioSource(display, text)); } }, diagnostics: [] };
  }
  const loaded = loadScenarioText(display, text);
  if (loaded.scenario) cache.set(key, loaded.scenario.scenario);
  return loaded;
}

/** Loads a scenario from its text. */
export function loadScenarioText(file: string, text: string): { scenario?: LoadedScenario; diagnostics: Diagnostic[] } {
  const source = new ScenarioSource(file, text);
  const syntax = source.syntaxErrors();
  if (syntax.length > 0) return { diagnostics: syntax };
  const value = source.value();
  if (value === null || value === undefined) return { diagnostics: [{ file, line: 1, col: 1, text: '', message: 'the file is empty', expected: 'a scenario: id, title, refs, steps', hint: 'see docs/scenarios.md' }] };
  const diagnostics = validateScenario(source, value);
  if (diagnostics.length > 0) return { diagnostics };
  return { scenario: { file, scenario: value as Scenario, source }, diagnostics: [] };
}

/**
 * Loads every scenario under `paths`. All errors are collected; a file with errors is left out
 * and the others are kept. Ids must be unique across the corpus.
 */
export function loadCorpus(paths: readonly string[], cwd = process.cwd(), options: { readonly cache?: ScenarioCache } = {}): Corpus {
  const { files, missing } = scenarioFiles(paths.map((p) => path.resolve(cwd, p)));
  const diagnostics: Diagnostic[] = missing.map((m) => ({ file: path.relative(cwd, m) || m, line: 1, col: 1, text: '', message: 'no such file or directory', hint: 'check the path' }));
  const scenarios: LoadedScenario[] = [];
  const ids = new Map<string, LoadedScenario>();
  for (const file of files) {
    const display = path.relative(cwd, file) || file;
    const loaded = loadScenarioFile(file, display, options.cache);
    diagnostics.push(...loaded.diagnostics);
    if (!loaded.scenario) continue;
    const earlier = ids.get(loaded.scenario.scenario.id);
    if (earlier) {
      const at = loaded.scenario.source.diagnostic(['id'], `duplicate id "${loaded.scenario.scenario.id}"`, 'an id no other scenario uses', `it is also the id of ${earlier.file}`);
      diagnostics.push(at);
      continue;
    }
    ids.set(loaded.scenario.scenario.id, loaded.scenario);
    scenarios.push(loaded.scenario);
  }
  options.cache?.save();
  return { scenarios, diagnostics, files: files.length };
}
