// Watching a game on another node of a two-node cluster, in a real
// Chromium against real server processes coordinating over NATS: node a
// (embedding the NATS server, -max-players 1, so it cannot open an arena
// room of two) serves the page; two Go clients queue for arena on node a
// and their room lands on node b. GET /v1/rooms on node a lists it with
// node b's endpoint, and Watch a game opens a second WebSocket there (Hello
// with the session token, then Spectate) that carries the watched room: both
// players drawn and moving, no Input on any socket. The watch link is cut
// and comes back with Spectate again (nothing is kept for a spectator);
// Stop watching sends LeaveRoom on it, closes it with 1000 and shows the
// start screen; the end of the round does the same; and when node b dies
// the page gives up on it and says so on the start screen. No console
// errors, except Chromium's own notes of the failed reconnect attempts to
// the node the test killed.

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
import { closeCallsOf, endpointsOf, phaseOf, recordCloses, screenshot, startMessageOf, state } from "./pages";

/** The signing key both nodes share (at least 16 bytes). */
const SECRET = "e2e-cluster-watch-secret-012345";
/** Long enough for the first tests to run inside one round. */
const ROUND_SECONDS = 40;

/** One WebSocket of the page, with what went over it. */
interface Socket {
  url: string;
  ws: PwWebSocket;
  closedAt: number | undefined;
  sent: { c: string; roomId?: string }[];
  received: { c: string; spectator?: boolean; reason?: RoomCloseReason }[];
}

let nats = "";
let a: ClusterNode;
let b: ClusterNode;
let bots: GoClients | undefined;
let A: Browser;
const sockets: Socket[] = [];
/** Ports of nodes the test killed: Chromium logs the failed reconnects to them as console errors. */
const killedPorts = new Set<number>();

const socketsTo = (n: ClusterNode) => sockets.filter((s) => s.url === n.ws);
/** What went out on s, clock-sync pings left out (the link sends one right after Hello). */
const order = (s: Socket) => s.sent.filter((x) => x.c !== "ping").map((x) => x.c);
const count = (s: Socket, c: string) => s.sent.filter((x) => x.c === c).length;
const allSent = (c: string) => sockets.reduce((n, s) => n + count(s, c), 0);

/** The lobby connection: the page's one open socket to node a. */
function lobbySocket(): Socket {
  const open = socketsTo(a).filter((s) => s.closedAt === undefined);
  expect(open.length).toBe(1);
  return open[0]!;
}

/** GET /v1/rooms on node n. */
async function rooms(n: ClusterNode): Promise<{ id: string; players: number; endpoint?: string }[]> {
  return (await (await fetch(`${n.url}/v1/rooms`, { cache: "no-store" })).json()) as { id: string; players: number; endpoint?: string }[];
}

/** Clicks Watch a game until the page watches a room (the arena room opens after its fill wait). */
async function watch(timeoutMs = 15_000): Promise<void> {
  await until(
    "a game to watch",
    async () => {
      if ((await phaseOf(A.page)) === "watching") return true;
      await A.page.getByTestId("watch").click();
      await until("Watch a game to answer", async () => (await phaseOf(A.page)) === "watching" || (await startMessageOf(A.page)) !== "", 5000);
      return (await phaseOf(A.page)) === "watching";
    },
    timeoutMs,
    300,
  );
}

/** Waits for two entities on the watching screen and checks that both move. */
async function bothMove(): Promise<void> {
  await A.page.waitForFunction(() => window.__arbiter.entities.length === 2 && window.__arbiter.tick > 0, undefined, { timeout: 5000, polling: 50 });
  const s0 = await state(A.page);
  expect(s0.ownEntityId).toBe(0);
  expect(s0.predictedPos).toBeNull();
  await until(
    "both players to move",
    async () => {
      const s1 = await state(A.page);
      if (s1.phase !== "watching" || s1.roomId !== s0.roomId) throw new Error(`left the room: ${s1.phase}`);
      const moved = s1.entities.filter((e) => {
        const was = s0.entities.find((o) => o.id === e.id);
        return was && Math.hypot(e.x - was.x, e.y - was.y) > 1;
      });
      return s1.tick > s0.tick && moved.length === 2;
    },
    5000,
    100,
  );
}

