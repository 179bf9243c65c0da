// Helpers that read and drive one game page through window.__arbiter and
// real input events.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { RESULTS, sleep, type Browser } from "./harness";

export interface Ent {
  id: number;
  playerId: string;
  x: number;
  y: number;
  health: number;
  score: number;
  kills: number;
  deaths: number;
  dead: boolean;
}

export const state = (p: Page) =>
  p.evaluate(() => {
    const s = window.__arbiter;
    return {
      phase: s.phase,
      connection: s.connection,
      playerId: s.playerId,
      roomId: s.roomId,
      tick: s.tick,
      ackSeq: s.ackSeq,
      predictedPos: s.predictedPos,
      ownEntityId: s.ownEntityId,
      entities: [...s.entities] as Ent[],
    };
  });

/** Page p's phase (start, searching, playing, watching, ...). */
export const phaseOf = (p: Page) => p.evaluate(() => window.__arbiter.phase);

/** Where page p's lobby and room connections go, and how the connection stands. */
export const endpointsOf = (p: Page) =>
  p.evaluate(() => ({ lobby: window.__arbiter.lobbyEndpoint, room: window.__arbiter.roomEndpoint, connection: window.__arbiter.connection }));

/** The start screen's message on page p, trimmed. */
export const startMessageOf = async (p: Page) => ((await p.locator("#start-message").textContent()) ?? "").trim();

type CloseCall = { url: string; code: number | undefined };

/** Records page p's own WebSocket.close calls from its next load on (read them with closeCallsOf). */
export async function recordCloses(p: Page): Promise<void> {
  await p.addInitScript(() => {
    const w = window as unknown as { __wsCloses: { url: string; code: number | undefined }[] };
    w.__wsCloses = [];
    const close = WebSocket.prototype.close;
    WebSocket.prototype.close = function (this: WebSocket, code?: number, reason?: string) {
      w.__wsCloses.push({ url: this.url, code });
      return close.call(this, code, reason);
    };
  });
}

/** Page p's WebSocket.close calls (url, code) since its load; see recordCloses. */
export const closeCallsOf = (p: Page) => p.evaluate(() => [...(window as unknown as { __wsCloses: CloseCall[] }).__wsCloses]);

/** Player pid's entity as page p sees it. */
export async function entityOf(p: Page, pid: string): Promise<Ent | undefined> {
  return (await state(p)).entities.find((e) => e.playerId === pid);
}

export async function screenshot(b: Browser, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await b.page.screenshot({ path: join(RESULTS, name) });
}

export const KEYS = { left: "KeyA", right: "KeyD", up: "KeyW", down: "KeyS" } as const;

/**
 * Walks page p's player to (tx, ty) in world units with the arrow keys,
 * greedily per axis, wiggling sideways when a wall stops it.
 */
export async function walkTo(p: Page, tx: number, ty: number, timeoutMs = 15_000): Promise<void> {
  const held = new Set<string>();
  const hold = async (keys: string[]) => {
    for (const k of [...held]) if (!keys.includes(k)) {
      await p.keyboard.up(k);
      held.delete(k);
    }
    for (const k of keys) if (!held.has(k)) {
      await p.keyboard.down(k);
      held.add(k);
    }
  };
  const deadline = Date.now() + timeoutMs;
  let lastMove = Date.now();
  let last = { x: NaN, y: NaN };
  try {
    while (Date.now() < deadline) {
      const pos = (await state(p)).predictedPos;
      if (!pos) throw new Error("no predicted position");
      const dx = tx - pos.x;
      const dy = ty - pos.y;
      if (Math.abs(dx) <= 6 && Math.abs(dy) <= 6) return;
      if (Math.hypot(pos.x - last.x, pos.y - last.y) > 2) {
        lastMove = Date.now();
        last = pos;
      }
      if (Date.now() - lastMove > 800) {
        // Stuck on a wall corner: step sideways for a moment.
        const side = Math.abs(dx) > Math.abs(dy) ? (Math.random() < 0.5 ? KEYS.up : KEYS.down) : Math.random() < 0.5 ? KEYS.left : KEYS.right;
        await hold([side]);
        await sleep(300);
        lastMove = Date.now();
        continue;
      }
      const keys: string[] = [];
      if (dx > 6) keys.push(KEYS.right);
      else if (dx < -6) keys.push(KEYS.left);
      if (dy > 6) keys.push(KEYS.down);
      else if (dy < -6) keys.push(KEYS.up);
      await hold(keys);
      await sleep(Math.abs(dx) < 30 && Math.abs(dy) < 30 ? 15 : 50);
    }
    throw new Error(`could not walk to (${tx}, ${ty})`);
  } finally {
    await hold([]);
  }
}

/** Opens the client, types a name, picks a mode and presses Play. */
export async function play(b: Browser, url: string, name: string, mode = "arena"): Promise<void> {
  await b.page.goto(url);
  await b.page.getByTestId("name").fill(name);
  await b.page.getByTestId("mode").selectOption(mode);
  await b.page.getByTestId("play").click();
}

/** Waits until the page is in a room with a full snapshot and its prediction running. */
export async function waitPlaying(p: Page, minEntities = 1, timeoutMs = 20_000): Promise<void> {
  await p.waitForFunction(
    (n) => {
      const s = window.__arbiter;
      return s.phase === "playing" && s.tick > 0 && s.entities.length >= n && s.predictedPos !== null;
    },
    minEntities,
    { timeout: timeoutMs, polling: 50 },
  );
}

/**
 * The arrow key that moves a player at (x, y) (world units) furthest
 * before it meets a wall on the served map, and how far that is.
 */
export async function openDirection(url: string, x: number, y: number): Promise<{ key: string; sign: 1 | -1; axis: "x" | "y"; room: number }> {
  const m = (await (await fetch(`${url}/v1/maps/arena/yard`)).json()) as { scale: number; halfSize: number; walls: [number, number, number, number][] };
  const h = m.halfSize / m.scale;
  const walls = m.walls.map((w) => w.map((v) => v / m.scale) as [number, number, number, number]);
  const blocked = (px: number, py: number) => walls.some((w) => px - h < w[2] && px + h > w[0] && py - h < w[3] && py + h > w[1]);
  const dirs = [
    { key: KEYS.right, sign: 1, axis: "x" },
    { key: KEYS.left, sign: -1, axis: "x" },
    { key: KEYS.down, sign: 1, axis: "y" },
    { key: KEYS.up, sign: -1, axis: "y" },
  ] as const;
  let best: { key: string; sign: 1 | -1; axis: "x" | "y"; room: number } = { ...dirs[0], room: -1 };
  for (const d of dirs) {
    let room = 0;
    while (room < 600) {
      const nx = d.axis === "x" ? x + d.sign * (room + 1) : x;
      const ny = d.axis === "y" ? y + d.sign * (room + 1) : y;
      if (blocked(nx, ny)) break;
      room++;
    }
    if (room > best.room) best = { ...d, room };
  }
  return best;
}
