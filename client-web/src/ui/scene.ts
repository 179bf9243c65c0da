// What to draw of a room's other players: each one interpolated (or, past
// the newest snapshot, extrapolated and capped) at the render time. The
// player client draws these around its own predicted player; the
// dashboard's spectator view draws only these.

import type { RoomSession } from "../game/room";
import { FLAG_DEAD, FLAG_FIRING, FLAG_INVULNERABLE } from "../game/view";
import { EventType, type Event } from "../gen/arbiter/v1/snapshot_pb";
import type { DrawPlayer, Effect } from "./renderer";

export interface RemoteScene {
  players: DrawPlayer[];
  /** Whether any of them was extrapolated past the newest snapshot. */
  extrapolated: boolean;
}

/** The players of room at render tick t in world units, except the local one (room.ownEntity). */
export function remotePlayers(room: RoomSession, t: number): RemoteScene {
  const players: DrawPlayer[] = [];
  const sc = room.map?.scale ?? 8;
  const maxHealth = room.map?.weapon.maxHealth ?? 100;
  let extrapolated = false;
  for (const id of room.interp.ids(t)) {
    if (id === room.ownEntity) continue;
    const s = room.interp.sample(id, t);
    if (!s) continue;
    if (s.extrapolated > 0) extrapolated = true;
    players.push({
      id,
      x: s.x / sc,
      y: s.y / sc,
      angle: (s.angle / 65536) * Math.PI * 2,
      name: room.nameOf(id),
      health: s.health,
      maxHealth,
      dead: (s.flags & FLAG_DEAD) !== 0,
      invulnerable: (s.flags & FLAG_INVULNERABLE) !== 0,
      firing: (s.flags & FLAG_FIRING) !== 0,
      self: false,
      seat: room.seatOf(id),
    });
  }
  return { players, extrapolated };
}

/** An event waiting for the render time to reach its tick. */
export interface QueuedEvent {
  ev: Event;
  at: number;
}

/**
 * Turns the queued events whose tick the render time t has reached into
 * effects (shot tracers, hit sparks, kill rings) and drops expired effects.
 * Events more than 60 ticks ahead are shown at once. Shared by the game and
 * the dashboard's spectator view.
 */
export function playEvents(queued: QueuedEvent[], effects: Effect[], t: number, scale: number, now: number): { queued: QueuedEvent[]; effects: Effect[] } {
  const keep: QueuedEvent[] = [];
  for (const q of queued) {
    if (q.at > t && q.at - t < 60) {
      keep.push(q);
      continue;
    }
    const ev = q.ev;
    if (ev.type === EventType.SHOT) {
      effects.push({ kind: "tracer", x: ev.x / scale, y: ev.y / scale, x2: ev.x2 / scale, y2: ev.y2 / scale, born: now, life: 140, self: false });
    } else if (ev.type === EventType.HIT) {
      effects.push({ kind: "spark", x: ev.x / scale, y: ev.y / scale, x2: 0, y2: 0, born: now, life: 260, self: false });
    } else if (ev.type === EventType.KILL) {
      effects.push({ kind: "ring", x: ev.x / scale, y: ev.y / scale, x2: 0, y2: 0, born: now, life: 600, self: false });
    }
  }
  return { queued: keep, effects: effects.filter((e) => now - e.born < e.life) };
}
