// The browser client in a two-node cluster, in a real Chromium against real
// server processes coordinating over NATS: node a (embedding the NATS
// server, -max-players 1, so it cannot open a duel room) serves the page,
// node b hosts the rooms. The page queues for a duel on node a with one Go
// client; MatchFound names node b's endpoint, and the page opens a second
// WebSocket there that carries the whole game while the lobby connection
// to node a stays open (a Ping every 10 s). Then: the room connection is
// cut and comes back into the same seat on node b; LeaveRoom and the end of
// a round close the room connection (1000) and return to the lobby; a page
// from node b itself keeps its one connection for a room there; node b
// dies and node a's RoomClosed{NODE_LOST} sends the player back to the
// start screen, from where a new match on a new node b2 works; and when
// node a dies, the lobby connection moves to b2 and the game goes on.
// No console errors, except Chromium's own notes of the failed reconnect
// attempts to a node the test killed.

import { fromBinary } from "@bufbuild/protobuf";
import type { WebSocket as PwWebSocket } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClientMessageSchema, ServerMessageSchema } from "../src/gen/arbiter/v1/envelope_pb";
import { RoomCloseReason } from "../src/gen/arbiter/v1/room_pb";
import {
  buildGoClients,
  buildServer,
  freePort,
  killServerSide,
  launchBrowser,
  metric,
  sleep,
  startClusterNode,
  startGoClients,
  until,
  type Browser,
  type ClusterNode,
  type GoClients,
} from "./harness";
import { closeCallsOf, endpointsOf, openDirection, phaseOf, recordCloses, screenshot, startMessageOf, state, waitPlaying } from "./pages";

/** The signing key every node shares (at least 16 bytes). */
const SECRET = "e2e-cluster-secret-0123456789";
/** Longer than the server's 30 s idle timeout: a round outlives a lobby left without keepalive. */
const ROUND_SECONDS = 35;

/** Starts one node of the test's cluster on a free port (or port) and waits for its /readyz. */
const startNode = (bin: string, id: string, args: string[], port?: number): Promise<ClusterNode> =>
  startClusterNode(bin, id, args, { secret: SECRET, roundSeconds: ROUND_SECONDS, logPrefix: "e2e-cluster", port });

/** One WebSocket of the page, with what went over it. */
interface Socket {
  url: string;
  ws: PwWebSocket;
  openedAt: number;
  closedAt: number | undefined;
  sent: { c: string; at: number }[];
  received: { c: string; at: number; reason?: RoomCloseReason }[];
}

let bin = "";
let goBin = "";
let nats = "";
let a: ClusterNode;
let b: ClusterNode;
let b2: ClusterNode | undefined;
let bots: GoClients | undefined;
let A: Browser;
const sockets: Socket[] = [];
/** Ports of nodes the test killed: Chromium logs the failed reconnects to them as console errors. */
const killedPorts = new Set<number>();

/** When the page was last loaded: the sockets of earlier loads are no concern. */
let loadedAt = 0;
const current = () => sockets.filter((s) => s.openedAt >= loadedAt);
const socketsTo = (n: ClusterNode) => current().filter((s) => s.url === n.ws);
const count = (s: Socket, c: string) => s.sent.filter((x) => x.c === c).length;

/** Loads the page from node n, ready to queue for a duel. */
async function openPage(n: ClusterNode): Promise<void> {
  loadedAt = Date.now();
  await A.page.goto(n.url);
  await A.page.getByTestId("name").fill("alice");
  await A.page.getByTestId("mode").selectOption("duel");
}

/** Waits until node a's registry lists n nodes. */
async function clusterOf(n: number): Promise<void> {
  await until(`node a to see ${n} nodes`, async () => (await metric(a.adminURL, "arbiter_cluster_nodes")) === n, 20_000, 100);
}

/** Starts one Go client (a loadtest bot) queueing for duels on node a, replacing the previous one. */
function newBot(label: string): void {
  bots?.close();
  bots = startGoClients(goBin, a.ws, 1, "duel", `e2e-cluster-go-client-${label}.log`);
}

/** The lobby connection: the page's socket to node a that is still open. */
function lobbySocket(): Socket {
  const open = socketsTo(a).filter((s) => s.closedAt === undefined);
  expect(open.length).toBe(1);
  return open[0]!;
}

/**
 * Holds a movement key until the page's own inputs are acknowledged and its
 * player moved (the map comes from mapsFrom, a live node's URL).
 */
