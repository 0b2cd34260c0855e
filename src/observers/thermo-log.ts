/**
 * Thermodynamic log: a table on the console and/or a CSV file, one row per
 * observed step. CSV rows are written (synchronously) as they are produced.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Simulation, ThermoSample } from '../simulation.ts';
import type { Observer } from './observer.ts';

const COLUMNS: { key: keyof ThermoSample; header: string; digits: number }[] = [
  { key: 'step', header: 'step', digits: 0 },
  { key: 'time', header: 'time_fs', digits: 3 },
  { key: 'temperature', header: 'T_K', digits: 3 },
  { key: 'potentialEnergy', header: 'pe_eV', digits: 8 },
  { key: 'kineticEnergy', header: 'ke_eV', digits: 8 },
  { key: 'totalEnergy', header: 'etotal_eV', digits: 8 },
  { key: 'conservedEnergy', header: 'econserved_eV', digits: 8 },
  { key: 'pressure', header: 'press_GPa', digits: 6 },
  { key: 'volume', header: 'vol_A3', digits: 4 },
];

export interface ThermoLogOptions {
  every: number;
  /** CSV path; omitted for no file. */
  csv?: string;
  /** Print a table to stdout (default true). */
  console?: boolean;
  /** Keep samples in memory (`samples`) for scripts (default true). */
  keep?: boolean;
}

export class ThermoLog implements Observer {
  readonly every: number;
  readonly samples: ThermoSample[] = [];
  private fd: number | null = null;
  private readonly console: boolean;
  private readonly keep: boolean;
  private headerPrinted = false;

  constructor(options: ThermoLogOptions) {
    if (!Number.isInteger(options.every) || options.every < 1) throw new Error(`thermo log: every must be a positive integer, got ${options.every}`);
    this.every = options.every;
    this.console = options.console ?? true;
    this.keep = options.keep ?? true;
    if (options.csv) {
      this.fd = openSync(options.csv, 'w');
      writeSync(this.fd, COLUMNS.map((c) => c.header).join(',') + '\n');
    }
  }

  observe(sim: Simulation): void {
    const t = sim.thermo();
    if (this.keep) this.samples.push(t);
    if (this.fd !== null) writeSync(this.fd, COLUMNS.map((c) => String(t[c.key])).join(',') + '\n');
    if (this.console) {
      if (!this.headerPrinted) {
        console.log(COLUMNS.map((c) => c.header.padStart(15)).join(''));
        this.headerPrinted = true;
      }
      console.log(COLUMNS.map((c) => (t[c.key] as number).toFixed(c.digits).padStart(15)).join(''));
    }
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
