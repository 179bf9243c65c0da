// The health stream: one WebSocket to the admin address's /dashboard/ws,
// one binary arbiter.v1.Health message per WebSocket message, pushed by the
// server (a full state on connect, then updates at 2 Hz and at once on
// notable changes). Nothing is polled. A lost connection is retried with
// capped, jittered backoff; the first message of each new connection is
// full again, so nothing needs replaying.

import { fromBinary } from "@bufbuild/protobuf";
import { HealthSchema, type Health } from "../gen/arbiter/v1/health_pb";

export type StreamStatus = "connecting" | "open" | "reconnecting" | "stopped";

export interface StreamHandlers {
  onHealth(h: Health): void;
  /** detail says why the connection went away, when it did. */
  onStatus(s: StreamStatus, detail: string): void;
}

const MAX_BACKOFF_MS = 5000;

export class HealthStream {
  status: StreamStatus = "connecting";
  /** Messages received over every connection. */
  messages = 0;
  /** performance.now() of the last message (0: none yet). */
  lastMessageAt = 0;
  private ws: WebSocket | undefined;
  private attempt = 0;
  private timer: number | undefined;
  private stopped = false;
  private everOpened = false;

  constructor(
    private readonly url: string,
    private readonly h: StreamHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) window.clearTimeout(this.timer);
    this.timer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000);
    this.setStatus("stopped", "");
  }

  private setStatus(s: StreamStatus, detail: string): void {
    this.status = s;
    this.h.onStatus(s, detail);
  }

  private open(): void {
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    let first = true;
    let opened = false;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      opened = true;
      this.everOpened = true;
      this.attempt = 0;
      this.setStatus("open", "");
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (ws !== this.ws) return;
      if (!(ev.data instanceof ArrayBuffer)) {
        console.warn("dashboard: ignoring a text message on the health stream");
        return;
      }
      let h: Health;
      try {
        h = fromBinary(HealthSchema, new Uint8Array(ev.data));
      } catch (e) {
        console.warn("dashboard: undecodable health message", e);
        return;
      }
      if (first && (!h.full || !h.node)) {
        // Not the health stream (the page was opened on the public address?).
        console.warn("dashboard: the first message is not a full health state; is this the admin address?");
        ws.close(4000, "not a health stream");
        return;
      }
      first = false;
      this.messages++;
      this.lastMessageAt = performance.now();
      this.h.onHealth(h);
    };
    // A failed attempt fires error, then close: close alone is handled.
    ws.onerror = () => {};
    ws.onclose = (ev: CloseEvent) => {
      if (ws !== this.ws || this.stopped) return;
      this.ws = undefined;
      const why = opened ? closeReason(ev) : this.everOpened ? "the admin address does not answer" : "cannot connect to the admin address (off loopback it needs ?token=…)";
      this.attempt++;
      const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** (this.attempt - 1)) * (0.8 + 0.4 * Math.random());
      this.setStatus("reconnecting", why);
      this.timer = window.setTimeout(() => {
        this.timer = undefined;
        if (!this.stopped) this.open();
      }, delay);
    };
  }
}

function closeReason(ev: CloseEvent): string {
  if (ev.code === 1001) return "the server is going away";
  if (ev.code === 1006 || ev.code === 0) return "connection lost";
  return `closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ""})`;
}
