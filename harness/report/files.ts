import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes a file whole or not at all: a temporary file in the same folder, then a rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** A run id from the start time: sortable, unique within a reports folder. */
export function newRunId(reportsDir: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\.(\d{3})Z$/, '-$1');
  let id = stamp;
  for (let n = 2; fs.existsSync(path.join(reportsDir, id)); n++) id = `${stamp}-${n}`;
  return id;
}

/** Points reports/latest at a run folder (a relative symlink, replaced atomically; a text file where symlinks are not allowed). */
export function pointLatest(reportsDir: string, runId: string): void {
  const link = path.join(reportsDir, 'latest');
  const tmp = path.join(reportsDir, `.latest.${process.pid}.tmp`);
  try {
    fs.rmSync(tmp, { force: true });
    fs.symlinkSync(runId, tmp, 'dir');
    fs.renameSync(tmp, link);
  } catch {
    fs.rmSync(tmp, { force: true });
    try {
      fs.rmSync(link, { force: true, recursive: false });
    } catch {
      // a directory named latest: leave it
    }
    writeFileAtomic(link, `${runId}\n`);
  }
}

/**
 * The run folder a path names: a run folder itself, or reports/latest (a symlink, or the text
 * file pointLatest leaves where symlinks are not allowed), resolved to the folder it points at.
 */
export function resolveRunDir(given: string): string {
  if (!fs.existsSync(given)) return given;
  if (fs.statSync(given).isFile()) return path.resolve(path.dirname(given), fs.readFileSync(given, 'utf8').trim());
  return fs.realpathSync(given);
}
