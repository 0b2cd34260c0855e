/**
 * LATTE's compact radial function (spec: /work/shared/specs/latte.md):
 *   phi(r; c, s) = [max(0, 1 − ((r − c)/s)²)]³ / c²
 * supported on [c − s, c + s], C² at the edges. The hot loops in model.ts inline
 * the same formulas; these scalar versions serve tests and initialisation.
 */

export function phi(r: number, c: number, s: number): number {
  const y = (r - c) / s;
  if (y <= -1 || y >= 1) return 0;
  const t = 1 - y * y;
  return (t * t * t) / (c * c);
}

/** dphi/dr = −6 y t² / (s c²). */
export function dphiDr(r: number, c: number, s: number): number {
  const y = (r - c) / s;
  if (y <= -1 || y >= 1) return 0;
  const t = 1 - y * y;
  return (-6 * y * t * t) / (s * c * c);
}

/** dphi/dc = 6 y t²/(s c²) − 2 t³/c³. */
export function dphiDc(r: number, c: number, s: number): number {
  const y = (r - c) / s;
  if (y <= -1 || y >= 1) return 0;
  const t = 1 - y * y;
  return (6 * y * t * t) / (s * c * c) - (2 * t * t * t) / (c * c * c);
}

/** dphi/ds = 6 y² t²/(s c²). */
export function dphiDs(r: number, c: number, s: number): number {
  const y = (r - c) / s;
  if (y <= -1 || y >= 1) return 0;
  const t = 1 - y * y;
  return (6 * y * y * t * t) / (s * c * c);
}
