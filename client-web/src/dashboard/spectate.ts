// The spectator view: watches one room live over the admin address's
// /dashboard/spectate with the game protocol (Hello, then Spectate{room};
// Joined{spectator}, the roster and a full snapshot follow, then deltas),
// and draws it with the player client's own code: the same snapshot view,
// interpolation and renderer (RoomSession, Renderer). A spectator has no
// seat: no local player, so no prediction, and it never sends an Input;
// it pings now and then so that the server's idle timeout leaves it be.
// Each watched room gets a connection of its own, closed when it stops.

import type { ServerMessage } from "../gen/arbiter/v1/envelope_pb";
import { ErrorCode } from "../gen/arbiter/v1/error_pb";
import { RoomCloseReason, type Joined } from "../gen/arbiter/v1/room_pb";
import { EventType, type Event } from "../gen/arbiter/v1/snapshot_pb";
import { parseMap, type MapData } from "../game/mapdata";
import { RoomSession } from "../game/room";
import { DesyncError, FLAG_DEAD, KIND_PLAYER } from "../game/view";
import { ClockSync } from "../net/clock";
import { Connection } from "../net/connection";
import { Renderer, type Effect } from "../ui/renderer";
import { playEvents, remotePlayers, type QueuedEvent } from "../ui/scene";

const CLIENT_NAME = "arbiter-dashboard/0.1";
const PING_EVERY_MS = 5000;
const MAX_RETRIES = 4;

export type SpectateStatus = "idle" | "connecting" | "watching" | "ended" | "failed";

/** What tests and the console read: the room watched and its players as drawn, in world units. */
export interface SpectatingState {
  roomId: string;
  status: SpectateStatus;
  tick: number;
  snapshots: number;
  entities: { id: number; name: string; x: number; y: number; dead: boolean }[];
}

