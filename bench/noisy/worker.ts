/** Child process of bench/noisy-labels.ts: runs the experiments it is sent, one at a time. */
import { initBackend } from '../../src/index.ts';
import { runExperiment, type RunSpec } from './experiment.ts';

await initBackend({ backend: (process.env.CCTFER_BACKEND as 'wasm' | undefined) ?? 'auto' });
process.on('message', (spec: RunSpec) => {
  runExperiment(spec).then(
    (result) => process.send?.({ ok: true, result }),
    (err: Error) => process.send?.({ ok: false, id: spec.id, error: err.message }),
  );
});
process.send?.({ ready: true });
