// Prediction and reconciliation of the local player.

import { describe, expect, it } from "vitest";
import { move, newMoveParams, type Body, type Wall } from "../src/game/movement";
import { Predictor, SNAP_DISTANCE, type PendingInput } from "../src/game/predict";

const params = newMoveParams(30);
// A box around (0,0)..(4000,4000) with one pillar, in fixed-point units.
const walls: Wall[] = [
  [-100, -100, 4100, 0],
  [-100, 4000, 4100, 4100],
  [-100, 0, 0, 4000],
  [4000, 0, 4100, 4000],
  [1800, 1800, 2200, 2200],
];
const start: Body = { x: 1000, y: 1000, vx: 0, vy: 0 };

/** A deterministic input pattern with starts, stops, diagonals and wall contact. */
function inputs(n: number): PendingInput[] {
  const out: PendingInput[] = [];
  for (let i = 0; i < n; i++) {
    const phase = Math.floor(i / 7) % 6;
    const sticks: [number, number][] = [
      [127, 0],
      [127, 127],
      [0, 0],
      [-127, 40],
      [0, 127],
      [90, -127],
    ];
    const [mx, my] = sticks[phase]!;
    out.push({ seq: i + 1, moveX: mx, moveY: my });
  }
  return out;
}

/** The server: applies inputs in seq order, one Move each. */
function serverAfter(ins: PendingInput[], upTo: number, from: Body = start): Body {
  let b = { ...from };
  for (const p of ins) if (p.seq <= upTo) b = move(b, p.moveX, p.moveY, params, walls);
  return b;
}

describe("Predictor", () => {
  it("replays unacknowledged inputs onto the server state exactly when the server agrees", () => {
    const ins = inputs(120);
    const pred = new Predictor(params, walls);
    pred.reset(start);
    let acked = 0;
    for (const p of ins) {
      pred.applyInput(p, true);
      // The server runs a few inputs behind (latency), acknowledging in steps.
      if (p.seq % 3 === 0) {
        acked = Math.max(0, p.seq - 5);
        const err = pred.reconcile(acked, serverAfter(ins, acked), true);
        expect(err).toBe(0);
        // The prediction is exactly the server's position after all inputs.
        expect(pred.body).toEqual(serverAfter(ins, p.seq));
        expect(pred.pending.map((q) => q.seq)).toEqual(ins.filter((q) => q.seq > acked && q.seq <= p.seq).map((q) => q.seq));
      }
    }
    expect(pred.corrections).toBe(0);
    expect(pred.corrX).toBe(0);
    // Everything acknowledged: the prediction is the server state.
    pred.reconcile(120, serverAfter(ins, 120), true);
    expect(pred.pending).toHaveLength(0);
    expect(pred.body).toEqual(serverAfter(ins, 120));
  });

  it("corrects to the server when it disagrees, smoothing the difference", () => {
    const ins = inputs(30).map((p) => ({ ...p, moveX: 127, moveY: 0 }));
    const pred = new Predictor(params, walls);
    pred.reset(start);
    for (const p of ins.slice(0, 20)) pred.applyInput(p, true);
    const before = pred.renderPos(1);
    // The server lost input 5 (say it was dropped): it is one step behind.
    const serverIns = ins.filter((p) => p.seq !== 5);
    const server = serverAfter(serverIns, 15);
    const err = pred.reconcile(15, server, true);
    expect(err).toBeGreaterThan(0);
    // The new prediction is the server's state plus the replayed inputs 16..20.
    expect(pred.body).toEqual(serverAfter(ins.slice(15, 20), 20, server));
    // Drawn where it was, then converging on the corrected position.
    const after = pred.renderPos(1);
    expect(after.x).toBeCloseTo(before.x, 6);
    expect(after.y).toBeCloseTo(before.y, 6);
    pred.decay(40);
    expect(Math.abs(pred.corrX)).toBeLessThan(err * 0.51);
    for (let i = 0; i < 20; i++) pred.decay(16);
    expect(pred.corrX).toBe(0);
    expect(pred.renderPos(1)).toEqual({ x: pred.body.x, y: pred.body.y });
  });

  it("snaps instead of smoothing a teleport (a respawn)", () => {
    const pred = new Predictor(params, walls);
    pred.reset(start);
    pred.applyInput({ seq: 1, moveX: 127, moveY: 0 }, true);
    const spawn = { x: 3500, y: 3500, vx: 0, vy: 0 };
    const err = pred.reconcile(1, spawn, true);
    expect(err).toBeGreaterThan(SNAP_DISTANCE);
    expect(pred.corrX).toBe(0);
    expect(pred.renderPos(0.5)).toEqual({ x: 3500, y: 3500 });
  });

  it("does not move a dead player", () => {
    const pred = new Predictor(params, walls);
    pred.reset(start);
    pred.reconcile(0, start, false);
    pred.applyInput({ seq: 1, moveX: 127, moveY: 127 }, false);
    pred.applyInput({ seq: 2, moveX: 127, moveY: 127 }, false);
    expect(pred.body.x).toBe(start.x);
    expect(pred.body.y).toBe(start.y);
    const err = pred.reconcile(1, start, false);
    expect(err).toBe(0);
    expect(pred.body).toEqual(start);
  });

  it("ignores stale acknowledgements", () => {
    const ins = inputs(10);
    const pred = new Predictor(params, walls);
    pred.reset(start);
    for (const p of ins) pred.applyInput(p, true);
    pred.reconcile(8, serverAfter(ins, 8), true);
    // A lower ack never resurrects dropped inputs.
    pred.reconcile(6, serverAfter(ins, 8), true);
    expect(pred.pending.map((p) => p.seq)).toEqual([9, 10]);
    expect(pred.body).toEqual(serverAfter(ins, 10));
  });
});
