// Which connection carries the room (src/net/rooms.ts): endpoint
// comparison, the route MatchFound.endpoint gives, the route of a watched
// room of GET /v1/rooms, and the carrier of room traffic.

import { describe, expect, it } from "vitest";
import { normalizeEndpoint, roomCarrier, roomRoute, sameEndpoint, watchRoute, wsURL } from "../src/net/rooms";

const LOBBY = "ws://127.0.0.1:28081/v1/connect";

describe("normalizeEndpoint", () => {
  it("maps http(s) to ws(s), drops default ports, case, trailing slashes, query and fragment", () => {
    expect(normalizeEndpoint("ws://127.0.0.1:28082/v1/connect")).toBe("ws://127.0.0.1:28082/v1/connect");
    expect(normalizeEndpoint("http://127.0.0.1:28082/v1/connect/")).toBe("ws://127.0.0.1:28082/v1/connect");
    expect(normalizeEndpoint("https://Game.Example.com:443/v1/connect?x=1#y")).toBe("wss://game.example.com/v1/connect");
    expect(normalizeEndpoint("ws://example.com:80/v1/connect")).toBe("ws://example.com/v1/connect");
    expect(normalizeEndpoint("wss://example.com:8443/v1/connect")).toBe("wss://example.com:8443/v1/connect");
  });

  it("treats the root as /v1/connect (the server upgrades both)", () => {
    expect(normalizeEndpoint("ws://example.com")).toBe("ws://example.com/v1/connect");
    expect(normalizeEndpoint("ws://example.com/")).toBe("ws://example.com/v1/connect");
  });

  it("resolves a relative endpoint against a base, and refuses what is not a ws or http URL", () => {
    expect(normalizeEndpoint("/v1/connect", "wss://a.example.com/v1/connect")).toBe("wss://a.example.com/v1/connect");
    expect(normalizeEndpoint("//b.example.com:9000/v1/connect", "wss://a.example.com/v1/connect")).toBe("wss://b.example.com:9000/v1/connect");
    expect(normalizeEndpoint("not a url")).toBeUndefined();
    expect(normalizeEndpoint("")).toBeUndefined();
    expect(normalizeEndpoint("ftp://example.com/v1/connect")).toBeUndefined();
  });

  it("keeps the query in the URL to dial", () => {
    expect(wsURL("https://example.com/v1/connect?region=eu")?.toString()).toBe("wss://example.com/v1/connect?region=eu");
    expect(wsURL("mailto:x@example.com")).toBeUndefined();
  });
});

describe("sameEndpoint", () => {
  it("is true for the same node however written", () => {
    expect(sameEndpoint(LOBBY, "ws://127.0.0.1:28081/v1/connect")).toBe(true);
    expect(sameEndpoint(LOBBY, "http://127.0.0.1:28081/v1/connect/")).toBe(true);
    expect(sameEndpoint("wss://game.example.com/v1/connect", "wss://GAME.example.com:443/v1/connect")).toBe(true);
  });

  it("is false for another port, host, scheme or path", () => {
    expect(sameEndpoint(LOBBY, "ws://127.0.0.1:28082/v1/connect")).toBe(false);
    expect(sameEndpoint(LOBBY, "ws://localhost:28081/v1/connect")).toBe(false);
    expect(sameEndpoint(LOBBY, "wss://127.0.0.1:28081/v1/connect")).toBe(false);
    expect(sameEndpoint("wss://lb.example.com/node-a/v1/connect", "wss://lb.example.com/node-b/v1/connect")).toBe(false);
  });

  it("is false when either side is not a URL", () => {
    expect(sameEndpoint("garbage", "garbage")).toBe(false);
    expect(sameEndpoint(LOBBY, "ftp://127.0.0.1:28081/v1/connect")).toBe(false);
  });
});

describe("roomRoute", () => {
  it("joins on the lobby connection when the endpoint is empty or the lobby's own", () => {
    expect(roomRoute("", LOBBY)).toEqual({ kind: "lobby" });
    expect(roomRoute(LOBBY, LOBBY)).toEqual({ kind: "lobby" });
    expect(roomRoute("http://127.0.0.1:28081/v1/connect", LOBBY)).toEqual({ kind: "lobby" });
    expect(roomRoute("/v1/connect", LOBBY)).toEqual({ kind: "lobby" });
  });

  it("joins over a connection of its own when the endpoint names another node", () => {
    expect(roomRoute("ws://127.0.0.1:28082/v1/connect", LOBBY)).toEqual({ kind: "remote", url: "ws://127.0.0.1:28082/v1/connect" });
    // http(s) endpoints are dialled as ws(s).
    expect(roomRoute("https://b.example.com/v1/connect", "wss://a.example.com/v1/connect")).toEqual({ kind: "remote", url: "wss://b.example.com/v1/connect" });
  });

  it("falls back to the lobby connection for an endpoint it cannot read", () => {
    expect(roomRoute("ftp://elsewhere/v1/connect", LOBBY)).toEqual({ kind: "lobby" });
  });
});

describe("watchRoute", () => {
  const B = "ws://127.0.0.1:28082/v1/connect";

  it("watches on the lobby connection a room of the node that listed it, when the lobby is there", () => {
    expect(watchRoute("", LOBBY, LOBBY)).toEqual({ kind: "lobby" });
    expect(watchRoute(LOBBY, LOBBY, LOBBY)).toEqual({ kind: "lobby" });
    expect(watchRoute("/v1/connect", LOBBY, LOBBY)).toEqual({ kind: "lobby" });
  });

  it("watches over a connection of its own a room on another node", () => {
    expect(watchRoute(B, LOBBY, LOBBY)).toEqual({ kind: "remote", url: B });
    expect(watchRoute("http://127.0.0.1:28082/v1/connect", LOBBY, LOBBY)).toEqual({ kind: "remote", url: B });
    // Relative to the node that listed it, not to the lobby.
    expect(watchRoute("//127.0.0.1:28082/v1/connect", LOBBY, "ws://127.0.0.1:28083/v1/connect")).toEqual({ kind: "remote", url: B });
  });

  it("goes to the listing node for a room without endpoint when the lobby moved elsewhere", () => {
    expect(watchRoute("", LOBBY, B)).toEqual({ kind: "remote", url: LOBBY });
    // A room on the lobby's node, listed by another: on the lobby connection.
    expect(watchRoute(B, LOBBY, B)).toEqual({ kind: "lobby" });
  });

  it("falls back to the lobby connection for an endpoint it cannot read", () => {
    expect(watchRoute("ftp://elsewhere/v1/connect", LOBBY, LOBBY)).toEqual({ kind: "lobby" });
  });
});

describe("roomCarrier", () => {
  const lobby = { name: "lobby" };
  const room = { name: "room" };

  it("is the lobby connection without a room link", () => {
    expect(roomCarrier(lobby, undefined)).toBe(lobby);
    expect(roomCarrier(undefined, undefined)).toBeUndefined();
  });

  it("is the room link's connection while there is a link, even while it is down", () => {
    expect(roomCarrier(lobby, { conn: room })).toBe(room);
    expect(roomCarrier(lobby, { conn: undefined })).toBeUndefined();
  });
});
