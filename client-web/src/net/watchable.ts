// The rooms players may watch: GET /v1/rooms, beside the WebSocket URL.
//
// The server lists them fullest first as JSON objects {id, mode, players,
// maxPlayers, ageS}; in a cluster it lists every node's rooms, and a room
// on another node than the one that answered carries that node's WebSocket
// URL in endpoint (absent or empty otherwise; rooms.ts, watchRoute).

/** One watchable room, as listed. */
export interface WatchableRoom {
  id: string;
  mode: string;
  players: number;
  maxPlayers: number;
  ageS: number;
  /** The WebSocket URL of the node hosting the room; "" for the node that answered. */
  endpoint: string;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/**
 * The rooms of a GET /v1/rooms body, in the server's order; entries that
 * are not objects or have no id are left out, missing fields read as empty
 * or zero. Anything but an array is no rooms.
 */
export function parseWatchable(body: unknown): WatchableRoom[] {
  if (!Array.isArray(body)) return [];
  const out: WatchableRoom[] = [];
  for (const e of body as unknown[]) {
    if (typeof e !== "object" || e === null) continue;
    const r = e as Record<string, unknown>;
    const id = str(r["id"]);
    if (!id) continue;
    out.push({ id, mode: str(r["mode"]), players: num(r["players"]), maxPlayers: num(r["maxPlayers"]), ageS: num(r["ageS"]), endpoint: str(r["endpoint"]) });
  }
  return out;
}
