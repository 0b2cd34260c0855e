/** A training worker thread (see train-parallel.ts, freeze-parallel.ts): rebuilds the model from its bytes, then serves batches until stopped, or freezes the structures it claims. */
import { recordError } from '../../src/parallel/shared.ts';
import { runFreezeWorker, type FreezeWorkerInit } from './freeze-parallel.ts';
import { decodeModel } from './io.ts';
import { runTrainWorker, type TrainWorkerInit } from './train-parallel.ts';

export function runWorker(init: TrainWorkerInit | FreezeWorkerInit): void {
  const role = 'task' in init && init.task === 'freeze' ? 'freezing' : 'training';
  const decode = (bytes: Uint8Array) => decodeModel(bytes, `LATTE ${role} worker model`).model;
  try {
    if ('task' in init && init.task === 'freeze') runFreezeWorker(init, decode);
    else runTrainWorker(init as TrainWorkerInit, decode);
  } catch (err) {
    recordError(init.ctrl, init.errorText, err, `LATTE ${role} worker ${init.index + 1} of ${init.threads}`);
  }
}
