/**
 * Importing this module registers every built-in potential kind with the registry
 * (each potential module registers itself when loaded).
 */
import './lj.ts';
import './morse.ts';
import './sum.ts';
import './scaled.ts';
import './eam/eam.ts';
import './sw.ts';
import './tersoff.ts';
import './trace/potential.ts';
import './latte/potential.ts';
