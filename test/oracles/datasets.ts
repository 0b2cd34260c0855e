/**
 * Where the shared first-principles datasets are (zuo2020, TiAl, ethanol; their
 * README gives the published baseline errors): $TENSORMD_DATASETS, else
 * /work/shared/datasets, where this project's machines and CI have them. One place,
 * so that tests and benchmarks follow the same override.
 */
import { join } from 'node:path';

export const DATASETS = process.env.TENSORMD_DATASETS ?? '/work/shared/datasets';

/** A path inside the datasets folder, e.g. dataset('zuo2020', 'Si_train.xyz'). */
export function dataset(...parts: string[]): string {
  return join(DATASETS, ...parts);
}
