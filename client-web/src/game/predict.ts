// Prediction and reconciliation of the local player.
//
// Every input the client sends is one movement step on the server (the room
// applies a player's inputs in seq order, one Move per input), so the client
// applies the same step at once. Each snapshot carries the server's body of
// the local player after the input ack_seq: the predictor restarts from it
// and replays the inputs the server has not applied yet. When the server
// agrees, the replay lands exactly where the prediction already was; when it
// does not (a shot pushed nothing, but a dropped input or a death can), the
// difference is kept as a visual offset that decays over a few frames
// instead of snapping.

import { move, type Body, type MoveParams, type Wall } from "./movement";

/** An input remembered until the server acknowledges it. */
export interface PendingInput {
  seq: number;
  moveX: number;
  moveY: number;
}

/** Corrections larger than this (fixed-point units) snap: a respawn, a teleport. */
export const SNAP_DISTANCE = 64 * 8;
/** Half-life of a smoothed correction, in milliseconds. */
export const CORRECTION_HALF_LIFE_MS = 40;
/** Most inputs kept unacknowledged (about 4 s at 60 Hz); older ones are dropped. */
const MAX_PENDING = 256;

export class Predictor {
  /** The predicted body after the last input. */
  body: Body = { x: 0, y: 0, vx: 0, vy: 0 };
  /** The predicted body before the last input (for rendering between client ticks). */
  prev: Body = { x: 0, y: 0, vx: 0, vy: 0 };
  /** Inputs sent but not yet acknowledged, in seq order. */
  readonly pending: PendingInput[] = [];
  /** The visual offset still to decay, in fixed-point units. */
  corrX = 0;
  corrY = 0;
  /** Corrections seen (for the HUD and tests): count and the last size. */
  corrections = 0;
  lastError = 0;
  /** The last acknowledged seq. */
  ackSeq = 0;

  constructor(
    public params: MoveParams,
    public walls: readonly Wall[],
  ) {}

  /** Starts over from the server's body (after Joined and a full snapshot). */
  reset(server: Body): void {
    this.body = { ...server };
    this.prev = { ...server };
    this.pending.length = 0;
    this.corrX = this.corrY = 0;
    this.ackSeq = 0;
  }

  /** Applies a new input locally; alive is false while the player is dead (it does not move). */
  applyInput(input: PendingInput, alive: boolean): void {
    this.pending.push(input);
    if (this.pending.length > MAX_PENDING) this.pending.shift();
    this.prev = this.body;
    if (alive) this.body = move(this.body, input.moveX, input.moveY, this.params, this.walls);
    else this.body = { ...this.body, vx: 0, vy: 0 };
  }

  /**
   * Reconciles with the server's body after input ackSeq: drops the
   * acknowledged inputs and replays the rest. It returns the prediction
   * error in fixed-point units (0 when the server agreed).
   */
  reconcile(ackSeq: number, server: Body, alive: boolean): number {
    if (ackSeq > this.ackSeq) this.ackSeq = ackSeq;
    let k = 0;
    while (k < this.pending.length && this.pending[k]!.seq <= this.ackSeq) k++;
    if (k > 0) this.pending.splice(0, k);

    let b: Body = { ...server };
    let prev: Body = b;
    if (alive) {
      for (const p of this.pending) {
        prev = b;
        b = move(b, p.moveX, p.moveY, this.params, this.walls);
      }
    }
    const ex = this.body.x - b.x;
    const ey = this.body.y - b.y;
    const err = Math.hypot(ex, ey);
    if (err > 0) {
      this.corrections++;
      if (err > SNAP_DISTANCE) {
        this.corrX = this.corrY = 0;
      } else {
        this.corrX += ex;
        this.corrY += ey;
      }
    }
    this.lastError = err;
    if (err > SNAP_DISTANCE) {
      this.prev = b;
    } else {
      // Shift the previous body by the same correction so that rendering
      // between the two stays continuous.
      this.prev = err === 0 ? this.prev : { ...prev };
    }
    this.body = b;
    return err;
  }

  /** Decays the visual correction by dtMs of wall time. */
  decay(dtMs: number): void {
    if (this.corrX === 0 && this.corrY === 0) return;
    const f = Math.pow(0.5, dtMs / CORRECTION_HALF_LIFE_MS);
    this.corrX *= f;
    this.corrY *= f;
    if (Math.abs(this.corrX) < 0.5 && Math.abs(this.corrY) < 0.5) this.corrX = this.corrY = 0;
  }

  /**
   * The position to draw, in fixed-point units: between prev and body by
   * alpha (the fraction of the client tick elapsed), plus the decaying
   * correction.
   */
  renderPos(alpha: number): { x: number; y: number } {
    const a = Math.min(1, Math.max(0, alpha));
    return {
      x: this.prev.x + (this.body.x - this.prev.x) * a + this.corrX,
      y: this.prev.y + (this.body.y - this.prev.y) * a + this.corrY,
    };
  }
}
