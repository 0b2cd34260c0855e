/** A progress bar on stderr for long runs (only when stderr is a terminal unless forced). */
import type { Simulation } from '../simulation.ts';
import type { Observer } from './observer.ts';

export class ProgressBar implements Observer {
  readonly every: number;
  private readonly total: number;
  private readonly enabled: boolean;
  private readonly t0 = Date.now();
  private first = -1;

  constructor(options: { totalSteps: number; every?: number; force?: boolean }) {
    this.total = options.totalSteps;
    this.every = options.every ?? Math.max(1, Math.floor(options.totalSteps / 200));
    this.enabled = options.force ?? Boolean(process.stderr.isTTY);
  }

  observe(sim: Simulation): void {
    if (!this.enabled) return;
    const step = sim.system.step;
    if (this.first < 0) this.first = step;
    const done = Math.min(step - this.first, this.total);
    const frac = this.total > 0 ? done / this.total : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    const elapsed = (Date.now() - this.t0) / 1000;
    const eta = frac > 0 ? (elapsed / frac) * (1 - frac) : 0;
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}%  step ${step}  ` +
        `${elapsed.toFixed(0)} s elapsed, ~${eta.toFixed(0)} s left `,
    );
  }

  close(): void {
    if (this.enabled && this.first >= 0) process.stderr.write('\n');
  }
}
