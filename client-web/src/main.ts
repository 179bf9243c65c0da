// Entry point: starts the app and exposes read-only state for tests as
// window.__arbiter.

import "./style.css";
import { App, type Phase, type PublicEntity } from "./app";

export interface ArbiterState {
  readonly phase: Phase;
  /** The state of the connection that carries the room (the room link's when there is one). */
  readonly connection: string;
  /** The lobby connection's WebSocket URL. */
  readonly lobbyEndpoint: string;
  /** The room link's WebSocket URL, "" when the room (if any) is on the lobby connection. */
  readonly roomEndpoint: string;
  readonly playerId: string;
  readonly roomId: string;
  readonly tick: number;
  readonly ackSeq: number;
  readonly seq: number;
  readonly predictedPos: { x: number; y: number } | null;
  readonly entities: readonly PublicEntity[];
  readonly ownEntityId: number;
  readonly renderTick: number;
  readonly serverTick: number;
  readonly stats: ReturnType<App["stats"]>;
  readonly playToSnapshotMs: readonly number[];
  worldToScreen(x: number, y: number): { x: number; y: number };
}

declare global {
  interface Window {
    __arbiter: ArbiterState;
    __arbiterTest: { sever(): void; severRoom(): void; resetFrameStats(): void };
  }
}

const app = new App();

const state: ArbiterState = Object.freeze({
  get phase() {
    return app.phase;
  },
  get connection() {
    return app.connectionState();
  },
  get lobbyEndpoint() {
    return app.lobbyEndpoint;
  },
  get roomEndpoint() {
    return app.roomEndpoint;
  },
  get playerId() {
    return app.playerId;
  },
  get roomId() {
    return app.room?.roomId ?? "";
  },
  get tick() {
    return app.room?.view.tick ?? 0;
  },
  get ackSeq() {
    return app.room?.view.ackSeq ?? 0;
  },
  get seq() {
    return app.room?.seq ?? 0;
  },
  get predictedPos() {
    const r = app.room;
    const p = r?.predictor;
    if (!r || !p || !r.view.synced) return null;
    const sc = r.map?.scale ?? 8;
    return Object.freeze({ x: p.body.x / sc, y: p.body.y / sc });
  },
  get entities() {
    return Object.freeze(app.publicEntities().map((e) => Object.freeze(e)));
  },
  get ownEntityId() {
    return app.room?.ownEntity ?? 0;
  },
  get renderTick() {
    return app.room?.renderTick ?? 0;
  },
  get serverTick() {
    return app.room ? app.room.serverTick(performance.now()) : 0;
  },
  get stats() {
    return Object.freeze(app.stats());
  },
  get playToSnapshotMs() {
    return Object.freeze([...app.playToSnapshotMs]);
  },
  worldToScreen(x: number, y: number) {
    return app.renderer.worldToScreen(x, y);
  },
});

Object.defineProperty(window, "__arbiter", { value: state, writable: false, configurable: false });
Object.defineProperty(window, "__arbiterTest", {
  value: Object.freeze({ sever: () => app.severConnection(), severRoom: () => app.severRoomConnection(), resetFrameStats: () => app.resetFrameStats() }),
  writable: false,
  configurable: false,
});
