import { loadAdapterModule, type ViridianProfileName } from '../sut/index';
import { ScenarioCache } from '../spec/cache';
import { loadScenarioFile, type LoadedScenario } from '../spec/load';
import { factoryOf, type WorkerReply, type WorkerRequest, type WorkerSetup } from './pool';
import { executeRun } from './runner';
import { serveWorker } from './workerProcess';

/*
 * A worker process of the pool (pool.ts): its own adapter (and adapter program) and emulator
 * instances; it loads each scenario file it is sent once, runs the scenario in the profile
 * asked, and posts the result.
 */

serveWorker<WorkerSetup, WorkerRequest, WorkerReply>(async (setup, post) => {
  let adapter: Awaited<ReturnType<typeof factoryOf>>;
  try {
    adapter = await factoryOf(setup.adapter, async (file) => (await loadAdapterModule(file)).factory);
  } catch (error) {
    post({ kind: 'setup-failed', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    throw error;
  }
  const { factory, close } = adapter;
  const files = new Map<string, LoadedScenario | undefined>();
  const cache = ScenarioCache.open();
  post({ kind: 'ready' });
  return (request) => {
    switch (request.kind) {
      case 'close':
        close();
        process.exit(0);
        break;
      case 'run': {
        if (!files.has(request.file)) files.set(request.file, loadScenarioFile(request.file, request.display, cache).scenario);
        const loaded = files.get(request.file);
        if (!loaded) {
          post({ kind: 'run-failed', index: request.index, message: `${request.display} no longer loads (it changed during the run)` });
          return;
        }
        try {
          const result = executeRun({ loaded, profile: request.profile as ViridianProfileName }, { reference: setup.adapter.kind === 'reference', log: setup.log, ...(factory ? { adapter: factory } : {}) });
          post({ kind: 'result', index: request.index, result });
        } catch (error) {
          post({ kind: 'run-failed', index: request.index, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
        }
        return;
      }
      default:
        request satisfies never;
    }
  };
});