export class Spectator {
  roomId = "";
  status: SpectateStatus = "idle";
  /** Why the view ended or failed. */
  detail = "";
  room: RoomSession | undefined;
  private conn: Connection | undefined;
  private readonly clock = new ClockSync(30);
  private readonly renderer: Renderer;
  private readonly maps = new Map<string, Promise<MapData>>();
  private effects: Effect[] = [];
  private queued: QueuedEvent[] = [];
  private pingTimer: number | undefined;
  private retryTimer: number | undefined;
  private retries = 0;
  private pingId = 0;
  private pings = new Map<number, number>();
  private raf: number | undefined;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly urls: { spectate: string; map(name: string): string },
    private readonly onChange: () => void,
  ) {
    this.renderer = new Renderer(canvas);
    window.addEventListener("resize", () => this.drawOnce());
    this.drawOnce();
  }

  /** Starts watching roomId (stopping whatever was watched before). */
  watch(roomId: string): void {
    this.stop();
    this.roomId = roomId;
    this.retries = 0;
    this.connect();
    this.loop();
  }

  /** Stops watching: LeaveRoom, then the connection closes. */
  stop(): void {
    this.disconnect(true);
    if (this.retryTimer !== undefined) window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.roomId = "";
    this.room = undefined;
    this.effects = [];
    this.queued = [];
    this.setStatus("idle", "");
    this.drawOnce();
  }

  state(): SpectatingState {
    const room = this.room;
    const out: SpectatingState = { roomId: this.roomId, status: this.status, tick: room?.view.tick ?? 0, snapshots: room?.snapshots ?? 0, entities: [] };
    if (!room) return out;
    const sc = room.map?.scale ?? 8;
    const t = room.renderTick;
    for (const e of room.view.entities.values()) {
      if (e.kind !== KIND_PLAYER) continue;
      const s = t > 0 ? room.interp.sample(e.id, t) : undefined;
      out.entities.push({ id: e.id, name: room.nameOf(e.id), x: (s?.x ?? e.x) / sc, y: (s?.y ?? e.y) / sc, dead: ((s?.flags ?? e.flags) & FLAG_DEAD) !== 0 });
    }
    out.entities.sort((a, b) => a.id - b.id);
    return out;
  }

  /** The RTT of the spectator connection, ms. */
  get rttMs(): number | undefined {
    return this.clock.rttMs;
  }

  private setStatus(s: SpectateStatus, detail: string): void {
    this.status = s;
    this.detail = detail;
    this.onChange();
  }

  private connect(): void {
    this.setStatus("connecting", "");
    const conn = new Connection(this.urls.spectate, {
      onOpen: () => {
        conn.send({ case: "hello", value: { protocolVersion: 1, name: "operator", client: CLIENT_NAME } });
        this.pingTimer = window.setInterval(() => this.ping(), PING_EVERY_MS);
      },
      onMessage: (m) => this.onMessage(conn, m),
      onClose: (info) => {
        if (conn !== this.conn) return;
        this.disconnect(false);
        if (this.status === "ended" || this.status === "failed") return;
        if (this.retries >= MAX_RETRIES) {
          this.setStatus("failed", info.opened ? "the connection was lost" : "cannot connect to the admin address");
          return;
        }
        this.retries++;
        this.setStatus("connecting", "reconnecting…");
        this.retryTimer = window.setTimeout(() => {
          this.retryTimer = undefined;
          if (this.roomId) this.connect();
        }, 500 * 2 ** (this.retries - 1));
      },
    });
    this.conn = conn;
  }

  private disconnect(leave: boolean): void {
    if (this.pingTimer !== undefined) window.clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    if (leave) conn.send({ case: "leaveRoom", value: {} });
    conn.close();
  }

  private ping(): void {
    const id = ++this.pingId;
    const now = performance.now();
    this.pings.set(id, now);
    if (this.pings.size > 8) this.pings.delete(this.pings.keys().next().value!);
    this.conn?.send({ case: "ping", value: { id, clientTimeUs: BigInt(Math.round(now * 1000)) } });
  }

  private onMessage(conn: Connection, m: ServerMessage): void {
    if (conn !== this.conn) return;
    const now = performance.now();
    const msg = m.msg;
    switch (msg.case) {
      case "welcome":
        conn.send({ case: "spectate", value: { roomId: this.roomId } });
        this.ping();
        break;
      case "joined":
        this.onJoined(msg.value);
        break;
      case "roster":
        this.room?.setRoster(msg.value);
        break;
      case "snapshot": {
        const room = this.room;
        if (!room) break;
        let events: readonly Event[];
        try {
          events = room.onSnapshot(msg.value, now);
        } catch (e) {
          if (!(e instanceof DesyncError)) throw e;
          // A fresh connection starts with a full snapshot.
          console.warn(`dashboard: spectator ${e.message}; reconnecting`);
          this.disconnect(false);
          this.connect();
          return;
        }
        if (room.snapshots === 1) {
          this.retries = 0;
          this.setStatus("watching", "");
        }
        for (const ev of events) {
          if (ev.type === EventType.SHOT || ev.type === EventType.HIT || ev.type === EventType.KILL) this.queued.push({ ev, at: ev.tick });
        }
        if (this.queued.length > 256) this.queued.splice(0, this.queued.length - 256);
        break;
      }
      case "pong": {
        const sent = this.pings.get(msg.value.id);
        if (sent !== undefined) {
          this.pings.delete(msg.value.id);
          this.clock.onRtt(now - sent);
        }
        break;
      }
      case "roomClosed": {
        if (msg.value.roomId !== this.roomId || msg.value.reason === RoomCloseReason.LEFT) break;
        const why: Record<number, string> = {
          [RoomCloseReason.ROUND_OVER]: "the round is over",
          [RoomCloseReason.EMPTY]: "everyone left",
          [RoomCloseReason.DRAIN]: "the server is draining",
          [RoomCloseReason.ERROR]: "the room failed",
        };
        this.disconnect(false);
        this.setStatus("ended", `The room ended: ${why[msg.value.reason] ?? (msg.value.message || "closed")}.`);
        this.drawOnce();
        break;
      }
      case "error":
        if (msg.value.code === ErrorCode.ROOM_CLOSED || msg.value.code === ErrorCode.NOT_ALLOWED) {
          this.disconnect(false);
          this.setStatus("failed", msg.value.message || ErrorCode[msg.value.code] || "refused");
        } else {
          console.warn(`dashboard: spectator error ${ErrorCode[msg.value.code]}: ${msg.value.message}`);
        }
        break;
      default:
        break;
    }
  }

  private onJoined(j: Joined): void {
    if (j.roomId !== this.roomId) return;
    if (!j.spectator) console.warn("dashboard: joined a room as a player, not a spectator");
    this.effects = [];
    this.queued = [];
    // A spectator's player id matches no roster entry: no own entity.
    this.room = new RoomSession(j, "", this.clock);
    const room = this.room;
    const name = j.map || "arena/yard";
    void this.loadMap(name).then(
      (m) => {
        if (this.room === room) room.setMap(m);
      },
      (e: unknown) => console.warn(`dashboard: could not load map ${name}:`, e),
    );
    this.onChange();
  }

  private loadMap(name: string): Promise<MapData> {
    let p = this.maps.get(name);
    if (!p) {
      p = fetch(this.urls.map(name)).then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return parseMap(await res.json());
      });
      p.catch(() => this.maps.delete(name));
      this.maps.set(name, p);
    }
    return p;
  }

  /** Runs the render loop while a room is watched. */
  private loop(): void {
    if (this.raf !== undefined) return;
    const frame = (now: number) => {
      this.raf = undefined;
      if (!this.roomId || this.status === "ended" || this.status === "failed") return;
      this.draw(now);
      this.raf = requestAnimationFrame(frame);
    };
    this.raf = requestAnimationFrame(frame);
  }

  /** Draws the current picture once (after a resize; the loop draws while watching). */
  drawOnce(): void {
    this.draw(performance.now());
  }

  private draw(now: number): void {
    const room = this.room;
    if (!room || room.snapshots === 0) {
      this.renderer.draw(room?.map, [], [], now);
      return;
    }
    if (this.status === "watching") room.advanceRender(now);
    this.playEvents(room, now);
    this.renderer.draw(room.map, remotePlayers(room, room.renderTick).players, this.effects, now);
  }

  /** Turns the events whose tick the render time has reached into effects, as the player client does. */
  private playEvents(room: RoomSession, now: number): void {
    ({ queued: this.queued, effects: this.effects } = playEvents(this.queued, this.effects, room.renderTick, room.map?.scale ?? 8, now));
  }
}
