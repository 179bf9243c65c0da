// The screens around a match, in a real Chromium against the real server:
// searching and Cancel, a party made and joined by code, chat, the
// scoreboard on Tab, round results and what follows them, and a player who
// comes back after the grace period has run out.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildServer, launchBrowser, sleep, startDelayProxy, startServer, until, type Browser, type DelayProxy, type ServerHandle } from "./harness";
import { screenshot, state, waitPlaying } from "./pages";

let server: ServerHandle;
let proxy: DelayProxy; // A's way to the server, so the test can cut it
let A: Browser;
let B: Browser;

const ROUND_SECONDS = 8;
const GRACE = "2s";

beforeAll(async () => {
  const bin = await buildServer();
  server = await startServer(bin, ["-round-seconds", String(ROUND_SECONDS), "-rejoin-grace", GRACE], "e2e-ui-server.log");
  proxy = await startDelayProxy(server.port, 0);
  [A, B] = await Promise.all([launchBrowser("A"), launchBrowser("B")]);
  await A.page.goto(proxy.url);
  await A.page.getByTestId("name").fill("alice");
  await B.page.goto(server.url);
  await B.page.getByTestId("name").fill("bob");
}, 240_000);

afterAll(async () => {
  await A?.close();
  await B?.close();
  await proxy?.close();
  await server?.stop();
});

afterEach(() => {
  expect([...(A?.errors ?? []), ...(B?.errors ?? [])]).toEqual([]);
});

const phase = (b: Browser) => b.page.evaluate(() => window.__arbiter.phase);

describe("screens", () => {
  it("shows searching with the elapsed time and queue size, and Cancel goes back", async () => {
    await A.page.getByTestId("play").click();
    const searching = A.page.getByTestId("searching");
    await searching.waitFor({ state: "visible", timeout: 5000 });
    await until("the queue size", async () => (await A.page.locator("#search-queue").textContent()) === "1", 5000);
    await until("the elapsed time to tick", async () => (await A.page.locator("#search-elapsed").textContent()) !== "0:00", 5000);
    await A.page.getByTestId("cancel").click();
    await searching.waitFor({ state: "hidden", timeout: 5000 });
    expect(await phase(A)).toBe("start");
    expect(await A.page.getByTestId("play").isVisible()).toBe(true);
  }, 20_000);

  it("makes a party, joins it by code, and the leader's Play takes both into one room", async () => {
    await A.page.getByRole("button", { name: "Create party" }).click();
    const codeEl = A.page.getByTestId("party-code");
    await codeEl.waitFor({ state: "visible", timeout: 5000 });
    const code = (await codeEl.textContent())!.trim();
    expect(code).toMatch(/^[A-Z0-9]{3,}$/);
    await B.page.locator("#party-join-code").fill(code.toLowerCase());
    await B.page.getByRole("button", { name: "Join party" }).click();
    await until("B in the party", async () => (await B.page.getByTestId("party-code").textContent()) === code, 5000);
    await until("A sees B in the party", async () => ((await A.page.locator("#party-members").textContent()) ?? "").includes("bob"), 5000);

    // Only the leader queues the party.
    await B.page.getByTestId("play").click();
    await until("B told it is not the leader", async () => /leader/i.test((await B.page.locator("#start-message").textContent()) ?? ""), 5000);

    await A.page.getByTestId("play").click();
    await Promise.all([waitPlaying(A.page, 2), waitPlaying(B.page, 2)]);
    expect((await state(A.page)).roomId).toBe((await state(B.page)).roomId);
  }, 30_000);

  it("chats with Enter and shows the scoreboard on Tab", async () => {
    await A.page.keyboard.press("Enter");
    const input = A.page.getByTestId("chat-input");
    await input.waitFor({ state: "visible", timeout: 2000 });
    await input.fill("good luck");
    await input.press("Enter");
    await input.waitFor({ state: "hidden", timeout: 2000 });
    await until("B to get the line", async () => ((await B.page.locator("#chat-log").textContent()) ?? "").includes("alice: good luck"), 5000);

    await B.page.keyboard.down("Tab");
    const sb = B.page.getByTestId("scoreboard");
    await sb.waitFor({ state: "visible", timeout: 2000 });
    const text = (await sb.textContent()) ?? "";
    expect(text).toContain("alice");
    expect(text).toContain("bob");
    await screenshot(B, "e2e-ui-scoreboard.png");
    await B.page.keyboard.up("Tab");
    await sb.waitFor({ state: "hidden", timeout: 2000 });
  }, 20_000);

  it("ends the round with results, then back to searching or the start screen", async () => {
    for (const b of [A, B]) {
      await until("the results screen", async () => (await phase(b)) === "results", (ROUND_SECONDS + 10) * 1000, 100);
    }
    const rows = await A.page.locator("#results-table tr").count();
    expect(rows).toBe(3); // header + two players
    expect((await A.page.locator("#results-table").textContent()) ?? "").toContain("bob");
    await screenshot(A, "e2e-ui-results.png");

    // In a party the leader starts the next match and the members follow.
    expect(await B.page.getByRole("button", { name: /party leader/ }).isDisabled()).toBe(true);
    await A.page.getByRole("button", { name: "Play again" }).click();
    await A.page.getByTestId("searching").waitFor({ state: "visible", timeout: 5000 });
    await B.page.getByTestId("searching").waitFor({ state: "visible", timeout: 5000 });
    // The leader cancels for both.
    await A.page.getByTestId("cancel").click();
    await until("both back at the start", async () => (await phase(A)) === "start" && (await phase(B)) === "start", 5000);
  }, 40_000);

  it("tells a player who comes back after the grace period that the seat is gone", async () => {
    await A.page.getByTestId("play").click();
    await Promise.all([waitPlaying(A.page, 2), waitPlaying(B.page, 2)]);
    // The connection drops and cannot come back for longer than the grace.
    proxy.hold(3500);
    proxy.dropAll();
    await A.page.getByTestId("connection-banner").waitFor({ state: "visible", timeout: 5000 });
    await until(
      "A told the seat is gone",
      async () => (await phase(A)) === "start" && /seat is gone/i.test((await A.page.locator("#start-message").textContent()) ?? ""),
      15_000,
      100,
    );
    expect(await A.page.getByTestId("connection-banner").isHidden()).toBe(true);
    await screenshot(A, "e2e-ui-seat-gone.png");
    // B plays on alone until the round ends, then leaves the results for the menu.
    expect(await phase(B)).toBe("playing");
    await until("B's results", async () => (await phase(B)) === "results", (ROUND_SECONDS + 5) * 1000, 100);
    await B.page.getByRole("button", { name: "Main menu" }).click();
    expect(await phase(B)).toBe("start");
    await sleep(100);
  }, 40_000);
});
