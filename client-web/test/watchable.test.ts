// The GET /v1/rooms list (src/net/watchable.ts): typed entries in the
// server's order, endpoint empty for the answering node's rooms, anything
// malformed left out.

import { describe, expect, it } from "vitest";
import { parseWatchable } from "../src/net/watchable";

describe("parseWatchable", () => {
  it("reads the entries in order, with the endpoint of rooms on another node", () => {
    const body: unknown = JSON.parse(
      '[{"id":"r2","mode":"arena","players":2,"maxPlayers":8,"ageS":12,"endpoint":"ws://127.0.0.1:28082/v1/connect"},' +
        '{"id":"r1","mode":"arena","players":1,"maxPlayers":8,"ageS":3}]',
    );
    expect(parseWatchable(body)).toEqual([
      { id: "r2", mode: "arena", players: 2, maxPlayers: 8, ageS: 12, endpoint: "ws://127.0.0.1:28082/v1/connect" },
      { id: "r1", mode: "arena", players: 1, maxPlayers: 8, ageS: 3, endpoint: "" },
    ]);
  });

  it("leaves out what is not a room and reads missing or mistyped fields as empty", () => {
    expect(parseWatchable(null)).toEqual([]);
    expect(parseWatchable({ id: "r1" })).toEqual([]);
    expect(parseWatchable([null, 3, "r", {}, { id: 7 }, { id: "r1", players: "2", endpoint: 5 }])).toEqual([
      { id: "r1", mode: "", players: 0, maxPlayers: 0, ageS: 0, endpoint: "" },
    ]);
  });
});
