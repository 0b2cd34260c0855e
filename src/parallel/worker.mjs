// Worker entry of the worker pool: piscina loads this plain module, which
// registers tsx so that the TypeScript sources (and plugin potentials) load.
import { register } from 'tsx/esm/api';

register();
const { force, replica, ping } = await import('./worker.ts');
export { force, replica, ping };
