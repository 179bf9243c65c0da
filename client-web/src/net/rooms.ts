// Which connection carries the room.
//
// MatchFound.endpoint names the WebSocket URL of the node hosting the room;
// empty means "join on this connection". In a cluster the room may be on
// another node: the client then opens a second connection there (a
// RoomLink, roomlink.ts) and sends all room traffic over it, while the
// lobby connection stays open for matchmaking, the party and the news that
// the room's node went away (RoomClosed{NODE_LOST}). A room watched from
// GET /v1/rooms goes the same way (watchRoute): its endpoint names the
// node hosting it when that is not the node that answered.

/** Where to join a room: on the lobby connection, or on another node. */
export type RoomRoute = { kind: "lobby" } | { kind: "remote"; url: string };

/** The path a node serves WebSockets on (an upgrade at "/" is served the same way). */
const CONNECT_PATH = "/v1/connect";

/** The WebSocket scheme for each accepted URL scheme. */
const WS_SCHEME: Readonly<Record<string, string>> = { "ws:": "ws:", "http:": "ws:", "wss:": "wss:", "https:": "wss:" };

/**
 * The endpoint as an absolute WebSocket URL (ws: or wss:, http: and https:
 * map to them), resolved against base when relative; undefined when it is
 * not a URL or has another scheme.
 */
export function wsURL(endpoint: string, base?: string): URL | undefined {
  let u: URL;
  try {
    u = base === undefined ? new URL(endpoint) : new URL(endpoint, base);
  } catch {
    return undefined;
  }
  const scheme = WS_SCHEME[u.protocol];
  if (!scheme || !u.host) return undefined;
  // Re-parse under the WebSocket scheme so that its default port (80 or 443) drops out.
  return new URL(`${scheme}//${u.host}${u.pathname}${u.search}`);
}

/**
 * The canonical form of a WebSocket endpoint, for comparison: wsURL's,
 * with the host in lower case, the path without a trailing slash ("/" is
 * /v1/connect), no query and no fragment.
 */
export function normalizeEndpoint(endpoint: string, base?: string): string | undefined {
  const u = wsURL(endpoint, base);
  if (!u) return undefined;
  let path = u.pathname.replace(/\/+$/, "");
  if (path === "") path = CONNECT_PATH;
  return `${u.protocol}//${u.host}${path}`;
}

/** Whether two endpoints name the same WebSocket URL (see normalizeEndpoint). */
export function sameEndpoint(a: string, b: string): boolean {
  const na = normalizeEndpoint(a);
  const nb = normalizeEndpoint(b, a);
  return na !== undefined && na === nb;
}

/**
 * Where to join the room MatchFound names: on the lobby connection (at
 * lobbyURL) when the endpoint is empty, names that same URL, or cannot be
 * read; otherwise on a connection of its own to the endpoint (resolved
 * against lobbyURL when relative).
 */
export function roomRoute(endpoint: string, lobbyURL: string): RoomRoute {
  if (!endpoint) return { kind: "lobby" };
  const url = wsURL(endpoint, lobbyURL);
  if (!url || sameEndpoint(lobbyURL, url.toString())) return { kind: "lobby" };
  return { kind: "remote", url: url.toString() };
}

/**
 * Where to watch a room listed by GET /v1/rooms: its endpoint names the
 * node hosting it (resolved against listedBy when relative), or is empty
 * for a room on the node that answered, whose WebSocket URL is listedBy.
 * On the lobby connection (at lobbyURL) when that is the room's node, or
 * when the endpoint cannot be read; otherwise on a connection of its own.
 */
export function watchRoute(endpoint: string, listedBy: string, lobbyURL: string): RoomRoute {
  const url = endpoint ? wsURL(endpoint, listedBy) : wsURL(listedBy);
  return url ? roomRoute(url.toString(), lobbyURL) : { kind: "lobby" };
}

/**
 * The connection that carries room traffic (JoinRoom, inputs, clock-sync
 * pings, room chat, LeaveRoom): the room link's while there is one (even
 * while it is down: room traffic never falls back to the lobby's node),
 * else the lobby connection.
 */
export function roomCarrier<C>(lobby: C | undefined, link: { readonly conn: C | undefined } | undefined): C | undefined {
  return link ? link.conn : lobby;
}
