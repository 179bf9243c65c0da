// The arena map as served at GET /v1/maps/{name} (game/arena/mapjson.go), in
// fixed-point units.

import { newMoveParams, type MoveParams, type Wall } from "./movement";

export interface MapData {
  name: string;
  scale: number;
  width: number;
  height: number;
  walls: Wall[];
  spawns: [number, number][];
  halfSize: number;
  move: Record<string, MoveParams>;
  weapon: { range: number; damage: number; maxHealth: number; fireRate: number };
}

type RawParams = Partial<Record<"MaxSpeed" | "Accel" | "Friction" | "HalfSize" | "maxSpeed" | "accel" | "friction" | "halfSize", number>>;

function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Parses and checks the map JSON; throws on a malformed map. */
export function parseMap(raw: unknown): MapData {
  const r = raw as Record<string, unknown>;
  if (!r || typeof r !== "object") throw new Error("map: not an object");
  const num = (k: string): number => {
    const v = r[k];
    if (!isNum(v)) throw new Error(`map: ${k} is not a number`);
    return v;
  };
  const walls = (r.walls as unknown[] | undefined ?? []).map((w) => {
    const a = w as number[];
    if (!Array.isArray(a) || a.length !== 4 || !a.every(isNum)) throw new Error("map: bad wall");
    return [a[0]!, a[1]!, a[2]!, a[3]!] as const;
  });
  const spawns = (r.spawns as unknown[] | undefined ?? []).map((s) => {
    const a = s as number[];
    if (!Array.isArray(a) || a.length !== 2 || !a.every(isNum)) throw new Error("map: bad spawn");
    return [a[0]!, a[1]!] as [number, number];
  });
  const move: Record<string, MoveParams> = {};
  const rawMove = (r.move ?? {}) as Record<string, RawParams>;
  for (const [k, p] of Object.entries(rawMove)) {
    const maxSpeed = p.MaxSpeed ?? p.maxSpeed;
    const accel = p.Accel ?? p.accel;
    const friction = p.Friction ?? p.friction;
    const halfSize = p.HalfSize ?? p.halfSize;
    if (isNum(maxSpeed) && isNum(accel) && isNum(friction) && isNum(halfSize)) {
      move[k] = { maxSpeed, accel, friction, halfSize };
    }
  }
  const w = (r.weapon ?? {}) as Record<string, unknown>;
  return {
    name: String(r.name ?? ""),
    scale: num("scale"),
    width: num("width"),
    height: num("height"),
    walls,
    spawns,
    halfSize: num("halfSize"),
    move,
    weapon: {
      range: isNum(w.range) ? w.range : 900 * 8,
      damage: isNum(w.damage) ? w.damage : 25,
      maxHealth: isNum(w.maxHealth) ? w.maxHealth : 100,
      fireRate: isNum(w.fireRate) ? w.fireRate : 6,
    },
  };
}

/** The movement constants at tickRate: the map's own, or derived with the server's formula. */
export function moveParamsFor(m: MapData | undefined, tickRate: number): MoveParams {
  return m?.move[String(tickRate)] ?? newMoveParams(tickRate);
}

/** Fetches a map by name (e.g. "arena/yard") from the server that served the page. */
export async function fetchMap(name: string, base = ""): Promise<MapData> {
  const res = await fetch(`${base}/v1/maps/${name}`);
  if (!res.ok) throw new Error(`map ${name}: HTTP ${res.status}`);
  return parseMap(await res.json());
}

/**
 * Where a ray from (sx, sy) along (dx, dy) (length = range) first meets one
 * of the rectangles, as a fraction in [0, 1] (1: nothing in the way).
 */
export function rayRects(sx: number, sy: number, dx: number, dy: number, rects: readonly Wall[]): number {
  let best = 1;
  for (const r of rects) {
    let t0 = 0;
    let t1 = 1;
    let ok = true;
    for (const [s, d, lo, hi] of [
      [sx, dx, r[0], r[2]],
      [sy, dy, r[1], r[3]],
    ] as const) {
      if (d === 0) {
        if (s < lo || s > hi) ok = false;
        continue;
      }
      let a = (lo - s) / d;
      let b = (hi - s) / d;
      if (a > b) [a, b] = [b, a];
      t0 = Math.max(t0, a);
      t1 = Math.min(t1, b);
    }
    if (ok && t0 <= t1 && t0 < best) best = t0;
  }
  return best;
}
