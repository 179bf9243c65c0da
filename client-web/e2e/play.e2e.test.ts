// End to end in a real Chromium against the real server binary on
// loopback: two players press Play and land in the same room, one moves
// and the other sees it, one shoots the other and the score changes on
// both, and after the server drops one connection that player is back in
// the same seat. Any console error fails the test.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildServer, killServerSide, launchBrowser, sleep, startServer, until, type Browser, type ServerHandle } from "./harness";
import { entityOf, openDirection, screenshot, state, walkTo } from "./pages";

let server: ServerHandle;
let A: Browser;
let B: Browser;

beforeAll(async () => {
  const bin = await buildServer();
  server = await startServer(bin);
  [A, B] = await Promise.all([launchBrowser("A"), launchBrowser("B")]);
}, 240_000);

afterAll(async () => {
  await A?.close();
  await B?.close();
  await server?.stop();
});

afterEach(() => {
  // The browser logged no error (console.error or an uncaught exception).
  expect([...(A?.errors ?? []), ...(B?.errors ?? [])]).toEqual([]);
});

describe("arena in the browser", () => {
  it("two players press Play and land in the same room", async () => {
    for (const [b, name] of [
      [A, "alice"],
      [B, "bob"],
    ] as const) {
      await b.page.goto(server.url);
      await b.page.getByTestId("name").fill(name);
      await b.page.getByTestId("mode").selectOption("arena");
    }
    await A.page.getByTestId("play").click();
    await B.page.getByTestId("play").click();
    await A.page.getByTestId("searching").waitFor({ state: "visible", timeout: 5000 }).catch(() => {
      // The match may be found before the searching screen is seen.
    });
    for (const b of [A, B]) {
      await until("the first snapshot", async () => {
        const s = await state(b.page);
        return s.phase === "playing" && s.tick > 0 && s.entities.length >= 2 && s.predictedPos !== null;
      }, 20_000);
    }
    const a = await state(A.page);
    const bs = await state(B.page);
    expect(a.roomId).not.toBe("");
    expect(a.roomId).toBe(bs.roomId);
    expect(a.playerId).not.toBe(bs.playerId);
    expect(a.entities.map((e) => e.playerId).sort()).toEqual([a.playerId, bs.playerId].sort());
    expect(await A.page.getByTestId("game").isVisible()).toBe(true);
    // The HUD shows the measured ping.
    await until("the ping in the HUD", async () => /^\d+$/.test((await A.page.getByTestId("ping").textContent()) ?? ""), 5000);
  }, 60_000);

  it("A holds a movement key and B sees A's entity move", async () => {
    const a = await state(A.page);
    const before = await entityOf(B.page, a.playerId);
    expect(before).toBeDefined();
    // Whichever way has room to move.
    const { key, axis } = await openDirection(server.url, before!.x, before!.y);
    const corrections = (await A.page.evaluate(() => window.__arbiter.stats)).corrections;
    await A.page.keyboard.down(key);
    try {
      // Prediction moves A at once on A's own screen.
      await until("A's prediction to move", async () => Math.abs((await state(A.page)).predictedPos![axis] - before![axis]) > 10, 2000, 10);
      await until(
        "B to see A move",
        async () => {
          const now = await entityOf(B.page, a.playerId);
          return now && Math.abs(now[axis] - before![axis]) > 40;
        },
        8000,
      );
    } finally {
      await A.page.keyboard.up(key);
    }
    // Once A stops, both agree on where A is (B interpolates a little behind).
    await sleep(500);
    const seenByB = (await entityOf(B.page, a.playerId))!;
    const own = (await state(A.page)).predictedPos!;
    expect(Math.abs(seenByB.x - own.x)).toBeLessThan(1);
    expect(Math.abs(seenByB.y - own.y)).toBeLessThan(1);
    // The server agreed with every predicted step.
    expect((await A.page.evaluate(() => window.__arbiter.stats)).corrections).toBe(corrections);
  }, 30_000);

  it("A shoots B and the score changes on both", async () => {
    const a = await state(A.page);
    const b = await state(B.page);
    const ea = (await entityOf(A.page, a.playerId))!;
    const eb = (await entityOf(A.page, b.playerId))!;
    expect(ea.score).toBe(0);
    // Meet in the open corridor at y = 350, where no wall stands between two players.
    const [ta, tb] = ea.x <= eb.x ? [450, 1150] : [1150, 450];
    await Promise.all([walkTo(A.page, ta, 350), walkTo(B.page, tb, 350)]);
    await sleep(300);

    let sawDamage = false;
    const deadline = Date.now() + 20_000;
    await A.page.mouse.move(500, 350);
    let down = false;
    try {
      while (Date.now() < deadline) {
        const s = await state(A.page);
        const me = s.entities.find((e) => e.playerId === a.playerId)!;
        const target = s.entities.find((e) => e.playerId === b.playerId)!;
        if (me.score >= 1) break;
        if (target.health < 100) sawDamage = true;
        const pt = await A.page.evaluate(([x, y]) => window.__arbiter.worldToScreen(x, y), [target.x, target.y] as const);
        await A.page.mouse.move(pt.x, pt.y);
        if (!down) {
          await A.page.mouse.down();
          down = true;
        }
        await sleep(60);
      }
    } finally {
      if (down) await A.page.mouse.up();
    }
    const scoreOnA = (await entityOf(A.page, a.playerId))!;
    expect(scoreOnA.score).toBeGreaterThanOrEqual(1);
    expect(scoreOnA.kills).toBeGreaterThanOrEqual(1);
    // B's page sees the same score for A, and its own death.
    await until("B to see A's score", async () => ((await entityOf(B.page, a.playerId))?.score ?? 0) >= 1, 5000);
    await until("B to see its own death", async () => ((await entityOf(B.page, b.playerId))?.deaths ?? 0) >= 1, 5000);
    expect(sawDamage || scoreOnA.kills >= 1).toBe(true);
    await screenshot(A, "e2e-A-after-kill.png");
    await screenshot(B, "e2e-B-after-kill.png");
  }, 60_000);

  it("the server closes A's socket and A reconnects into the same seat", async () => {
    const before = await state(A.page);
    // Watch for the connection banner from inside the page.
    await A.page.evaluate(() => {
      const el = document.querySelector('[data-testid="connection-banner"]') as HTMLElement;
      const w = window as unknown as { __bannerSeen: boolean };
      w.__bannerSeen = !el.hidden;
      new MutationObserver(() => {
        if (!el.hidden) w.__bannerSeen = true;
      }).observe(el, { attributes: true, childList: true });
    });
    let how = "server-side socket destroyed (ss -K)";
    if (!killServerSide(A, server.port)) {
      how = "page hook (ss -K unavailable)";
      await A.page.evaluate(() => window.__arbiterTest.sever());
    }
    console.log(`e2e: cut A's connection: ${how}`);
    await until("A to notice the lost connection", () => A.page.evaluate(() => (window as unknown as { __bannerSeen: boolean }).__bannerSeen), 5000, 10);
    await until(
      "A back in the room",
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
    expect(await A.page.getByTestId("connection-banner").isHidden()).toBe(true);
    // Inputs flow again (seq restarted at 1 after the new Joined) and B still sees A in the same entity.
    await until("A's inputs acknowledged after the rejoin", async () => (await state(A.page)).ackSeq > 5, 5000);
    const onB = await entityOf(B.page, before.playerId);
    expect(onB?.id).toBe(before.ownEntityId);
    await screenshot(A, "e2e-A.png");
    await screenshot(B, "e2e-B.png");
  }, 40_000);
});
