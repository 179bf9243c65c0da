// Helpers for the browser tests: the real server binary on a free loopback
// port, Debian's Chromium driven by playwright-core (never a downloaded
// browser), and a way for the server side to cut one page's connection.

import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium, type BrowserContext, type Page } from "playwright-core";

const run = promisify(execFile);

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO = resolve(WEB_DIR, "..");
export const RESULTS = join(WEB_DIR, "test-results");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls fn until it returns a truthy value or the deadline passes. */
export async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs: number, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await sleep(everyMs);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface ServerHandle {
  url: string;
  port: number;
  adminURL: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Builds cmd/arbiter into test-results/bin (Go's build cache makes this quick after the first time). */
export async function buildServer(): Promise<string> {
  const dir = join(RESULTS, "bin");
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, "arbiter");
  await run("go", ["build", "-o", bin, "./cmd/arbiter"], { cwd: REPO, maxBuffer: 16 << 20 });
  return bin;
}

/** Starts the server binary on a free loopback port and waits for /readyz. */
export async function startServer(bin: string, extraArgs: string[] = [], logName = "e2e-server.log"): Promise<ServerHandle> {
  if (!existsSync(join(WEB_DIR, "dist", "index.html"))) {
    throw new Error("client-web/dist is not built: run `make web` (or `npx vite build` in client-web) first");
  }
  mkdirSync(RESULTS, { recursive: true });
  const port = await freePort();
  const adminPort = await freePort();
  const log = createWriteStream(join(RESULTS, logName));
  const proc = spawn(
    bin,
    ["-addr", `127.0.0.1:${port}`, "-admin-addr", `127.0.0.1:${adminPort}`, "-web-dir", join(WEB_DIR, "dist"), "-drain-timeout", "1s", ...extraArgs],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  proc.on("exit", () => {
    exited = true;
  });
  await until(
    "the server's /readyz",
    async () => {
      if (exited) throw new Error(`the server exited; see ${join(RESULTS, logName)}`);
      const r = await fetch(`${url}/readyz`);
      return r.ok;
    },
    20_000,
    100,
  );
  return {
    url,
    port,
    adminURL: `http://127.0.0.1:${adminPort}`,
    proc,
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((r) => proc.once("exit", () => r()));
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 8000);
      await gone;
      clearTimeout(t);
      log.end();
    },
  };
}

/** One node of a cluster started by a test (startClusterNode). */
export interface ClusterNode {
  id: string;
  port: number;
  adminURL: string;
  /** http://127.0.0.1:port, the page's URL and the node's -public-url. */
  url: string;
  /** The WebSocket endpoint the node advertises (MatchFound, GET /v1/rooms). */
  ws: string;
  exited: boolean;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** SIGTERM (a drain), SIGKILL after 8 s. */
  stop(): Promise<void>;
}

export interface ClusterNodeOptions {
  /** The signing key every node of the cluster shares (at least 16 bytes). */
  secret: string;
  roundSeconds: number;
  /** The log goes to test-results/<logPrefix>-<id>.log. */
  logPrefix: string;
  /** The public port (default: a free one). */
  port?: number | undefined;
}

/**
 * Starts one cluster node (-node-id id, -public-url its own URL, the shared
 * -secret, plus args such as -nats-embed, -nats, -max-players) on loopback
 * and waits for its /readyz.
 */
export async function startClusterNode(bin: string, id: string, args: string[], opts: ClusterNodeOptions): Promise<ClusterNode> {
  mkdirSync(RESULTS, { recursive: true });
  const port = opts.port ?? (await freePort());
  const adminPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(RESULTS, `${opts.logPrefix}-${id}.log`);
  const log = createWriteStream(logPath);
  const proc: ChildProcess = spawn(
    bin,
    [
      ...["-addr", `127.0.0.1:${port}`, "-admin-addr", `127.0.0.1:${adminPort}`, "-web-dir", join(WEB_DIR, "dist")],
      ...["-drain-timeout", "1s", "-round-seconds", String(opts.roundSeconds)],
      ...["-public-url", url, "-node-id", id, "-secret", opts.secret],
      ...args,
    ],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const gone = new Promise<void>((r) => proc.once("exit", () => r()));
  const node: ClusterNode = {
    id,
    port,
    adminURL: `http://127.0.0.1:${adminPort}`,
    url,
    ws: `ws://127.0.0.1:${port}/v1/connect`,
    exited: false,
    async kill() {
      if (!node.exited) proc.kill("SIGKILL");
      await gone;
      log.end();
    },
    async stop() {
      if (node.exited) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 8000);
      await gone;
      clearTimeout(t);
      log.end();
    },
  };
  void gone.then(() => (node.exited = true));
  await until(
    `node ${id}'s /readyz`,
    async () => {
      if (node.exited) throw new Error(`node ${id} exited; see ${logPath}`);
      return (await fetch(`${url}/readyz`)).ok;
    },
    20_000,
    100,
  );
  return node;
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
  userDataDir: string;
  close(): Promise<void>;
}

/**
 * Launches a Chromium of its own (a fresh profile, its own processes, so
 * that its sockets can be told apart) with one page.
 */