beforeAll(async () => {
  const [bin, goBin] = await Promise.all([buildServer(), buildGoClients()]);
  nats = `nats://127.0.0.1:${await freePort()}`;
  const opts = { secret: SECRET, roundSeconds: ROUND_SECONDS, logPrefix: "e2e-cluster-watch" };
  a = await startClusterNode(bin, "a", ["-nats-embed", nats.slice("nats://".length), "-nats", nats, "-max-players", "1"], opts);
  b = await startClusterNode(bin, "b", ["-nats", nats], opts);
  await until("node a to see 2 nodes", async () => (await metric(a.adminURL, "arbiter_cluster_nodes")) === 2, 20_000, 100);
  // Two Go clients queue for arena on node a; the room lands on node b.
  bots = startGoClients(goBin, a.ws, 2, "arena", "e2e-cluster-watch-go-clients.log");
  A = await launchBrowser("cluster-watch");
  await recordCloses(A.page);
  A.page.on("websocket", (ws) => {
    const s: Socket = { url: ws.url(), ws, closedAt: undefined, sent: [], received: [] };
    sockets.push(s);
    ws.on("close", () => (s.closedAt = Date.now()));
    ws.on("framesent", ({ payload }) => {
      if (typeof payload === "string") {
        s.sent.push({ c: "text" });
        return;
      }
      const m = fromBinary(ClientMessageSchema, new Uint8Array(payload)).msg;
      s.sent.push({ c: m.case ?? "none", ...(m.case === "spectate" ? { roomId: m.value.roomId } : {}) });
    });
    ws.on("framereceived", ({ payload }) => {
      if (typeof payload === "string") return;
      const m = fromBinary(ServerMessageSchema, new Uint8Array(payload)).msg;
      s.received.push({
        c: m.case ?? "none",
        ...(m.case === "joined" ? { spectator: m.value.spectator } : {}),
        ...(m.case === "roomClosed" ? { reason: m.value.reason } : {}),
      });
    });
  });
  await A.page.goto(a.url);
  await A.page.getByTestId("name").fill("watcher");
}, 300_000);

afterAll(async () => {
  bots?.close();
  await A?.close();
  await b?.stop();
  await a?.stop();
});

afterEach(() => {
  const failedToKilled = (e: string) =>
    [...killedPorts].some((p) => e.includes(`WebSocket connection to 'ws://127.0.0.1:${p}/v1/connect' failed`));
  expect((A?.errors ?? []).filter((e) => !failedToKilled(e))).toEqual([]);
  // Nothing but watching: no Input, no JoinRoom, no text frame, on any socket.
  expect(allSent("input")).toBe(0);
  expect(allSent("joinRoom")).toBe(0);
  expect(allSent("text")).toBe(0);
});

