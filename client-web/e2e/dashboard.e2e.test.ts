// The operator dashboard in a real Chromium against the real server: the
// page on the admin address shows what the health stream pushes (no
// reload, no polling) as two Go clients play a duel, watches their room live as
// a spectator, and drains the server after a confirmation.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RESULTS, buildGoClients, buildServer, freePort, launchBrowser, sleep, startGoClients, startServer, until, type Browser, type GoClients, type ServerHandle } from "./harness";

let server: ServerHandle;
let B: Browser;
const bots: GoClients[] = [];
let goBin = "";
let roomId = "";

const text = (testid: string) => B.page.getByTestId(testid).innerText();
const dash = () =>
  B.page.evaluate(() => {
    const d = window.__dashboard;
    return { connected: d.connected, messages: d.messages, fullMessages: d.fullMessages, lastHealth: d.lastHealth as Record<string, any> | null, spectating: d.spectating };
  });

async function shot(name: string, fullPage = true): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await B.page.screenshot({ path: join(RESULTS, name), fullPage });
}

beforeAll(async () => {
  const bin = await buildServer();
  goBin = await buildGoClients();
  // A drain that outlasts the test: the page must show it while the server still runs.
  server = await startServer(bin, ["-drain-timeout", "30s", "-rejoin-grace", "2s"], "e2e-dashboard-server.log");
  B = await launchBrowser("dashboard", { width: 1440, height: 900 });
}, 240_000);

afterAll(async () => {
  for (const b of bots) b.close();
  await B?.close();
  await server?.stop();
});

afterEach(() => {
  expect(B?.errors ?? []).toEqual([]);
});

describe("operator dashboard", () => {
  it("shows the pushed state on the admin address, and polls nothing", async () => {
    const requests: string[] = [];
    const sockets: string[] = [];
    B.page.on("request", (r) => requests.push(`${r.method()} ${r.url()}`));
    B.page.on("websocket", (w) => sockets.push(w.url()));
    await B.page.goto(`${server.adminURL}/dashboard`);
    expect(new URL(B.page.url()).pathname).toBe("/dashboard/");
    await B.page.waitForFunction(() => window.__dashboard.connected, null, { timeout: 10_000, polling: 50 });
    const first = await dash();
    expect(first.fullMessages).toBe(1);
    expect(first.lastHealth?.node.ready).toBe(true);
    await until("players 0", async () => (await text("dash-players")) === "0", 5000);
    expect(await text("dash-sessions")).toBe("0");
    expect(await B.page.locator('tr[data-testid^="dash-room-"]').count()).toBe(0);
    expect(await text("dash-ready")).toMatch(/^ready$/i);
    const queues = await text("dash-queues");
    expect(queues).toContain("arena");
    expect(queues).toContain("duel");
    expect(await text("dash-cpu")).toMatch(/%$/);
    expect(await text("dash-memory")).toMatch(/iB$/);
    expect(await text("dash-bandwidth")).toMatch(/^in +\S+ \S*B\/s\s+out \S+ \S*B\/s$/);
    // A single node sends no cluster, and the Cluster panel stays hidden.
    expect(first.lastHealth).not.toHaveProperty("cluster");
    expect(await B.page.getByTestId("dash-cluster").isHidden()).toBe(true);
    // Updates keep coming over the WebSocket (2 Hz); nothing is fetched for them.
    const loaded = requests.length;
    const m0 = first.messages;
    await sleep(2500);
    const later = await dash();
    expect(later.messages - m0).toBeGreaterThanOrEqual(4);
    expect(later.fullMessages).toBe(1);
    expect(later.lastHealth?.full).toBe(false);
    expect(later.lastHealth?.reason).toBe("PERIODIC");
    expect(requests.slice(loaded)).toEqual([]);
    expect(sockets.map((u) => new URL(u).pathname)).toEqual(["/dashboard/ws"]);
  }, 30_000);

  it("shows two players and their room as soon as a duel starts, without a reload", async () => {
    await B.page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
    const url = server.url.replace("http:", "ws:") + "/v1/connect";
    const t0 = Date.now();
    // Two Go clients (net/client, run as the loadtest's bots) play a duel.
    bots.push(startGoClients(goBin, url, 2, "duel", "e2e-dashboard-go-clients.log"));
    const row = B.page.locator('tr[data-testid^="dash-room-"]');
    await until("players 2 and one room row", async () => (await text("dash-players")) === "2" && (await row.count()) === 1, 5000);
    console.log(`dashboard: room and players shown ${Date.now() - t0} ms after the bots were started`);
    roomId = ((await row.getAttribute("data-testid")) ?? "").slice("dash-room-".length);
    const h = (await dash()).lastHealth!;
    expect((h.rooms as { id: string }[]).map((r) => r.id)).toEqual([roomId]);
    expect(await text("dash-sessions")).toBe("2");
    const cells = await row.locator("td").allInnerTexts();
    expect(cells[1]).toBe("duel");
    expect(cells[2]).toBe("2 / 2");
    expect(await B.page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
  }, 30_000);

  it("watches the room live as a spectator: the two players move", async () => {
    await B.page.getByTestId(`dash-room-${roomId}`).click();
    await B.page.waitForFunction(
      (id) => {
        const s = window.__dashboard.spectating;
        return s.roomId === id && s.status === "watching" && s.entities.length === 2;
      },
      roomId,
      { timeout: 10_000, polling: 50 },
    );
    const before = (await dash()).spectating;
    await sleep(1000);
    const after = (await dash()).spectating;
    expect(after.tick).toBeGreaterThan(before.tick + 20);
    const moved = (a: { id: number; x: number; y: number }) => {
      const b = before.entities.find((e) => e.id === a.id)!;
      return Math.hypot(a.x - b.x, a.y - b.y) > 1;
    };
    expect(after.entities.some(moved)).toBe(true);
    // Each of the two players moves at some point (a bot may stand still or against a wall for a moment).
    const seen = new Set<number>();
    await until(
      "both players to move",
      async () => {
        for (const e of (await dash()).spectating.entities) if (moved(e)) seen.add(e.id);
        return seen.size === 2;
      },
      8000,
      100,
    );
    // The server counts the spectator; players do not see it.
    await until("the watcher counted", async () => (await B.page.getByTestId(`dash-room-${roomId}`).locator("td").nth(3).innerText()) === "1", 5000);
    expect(await text("dash-players")).toBe("2");
    // The canvas shows the map and the players, not a blank rectangle.
    const colors = await B.page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid="spectate"]')!;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return seen.size;
    });
    expect(colors).toBeGreaterThan(8);
    await sleep(300);
    await shot("dashboard.png");
    await B.page.getByTestId("spectate").screenshot({ path: join(RESULTS, "dashboard-spectate.png") });
    // A larger view for a closer look; Escape returns.
    const small = (await B.page.getByTestId("spectate").boundingBox())!;
    await B.page.getByRole("button", { name: "Enlarge" }).click();
    await until("the larger view", async () => (await B.page.getByTestId("spectate").boundingBox())!.width > small.width * 1.5, 3000);
    await sleep(200);
    await shot("dashboard-spectate-large.png", false);
    await B.page.keyboard.press("Escape");
    await until("the view back in its card", async () => (await B.page.getByTestId("spectate").boundingBox())!.width === small.width, 3000);
  }, 40_000);

  it("drains only after the confirmation, and shows it at once", async () => {
    const readyz = async () => (await fetch(`${server.url}/readyz`)).status;
    // Cancelled: nothing happens.
    const asked: string[] = [];
    B.page.once("dialog", (d) => {
      asked.push(d.type());
      void d.dismiss();
    });
    await B.page.getByTestId("dash-drain").click();
    await until("the confirmation", () => asked.length === 1, 5000);
    expect(asked).toEqual(["confirm"]);
    await sleep(700);
    expect(await readyz()).toBe(200);
    expect(await text("dash-ready")).toMatch(/^ready$/i);

    B.page.once("dialog", (d) => void d.accept());
    const t0 = Date.now();
    await B.page.getByTestId("dash-drain").click();
    await until("the page to show the drain", async () => /^draining$/i.test(await text("dash-ready")), 5000, 20);
    console.log(`dashboard: drain shown ${Date.now() - t0} ms after the click`);
    const h = (await dash()).lastHealth!;
    expect(h.node.draining).toBe(true);
    expect(h.node.ready).toBe(false);
    expect(await readyz()).toBe(503);
    expect(await B.page.getByTestId("dash-drain").isDisabled()).toBe(true);
    expect(await B.page.locator("#notice").innerText()).toMatch(/draining/i);
    // Running rounds play on during the drain: the room is still listed.
    expect(await B.page.locator('tr[data-testid^="dash-room-"]').count()).toBe(1);
    await shot("dashboard-draining.png", false);
  }, 30_000);
});