export async function launchBrowser(label: string, viewport = { width: 1000, height: 700 }, deviceScaleFactor = 1): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (make chromium)`);
  const userDataDir = mkdtempSync(join(tmpdir(), `arbiter-chromium-${label}-`));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    deviceScaleFactor,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`[${label}] console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`[${label}] uncaught: ${e.message}`));
  // E2E_CONSOLE=1 prints every console line of the pages (for debugging).
  if (process.env.E2E_CONSOLE) page.on("console", (m) => console.log(`[${label}] ${m.type()}: ${m.text()}`));
  return {
    context,
    page,
    errors,
    userDataDir,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The pids of every process whose command line names the profile directory, and their descendants. */
function browserPids(userDataDir: string): Set<number> {
  const parent = new Map<number, number>();
  const roots = new Set<number>();
  for (const d of readdirSync("/proc")) {
    const pid = Number(d);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(pid, ppid);
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(userDataDir)) roots.add(pid);
    } catch {
      // gone
    }
  }
  const out = new Set<number>(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!out.has(pid) && out.has(ppid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return out;
}

/**
 * Cuts the WebSocket of one browser from the server's side: finds the
 * browser's TCP connection to the server (ss -tnp, by the browser's pids)
 * and destroys the server's end of it (ss -K, SOCK_DESTROY), as a server
 * dropping a connection does. Returns false when this cannot be done here
 * (no ss, no permission, no kernel support).
 */
export function killServerSide(b: Browser, serverPort: number): boolean {
  let out: string;
  try {
    out = execFileSync("ss", ["-tnpH", "state", "established", `( dport = :${serverPort} )`], { encoding: "utf8" });
  } catch {
    return false;
  }
  const pids = browserPids(b.userDataDir);
  const ports: number[] = [];
  for (const line of out.split("\n")) {
    const m = /127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:(\d+)/.exec(line);
    if (!m || Number(m[2]) !== serverPort) continue;
    const owners = [...line.matchAll(/pid=(\d+)/g)].map((x) => Number(x[1]));
    if (owners.some((p) => pids.has(p))) ports.push(Number(m[1]));
  }
  if (ports.length === 0) return false;
  let killed = 0;
  for (const p of ports) {
    try {
      const res = execFileSync("ss", ["-K", "-tnH", "state", "established", `( sport = :${serverPort} and dport = :${p} )`], { encoding: "utf8" });
      if (res.trim()) killed++;
    } catch {
      // not permitted or not supported
    }
  }
  return killed > 0;
}

/** Reads one counter (summed over its labels) from the server's /metrics. */
export async function metric(adminURL: string, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${adminURL}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    if (labels && !rest.includes(labels)) continue;
    sum += Number(line.split(" ").at(-1));
  }
  return sum;
}

export interface DelayProxy {
  url: string;
  /** Cuts every open connection, as a network failure would. */
  dropAll(): void;
  /** Holds new connections (accepted, but nothing forwarded) for ms. */
  hold(ms: number): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy on a free loopback port that delays every byte by oneWayMs in
 * each direction (so the round trip grows by twice that), keeping order.
 */
export async function startDelayProxy(targetPort: number, oneWayMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  let holdUntil = 0;
  const pipe = (from: Socket, to: Socket) => {
    from.on("data", (chunk) => {
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, oneWayMs);
    });
    from.on("end", () => setTimeout(() => to.end(), oneWayMs));
    from.on("error", () => to.destroy());
    from.on("close", () => setTimeout(() => to.destroy(), oneWayMs + 5));
  };
  const srv = createServer((client) => {
    client.setNoDelay(true);
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    const open = () => {
      if (client.destroyed) return;
      const upstream = connect(targetPort, "127.0.0.1");
      upstream.setNoDelay(true);
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      pipe(client, upstream);
      pipe(upstream, client);
      client.resume();
    };
    const wait = holdUntil - Date.now();
    if (wait > 0) setTimeout(open, wait);
    else open();
  });
  const port = await new Promise<number>((res) => {
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      res(typeof a === "object" && a ? a.port : 0);
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    dropAll() {
      for (const s of sockets) s.destroy();
    },
    hold(ms: number) {
      holdUntil = Date.now() + ms;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

/** A group of Go clients: the loadtest's bots (net/client), as a process. */
export interface GoClients {
  close(): void;
}

/** Builds cmd/loadtest, whose bots are the Go client playing like people. */
export async function buildGoClients(): Promise<string> {
  const dir = join(RESULTS, "bin");
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, "loadtest");
  await run("go", ["build", "-o", bin, "./cmd/loadtest"], { cwd: REPO, maxBuffer: 16 << 20 });
  return bin;
}

/**
 * Starts n Go clients that find a match in mode through the real matchmaker
 * and play until closed (the run is long; close() ends it).
 */
export function startGoClients(bin: string, wsURL: string, n: number, mode: string, logName: string): GoClients {
  mkdirSync(RESULTS, { recursive: true });
  const log = createWriteStream(join(RESULTS, logName));
  const proc = spawn(bin, ["-url", wsURL, "-bots", String(n), "-mode", mode, "-ramp", "50", "-warmup", "0s", "-duration", "10m"], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  return {
    close() {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}
