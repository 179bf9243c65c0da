// How long to wait before the next attempt to reconnect.

/** The longest wait between two attempts, in ms. */
export const MAX_RECONNECT_DELAY_MS = 5000;

/**
 * The wait before reconnect attempt n (1, 2, ...): 250 ms doubling to at
 * most 5 s, spread by ±20 % (rand is a number in [0, 1), Math.random's) so
 * that clients dropped together do not come back together.
 */
export function reconnectDelay(attempt: number, rand: number): number {
  const base = Math.min(MAX_RECONNECT_DELAY_MS, 250 * 2 ** (Math.max(1, attempt) - 1));
  return base * (0.8 + 0.4 * rand);
}
