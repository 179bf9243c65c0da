// Movement rules of the arena, ported exactly from game/arena/movement.go.
//
// Everything here is integer arithmetic on numbers far below 2^31, and every
// division truncates towards zero (Math.trunc), so that a prediction made
// with these functions equals the server's result bit for bit. The golden
// vectors in game/arena/testdata/movement_golden.json (replayed by
// test/movement.test.ts) keep the two implementations in step.

/** Fixed-point position units per world unit. */
export const SCALE = 8;
/** The largest stick value per axis. */
export const MOVE_MAX = 127;
/** A player's top speed in world units per second. */
export const MAX_SPEED_UNITS = 220;
/** Half the side of a player's box, in world units. */
export const HALF_SIZE_UNITS = 14;
/** Tenths of a second to reach top speed from rest. */
const ACCEL_TENTHS = 1;

/** The kinematic state of one player, in fixed-point units (per tick for velocities). */
export interface Body {
  x: number;
  y: number;
  vx: number;
  vy: number;
}

/** Movement constants for one tick rate, in fixed-point units. */
export interface MoveParams {
  maxSpeed: number;
  accel: number;
  friction: number;
  halfSize: number;
}

/** A wall: [minX, minY, maxX, maxY] in fixed-point units. */
export type Wall = readonly [number, number, number, number];

/** NewMoveParams in movement.go: the constants for tickRate ticks per second. */
export function newMoveParams(tickRate: number): MoveParams {
  const tr = Math.max(1, Math.trunc(tickRate));
  const maxSpeed = Math.trunc((MAX_SPEED_UNITS * SCALE) / tr);
  const n = Math.max(1, Math.trunc((tr * ACCEL_TENTHS) / 10));
  const accel = Math.trunc((maxSpeed + n - 1) / n);
  return { maxSpeed, accel, friction: accel, halfSize: HALF_SIZE_UNITS * SCALE };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * One movement step of body b under the stick (moveX, moveY) among static
 * walls; returns the new body (b is not modified). See Move in movement.go
 * for the order of operations, which this follows line by line.
 */
export function move(b: Body, moveX: number, moveY: number, p: MoveParams, walls: readonly Wall[]): Body {
  const m = MOVE_MAX;
  let mx = clamp(moveX, -m, m);
  let my = clamp(moveY, -m, m);
  const n = mx * mx + my * my;
  if (n > m * m) {
    // isqrt: exact for n < 2^40, the same as Go's int32(math.Sqrt(float64(n))).
    let l = Math.floor(Math.sqrt(n));
    if (l * l < n) l++;
    mx = Math.trunc((mx * m) / l);
    my = Math.trunc((my * m) / l);
  }
  const dx = Math.trunc((mx * p.maxSpeed) / m);
  const dy = Math.trunc((my * p.maxSpeed) / m);
  const lim = mx === 0 && my === 0 ? p.friction : p.accel;
  let { x, y, vx, vy } = b;
  vx += clamp(dx - vx, -lim, lim);
  vy += clamp(dy - vy, -lim, lim);

  const h = p.halfSize;
  if (vx !== 0) {
    let nx = x + vx;
    let hit = false;
    for (const w of walls) {
      if (y - h >= w[3] || y + h <= w[1]) continue;
      if (vx > 0) {
        if (x + h <= w[0] && nx + h > w[0]) {
          nx = w[0] - h;
          hit = true;
        }
      } else if (x - h >= w[2] && nx - h < w[2]) {
        nx = w[2] + h;
        hit = true;
      }
    }
    x = nx;
    if (hit) vx = 0;
  }
  if (vy !== 0) {
    let ny = y + vy;
    let hit = false;
    for (const w of walls) {
      if (x - h >= w[2] || x + h <= w[0]) continue;
      if (vy > 0) {
        if (y + h <= w[1] && ny + h > w[1]) {
          ny = w[1] - h;
          hit = true;
        }
      } else if (y - h >= w[3] && ny - h < w[3]) {
        ny = w[3] + h;
        hit = true;
      }
    }
    y = ny;
    if (hit) vy = 0;
  }
  return { x, y, vx, vy };
}
