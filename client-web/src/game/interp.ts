// Interpolation of remote entities.
//
// Remote entities are drawn in the past, between the two snapshots that
// bracket the render time, so that they move smoothly however the snapshots
// arrive. The render time is derived from the arrival times of the
// snapshots themselves: for each one, the offset between the local clock (in
// ticks) and its tick is recorded; the smallest recent offset is when a
// snapshot arrives with no delay, and the spread above it is the jitter. The
// render time runs that far behind plus a buffer of about two snapshot
// intervals, more when the jitter needs it. Changes of the buffer are slewed
// (the render clock runs at most 10% fast or slow) rather than jumped. When
// the newest snapshot is older than the render time, entities are
// extrapolated along their velocity for at most a capped time, then held.

/** The fields of an entity that rendering needs, per snapshot. */
export interface FrameEntity {
  x: number;
  y: number;
  vx: number;
  vy: number;
  angle: number;
  flags: number;
  health: number;
}

export interface Frame {
  tick: number;
  entities: Map<number, FrameEntity>;
}

export interface Sample {
  x: number;
  y: number;
  angle: number;
  flags: number;
  health: number;
  /** How far past the newest snapshot the position was extrapolated, in ticks. */
  extrapolated: number;
}

export interface InterpOptions {
  tickRate: number;
  snapshotEvery: number;
  /** Buffer in snapshot intervals when there is no jitter (default 2). */
  intervals?: number;
  /** Longest extrapolation, in ms (default 100). */
  maxExtrapolateMs?: number;
  /** Fastest slew of the render clock (default 0.1 = ±10%). */
  maxSlew?: number;
  /** Arrival samples kept (default 90). */
  window?: number;
  /** A player moving farther than this per tick teleported (fixed-point units). */
  teleportPerTick?: number;
}

const DEAD = 1;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i]!;
}

/** The shortest signed difference b - a of two angles in 1/65536 turn. */
export function angleDelta(a: number, b: number): number {
  let d = (b - a) % 65536;
  if (d > 32768) d -= 65536;
  if (d < -32768) d += 65536;
  return d;
}

export class Interpolator {
  readonly tickRate: number;
  readonly snapshotEvery: number;
  private readonly intervals: number;
  private readonly maxExtrapTicks: number;
  private readonly maxSlew: number;
  private readonly window: number;
  private readonly teleport: number;

  private frames: Frame[] = [];
  private arrivals: number[] = []; // local ticks - snapshot tick, oldest first
  private offset: number | undefined; // local ticks - render tick
  private lastClock: number | undefined;
  /** The buffer behind the earliest arrival the render clock aims for, in ticks. */
  targetDelay = 0;
  /** Measured jitter of snapshot arrivals, in ticks. */
  jitter = 0;

  constructor(o: InterpOptions) {
    this.tickRate = o.tickRate;
    this.snapshotEvery = Math.max(1, o.snapshotEvery);
    this.intervals = o.intervals ?? 2;
    this.maxExtrapTicks = ((o.maxExtrapolateMs ?? 100) * o.tickRate) / 1000;
    this.maxSlew = o.maxSlew ?? 0.1;
    this.window = o.window ?? 90;
    this.teleport = o.teleportPerTick ?? 3 * Math.ceil((220 * 8) / o.tickRate);
    this.targetDelay = this.intervals * this.snapshotEvery;
  }

  private ticksAt(nowMs: number): number {
    return (nowMs * this.tickRate) / 1000;
  }

  /** Forgets everything (a new room, a resume). */
  reset(): void {
    this.frames = [];
    this.arrivals = [];
    this.offset = undefined;
    this.lastClock = undefined;
  }

  /** Records a snapshot that arrived at nowMs (performance.now()). */
  push(frame: Frame, nowMs: number): void {
    const last = this.frames[this.frames.length - 1];
    if (last && frame.tick <= last.tick) {
      // Out of order cannot happen over one WebSocket; a new baseline can.
      this.frames = [];
    }
    this.frames.push(frame);
    if (this.frames.length > 64) this.frames.splice(0, this.frames.length - 64);
    this.arrivals.push(this.ticksAt(nowMs) - frame.tick);
    if (this.arrivals.length > this.window) this.arrivals.splice(0, this.arrivals.length - this.window);
    this.updateTarget();
  }

  private updateTarget(): void {
    const s = [...this.arrivals].sort((a, b) => a - b);
    const base = s[0] ?? 0;
    this.jitter = percentile(s, 0.95) - base;
    const interval = this.snapshotEvery;
    this.targetDelay = Math.max(this.intervals * interval, this.jitter + interval);
  }

