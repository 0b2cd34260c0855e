/**
 * A worker of the parallel fit assembly: rebuilds the basis from its spec, then for
 * every chunk number it receives streams that chunk's frames into a pair of QR
 * factorisations (and its raw energy rows) and posts them back (buffers transferred). Errors are posted as text.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Frame } from '../../src/io/extxyz.ts';
import { AceBasis } from './basis.ts';
import { ChunkAssembler, qrState, type ChunkContext } from './fit.ts';

const { ctx, frames } = workerData as { ctx: ChunkContext; frames: Frame[] };
let assembler: ChunkAssembler | null = null;
parentPort!.on('message', (m: { chunk: number }) => {
  try {
    assembler ??= new ChunkAssembler(new AceBasis(ctx.spec), ctx);
    const f = assembler.chunk(frames, m.chunk);
    const energy = qrState(f.energy), rest = qrState(f.rest), rows = f.energyRows!;
    parentPort!.postMessage(
      { chunk: m.chunk, energy, rest, energyRows: rows, atoms: f.atoms, restRows: f.restRows },
      [energy.R.buffer, energy.z.buffer, rest.R.buffer, rest.z.buffer, rows.A.buffer, rows.b.buffer, rows.weight.buffer, rows.atoms.buffer, rows.frame.buffer] as ArrayBuffer[],
    );
  } catch (err) {
    parentPort!.postMessage({ chunk: m.chunk, error: (err as Error).message });
  }
});
