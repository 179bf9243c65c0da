// The operator dashboard of a two-node cluster, in a real Chromium against
// two real server processes coordinating over NATS (node a embeds the NATS
// server, node b connects to it): node a's page lists both nodes and who
// holds each mode's matchmaking lease, and when node b is stopped (SIGTERM:
// it drains, gives up its leases and leaves the registry) its row goes
// away without a reload.

import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REPO, RESULTS, WEB_DIR, buildServer, freePort, launchBrowser, sleep, until, type Browser } from "./harness";

/** The signing key every node of the cluster shares (at least 16 bytes). */
const SECRET = "e2e-dashboard-cluster-secret-0123";

interface Node {
  id: string;
  url: string;
  adminURL: string;
  port: number;
  proc: ChildProcess;
  exited: boolean;
  stop(): Promise<void>;
}

/** Starts one node of the cluster on the given ports and waits for its /readyz. */
async function startNode(bin: string, id: string, port: number, adminPort: number, args: string[]): Promise<Node> {
  if (!existsSync(join(WEB_DIR, "dist", "dashboard.html"))) {
    throw new Error("client-web/dist is not built: run `make web` (or `npx vite build` in client-web) first");
  }
  mkdirSync(RESULTS, { recursive: true });
  const logName = `e2e-dashboard-cluster-${id}.log`;
  const log = createWriteStream(join(RESULTS, logName));
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(
    bin,
    [
      "-addr", `127.0.0.1:${port}`,
      "-admin-addr", `127.0.0.1:${adminPort}`,
      "-web-dir", join(WEB_DIR, "dist"),
      "-drain-timeout", "1s",
      "-public-url", url,
      "-node-id", id,
      "-secret", SECRET,
      ...args,
    ],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const node: Node = {
    id,
    url,
    adminURL: `http://127.0.0.1:${adminPort}`,
    port,
    proc,
    exited: false,
    async stop() {
      if (node.exited) return;
      const gone = new Promise<void>((r) => proc.once("exit", () => r()));
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(t);
      log.end();
    },
  };
  proc.on("exit", () => {
    node.exited = true;
  });
  await until(
    `node ${id}'s /readyz`,
    async () => {
      if (node.exited) return "exited";
      return (await fetch(`${url}/readyz`)).ok;
    },
    20_000,
    100,
  );
  if (node.exited) throw new Error(`node ${id} exited; see ${join(RESULTS, logName)}`);
  return node;
}

interface NodeRowCells {
  node: string;
  url: string;
  players: string;
  load: string;
  state: string;
  self: boolean;
}

let a: Node;
let b: Node;
let c: Node | undefined;
let B: Browser;
let bin = "";
let nats = "";

const nodeRows = () => B.page.locator('[data-testid="dash-cluster-nodes"] tbody tr');
const nodeIds = async () => (await nodeRows().evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.key ?? ""))).sort();
async function rowOf(id: string): Promise<NodeRowCells> {
  const tr = B.page.getByTestId(`dash-cluster-node-${id}`);
  const cells = await tr.locator("td").allInnerTexts();
  return {
    node: cells[0] ?? "",
    url: cells[1] ?? "",
    players: cells[3] ?? "",
    load: cells[4] ?? "",
    state: cells[5] ?? "",
    self: (await tr.getAttribute("class"))?.split(" ").includes("self") ?? false,
  };
}
const leaseText = (mode: string) => B.page.getByTestId(`dash-cluster-lease-${mode}`).locator("td").nth(1).innerText();
type Cluster = { nodeId: string; natsConnected: boolean; nodes?: { id: string }[]; leases?: { mode: string; holder?: string }[] };
const cluster = () =>
  B.page.evaluate(() => {
    const d = window.__dashboard;
    return { fullMessages: d.fullMessages, cluster: (d.lastHealth?.cluster ?? null) as Cluster | null };
  });

beforeAll(async () => {
  bin = await buildServer();
  const [pa, paa, pn, pb, pba] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  nats = `nats://127.0.0.1:${pn}`;
  // Node a caps its players, node b has no caps: the table shows both kinds of row.
  a = await startNode(bin, "a", pa, paa, ["-nats-embed", `127.0.0.1:${pn}`, "-nats", nats, "-max-players", "40"]);
  b = await startNode(bin, "b", pb, pba, ["-nats", nats]);
  B = await launchBrowser("dashboard-cluster", { width: 1440, height: 900 });
}, 240_000);

afterAll(async () => {
  await B?.close();
  await b?.stop();
  await c?.stop();
  await a?.stop();
});

afterEach(() => {
  expect(B?.errors ?? []).toEqual([]);
});

