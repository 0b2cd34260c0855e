/** Hidden-layer activations as small integer codes, so the hot loops (and generated code) branch on a number. */
import type { Activation } from './model.ts';

export const ACT_GAUSS = 0, ACT_TANH = 1, ACT_SILU = 2;

export function activationCode(a: Activation): number {
  return a === 'gaussian' ? ACT_GAUSS : a === 'tanh' ? ACT_TANH : ACT_SILU;
}