async function moveAndAck(mapsFrom = a.url): Promise<void> {
  const s0 = await state(A.page);
  const own = s0.predictedPos!;
  const { key, axis } = await openDirection(mapsFrom, own.x, own.y);
  await A.page.keyboard.down(key);
  try {
    await until("the player to move", async () => Math.abs((await state(A.page)).predictedPos![axis] - own[axis]) > 30, 5000, 20);
    await until("inputs acknowledged", async () => (await state(A.page)).ackSeq > s0.ackSeq + 10, 5000, 20);
  } finally {
    await A.page.keyboard.up(key);
  }
}

/** Waits until the other player's entity (the Go client's) moves on the page. */
async function otherMoves(): Promise<void> {
  const me = (await state(A.page)).playerId;
  const other = async () => (await state(A.page)).entities.find((e) => e.playerId !== me);
  const e0 = await until("the other player", other, 5000);
  await until(
    "the other player to move",
    async () => {
      const e = await other();
      return e && Math.hypot(e.x - e0.x, e.y - e0.y) > 5;
    },
    10_000,
  );
}

beforeAll(async () => {
  [bin, goBin] = await Promise.all([buildServer(), buildGoClients()]);
  nats = `nats://127.0.0.1:${await freePort()}`;
  a = await startNode(bin, "a", ["-nats-embed", nats.slice("nats://".length), "-nats", nats, "-max-players", "1"]);
  b = await startNode(bin, "b", ["-nats", nats]);
  await clusterOf(2);
  A = await launchBrowser("cluster");
  await recordCloses(A.page);
  A.page.on("websocket", (ws) => {
    const s: Socket = { url: ws.url(), ws, openedAt: Date.now(), closedAt: undefined, sent: [], received: [] };
    sockets.push(s);
    ws.on("close", () => (s.closedAt = Date.now()));
    ws.on("framesent", ({ payload }) => {
      const c = typeof payload === "string" ? "text" : (fromBinary(ClientMessageSchema, new Uint8Array(payload)).msg.case ?? "none");
      s.sent.push({ c, at: Date.now() });
    });
    ws.on("framereceived", ({ payload }) => {
      if (typeof payload === "string") return;
      const m = fromBinary(ServerMessageSchema, new Uint8Array(payload)).msg;
      s.received.push({ c: m.case ?? "none", at: Date.now(), ...(m.case === "roomClosed" ? { reason: m.value.reason } : {}) });
    });
  });
  await openPage(a);
}, 300_000);

afterAll(async () => {
  bots?.close();
  await A?.close();
  await b2?.stop();
  await b?.stop();
  await a?.stop();
});

afterEach(() => {
  // Chromium reports a WebSocket that cannot connect as a console error of
  // its own: expected only for the nodes the test killed.
  const failedToKilled = (e: string) =>
    [...killedPorts].some((p) => e.includes(`WebSocket connection to 'ws://127.0.0.1:${p}/v1/connect' failed`));
  expect((A?.errors ?? []).filter((e) => !failedToKilled(e))).toEqual([]);
});

