// Worker entry of the worker pool: piscina loads this file; it loads worker.ts
// compiled or through tsx as the main program (import-worker.mjs). Either way a plugin
// potential written in TypeScript loads too (potentials/registry.ts registers tsx for it when needed).
import { importWorkerModule } from './import-worker.mjs';

const mod = await importWorkerModule(import.meta.url, 'worker');
export const { force, replica, ping } = mod;