describe("operator dashboard of a cluster", () => {
  it("lists both nodes, this one marked, and who holds each mode's lease", async () => {
    await B.page.goto(`${a.adminURL}/dashboard`);
    await B.page.waitForFunction(() => window.__dashboard.connected, null, { timeout: 10_000, polling: 50 });
    await until("the cluster panel", () => B.page.getByTestId("dash-cluster").isVisible(), 10_000);
    await until("both nodes listed", async () => (await nodeIds()).join(",") === "a,b", 15_000);
    expect(await B.page.getByTestId("dash-cluster-nats").innerText()).toMatch(/^nats connected$/i);
    expect(await B.page.getByTestId("dash-cluster").getAttribute("class")).not.toContain("alarm");

    const ra = await rowOf("a");
    expect(ra.self).toBe(true);
    expect(ra.node).toMatch(/^a\s*this node$/i);
    expect(ra.url).toContain(`127.0.0.1:${a.port}`);
    expect(ra.players).toBe("0 / 40");
    expect(ra.load).toMatch(/^0%$/);
    expect(ra.state).toBe("");
    const rb = await rowOf("b");
    expect(rb.self).toBe(false);
    expect(rb.node).toBe("b");
    expect(rb.url).toContain(`127.0.0.1:${b.port}`);
    expect(rb.players).toBe("0 / ∞");
    expect(rb.load).toMatch(/no cap/);

    // Each mode's lease is taken by one of the two nodes; the page names
    // the holder the stream reports, marking this node's.
    const c = await until(
      "the arena and duel leases held",
      async () => {
        const cl = (await cluster()).cluster;
        const held = (cl?.leases ?? []).filter((l) => (l.mode === "arena" || l.mode === "duel") && l.holder);
        return held.length === 2 ? cl : null;
      },
      15_000,
    );
    expect(c.nodeId).toBe("a");
    expect(c.natsConnected).toBe(true);
    for (const mode of ["arena", "duel"]) {
      const holder = c.leases!.find((l) => l.mode === mode)!.holder!;
      expect(["a", "b"]).toContain(holder);
      await until(`the ${mode} lease shown as ${holder}`, async () => (await leaseText(mode)) === (holder === "a" ? "a (this node)" : holder), 5000);
      const cls = (await B.page.getByTestId(`dash-cluster-lease-${mode}`).getAttribute("class")) ?? "";
      expect(cls.split(" ").includes("self")).toBe(holder === "a");
      console.log(`dashboard-cluster: the ${mode} lease is held by ${holder}`);
    }
    await sleep(300);
    mkdirSync(RESULTS, { recursive: true });
    await B.page.screenshot({ path: join(RESULTS, "dashboard-cluster.png"), fullPage: true });
  }, 60_000);

  it("drops node b from the table when it is stopped, without a reload", async () => {
    await B.page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
    const before = await cluster();
    const t0 = Date.now();
    const stopped = b.stop();
    // Draining, b gives up any lease it holds and leaves the registry.
    await until("node b gone from the table", async () => (await nodeIds()).join(",") === "a", 20_000, 50);
    console.log(`dashboard-cluster: node b gone from the table ${Date.now() - t0} ms after SIGTERM`);
    await stopped;
    expect(await rowOf("a")).toMatchObject({ self: true });
    expect(await B.page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    // The same connection of the stream: nothing was reloaded or reconnected.
    expect((await cluster()).fullMessages).toBe(before.fullMessages);
    // Node a takes over whatever b held: every lease ends up with a.
    await until(
      "node a holding the arena and duel leases",
      async () => (await leaseText("arena")) === "a (this node)" && (await leaseText("duel")) === "a (this node)",
      15_000,
    );
    expect(await B.page.getByTestId("dash-cluster-nats").innerText()).toMatch(/^nats connected$/i);
    expect(await B.page.locator("#cluster-summary").innerText()).toMatch(/^1 node\b/);
  }, 60_000);

  it("alarms when this node loses its NATS connection", async () => {
    // Node c joins through node a's NATS server; its page is opened; then
    // node a (and the NATS server inside it) stops.
    c = await startNode(bin, "c", await freePort(), await freePort(), ["-nats", nats]);
    await B.page.goto(`${c.adminURL}/dashboard`);
    await B.page.waitForFunction(() => window.__dashboard.connected, null, { timeout: 10_000, polling: 50 });
    await until("nodes a and c listed", async () => (await nodeIds()).join(",") === "a,c", 15_000);
    expect((await rowOf("c")).self).toBe(true);
    expect((await rowOf("a")).self).toBe(false);
    expect(await B.page.locator("#notice").isHidden()).toBe(true);
    const t0 = Date.now();
    await a.stop();
    await until("NATS disconnected on the page", async () => /^nats disconnected$/i.test(await B.page.getByTestId("dash-cluster-nats").innerText()), 15_000, 50);
    console.log(`dashboard-cluster: NATS disconnected shown ${Date.now() - t0} ms after node a was stopped`);
    expect((await cluster()).cluster?.natsConnected).toBe(false);
    expect(await B.page.getByTestId("dash-cluster").getAttribute("class")).toContain("alarm");
    expect(await B.page.getByTestId("dash-cluster-nats").getAttribute("class")).toContain("bad");
    expect(await B.page.locator("#notice").innerText()).toMatch(/NATS disconnected/);
    expect(await B.page.locator("#cluster-note").innerText()).toMatch(/cannot reach NATS/);
    // The node itself is fine: its own stream still flows.
    expect(await B.page.getByTestId("dash-connection").innerText()).toMatch(/^live$/i);
    await sleep(200);
    await B.page.screenshot({ path: join(RESULTS, "dashboard-cluster-nats-down.png"), fullPage: false });
  }, 60_000);
});