describe("watching a game on another node of a cluster", () => {
  it("lists node b's room on node a with node b's endpoint", async () => {
    const listed = await until(
      "the arena room of the two Go clients",
      async () => {
        const rs = await rooms(a);
        return rs.find((r) => r.players === 2);
      },
      30_000,
      250,
    );
    expect(listed.endpoint).toBe(b.ws);
    // Node b lists it as its own: no endpoint.
    const onB = (await rooms(b)).find((r) => r.id === listed.id);
    expect(onB?.endpoint ?? "").toBe("");
  }, 40_000);

  it("watches it over a second WebSocket to node b: Hello, Spectate, both players moving", async () => {
    await watch();
    expect(await endpointsOf(A.page)).toEqual({ lobby: a.ws, room: b.ws, connection: "open" });
    const roomId = (await state(A.page)).roomId;
    expect(roomId).not.toBe("");

    const lobby = lobbySocket();
    expect(socketsTo(b).length).toBe(1);
    const link = socketsTo(b)[0]!;
    expect(link.closedAt).toBeUndefined();
    // The link said Hello, then Spectate for the room; the lobby never spectated.
    expect(link.sent[0]?.c).toBe("hello");
    expect(order(link).slice(0, 2)).toEqual(["hello", "spectate"]);
    expect(link.sent.filter((x) => x.c === "spectate")).toEqual([{ c: "spectate", roomId }]);
    expect(count(lobby, "spectate")).toBe(0);
    expect(count(lobby, "hello")).toBe(1);
    // The watched room comes over the link: Joined{spectator}, the roster, snapshots.
    expect(link.received.filter((x) => x.c === "joined")).toEqual([{ c: "joined", spectator: true }]);
    await bothMove();
    expect(link.received.some((x) => x.c === "roster")).toBe(true);
    // Movement can show within four snapshots; the stream goes on.
    await until("six snapshots over the link", () => link.received.filter((x) => x.c === "snapshot").length >= 6, 5000);
    expect(lobby.received.filter((x) => x.c === "snapshot" || x.c === "joined").length).toBe(0);
    expect(await A.page.locator("#start").isVisible()).toBe(false);
    expect(await A.page.getByTestId("stop-watching").isVisible()).toBe(true);
    expect(await A.page.locator("#hud").textContent()).toContain("Watching");
    expect(await A.page.locator("#leave").isVisible()).toBe(false);
    await screenshot(A, "e2e-cluster-watching-on-b.png");
  }, 40_000);

  it("sends Spectate again when the link to node b comes back", async () => {
    const before = await state(A.page);
    const lobby = lobbySocket();
    let how = "server-side socket destroyed (ss -K)";
    if (!killServerSide(A, b.port)) {
      how = "page hook (ss -K unavailable)";
      await A.page.evaluate(() => window.__arbiterTest.severRoom());
    }
    console.log(`e2e cluster watch: cut the watch link: ${how}`);
    await until("a second socket to node b", () => socketsTo(b).length === 2, 10_000);
    const again = socketsTo(b)[1]!;
    await until("Spectate on the new socket", () => count(again, "spectate") === 1, 10_000);
    expect(again.sent[0]?.c).toBe("hello");
    expect(order(again).slice(0, 2)).toEqual(["hello", "spectate"]);
    expect(again.sent.find((x) => x.c === "spectate")?.roomId).toBe(before.roomId);
    await until(
      "watching again",
      async () => {
        const s = await state(A.page);
        return s.connection === "open" && s.phase === "watching" && s.roomId === before.roomId && s.tick > before.tick + 5;
      },
      10_000,
    );
    expect(again.received.filter((x) => x.c === "welcome" || x.c === "joined").map((x) => x.c)).toEqual(["welcome", "joined"]);
    expect(await A.page.getByTestId("connection-banner").isHidden()).toBe(true);
    await bothMove();
    // The lobby connection was not touched.
    expect(lobbySocket()).toBe(lobby);
    expect(count(lobby, "spectate")).toBe(0);
  }, 40_000);

  it("Stop watching sends LeaveRoom on the node-b socket, closes it with 1000 and shows the start screen", async () => {
    const lobby = lobbySocket();
    const link = socketsTo(b).at(-1)!;
    await A.page.getByTestId("stop-watching").click();
    await until("the start screen", async () => (await phaseOf(A.page)) === "start", 5000);
    expect(count(link, "leaveRoom")).toBe(1);
    expect(count(lobby, "leaveRoom")).toBe(0);
    expect(link.received.filter((x) => x.c === "roomClosed").map((x) => x.reason)).toEqual([RoomCloseReason.LEFT]);
    await until("the node-b socket closed", () => link.closedAt !== undefined, 5000);
    expect((await closeCallsOf(A.page)).filter((c) => c.url === b.ws).at(-1)).toEqual({ url: b.ws, code: 1000 });
    expect(await endpointsOf(A.page)).toEqual({ lobby: a.ws, room: "", connection: "open" });
    expect(await startMessageOf(A.page)).toBe("");
    expect(await A.page.getByTestId("watch").isVisible()).toBe(true);
    expect(await A.page.getByTestId("stop-watching").isVisible()).toBe(false);
    expect(await state(A.page)).toMatchObject({ roomId: "", entities: [] });
    expect(lobbySocket()).toBe(lobby);
    expect(socketsTo(b).every((s) => s.closedAt !== undefined)).toBe(true);
  }, 20_000);

  it("goes back to the start screen when the watched round ends, closing the node-b socket", async () => {
    await watch();
    expect((await endpointsOf(A.page)).room).toBe(b.ws);
    const link = socketsTo(b).at(-1)!;
    expect(count(link, "spectate")).toBe(1);
    await until("the round to end", async () => (await phaseOf(A.page)) === "start", (ROUND_SECONDS + 10) * 1000, 200);
    expect(await startMessageOf(A.page)).toMatch(/over|ended/);
    expect(link.received.filter((x) => x.c === "roomClosed").length).toBe(1);
    await until("the node-b socket closed", () => link.closedAt !== undefined, 5000);
    expect((await closeCallsOf(A.page)).filter((c) => c.url === b.ws).at(-1)).toEqual({ url: b.ws, code: 1000 });
    expect((await endpointsOf(A.page)).room).toBe("");
    await sleep(500);
    expect(socketsTo(b).filter((s) => s.closedAt === undefined)).toEqual([]);
  }, (ROUND_SECONDS + 30) * 1000);

  it("goes back to the start screen, saying so, when node b dies while watching", async () => {
    // The Go clients play on in a new round on node b.
    await watch(30_000);
    expect((await endpointsOf(A.page)).room).toBe(b.ws);
    await bothMove();
    const lobby = lobbySocket();
    killedPorts.add(b.port);
    const t0 = Date.now();
    await b.kill();
    await until("the start screen", async () => (await phaseOf(A.page)) === "start", 25_000, 100);
    console.log(`e2e cluster watch: back at the start screen ${Date.now() - t0} ms after node b was killed`);
    expect(await startMessageOf(A.page)).toMatch(/lost the connection to the game you were watching/i);
    expect(await A.page.getByTestId("connection-banner").isHidden()).toBe(true);
    expect(await endpointsOf(A.page)).toEqual({ lobby: a.ws, room: "", connection: "open" });
    expect(await state(A.page)).toMatchObject({ roomId: "", entities: [] });
    // Nothing more tries node b; the lobby connection was not touched.
    const tried = socketsTo(b).length;
    await sleep(1500);
    expect(socketsTo(b).length).toBe(tried);
    expect(lobbySocket()).toBe(lobby);
  }, 60_000);
});
