// The client's copy of a room's world, kept by applying snapshots in order:
// the same rules as game/view.go (docs/PROTOCOL.md, "Snapshots"): removed,
// created, updated, then moved.

import type { Entity, Event, Snapshot } from "../gen/arbiter/v1/snapshot_pb";

/** Arena entity flag bits. */
export const FLAG_DEAD = 1;
export const FLAG_FIRING = 2;
export const FLAG_INVULNERABLE = 4;
/** Entity kind of a player. */
export const KIND_PLAYER = 0;

/** One entity with every field absolute, in wire units. */
export interface EntityState {
  id: number;
  kind: number;
  x: number;
  y: number;
  vx: number;
  vy: number;
  angle: number;
  health: number;
  flags: number;
  kills: number;
  deaths: number;
  score: number;
  timer: number;
}

/** A snapshot that cannot be applied: the view is out of sync and needs a full snapshot (reconnect). */
export class DesyncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DesyncError";
  }
}

function fromCreated(c: Entity): EntityState {
  return {
    id: c.id,
    kind: c.kind ?? 0,
    x: c.x ?? 0,
    y: c.y ?? 0,
    vx: c.vx ?? 0,
    vy: c.vy ?? 0,
    angle: c.angle ?? 0,
    health: c.health ?? 0,
    flags: c.flags ?? 0,
    kills: c.kills ?? 0,
    deaths: c.deaths ?? 0,
    score: c.score ?? 0,
    timer: c.timer ?? 0,
  };
}

/** Wrapping int32 addition: undoes the encoder's wrapping difference. */
function add(a: number, d: number | undefined): number {
  return d === undefined ? a : (a + d) | 0;
}

/**
 * View applies full and delta snapshots. After an error it is unsynced and
 * refuses deltas until the next full snapshot.
 */
export class View {
  tick = 0;
  ackSeq = 0;
  synced = false;
  readonly entities = new Map<number, EntityState>();
  /** The events carried by the last applied snapshot. */
  events: readonly Event[] = [];

  /** Applies one snapshot or throws DesyncError (leaving the view unsynced). */
  apply(s: Snapshot): void {
    try {
      this.applyInner(s);
    } catch (e) {
      this.synced = false;
      throw e;
    }
  }

  reset(): void {
    this.entities.clear();
    this.tick = 0;
    this.ackSeq = 0;
    this.synced = false;
    this.events = [];
  }

  private applyInner(s: Snapshot): void {
    const ents = this.entities;
    if (s.baseAge === 0) {
      ents.clear();
    } else {
      if (!this.synced) {
        throw new DesyncError(`delta for tick ${s.tick} before any full snapshot`);
      }
      const base = (s.tick - s.baseAge) >>> 0;
      if (base !== this.tick || s.baseAge > s.tick) {
        throw new DesyncError(`delta for tick ${s.tick} based on tick ${base}, view is at ${this.tick}`);
      }
    }
    for (const id of s.removed) {
      if (!ents.delete(id)) throw new DesyncError(`snapshot ${s.tick} removes unknown entity ${id}`);
    }
    for (const c of s.created) {
      if (ents.has(c.id)) throw new DesyncError(`snapshot ${s.tick} creates existing entity ${c.id}`);
      ents.set(c.id, fromCreated(c));
    }
    for (const u of s.updated) {
      const e = ents.get(u.id);
      if (!e) throw new DesyncError(`snapshot ${s.tick} updates unknown entity ${u.id}`);
      if (u.kind !== undefined && u.kind !== e.kind) {
        throw new DesyncError(`snapshot ${s.tick} changes the kind of entity ${u.id}`);
      }
      e.x = add(e.x, u.x);
      e.y = add(e.y, u.y);
      e.vx = add(e.vx, u.vx);
      e.vy = add(e.vy, u.vy);
      e.angle = add(e.angle, u.angle);
      e.health = add(e.health, u.health);
      if (u.flags !== undefined) e.flags = u.flags;
      e.kills = add(e.kills, u.kills);
      e.deaths = add(e.deaths, u.deaths);
      e.score = add(e.score, u.score);
      e.timer = add(e.timer, u.timer);
    }
    // moved: triplets (id step, dx, dy), a compact update of x and y alone.
    const mv = s.moved;
    if (mv.length > 0) {
      if (mv.length % 3 !== 0) throw new DesyncError(`snapshot ${s.tick} has ${mv.length} moved values, not triplets`);
      let id = 0;
      for (let i = 0; i < mv.length; i += 3) {
        id = (id + mv[i]!) >>> 0;
        const e = ents.get(id);
        if (!e) throw new DesyncError(`snapshot ${s.tick} moves unknown entity ${id}`);
        e.x = (e.x + mv[i + 1]!) | 0;
        e.y = (e.y + mv[i + 2]!) | 0;
      }
    }
    this.events = s.events;
    this.tick = s.tick;
    this.ackSeq = s.ackSeq;
    this.synced = true;
  }
}
