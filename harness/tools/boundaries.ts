import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { DEPS_RULES, type ImportTarget } from './deps';

/** A broken import rule: which file, which import, which rule. */
export type Violation = { readonly file: string; readonly specifier: string; readonly rule: string };

/** Lists the .ts files under the given folders of `root`, as root-relative paths with forward slashes. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(rel);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
    }
  };
  for (const folder of folders) if (fs.existsSync(path.join(root, folder))) walk(folder);
  return out.sort();
}

/** The import and export specifiers of a source text (import, export from, require, import()). */
export function importsOf(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** Resolves a specifier written in `file` to a repository path or a package name. */
export function resolveTarget(file: string, specifier: string): ImportTarget {
  if (specifier.startsWith('.')) {
    const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    return { kind: 'file', path: joined };
  }
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string);
  return { kind: 'package', name: name.replace(/^node:/, '') };
}

/** Checks every file against the rules of harness/tools/deps.ts. */
export function checkBoundaries(files: readonly { readonly path: string; readonly text: string }[]): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    for (const specifier of importsOf(file.text)) {
      const target = resolveTarget(file.path, specifier);
      for (const rule of DEPS_RULES) {
        if (file.path.startsWith(rule.from) && rule.forbids(target, file.path)) out.push({ file: file.path, specifier, rule: rule.says });
      }
    }
  }
  return out;
}

/** The failure text: one line per violation and a closing hint, like Playwright's check_deps. */
export function formatViolations(violations: readonly Violation[]): string {
  const lines = violations.map((v) => `${v.file}: import '${v.specifier}' breaks the rule "${v.rule}"`);
  lines.push('Did the project structure change? The rules live in harness/tools/deps.ts; change them there, with a reason.');
  return lines.join('\n');
}
