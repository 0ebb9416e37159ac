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
  const { factory, close } = await factoryOf(setup.adapter, async (file) => (await loadAdapterModule(file)).factory);
  const files = new Map<string, LoadedScenario | undefined>();
  const cache = ScenarioCache.open();
  post({ type: 'ready' });
  return (request) => {
    if (request.type === 'close') {
      close();
      process.exit(0);
    }
    let loaded = files.get(request.file);
    if (!files.has(request.file)) {
      loaded = loadScenarioFile(request.file, request.display, cache).scenario;
      files.set(request.file, loaded);
    }
    if (!loaded) throw new Error(`${request.display} no longer loads (it changed during the run)`);
    const result = executeRun({ loaded, profile: request.profile as ViridianProfileName }, { reference: setup.adapter.kind === 'reference', log: setup.log, ...(factory ? { adapter: factory } : {}) });
    post({ type: 'results', results: [{ index: request.index, result }] });
  };
});
