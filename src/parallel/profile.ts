/**
 * Where the time of one parallel force evaluation goes (ParallelForceEvaluator.profile):
 * the calling thread's serial segments and, per phase, when it started, when the
 * calling thread ran out of chunks, when the last chunk finished, and every chunk's
 * thread and interval. Times are ms since the epoch (comparable between threads).
 */
export interface PhaseProfile {
  stage: number;
  /** The phase was published (workers notified). */
  start: number;
  /** The calling thread found no chunk left to claim. */
  mainDone: number;
  /** Every chunk had finished (the calling thread saw DONE reach nChunks). */
  end: number;
  /** Per chunk: thread (0 = calling thread), start, end. */
  chunks: Float64Array;
}

export interface EvaluateProfile {
  /** The neighbour list was rebuilt in this evaluation. */
  rebuilt: boolean;
  start: number;
  end: number;
  /** Serial segments on the calling thread, ms: name → duration. */
  segments: Record<string, number>;
  phases: PhaseProfile[];
}

export function emptyProfile(): EvaluateProfile {
  return { rebuilt: false, start: 0, end: 0, segments: {}, phases: [] };
}