  /** The earliest arrival offset in the window (local ticks - tick). */
  private baseOffset(): number {
    let m = Infinity;
    for (const a of this.arrivals) if (a < m) m = a;
    return m;
  }

  /**
   * Advances the render clock to nowMs and returns the render time in
   * server ticks (fractional). Call it once per rendered frame.
   */
  renderTick(nowMs: number): number {
    const clock = this.ticksAt(nowMs);
    if (this.arrivals.length === 0) return 0;
    const target = this.baseOffset() + this.targetDelay;
    if (this.offset === undefined || this.lastClock === undefined || Math.abs(target - this.offset) > 10 * this.snapshotEvery + 5) {
      this.offset = target;
    } else {
      const elapsed = Math.max(0, clock - this.lastClock);
      const step = this.maxSlew * elapsed;
      const d = target - this.offset;
      this.offset += Math.max(-step, Math.min(step, d));
    }
    this.lastClock = clock;
    return clock - this.offset;
  }

  /** The render time for nowMs without advancing the clock. */
  peekTick(nowMs: number): number {
    if (this.offset === undefined) return 0;
    return this.ticksAt(nowMs) - this.offset;
  }

  /** The newest snapshot tick held. */
  get newestTick(): number {
    return this.frames[this.frames.length - 1]?.tick ?? 0;
  }

  /** How many snapshots are buffered past render time t. */
  bufferedAfter(t: number): number {
    let n = 0;
    for (let i = this.frames.length - 1; i >= 0 && this.frames[i]!.tick > t; i--) n++;
    return n;
  }

  /** Drops frames no longer needed for render time t. */
  prune(t: number): void {
    let k = 0;
    while (k + 1 < this.frames.length && this.frames[k + 1]!.tick <= t) k++;
    if (k > 0) this.frames.splice(0, k);
  }

  /** The ids of the entities to draw at render time t. */
  ids(t: number): number[] {
    const [a] = this.bracket(t);
    if (!a) return [];
    return [...a.entities.keys()];
  }

  private bracket(t: number): [Frame | undefined, Frame | undefined] {
    const f = this.frames;
    if (f.length === 0) return [undefined, undefined];
    if (t < f[0]!.tick) return [f[0], undefined];
    for (let i = f.length - 1; i >= 0; i--) {
      if (f[i]!.tick <= t) return [f[i], f[i + 1]];
    }
    return [f[0], undefined];
  }

  /** Entity id at render time t: interpolated, extrapolated (capped) or held. */
  sample(id: number, t: number): Sample | undefined {
    const [a, b] = this.bracket(t);
    if (!a) return undefined;
    const ea = a.entities.get(id);
    if (!ea) return undefined;
    const eb = b?.entities.get(id);
    if (b && eb) {
      const span = b.tick - a.tick;
      const f = Math.min(1, Math.max(0, (t - a.tick) / span));
      const jump = Math.hypot(eb.x - ea.x, eb.y - ea.y) > this.teleport * span;
      const lifeChange = (ea.flags & DEAD) !== (eb.flags & DEAD);
      if (jump || lifeChange) {
        // A respawn or a death: no sliding across the map.
        const e = f < 1 ? ea : eb;
        return { x: e.x, y: e.y, angle: e.angle, flags: e.flags, health: e.health, extrapolated: 0 };
      }
      return {
        x: ea.x + (eb.x - ea.x) * f,
        y: ea.y + (eb.y - ea.y) * f,
        angle: (ea.angle + angleDelta(ea.angle, eb.angle) * f + 65536) % 65536,
        flags: f < 0.5 ? ea.flags : eb.flags,
        health: f < 1 ? ea.health : eb.health,
        extrapolated: 0,
      };
    }
    if (b) {
      // Gone in the next snapshot: held where it was last seen.
      return { x: ea.x, y: ea.y, angle: ea.angle, flags: ea.flags, health: ea.health, extrapolated: 0 };
    }
    // Past the newest snapshot: extrapolate, capped.
    const over = Math.max(0, t - a.tick);
    const dt = (ea.flags & DEAD) !== 0 ? 0 : Math.min(over, this.maxExtrapTicks);
    return {
      x: ea.x + ea.vx * dt,
      y: ea.y + ea.vy * dt,
      angle: ea.angle,
      flags: ea.flags,
      health: ea.health,
      extrapolated: dt,
    };
  }
}
