// The Go golden vectors (game/arena/testdata/movement_golden.json, written by
// go test ./game/arena -run TestMovementGolden -update) replayed through the
// TypeScript port: every step must give identical positions and velocities.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MOVE_MAX, SCALE, move, newMoveParams, type Body, type Wall } from "../src/game/movement";

interface Golden {
  scale: number;
  moveMax: number;
  walls: [number, number, number, number][];
  tickRates: {
    tickRate: number;
    params: { maxSpeed: number; accel: number; friction: number; halfSize: number };
    cases: { name: string; start: [number, number, number, number]; steps: [number, number, number, number, number, number][] }[];
  }[];
}

const goldenPath = fileURLToPath(new URL("../../game/arena/testdata/movement_golden.json", import.meta.url));
const golden = JSON.parse(readFileSync(goldenPath, "utf8")) as Golden;

describe("movement golden vectors", () => {
  it("uses the same units", () => {
    expect(golden.scale).toBe(SCALE);
    expect(golden.moveMax).toBe(MOVE_MAX);
    expect(golden.tickRates.length).toBeGreaterThan(0);
  });

  for (const tr of golden.tickRates) {
    it(`derives the same parameters at ${tr.tickRate} ticks/s`, () => {
      expect(newMoveParams(tr.tickRate)).toEqual(tr.params);
    });

    for (const c of tr.cases) {
      it(`replays ${c.name} at ${tr.tickRate} ticks/s (${c.steps.length} steps)`, () => {
        const walls: Wall[] = golden.walls;
        let b: Body = { x: c.start[0], y: c.start[1], vx: c.start[2], vy: c.start[3] };
        c.steps.forEach((s, i) => {
          b = move(b, s[0], s[1], tr.params, walls);
          const want = { x: s[2], y: s[3], vx: s[4], vy: s[5] };
          if (b.x !== want.x || b.y !== want.y || b.vx !== want.vx || b.vy !== want.vy) {
            expect.fail(`${c.name} step ${i} stick (${s[0]}, ${s[1]}): got ${JSON.stringify(b)}, want ${JSON.stringify(want)}`);
          }
        });
      });
    }
  }

  it("derives the server's parameters at common tick rates", () => {
    expect(newMoveParams(30)).toEqual({ maxSpeed: 58, accel: 20, friction: 20, halfSize: 112 });
    expect(newMoveParams(60)).toEqual({ maxSpeed: 29, accel: 5, friction: 5, halfSize: 112 });
    expect(newMoveParams(10)).toEqual({ maxSpeed: 176, accel: 176, friction: 176, halfSize: 112 });
    expect(newMoveParams(128)).toEqual({ maxSpeed: 13, accel: 2, friction: 2, halfSize: 112 });
  });

  it("truncates towards zero for negative sticks", () => {
    const p = newMoveParams(30);
    const b = move({ x: 4000, y: 4000, vx: 0, vy: 0 }, -127, -127, p, []);
    // Normalised diagonal: l = ceil(sqrt(2*127^2)) = 180; -127*127/180 = -89.6 -> -89.
    // Desired -89*58/127 = -40.6 -> -40; rate limited to -20.
    expect(b).toEqual({ x: 3980, y: 3980, vx: -20, vy: -20 });
  });
});
