// Watching a game from the start screen, in a real Chromium against the
// real server: with no room there is nothing to watch; with two Go clients
// playing arena, Watch a game spectates their room (both players drawn and
// moving, no Input ever sent), Stop watching goes back to the start screen,
// and so does the end of the round. Any console error fails the test.

import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClientMessageSchema } from "../src/gen/arbiter/v1/envelope_pb";
import { buildGoClients, buildServer, launchBrowser, sleep, startGoClients, startServer, until, type Browser, type GoClients, type ServerHandle } from "./harness";
import { phaseOf, screenshot, startMessageOf, state } from "./pages";

const ROUND_SECONDS = 25;

let server: ServerHandle;
let goBin: string;
let bots: GoClients | undefined;
let A: Browser;
/** The ClientMessages the page sent, by case (hello, spectate, ping, input, ...). */
const sent = new Map<string, number>();

beforeAll(async () => {
  const [bin, go] = await Promise.all([buildServer(), buildGoClients()]);
  goBin = go;
  server = await startServer(bin, ["-round-seconds", String(ROUND_SECONDS)], "e2e-watch-server.log");
  A = await launchBrowser("A");
  A.page.on("websocket", (ws) => {
    ws.on("framesent", ({ payload }) => {
      if (typeof payload === "string") {
        sent.set("text", (sent.get("text") ?? 0) + 1);
        return;
      }
      const c = fromBinary(ClientMessageSchema, new Uint8Array(payload)).msg.case ?? "none";
      sent.set(c, (sent.get(c) ?? 0) + 1);
    });
  });
  await A.page.goto(server.url);
  await A.page.getByTestId("name").fill("watcher");
}, 240_000);

afterAll(async () => {
  bots?.close();
  await A?.close();
  await server?.stop();
});

afterEach(() => {
  expect(A?.errors ?? []).toEqual([]);
});

/** Clicks Watch a game until a room is there to watch (the arena room opens after its fill wait). */
async function watch(timeoutMs = 10_000): Promise<void> {
  await until(
    "a game to watch",
    async () => {
      if ((await phaseOf(A.page)) === "watching") return true;
      await A.page.getByTestId("watch").click();
      await until("Watch a game to answer", async () => (await phaseOf(A.page)) === "watching" || (await startMessageOf(A.page)) !== "", 3000);
      return (await phaseOf(A.page)) === "watching";
    },
    timeoutMs,
    300,
  );
}

describe("watching a game", () => {
  it("says so when there is no game to watch", async () => {
    await A.page.getByTestId("watch").click();
    await until("the message", async () => (await startMessageOf(A.page)) === "No games to watch right now.", 5000);
    expect(await phaseOf(A.page)).toBe("start");
  }, 20_000);

  it("watches two Go clients play arena: both drawn and moving, and no Input sent", async () => {
    const url = server.url.replace("http:", "ws:") + "/v1/connect";
    bots = startGoClients(goBin, url, 2, "arena", "e2e-watch-go-clients.log");
    await watch(15_000);

    await A.page.waitForFunction(() => window.__arbiter.entities.length === 2 && window.__arbiter.tick > 0, undefined, { timeout: 5000, polling: 50 });
    expect(await A.page.locator("#start").isVisible()).toBe(false);
    expect(await A.page.getByTestId("stop-watching").isVisible()).toBe(true);
    expect(await A.page.locator("#hud").textContent()).toContain("Watching");
    expect(await A.page.locator("#leave").isVisible()).toBe(false);

    const s0 = await state(A.page);
    expect(s0.ownEntityId).toBe(0);
    expect(s0.predictedPos).toBeNull();
    await sleep(1000);
    const s1 = await state(A.page);
    expect(s1.phase).toBe("watching");
    expect(s1.roomId).toBe(s0.roomId);
    expect(s1.tick).toBeGreaterThan(s0.tick);
    expect(s1.entities.map((e) => e.id)).toEqual(s0.entities.map((e) => e.id));
    const moved = s1.entities.filter((e) => {
      const was = s0.entities.find((o) => o.id === e.id)!;
      return Math.hypot(e.x - was.x, e.y - was.y) > 1;
    });
    expect(moved.length).toBe(2);
    await screenshot(A, "watch.png");

    expect(sent.get("spectate")).toBeGreaterThanOrEqual(1);
    expect(sent.get("input") ?? 0).toBe(0);
    expect(sent.get("text") ?? 0).toBe(0);
  }, 40_000);

  it("Stop watching sends LeaveRoom and goes back to the start screen", async () => {
    await A.page.getByTestId("stop-watching").click();
    await until("the start screen", async () => (await phaseOf(A.page)) === "start", 5000);
    expect(await A.page.getByTestId("watch").isVisible()).toBe(true);
    expect(await A.page.getByTestId("stop-watching").isVisible()).toBe(false);
    expect(sent.get("leaveRoom")).toBe(1);
    expect(await state(A.page)).toMatchObject({ roomId: "", entities: [] });
  }, 20_000);

  it("goes back to the start screen when the round ends", async () => {
    await watch();
    await until("the round to end", async () => (await phaseOf(A.page)) === "start", (ROUND_SECONDS + 10) * 1000, 200);
    expect(await startMessageOf(A.page)).toMatch(/over|ended/);
    expect(sent.get("input") ?? 0).toBe(0);
  }, (ROUND_SECONDS + 30) * 1000);
});