describe("the browser client in a cluster", () => {
  it("plays a duel found on node a on node b, over a second WebSocket", async () => {
    newBot("1");
    await A.page.getByTestId("play").click();
    await waitPlaying(A.page, 2, 30_000);
    expect(await endpointsOf(A.page)).toEqual({ lobby: a.ws, room: b.ws, connection: "open" });

    // Two sockets: the lobby to node a, the room to node b.
    const lobby = lobbySocket();
    const [room] = socketsTo(b);
    expect(socketsTo(b).length).toBe(1);
    expect(room!.closedAt).toBeUndefined();
    await moveAndAck();
    await otherMoves();

    // The room socket said Hello, joined with the token and carries the game...
    expect(room!.sent[0]?.c).toBe("hello");
    expect(count(room!, "joinRoom")).toBe(1);
    await until("inputs, a ping and snapshots over the room socket", () => count(room!, "input") > 10 && count(room!, "ping") >= 1 && room!.received.filter((x) => x.c === "snapshot").length > 10, 5000);
    // ...while the lobby only queued: no JoinRoom, no input, no snapshot.
    expect(count(lobby, "findMatch")).toBe(1);
    expect(count(lobby, "joinRoom")).toBe(0);
    expect(count(lobby, "input")).toBe(0);
    expect(lobby.received.filter((x) => x.c === "matchFound").length).toBe(1);
    expect(lobby.received.filter((x) => x.c === "snapshot").length).toBe(0);
    // Room chat goes over the room socket too, and comes back on it.
    await A.page.keyboard.press("Enter");
    const input = A.page.getByTestId("chat-input");
    await input.waitFor({ state: "visible", timeout: 2000 });
    await input.fill("gl from node a");
    await input.press("Enter");
    await until("the line back in the chat log", async () => ((await A.page.locator("#chat-log").textContent()) ?? "").includes("alice: gl from node a"), 5000);
    expect(count(room!, "chat")).toBe(1);
    expect(count(lobby, "chat")).toBe(0);
    expect(room!.received.filter((x) => x.c === "chat").length).toBe(1);
    // Clock-sync pings go to the room's node, not every second to the lobby.
    const since = room!.openedAt + 1500;
    expect(lobby.sent.filter((x) => x.c === "ping" && x.at > since).length).toBeLessThanOrEqual(1);
    await screenshot(A, "e2e-cluster-playing-on-b.png");
  }, 60_000);

  it("reconnects the room connection to node b into the same seat", async () => {
    const before = await state(A.page);
    const lobby = lobbySocket();
    let how = "server-side socket destroyed (ss -K)";
    if (!killServerSide(A, b.port)) {
      how = "page hook (ss -K unavailable)";
      await A.page.evaluate(() => window.__arbiterTest.severRoom());
    }
    console.log(`e2e cluster: cut the room connection: ${how}`);
    await until("a second socket to node b", () => socketsTo(b).length === 2, 10_000);
    await until(
      "back in the room",
      async () => {
        const s = await state(A.page);
        return s.connection === "open" && s.phase === "playing" && s.tick > before.tick + 5;
      },
      15_000,
    );
    const after = await state(A.page);
    expect(after.playerId).toBe(before.playerId);
    expect(after.roomId).toBe(before.roomId);
    expect(after.ownEntityId).toBe(before.ownEntityId);
    const again = socketsTo(b)[1]!;
    expect(again.sent[0]?.c).toBe("hello");
    expect(count(again, "joinRoom")).toBe(0); // the server gave the seat back
    expect(again.received.filter((x) => x.c === "welcome" || x.c === "joined").map((x) => x.c)).toEqual(["welcome", "joined"]);
    expect(await A.page.getByTestId("connection-banner").isHidden()).toBe(true);
    await moveAndAck();
    // The lobby connection was not touched.
    expect(lobbySocket()).toBe(lobby);
    expect((await endpointsOf(A.page)).room).toBe(b.ws);
  }, 40_000);

  it("LeaveRoom closes the room connection (1000) and returns to the lobby", async () => {
    const lobby = lobbySocket();
    const room = socketsTo(b).at(-1)!;
    await A.page.locator("#leave").click();
    await until("the start screen", async () => (await phaseOf(A.page)) === "start", 5000);
    expect(count(room, "leaveRoom")).toBe(1);
    expect(count(lobby, "leaveRoom")).toBe(0);
    expect(room.received.filter((x) => x.c === "roomClosed").map((x) => x.reason)).toEqual([RoomCloseReason.LEFT]);
    await until("the room socket closed", () => room.closedAt !== undefined, 5000);
    expect((await closeCallsOf(A.page)).filter((c) => c.url === b.ws).at(-1)).toEqual({ url: b.ws, code: 1000 });
    expect(await endpointsOf(A.page)).toEqual({ lobby: a.ws, room: "", connection: "open" });
    expect(lobbySocket()).toBe(lobby);
  }, 20_000);

  it("plays a whole round on node b while the lobby connection lives on a 10 s keepalive", async () => {
    const lobby = lobbySocket();
    newBot("2"); // the first one is alone in the room the page left
    await A.page.getByTestId("play").click();
    await waitPlaying(A.page, 2, 30_000);
    expect((await endpointsOf(A.page)).room).toBe(b.ws);
    const room = socketsTo(b).at(-1)!;
    const t0 = Date.now();
    await moveAndAck();
    await until("the results screen", async () => (await phaseOf(A.page)) === "results", (ROUND_SECONDS + 10) * 1000, 200);
    const t1 = Date.now();
    expect(t1 - t0).toBeGreaterThan(30_000); // longer than the server's idle timeout
    expect(room.received.filter((x) => x.c === "roomClosed").map((x) => x.reason)).toEqual([RoomCloseReason.ROUND_OVER]);
    await until("the room socket closed", () => room.closedAt !== undefined, 5000);
    expect((await closeCallsOf(A.page)).filter((c) => c.url === b.ws).at(-1)?.code).toBe(1000);
    // The lobby connection is the same one, still open, pinged every 10 s meanwhile.
    expect(lobbySocket()).toBe(lobby);
    const pings = lobby.sent.filter((x) => x.c === "ping" && x.at > room.openedAt + 1500 && x.at < room.closedAt!).map((x) => x.at);
    const gaps = pings.slice(1).map((t, i) => t - pings[i]!);
    console.log(`e2e cluster: lobby pings during the round: ${pings.length}, gaps ${gaps.map((g) => (g / 1000).toFixed(1)).join(", ")} s`);
    expect(pings.length).toBeGreaterThanOrEqual(3);
    for (const g of gaps) expect(Math.abs(g - 10_000)).toBeLessThan(1500);
    expect(await A.page.locator("#results-table").textContent()).toContain("alice");
    await screenshot(A, "e2e-cluster-results.png");
  }, (ROUND_SECONDS + 40) * 1000);

  it("keeps one connection when the room is on the lobby's own node", async () => {
    newBot("3");
    // The page from node b: the room (which node a cannot host) is on the lobby's node.
    await openPage(b);
    await A.page.getByTestId("play").click();
    await waitPlaying(A.page, 2, 30_000);
    expect(await endpointsOf(A.page)).toEqual({ lobby: b.ws, room: "", connection: "open" });
    const open = current().filter((s) => s.closedAt === undefined);
    expect(open.map((s) => s.url)).toEqual([b.ws]);
    const one = open[0]!;
    expect(one.received.filter((x) => x.c === "matchFound").length).toBe(1);
    expect(count(one, "joinRoom")).toBe(1);
    await moveAndAck();
    await until("inputs over the one socket", () => count(one, "input") > 10, 5000);
    await A.page.locator("#leave").click();
    await until("the start screen", async () => (await phaseOf(A.page)) === "start", 5000);
    expect(one.closedAt).toBeUndefined();
  }, 60_000);

  it("goes back to the start screen when node b dies (NODE_LOST), and plays again on another node", async () => {
    newBot("4");
    await openPage(a);
    await until("the lobby connection to node a", () => socketsTo(a).some((s) => s.closedAt === undefined), 5000);
    const lobby = lobbySocket();
    await A.page.getByTestId("play").click();
    await waitPlaying(A.page, 2, 30_000);
    expect((await endpointsOf(A.page)).room).toBe(b.ws);
    const roomId = (await state(A.page)).roomId;

    killedPorts.add(b.port);
    const t0 = Date.now();
    await b.kill();
    await until("the start screen", async () => (await phaseOf(A.page)) === "start", 20_000, 50);
    console.log(`e2e cluster: back at the start screen ${Date.now() - t0} ms after node b was killed`);
    expect(await startMessageOf(A.page)).toMatch(/server hosting your game went away/i);
    expect(await startMessageOf(A.page)).toMatch(/find a match again/i);
    const closed = lobby.received.filter((x) => x.c === "roomClosed");
    expect(closed.map((x) => x.reason)).toEqual([RoomCloseReason.NODE_LOST]);
    expect(await A.page.getByTestId("connection-banner").isHidden()).toBe(true);
    expect(await endpointsOf(A.page)).toEqual({ lobby: a.ws, room: "", connection: "open" });
    expect((await state(A.page)).roomId).toBe("");
    expect(roomId).not.toBe("");
    // Nothing more tries node b.
    const tried = socketsTo(b).length;
    await sleep(1500);
    expect(socketsTo(b).length).toBe(tried);

    // A new node joins; queueing again takes the page there.
    b2 = await startNode(bin, "b2", ["-nats", nats]);
    await clusterOf(2);
    await A.page.getByTestId("play").click();
    await waitPlaying(A.page, 2, 30_000);
    expect(await endpointsOf(A.page)).toEqual({ lobby: a.ws, room: b2.ws, connection: "open" });
    expect((await state(A.page)).roomId).not.toBe(roomId);
    expect(lobbySocket()).toBe(lobby);
    await moveAndAck();
  }, 90_000);

  it("moves the lobby connection to the room's node when node a dies, and plays on", async () => {
    const node = b2!;
    const before = await state(A.page);
    killedPorts.add(a.port);
    await a.kill();
    // The lobby cannot come back to node a: it goes to b2, which gives the seat back on it.
    await until("the lobby on node b2", async () => (await endpointsOf(A.page)).lobby === node.ws, 20_000, 50);
    await until(
      "back in the room on one connection",
      async () => {
        const s = await state(A.page);
        const e = await endpointsOf(A.page);
        return e.connection === "open" && e.room === "" && s.phase === "playing" && s.tick > before.tick + 5;
      },
      20_000,
    );
    const after = await state(A.page);
    expect(after.playerId).toBe(before.playerId);
    expect(after.roomId).toBe(before.roomId);
    expect(after.ownEntityId).toBe(before.ownEntityId);
    await moveAndAck(node.url);
    // One socket left open, to b2.
    expect(current().filter((s) => s.closedAt === undefined).map((s) => s.url)).toEqual([node.ws]);
    await screenshot(A, "e2e-cluster-after-failover.png");
  }, 60_000);
});
