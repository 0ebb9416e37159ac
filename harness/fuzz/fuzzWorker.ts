import { loadAdapterModule } from '../sut/index';
import { factoryOf } from '../run/pool';
import { serveWorker } from '../run/workerProcess';
import { runCampaign } from './campaign';
import type { FuzzWorkerMessage, FuzzWorkerSetup } from './parallel';

/* One campaign of xvc fuzz --workers N, in a worker process (parallel.ts): it runs, reports, and exits. */

serveWorker<FuzzWorkerSetup, never, FuzzWorkerMessage>(async (setup, post) => {
  try {
    const { factory, close } = await factoryOf(setup.adapter, async (file) => (await loadAdapterModule(file)).factory);
    let last = 0;
    const result = runCampaign({
      ...setup.options,
      ...(factory ? { adapter: factory } : {}),
      onProgress: (progress) => {
        // The harness has gone (stopped, killed): stop too, rather than finish a campaign nobody reads.
        if (!process.connected) process.exit(0);
        if (progress.elapsedMs - last < 200) return;
        last = progress.elapsedMs;
        post({ kind: 'progress', progress });
      },
      onFailure: (failure) => post({ kind: 'failure', failure }),
    });
    const { exercised, ...rest } = result;
    close();
    post({ kind: 'progress', progress: { cases: rest.cases, steps: rest.steps, failures: rest.failures.length, elapsedMs: rest.elapsedMs } });
    post({ kind: 'done', result: rest, exercised: exercised.entries() });
  } catch (error) {
    post({ kind: 'crashed', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
  process.disconnect();
  return () => undefined;
}, { leaveSignals: false });
