/**
 * A force worker: one long-running piscina task per thread. It rebuilds the
 * potential from its msgpackr-encoded spec (importing plugin modules), then loops:
 * wait for the control word's phase number to change (a short poll, then
 * Atomics.wait), fetch a new
 * layout from its port if the generation moved on (receiveMessageOnPort: no event
 * loop needed), claim chunks of that phase until none are left, wait again. Any error is recorded
 * in shared memory (message and stack) for the main thread to throw.
 */
import { receiveMessageOnPort } from 'node:worker_threads';
import { unpack } from 'msgpackr';
import '../../potentials/builtin.ts';
import { loadPotential } from '../../potentials/registry.ts';
import type { PotentialSpec } from '../../potentials/potential.ts';
import type { WorkerInit } from './evaluator.ts';
import { ChunkKernel } from './kernel.ts';
import { CTRL, TAG_MASK, claimRanges, recordError, spinWhileEqual, type SharedLayout } from './shared.ts';

/** Handler 'force': the persistent loop of one force worker. */
export async function force(init: WorkerInit): Promise<string> {
  const { ctrl, errorText, port, index, threads, spinMicroseconds } = init;
  const where = `worker ${index + 1} of ${threads}`;
  const spec = unpack(init.spec) as PotentialSpec;
  const potential = await loadPotential(spec, init.cwd);
  const kernel = new ChunkKernel(potential, index + 1);
  let layout: SharedLayout | null = null;
  let boundElements: string | null = null;
  let seen = Atomics.load(ctrl, CTRL.SEQ);
  Atomics.add(ctrl, CTRL.READY, 1);
  Atomics.notify(ctrl, CTRL.READY);
  for (;;) {
    if (spinWhileEqual(ctrl, CTRL.SEQ, seen, spinMicroseconds) === seen) Atomics.wait(ctrl, CTRL.SEQ, seen);
    seen = Atomics.load(ctrl, CTRL.SEQ);
    if (Atomics.load(ctrl, CTRL.STOP) !== 0) return 'stopped';
    try {
      const generation = Atomics.load(ctrl, CTRL.GENERATION);
      while (layout === null || layout.generation !== generation) {
        const m = receiveMessageOnPort(port);
        if (m === undefined) throw new Error(`layout generation ${generation} was not received`);
        layout = m.message as SharedLayout;
      }
      const key = layout.elements.join(' ');
      if (key !== boundElements) {
        potential.bind(layout.elements);
        boundElements = key;
      }
      const stage = Atomics.load(ctrl, CTRL.STAGE), wantE = Atomics.load(ctrl, CTRL.ATOM_ENERGIES) === 1;
      const check = Atomics.load(ctrl, CTRL.CHECK) === 1, current = layout;
      claimRanges(ctrl, seen & TAG_MASK, current.nChunks, index + 1, threads + 1, (c) => {
        if (Atomics.load(ctrl, CTRL.ERROR) !== 0) return;
        try {
          kernel.run(current, c, stage, wantE, check);
        } catch (err) {
          recordError(ctrl, errorText, err, where);
        }
      });
    } catch (err) {
      recordError(ctrl, errorText, err, where);
    }
  }
}

/** Handler 'replica': one whole run from its input (see replicas.ts). */
export { runReplica as replica } from './replica-run.ts';

/** Handler 'ping': returns its task at once (measures the cost of a piscina round trip). */
export function ping(task: unknown): unknown {
  return task;
}
