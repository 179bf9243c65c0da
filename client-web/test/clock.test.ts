// Clock sync from Ping/Pong and the command clock.

import { describe, expect, it } from "vitest";
import { ClockSync, CommandClock } from "../src/net/clock";

describe("ClockSync", () => {
  it("maps local time to the server tick from a Pong, half a round trip later", () => {
    const c = new ClockSync(30);
    // Ping sent at 1000 ms, the server wrote the Pong at tick 100 + 1/2, received at 1100 ms.
    c.onPong(1000, 1100, 100, 32768);
    expect(c.rttMs).toBe(100);
    // At receipt the server is 50 ms (1.5 ticks) further on.
    expect(c.serverTick(1100)).toBeCloseTo(102, 9);
    expect(c.serverTick(1100 + 1000)).toBeCloseTo(132, 9);
    // Lead: half the round trip (1.5 ticks) plus the margin.
    expect(c.leadTicks()).toBeGreaterThan(1.5);
    expect(c.leadTicks()).toBeLessThan(2.5);
  });

  it("trusts the sample with the smallest round trip", () => {
    const c = new ClockSync(30);
    // True mapping: server tick = local ms * 0.03 + 10.
    const truth = (ms: number) => ms * 0.03 + 10;
    // A quick exchange, symmetric 20 ms each way.
    c.onPong(1000, 1040, Math.floor(truth(1020)), Math.round((truth(1020) % 1) * 65536));
    // A slow one: 20 ms out, 200 ms back (queued): it would put the server late.
    c.onPong(2000, 2220, Math.floor(truth(2020)), Math.round((truth(2020) % 1) * 65536));
    expect(c.serverTick(3000)).toBeCloseTo(truth(3000), 1);
    expect(c.jitterMs).toBeCloseTo(180, 6);
  });

  it("ignores ticks outside a room but measures the round trip", () => {
    const c = new ClockSync(30);
    c.onPong(0, 30, 0, 0);
    expect(c.synced).toBe(false);
    expect(c.rttMs).toBe(30);
    c.seedFromSnapshot(500, 1000);
    expect(c.synced).toBe(true);
    expect(c.serverTick(1000)).toBeCloseTo(500 + 0.45, 9);
  });
});

describe("CommandClock", () => {
  it("follows its target smoothly and jumps only for large gaps", () => {
    const cc = new CommandClock(30);
    expect(cc.update(0, 10)).toBe(10);
    // The target moves on at the tick rate; the clock keeps pace.
    expect(cc.update(100, 13)).toBeCloseTo(13, 9);
    // The target steps 1 tick ahead: the clock catches up gradually (at most 10% fast).
    let v = 0;
    let prev = 13;
    let target = 0;
    for (let t = 133.33; t < 1200; t += 33.33) {
      target = 14 + (t - 100) * 0.03;
      v = cc.update(t, target);
      expect(v - prev).toBeLessThanOrEqual(1.1 + 1e-6);
      expect(v - prev).toBeGreaterThanOrEqual(0.9 - 1e-6);
      prev = v;
    }
    expect(Math.abs(v - target)).toBeLessThan(0.1);
    // A big jump (a new room) is taken at once.
    expect(cc.update(1300, 500)).toBe(500);
  });
});
