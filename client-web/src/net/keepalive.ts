// Keeping an otherwise quiet connection open.
//
// The server closes a session that sends nothing for 30 s (IdleTimeout).
// While a room connection carries the game (and the clock-sync pings), the
// lobby connection is quiet: a Keepalive sends it a Ping every 10 s.

/** How often the lobby connection is pinged while a room connection is in use. */
export const LOBBY_KEEPALIVE_MS = 10_000;

/**
 * Keepalive calls ping every everyMs between start() and stop(). start()
 * and stop() may be called any number of times; at most one timer runs.
 */
export class Keepalive {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly ping: () => void,
    readonly everyMs = LOBBY_KEEPALIVE_MS,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.ping(), this.everyMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
