// The lobby keepalive (src/net/keepalive.ts) and the reconnect backoff
// (src/net/backoff.ts), with fake timers.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_RECONNECT_DELAY_MS, reconnectDelay } from "../src/net/backoff";
import { Keepalive, LOBBY_KEEPALIVE_MS } from "../src/net/keepalive";

describe("Keepalive", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("pings every 10 s, well inside the server's 30 s idle timeout", () => {
    expect(LOBBY_KEEPALIVE_MS).toBe(10_000);
    let pings = 0;
    const k = new Keepalive(() => pings++);
    k.start();
    expect(k.running).toBe(true);
    vi.advanceTimersByTime(9_999);
    expect(pings).toBe(0);
    vi.advanceTimersByTime(1);
    expect(pings).toBe(1);
    vi.advanceTimersByTime(20_000);
    expect(pings).toBe(3);
    k.stop();
  });

  it("runs one timer however often it is started, and nothing after stop", () => {
    let pings = 0;
    const k = new Keepalive(() => pings++, 1000);
    k.start();
    k.start();
    vi.advanceTimersByTime(3000);
    expect(pings).toBe(3);
    k.stop();
    k.stop();
    expect(k.running).toBe(false);
    vi.advanceTimersByTime(10_000);
    expect(pings).toBe(3);
    // And it starts again.
    k.start();
    vi.advanceTimersByTime(1000);
    expect(pings).toBe(4);
    k.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("reconnectDelay", () => {
  it("doubles from 250 ms to at most 5 s, spread by ±20 %", () => {
    expect(reconnectDelay(1, 0.5)).toBe(250);
    expect(reconnectDelay(2, 0.5)).toBe(500);
    expect(reconnectDelay(3, 0.5)).toBe(1000);
    expect(reconnectDelay(6, 0.5)).toBe(MAX_RECONNECT_DELAY_MS);
    expect(reconnectDelay(50, 0.5)).toBe(MAX_RECONNECT_DELAY_MS);
    expect(reconnectDelay(1, 0)).toBe(200);
    expect(reconnectDelay(1, 0.999999)).toBeCloseTo(300, 3);
    expect(reconnectDelay(0, 0.5)).toBe(250);
  });
});
