/** A training worker thread (see train-parallel.ts): rebuilds the model from its bytes, then serves batches until stopped. */
import { recordError } from '../../src/parallel/shared.ts';
import { decodeModel } from './io.ts';
import { runTrainWorker, type TrainWorkerInit } from './train-parallel.ts';

export function runWorker(init: TrainWorkerInit): void {
  try {
    runTrainWorker(init, (bytes) => decodeModel(bytes, 'LATTE training worker model').model);
  } catch (err) {
    recordError(init.ctrl, init.errorText, err, `LATTE training worker ${init.index + 1} of ${init.threads}`);
  }
}
