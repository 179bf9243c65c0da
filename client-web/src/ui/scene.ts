// What to draw of a room's other players: each one interpolated (or, past
// the newest snapshot, extrapolated and capped) at the render time. The
// player client draws these around its own predicted player; the
// dashboard's spectator view draws only these.

import type { RoomSession } from "../game/room";
import { FLAG_DEAD, FLAG_FIRING, FLAG_INVULNERABLE } from "../game/view";
import type { DrawPlayer } from "./renderer";

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
