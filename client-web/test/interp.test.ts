// Interpolation of remote entities between snapshots.

import { describe, expect, it } from "vitest";
import { Interpolator, angleDelta, type Frame, type FrameEntity } from "../src/game/interp";

const TICK_MS = 1000 / 30;

function frame(tick: number, ents: Record<number, Partial<FrameEntity>>): Frame {
  const m = new Map<number, FrameEntity>();
  for (const [id, e] of Object.entries(ents)) {
    m.set(Number(id), { x: 0, y: 0, vx: 0, vy: 0, angle: 0, flags: 0, health: 100, ...e });
  }
  return { tick, entities: m };
}

/** An entity moving +40 x per tick from 1000, snapshots arriving with a fixed delay. */
function steady(ip: Interpolator, from: number, to: number, delayMs = 50, jitter: (t: number) => number = () => 0): void {
  for (let t = from; t <= to; t++) {
    ip.push(frame(t, { 1: { x: 1000 + 40 * t, vx: 40 } }), t * TICK_MS + delayMs + jitter(t));
  }
}

describe("Interpolator", () => {
  it("interpolates linearly between the two frames around the render time", () => {
    const ip = new Interpolator({ tickRate: 30, snapshotEvery: 1 });
    ip.push(frame(10, { 1: { x: 100, y: 50, angle: 100 } }), 0);
    ip.push(frame(11, { 1: { x: 140, y: 30, angle: 300 } }), 33);
    expect(ip.sample(1, 10)).toMatchObject({ x: 100, y: 50, extrapolated: 0 });
    expect(ip.sample(1, 10.25)).toMatchObject({ x: 110, y: 45, angle: 150 });
    expect(ip.sample(1, 10.5)).toMatchObject({ x: 120, y: 40, angle: 200 });
    expect(ip.sample(1, 11)).toMatchObject({ x: 140, y: 30 });
    expect(ip.sample(2, 10.5)).toBeUndefined();
  });

  it("interpolates across snapshot gaps of several ticks", () => {
    const ip = new Interpolator({ tickRate: 30, snapshotEvery: 3 });
    ip.push(frame(30, { 1: { x: 0 } }), 0);
    ip.push(frame(33, { 1: { x: 90 } }), 100);
    expect(ip.sample(1, 31)!.x).toBeCloseTo(30, 9);
    expect(ip.sample(1, 32.5)!.x).toBeCloseTo(75, 9);
  });

  it("takes the short way round for angles", () => {
    expect(angleDelta(65000, 500)).toBe(1036);
    expect(angleDelta(500, 65000)).toBe(-1036);
    const ip = new Interpolator({ tickRate: 30, snapshotEvery: 1 });
    ip.push(frame(1, { 1: { angle: 65436 } }), 0);
    ip.push(frame(2, { 1: { angle: 100 } }), 33);
    expect(ip.sample(1, 1.5)!.angle).toBeCloseTo(0, 6);
  });

  it("does not slide a respawn or a death across the map", () => {
    const ip = new Interpolator({ tickRate: 30, snapshotEvery: 1 });
    ip.push(frame(1, { 1: { x: 100, y: 100 } }), 0);
    ip.push(frame(2, { 1: { x: 9000, y: 6000 } }), 33);
    expect(ip.sample(1, 1.5)).toMatchObject({ x: 100, y: 100 });
    expect(ip.sample(1, 2)).toMatchObject({ x: 9000, y: 6000 });
    ip.push(frame(3, { 1: { x: 9010, y: 6000, flags: 1 } }), 66);
    expect(ip.sample(1, 2.5)).toMatchObject({ x: 9000, flags: 0 });
  });

  it("extrapolates a late snapshot along the velocity, capped", () => {
    const ip = new Interpolator({ tickRate: 30, snapshotEvery: 1, maxExtrapolateMs: 100 });
    ip.push(frame(10, { 1: { x: 1000, vx: 40 }, 2: { x: 500, vx: 40, flags: 1 } }), 0);
    expect(ip.sample(1, 11)).toMatchObject({ x: 1040, extrapolated: 1 });
    expect(ip.sample(1, 12.5)).toMatchObject({ x: 1100, extrapolated: 2.5 });
    // Capped at 100 ms = 3 ticks.
    expect(ip.sample(1, 20)).toMatchObject({ x: 1120, extrapolated: 3 });
    // The dead are not extrapolated.
    expect(ip.sample(2, 12)).toMatchObject({ x: 500, extrapolated: 0 });
  });

  it("renders about two snapshot intervals behind the newest snapshot when arrivals are steady", () => {
    const ip = new Interpolator({ tickRate: 30, snapshotEvery: 1 });
    steady(ip, 1, 60);
    // Just after snapshot 60 arrived.
    const now = 60 * TICK_MS + 50 + 1;
    const rt = ip.renderTick(now);
    expect(60 - rt).toBeGreaterThan(1.9);
    expect(60 - rt).toBeLessThan(2.1);
    expect(ip.jitter).toBeCloseTo(0, 6);
    // Smooth motion: exactly on the line the entity moves along.
    expect(ip.sample(1, rt)!.x).toBeCloseTo(1000 + 40 * rt, 6);
    expect(ip.bufferedAfter(rt)).toBe(2);
  });

  it("grows the buffer with jitter and slews the render clock instead of jumping", () => {
    const ip = new Interpolator({ tickRate: 30, snapshotEvery: 1 });
    steady(ip, 1, 30);
    let now = 30 * TICK_MS + 50;
    const before = ip.renderTick(now);
    expect(ip.targetDelay).toBe(2);
    // Now snapshots arrive 0..150 ms late (about 4.5 ticks of jitter).
    const jit = (t: number) => ((t * 7919) % 10) * 15;
    let last = before;
    let lastNow = now;
    for (let t = 31; t <= 120; t++) {
      ip.push(frame(t, { 1: { x: 1000 + 40 * t, vx: 40 } }), t * TICK_MS + 50 + jit(t));
      now = t * TICK_MS + 50 + jit(t);
      if (now <= lastNow) continue;
      const rt = ip.renderTick(now);
      const advanced = rt - last;
      const elapsed = ((now - lastNow) * 30) / 1000;
      // The render clock runs between 0.9x and 1.1x real time.
      expect(advanced).toBeGreaterThanOrEqual(elapsed * 0.9 - 1e-9);
      expect(advanced).toBeLessThanOrEqual(elapsed * 1.1 + 1e-9);
      last = rt;
      lastNow = now;
    }
    expect(ip.jitter).toBeGreaterThan(3.5);
    expect(ip.targetDelay).toBeGreaterThan(4.5);
    // After settling, a snapshot is always there for the render time.
    for (let t = 121; t <= 240; t++) {
      const at = t * TICK_MS + 50 + jit(t);
      ip.push(frame(t, { 1: { x: 1000 + 40 * t, vx: 40 } }), at);
      const rt = ip.renderTick(at);
      if (t > 200) expect(ip.sample(1, rt)!.extrapolated).toBe(0);
    }
  });
});
