// The dashboard's Cluster panel data (src/dashboard/cluster.ts): the
// registry's nodes as rows with this node marked and a load fraction
// against the node's caps, the matchmaking leases with their holders'
// labels, and nothing at all on a single node (no ClusterHealth).

import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ClusterNodeSchema, HealthReason, HealthSchema, type Health } from "../src/gen/arbiter/v1/health_pb";
import { clusterView, leaseHolderLabel, loadFraction, loadLevel, nodeRow } from "../src/dashboard/cluster";
import { fmtAge } from "../src/dashboard/format";
import { HealthModel, plainHealth } from "../src/dashboard/model";

type HealthInit = MessageInitShape<typeof HealthSchema>;

/** Builds a message and sends it through the wire encoding, as the server would. */
function health(init: HealthInit): Health {
  return fromBinary(HealthSchema, toBinary(HealthSchema, create(HealthSchema, init)));
}

const node = (init: MessageInitShape<typeof ClusterNodeSchema>) => create(ClusterNodeSchema, init);

const TWO_NODES: HealthInit = {
  full: true,
  reason: HealthReason.CONNECTED,
  serverTimeUs: 1_764_000_000_000_000n,
  node: { ready: true, tickRate: 30 },
  cluster: {
    nodeId: "a",
    natsConnected: true,
    nodes: [
      { id: "b", publicUrl: "http://127.0.0.1:8082", rooms: 1, players: 2, maxPlayers: 8, ageMs: 1500, draining: true },
      { id: "a", publicUrl: "http://127.0.0.1:8081", rooms: 3, players: 10, maxPlayers: 100, maxRooms: 4, ageMs: 250 },
    ],
    leases: [
      { mode: "duel", holder: "b" },
      { mode: "arena", holder: "a" },
      { mode: "ctf", holder: "" },
    ],
  },
};

describe("loadFraction", () => {
  it("is the used fraction of the tighter cap", () => {
    expect(loadFraction({ players: 25, maxPlayers: 100, rooms: 0, maxRooms: 0 })).toBeCloseTo(0.25);
    expect(loadFraction({ players: 0, maxPlayers: 0, rooms: 3, maxRooms: 4 })).toBeCloseTo(0.75);
    // Both caps: the fuller one counts.
    expect(loadFraction({ players: 10, maxPlayers: 100, rooms: 3, maxRooms: 4 })).toBeCloseTo(0.75);
    expect(loadFraction({ players: 90, maxPlayers: 100, rooms: 1, maxRooms: 4 })).toBeCloseTo(0.9);
  });

  it("is null without caps (0 means none) and clamped to 0..1", () => {
    expect(loadFraction({ players: 50, maxPlayers: 0, rooms: 7, maxRooms: 0 })).toBeNull();
    expect(loadFraction({ players: 0, maxPlayers: 8, rooms: 0, maxRooms: 0 })).toBe(0);
    // Reserved seats can briefly exceed the cap.
    expect(loadFraction({ players: 9, maxPlayers: 8, rooms: 0, maxRooms: 0 })).toBe(1);
  });

  it("has a level for the bar", () => {
    expect(loadLevel(null)).toBe("none");
    expect(loadLevel(0)).toBe("ok");
    expect(loadLevel(0.74)).toBe("ok");
    expect(loadLevel(0.75)).toBe("warn");
    expect(loadLevel(0.99)).toBe("warn");
    expect(loadLevel(1)).toBe("full");
  });
});

describe("leaseHolderLabel", () => {
  it("names the holder, marks this node, and says none while nobody holds it", () => {
    expect(leaseHolderLabel("b", "a")).toBe("b");
    expect(leaseHolderLabel("a", "a")).toBe("a (this node)");
    expect(leaseHolderLabel("", "a")).toBe("none");
    expect(leaseHolderLabel("", "")).toBe("none");
  });
});

describe("nodeRow", () => {
  it("shows caps, or their absence", () => {
    const capped = nodeRow(node({ id: "a", players: 1234, maxPlayers: 2000, rooms: 3, maxRooms: 10, ageMs: 400 }), "a");
    expect(capped).toMatchObject({ self: true, players: "1,234 / 2,000", rooms: "3 / 10", loadText: "62%", loadLevel: "ok", age: "400 ms" });
    const open = nodeRow(node({ id: "b", players: 7, rooms: 2, ageMs: 2500 }), "a");
    expect(open).toMatchObject({ self: false, players: "7 / ∞", rooms: "2", load: null, loadText: "no cap", loadLevel: "none", age: "2.5 s" });
    expect(nodeRow(node({ id: "c", players: 8, maxPlayers: 8 }), "a")).toMatchObject({ load: 1, loadText: "100%", loadLevel: "full" });
  });
});

