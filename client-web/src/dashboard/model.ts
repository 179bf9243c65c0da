// The dashboard's picture of the server, built from the health stream: the
// first message of a connection is full (the current state and the last
// minutes of per-second points); each update carries the current state,
// which replaces the previous one, and only the points that are new, which
// are appended. The history is capped to the chart's window.

import { HealthReason, type ClusterHealth, type Counter, type Health, type HealthPoint, type NodeHealth, type QueueHealth, type RoomHealth } from "../gen/arbiter/v1/health_pb";

/** The chart's window: five minutes. */
export const HISTORY_MS = 5 * 60 * 1000;
/** At most this many points are kept (one a second, as the server samples). */
export const MAX_POINTS = 300;
/** Counters also show their increase over this window. */
export const RECENT_MS = 60 * 1000;

/** One per-second sample, in the units the page shows. */
export interface Point {
  /** Server wall clock, Unix ms. */
  t: number;
  players: number;
  rooms: number;
  tickP99Ms: number;
  latenessP99Ms: number;
  cpuPercent: number;
  bytesInPerS: number;
  bytesOutPerS: number;
}

/** A running total and how much it grew over the last RECENT_MS. */
export interface CounterRow {
  name: string;
  value: number;
  recent: number;
}

export function toPoint(p: HealthPoint): Point {
  return {
    t: Number(p.timeUs) / 1000,
    players: p.players,
    rooms: p.rooms,
    tickP99Ms: p.tickP99Us / 1000,
    latenessP99Ms: p.latenessP99Us / 1000,
    cpuPercent: p.cpuPercent,
    bytesInPerS: p.bytesInPerS,
    bytesOutPerS: p.bytesOutPerS,
  };
}

/**
 * HealthModel applies Health messages in the order they arrive on one
 * connection; a new connection starts with a full message, which resets
 * everything.
 */
export class HealthModel {
  node: NodeHealth | undefined;
  rooms: RoomHealth[] = [];
  queues: QueueHealth[] = [];
  drops: CounterRow[] = [];
  closes: CounterRow[] = [];
  points: Point[] = [];
  /** The cluster as this node sees it; undefined on a single node. */
  cluster: ClusterHealth | undefined;
  /** The last message applied. */
  last: Health | undefined;
  /** Messages applied, full ones included. */
  messages = 0;
  /** Full messages applied: one per connection. */
  fullMessages = 0;
  /** The server's wall clock at the last message, Unix ms. */
  serverTimeMs = 0;
  private history = new Map<string, { t: number; v: number }[]>();

  apply(h: Health): void {
    this.messages++;
    this.last = h;
    const before = this.serverTimeMs;
    this.serverTimeMs = Number(h.serverTimeUs) / 1000;
    this.node = h.node;
    this.rooms = [...h.rooms];
    this.queues = [...h.queues];
    this.cluster = h.cluster;
    if (h.full) {
      this.fullMessages++;
      this.points = [];
      this.history.clear();
    }
    for (const p of h.points) {
      const pt = toPoint(p);
      // Points come in time order and are never repeated; keep it that way.
      if (pt.t > (this.points.at(-1)?.t ?? -Infinity)) this.points.push(pt);
    }
    const end = this.points.at(-1)?.t ?? 0;
    let drop = Math.max(0, this.points.length - MAX_POINTS);
    while (drop < this.points.length && this.points[drop]!.t < end - HISTORY_MS) drop++;
    if (drop > 0) this.points.splice(0, drop);
    // The server leaves out counters that are still zero: one that appears
    // in an update was zero at the previous message.
    const zeroAt = h.full ? undefined : before;
    this.drops = this.counterRows("drop", h.drops, zeroAt);
    this.closes = this.counterRows("close", h.closes, zeroAt);
  }

  private counterRows(kind: string, cs: readonly Counter[], zeroAt: number | undefined): CounterRow[] {
    const now = this.serverTimeMs;
    const rows: CounterRow[] = [];
    for (const c of cs) {
      const key = `${kind}:${c.name}`;
      const v = Number(c.value);
      let hist = this.history.get(key);
      if (!hist) {
        hist = zeroAt !== undefined ? [{ t: zeroAt, v: 0 }] : [];
        this.history.set(key, hist);
      }
      // A counter that went down belongs to another server process.
      if (hist.length > 0 && v < hist.at(-1)!.v) hist.length = 0;
      hist.push({ t: now, v });
      while (hist.length > 2 && hist[1]!.t <= now - RECENT_MS) hist.shift();
      rows.push({ name: c.name, value: v, recent: v - hist[0]!.v });
    }
    rows.sort((a, b) => b.value - a.value || a.name.localeCompare(b.name));
    return rows;
  }

  /** The room with this id in the current state. */
  room(id: string): RoomHealth | undefined {
    return this.rooms.find((r) => r.id === id);
  }

  /** Whether the server accepts players (ready and not draining). */
  get ready(): boolean {
    return !!this.node?.ready && !this.node.draining;
  }

  get draining(): boolean {
    return !!this.node?.draining;
  }

  /** Whether this node is in a cluster and has lost its NATS connection. */
  get natsDown(): boolean {
    return !!this.cluster && !this.cluster.natsConnected;
  }

  /** The tick budget at the server's tick rate, in ms (0 when unknown). */
  get tickBudgetMs(): number {
    const r = this.node?.tickRate ?? 0;
    return r > 0 ? 1000 / r : 0;
  }
}

/** The message as a plain object (numbers for uint64, enum names), for tests and the console. */
export function plainHealth(h: Health): Record<string, unknown> {
  const json = JSON.stringify(h, (k, v: unknown) => {
    if (k === "$typeName") return undefined;
    if (typeof v === "bigint") return Number(v);
    return v;
  });
  const o = JSON.parse(json) as Record<string, unknown>;
  o.reason = HealthReason[h.reason] ?? String(h.reason);
  return o;
}