// Off loopback the admin address wants its token: the page is opened with
// ?token= and passes it on to everything it asks for.
describe("operator dashboard with an admin token", () => {
  const TOKEN = "e2e-admin-token";
  let srv: ServerHandle;
  let T: Browser;
  let admin = "";
  const tbots: GoClients[] = [];

  beforeAll(async () => {
    const port = await freePort();
    admin = `http://127.0.0.1:${port}`;
    srv = await startServer(await buildServer(), ["-admin-addr", `0.0.0.0:${port}`, "-admin-token", TOKEN, "-rejoin-grace", "1s"], "e2e-dashboard-token-server.log");
    T = await launchBrowser("dashboard-token", { width: 1440, height: 900 });
  }, 240_000);

  afterAll(async () => {
    for (const b of tbots) b.close();
    await T?.close();
    await srv?.stop();
  });

  afterEach(() => {
    expect(T?.errors ?? []).toEqual([]);
  });

  it("loads, streams, watches and drains with ?token=", async () => {
    expect((await fetch(`${admin}/dashboard/drain`, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${admin}/metrics`)).status).toBe(401);
    await T.page.goto(`${admin}/dashboard?token=${TOKEN}`);
    await T.page.waitForFunction(() => window.__dashboard.connected, null, { timeout: 10_000, polling: 50 });
    const url = srv.url.replace("http:", "ws:") + "/v1/connect";
    tbots.push(startGoClients(goBin, url, 2, "duel", "e2e-dashboard-token-go-clients.log"));
    const row = T.page.locator('tr[data-testid^="dash-room-"]');
    await until("the room", async () => (await row.count()) === 1, 10_000);
    await row.click();
    await T.page.waitForFunction(() => window.__dashboard.spectating.status === "watching" && window.__dashboard.spectating.entities.length === 2, null, { timeout: 10_000, polling: 50 });
    // The map came too: the overlay that waits for it is gone.
    await until("the map drawn", async () => !(await T.page.locator("#spectate-overlay").isVisible()), 5000);
    T.page.once("dialog", (d) => void d.accept());
    await T.page.getByTestId("dash-drain").click();
    await until("draining", async () => /^draining$/i.test(await T.page.getByTestId("dash-ready").innerText()), 5000, 20);
  }, 40_000);
});