describe("clusterView", () => {
  it("turns the cluster into rows: nodes by id with this node marked, leases by mode", () => {
    const v = clusterView(health(TWO_NODES).cluster)!;
    expect(v.nodeId).toBe("a");
    expect(v.natsConnected).toBe(true);
    expect(v.selfListed).toBe(true);
    expect(v.summary).toBe("2 nodes · 12 players · 4 rooms");
    expect(v.nodes.map((n) => [n.id, n.self, n.publicUrl, n.players, n.rooms, n.loadText, n.draining, n.age])).toEqual([
      ["a", true, "http://127.0.0.1:8081", "10 / 100", "3 / 4", "75%", false, "250 ms"],
      ["b", false, "http://127.0.0.1:8082", "2 / 8", "1", "25%", true, "1.5 s"],
    ]);
    expect(v.nodes[0]!.loadLevel).toBe("warn");
    expect(v.leases).toEqual([
      { mode: "arena", holder: "a", label: "a (this node)", self: true, vacant: false },
      { mode: "ctf", holder: "", label: "none", self: false, vacant: true },
      { mode: "duel", holder: "b", label: "b", self: false, vacant: false },
    ]);
  });

  it("is undefined on a single node (no cluster in the message)", () => {
    expect(clusterView(undefined)).toBeUndefined();
    const m = new HealthModel();
    m.apply(health({ full: true, serverTimeUs: 1n, node: { ready: true } }));
    expect(m.cluster).toBeUndefined();
    expect(clusterView(m.cluster)).toBeUndefined();
    expect(m.natsDown).toBe(false);
    expect(plainHealth(m.last!)).not.toHaveProperty("cluster");
  });

  it("says when this node is disconnected or not in the registry", () => {
    const v = clusterView(health({ node: {}, cluster: { nodeId: "a", natsConnected: false, nodes: [{ id: "b" }], leases: [{ mode: "arena" }] } }).cluster)!;
    expect(v.natsConnected).toBe(false);
    expect(v.selfListed).toBe(false);
    expect(v.summary).toBe("1 node · 0 players · 0 rooms");
    expect(v.leases[0]).toMatchObject({ label: "none", vacant: true, self: false });
    // An empty cluster (no nodes yet) is still a cluster: the panel shows, with no rows.
    const empty = clusterView(health({ node: {}, cluster: { nodeId: "a" } }).cluster)!;
    expect(empty.nodes).toEqual([]);
    expect(empty.leases).toEqual([]);
    expect(empty.natsConnected).toBe(false);
  });
});

describe("HealthModel with a cluster", () => {
  it("replaces the cluster on every message, and drops it when a message has none", () => {
    const m = new HealthModel();
    m.apply(health(TWO_NODES));
    expect(m.cluster?.nodes.map((n) => n.id)).toEqual(["b", "a"]);
    expect(m.natsDown).toBe(false);
    // Node b left and the duel lease moved to a: the update carries the whole cluster again.
    m.apply(
      health({
        reason: HealthReason.CLUSTER_CHANGED,
        serverTimeUs: 1_764_000_000_500_000n,
        node: { ready: true },
        cluster: { nodeId: "a", natsConnected: false, nodes: [{ id: "a", players: 3 }], leases: [{ mode: "arena", holder: "a" }, { mode: "duel", holder: "a" }] },
      }),
    );
    const v = clusterView(m.cluster)!;
    expect(v.nodes.map((n) => n.id)).toEqual(["a"]);
    expect(v.leases.map((l) => l.label)).toEqual(["a (this node)", "a (this node)"]);
    expect(m.natsDown).toBe(true);
    expect(plainHealth(m.last!)).toMatchObject({ reason: "CLUSTER_CHANGED", cluster: { nodeId: "a", nodes: [{ id: "a", players: 3 }] } });
    m.apply(health({ serverTimeUs: 1_764_000_001_000_000n, node: {} }));
    expect(m.cluster).toBeUndefined();
    expect(m.natsDown).toBe(false);
  });
});

describe("fmtAge", () => {
  it("is short and has units", () => {
    expect(fmtAge(0)).toBe("0 ms");
    expect(fmtAge(999)).toBe("999 ms");
    expect(fmtAge(999.7)).toBe("1.0 s");
    expect(fmtAge(12_345)).toBe("12.3 s");
    expect(fmtAge(125_000)).toBe("2m 05s");
    expect(fmtAge(-5)).toBe("0 ms");
  });
});
