import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalog, type Catalog } from '../coverage/catalog';
import { allureResults } from './allure';
import { complianceHtml, complianceMarkdown, complianceOf, type PolicyName } from './compliance';
import { writeFileAtomic } from './files';
import { junitXml } from './junit';
import { eventStream, type RunRecord } from './record';
import { summaryOf, toJson } from './summary';

/** Options of the reports. */
export type ReportOptions = { readonly policy?: PolicyName; readonly catalog?: Catalog };

/**
 * Writes every report of a run into `runDir`: summary.json, junit.xml, events.jsonl,
 * allure-results/, compliance.json, compliance.md, compliance.html. Each file is written whole
 * or not at all (a temporary file, then a rename); allure-results/ is built beside the run
 * folder's final one and renamed into place.
 */
export function writeRunReports(runDir: string, record: RunRecord, options: ReportOptions = {}): void {
  fs.mkdirSync(runDir, { recursive: true });
  const summaryJson = toJson(summaryOf(record));
  writeFileAtomic(path.join(runDir, 'summary.json'), summaryJson);
  writeFileAtomic(path.join(runDir, 'junit.xml'), junitXml(summaryOf(record)));
  writeFileAtomic(path.join(runDir, 'events.jsonl'), eventStream(record));
  writeAllure(path.join(runDir, 'allure-results'), record);
  const compliance = complianceOf(record, summaryJson, options.catalog ?? loadCatalog(), options.policy ?? record.meta.policy);
  writeFileAtomic(path.join(runDir, 'compliance.json'), toJson(compliance));
  writeFileAtomic(path.join(runDir, 'compliance.md'), complianceMarkdown(compliance));
  writeFileAtomic(path.join(runDir, 'compliance.html'), complianceHtml(compliance));
}

/** allure-results/ as a whole: written into a temporary folder, then renamed over the old one. */
function writeAllure(dir: string, record: RunRecord): void {
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (const f of allureResults(record)) fs.writeFileSync(path.join(tmp, f.name), f.content);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
}
