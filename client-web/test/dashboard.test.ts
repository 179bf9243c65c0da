// The dashboard's state model (src/dashboard/model.ts): a full Health
// message replaces everything, an update replaces the current state and
// appends its new points, the history is capped; and the endpoints carry
// the admin token.

import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { HealthReason, HealthSchema, type Health } from "../src/gen/arbiter/v1/health_pb";
import { endpointsFor } from "../src/dashboard/endpoints";
import { HealthModel, MAX_POINTS, plainHealth } from "../src/dashboard/model";

type HealthInit = MessageInitShape<typeof HealthSchema>;

/** Builds a message and sends it through the wire encoding, as the server would. */
function health(init: HealthInit): Health {
  return fromBinary(HealthSchema, toBinary(HealthSchema, create(HealthSchema, init)));
}

const T0 = 1_764_000_000_000_000n; // Unix µs
const sec = (s: number) => T0 + BigInt(s) * 1_000_000n;

function points(from: number, n: number, tickUs = 200) {
  return Array.from({ length: n }, (_, i) => ({ timeUs: sec(from + i), players: 2, rooms: 1, tickP99Us: tickUs, latenessP99Us: 500 }));
}

describe("HealthModel", () => {
  it("applies a full message, then an update: state replaced, points appended and capped", () => {
    const m = new HealthModel();
    m.apply(
      health({
        full: true,
        reason: HealthReason.CONNECTED,
        serverTimeUs: sec(MAX_POINTS),
        node: { ready: true, players: 2, sessions: 3, rooms: 1, tickRate: 30, version: "test" },
        rooms: [{ id: "room-a", mode: "duel", players: 2, maxPlayers: 2, tickP99Us: 180 }],
        queues: [{ mode: "arena", waiting: 1 }, { mode: "duel" }],
        drops: [{ name: "input_late", value: 5n }],
        points: points(1, MAX_POINTS),
      }),
    );
    expect(m.points).toHaveLength(MAX_POINTS);
    expect(m.points[0]!.t).toBe(Number(sec(1)) / 1000);
    expect(m.points[0]!.tickP99Ms).toBeCloseTo(0.2);
    expect(m.points[0]!.latenessP99Ms).toBeCloseTo(0.5);
    expect(m.rooms.map((r) => r.id)).toEqual(["room-a"]);
    expect(m.ready).toBe(true);
    expect(m.tickBudgetMs).toBeCloseTo(33.333, 2);
    expect(m.drops).toEqual([{ name: "input_late", value: 5, recent: 0 }]);

    m.apply(
      health({
        reason: HealthReason.ROOM_CREATED,
        serverTimeUs: sec(MAX_POINTS + 2),
        node: { ready: false, draining: true, players: 4, sessions: 4, rooms: 2, tickRate: 30 },
        rooms: [
          { id: "room-b", mode: "arena", players: 2, maxPlayers: 8 },
          { id: "room-c", mode: "duel", players: 2, maxPlayers: 2 },
        ],
        drops: [{ name: "input_late", value: 9n }, { name: "message_rate_limited", value: 2n }],
        points: points(MAX_POINTS + 1, 2, 900),
      }),
    );
    // Rooms are replaced, not merged.
    expect(m.rooms.map((r) => r.id)).toEqual(["room-b", "room-c"]);
    expect(m.node?.players).toBe(4);
    expect(m.queues).toEqual([]);
    expect(m.ready).toBe(false);
    expect(m.draining).toBe(true);
    // Two new points: appended, and the two oldest dropped to stay within the cap.
    expect(m.points).toHaveLength(MAX_POINTS);
    expect(m.points[0]!.t).toBe(Number(sec(3)) / 1000);
    expect(m.points.at(-1)!.t).toBe(Number(sec(MAX_POINTS + 2)) / 1000);
    expect(m.points.at(-1)!.tickP99Ms).toBeCloseTo(0.9);
    // Counters: totals, and what they grew by (a new one grew from zero).
    expect(m.drops).toEqual([
      { name: "input_late", value: 9, recent: 4 },
      { name: "message_rate_limited", value: 2, recent: 2 },
    ]);
    expect(m.messages).toBe(2);
  });

  it("ignores points it already has and keeps only the last five minutes", () => {
    const m = new HealthModel();
    m.apply(health({ full: true, serverTimeUs: sec(10), node: {}, points: points(1, 10) }));
    m.apply(health({ serverTimeUs: sec(11), node: {}, points: points(9, 3) })); // 9, 10 repeated; 11 new
    expect(m.points.map((p) => (p.t - Number(T0) / 1000) / 1000)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // A point ten minutes later pushes everything older than five minutes out.
    m.apply(health({ serverTimeUs: sec(611), node: {}, points: points(611, 1) }));
    expect(m.points).toHaveLength(1);
    // An update without points keeps the history.
    m.apply(health({ serverTimeUs: sec(612), node: {} }));
    expect(m.points).toHaveLength(1);
  });

  it("starts over on a full message (a new connection)", () => {
    const m = new HealthModel();
    m.apply(health({ full: true, serverTimeUs: sec(5), node: {}, rooms: [{ id: "old" }], points: points(1, 5) }));
    m.apply(health({ full: true, serverTimeUs: sec(3), node: {}, points: points(1, 3) }));
    expect(m.points).toHaveLength(3);
    expect(m.rooms).toEqual([]);
  });

  it("gives tests a plain object", () => {
    const o = plainHealth(health({ full: true, reason: HealthReason.CONNECTED, serverTimeUs: sec(1), node: { players: 2, heapBytes: 1024n } }));
    expect(o).toMatchObject({ full: true, reason: "CONNECTED", serverTimeUs: Number(sec(1)), node: { players: 2, heapBytes: 1024 } });
    expect(JSON.stringify(o)).not.toContain("$typeName");
  });
});

describe("endpointsFor", () => {
  it("puts the endpoints beside the page and passes the token on", () => {
    const e = endpointsFor({ protocol: "http:", host: "10.0.0.5:9090", pathname: "/dashboard/", search: "?token=s3cret%2Bx" });
    expect(e.health).toBe("ws://10.0.0.5:9090/dashboard/ws?token=s3cret%2Bx");
    expect(e.spectate).toBe("ws://10.0.0.5:9090/dashboard/spectate?token=s3cret%2Bx");
    expect(e.drain).toBe("http://10.0.0.5:9090/dashboard/drain?token=s3cret%2Bx");
    expect(e.map("arena/yard")).toBe("http://10.0.0.5:9090/dashboard/maps/arena/yard?token=s3cret%2Bx");
  });

  it("works from dashboard.html, behind a prefix, over TLS, without a token", () => {
    expect(endpointsFor({ protocol: "http:", host: "h", pathname: "/dashboard/dashboard.html", search: "" }).health).toBe("ws://h/dashboard/ws");
    expect(endpointsFor({ protocol: "http:", host: "h:5173", pathname: "/dashboard.html", search: "" }).drain).toBe("http://h:5173/dashboard/drain");
    expect(endpointsFor({ protocol: "https:", host: "ops.example", pathname: "/arbiter/dashboard/", search: "" }).spectate).toBe("wss://ops.example/arbiter/dashboard/spectate");
  });
});
