// The operator dashboard's entry point: the health stream feeds the model,
// the model is drawn by the panels, a click on a room starts the spectator
// view, and the Drain button drains. window.__dashboard exposes read-only
// state for tests and the console.

import "./dashboard.css";
import { bindDrain } from "./drain";
import { endpointsFor } from "./endpoints";
import { fmtInt, fmtMs } from "./format";
import { HealthModel, plainHealth } from "./model";
import { Panels } from "./panels";
import { Spectator, type SpectatingState } from "./spectate";
import { HealthStream, type StreamStatus } from "./stream";
import { FLAG_DEAD, KIND_PLAYER } from "../game/view";
import { seatColor } from "../ui/renderer";

export interface DashboardState {
  /** Whether the health stream is open and has delivered its full state. */
  readonly connected: boolean;
  readonly stream: StreamStatus;
  /** Health messages received (over every connection). */
  readonly messages: number;
  /** Full Health messages received: one per connection of the stream. */
  readonly fullMessages: number;
  /** The last Health message as a plain object (uint64 as numbers), or null. */
  readonly lastHealth: Record<string, unknown> | null;
  /** Chart points held. */
  readonly points: number;
  readonly spectating: SpectatingState;
}

declare global {
  interface Window {
    __dashboard: DashboardState;
  }
}

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el as T;
}

const urls = endpointsFor(location);
const model = new HealthModel();
let streamDetail = "";
let connectedOnce = false;

let drainReport: { text: string; bad: boolean } | undefined;

/** The banner under the top bar: the stream's trouble first, then the drain. */
function renderNotice(): void {
  let text = "";
  let kind = "info";
  if (stream.status === "reconnecting") {
    text = `Health stream: ${streamDetail} — reconnecting…${connectedOnce ? " The figures below are from the last message." : ""}`;
    kind = "bad";
  } else if (drainReport?.bad) {
    ({ text } = drainReport);
    kind = "bad";
  } else if (model.natsDown) {
    text = "NATS disconnected: this node cannot coordinate with the cluster. The Cluster panel shows what it last saw.";
    kind = "bad";
  } else if (model.draining) {
    text = "Draining: matchmaking has stopped and /readyz answers 503. Running rounds end by the drain timeout, then the server exits.";
    kind = "warn";
  } else if (drainReport) {
    text = drainReport.text;
  }
  const n = $("notice");
  n.hidden = !text;
  if (n.textContent !== text) n.textContent = text;
  n.className = `notice ${kind}`;
}

function renderConn(): void {
  const pill = $("conn");
  const st = stream.status;
  const stale = st === "open" && stream.lastMessageAt > 0 && performance.now() - stream.lastMessageAt > 2500;
  const [text, cls] =
    st === "open" && model.messages > 0
      ? stale
        ? ["stale", "warn"]
        : ["live", "ok"]
      : st === "reconnecting"
        ? ["reconnecting…", "bad"]
        : st === "stopped"
          ? ["stopped", "bad"]
          : ["connecting…", "muted"];
  if (pill.textContent !== text) pill.textContent = text;
  pill.className = `pill ${cls}`;
  pill.title = streamDetail ? `health stream: ${streamDetail}` : "the health stream (WebSocket)";
  // Readiness as last pushed; unknown while the stream is down.
  const ready = $("ready");
  const n = model.node;
  const [rtext, rcls] = !n ? ["–", "muted"] : st !== "open" ? ["unknown", "muted"] : n.draining ? ["draining", "warn"] : n.ready ? ["ready", "ok"] : ["not ready", "bad"];
  if (ready.textContent !== rtext) ready.textContent = rtext;
  ready.className = `pill ${rcls}`;
  document.body.classList.toggle("stale", st !== "open" && connectedOnce);
  renderNotice();
  const m = model.last;
  $("foot").textContent = m
    ? `${fmtInt(stream.messages)} health messages · last: ${reasonName(m.reason)} · server time ${new Date(model.serverTimeMs).toISOString().replace("T", " ").slice(0, 19)} UTC · ${model.points.length} points`
    : "";
}

function reasonName(r: number): string {
  return ["unspecified", "connected", "periodic", "room created", "room ended", "drain started", "cluster changed"][r] ?? String(r);
}

const panels = new Panels((roomId) => {
  if (spectator.roomId === roomId && (spectator.status === "watching" || spectator.status === "connecting")) return;
  spectator.watch(roomId);
  panels.select(roomId);
});

const spectator = new Spectator($<HTMLCanvasElement>("spectate"), urls, () => renderSpectate());

function enlarge(on: boolean): void {
  $("spectate-card").classList.toggle("big", on);
  $("spectate-big").textContent = on ? "Shrink" : "Enlarge";
  spectator.drawOnce();
}

$("spectate-stop").addEventListener("click", () => {
  spectator.stop();
  panels.select("");
  enlarge(false);
});
$("spectate-big").addEventListener("click", () => enlarge(!$("spectate-card").classList.contains("big")));
window.addEventListener("keydown", (e) => {
  if (e.key === "Escape") enlarge(false);
});

function renderSpectate(): void {
  const id = spectator.roomId;
  const room = spectator.room;
  const rh = id ? model.room(id) : undefined;
  $("spectate-title").textContent = id ? `${id.slice(0, 8)}${rh ? ` · ${rh.mode}` : room ? ` · ${room.joined.mode}` : ""}` : "—";
  $("spectate-title").title = id;
  $("spectate-stop").hidden = !id;
  $("spectate-big").hidden = !id;
  const overlay = $("spectate-overlay");
  const text =
    spectator.status === "idle"
      ? "Click a room to watch it live."
      : spectator.status === "connecting"
        ? `Connecting to room ${id.slice(0, 8)}… ${spectator.detail}`
        : spectator.status === "ended" || spectator.status === "failed"
          ? spectator.detail
          : room && !room.map
            ? "Loading the map…"
            : "";
  overlay.textContent = text;
  overlay.hidden = !text;
  overlay.classList.toggle("dim", spectator.status === "ended" || spectator.status === "failed");
  const info = $("spectate-info");
  if (!room || room.snapshots === 0) {
    info.replaceChildren();
    return;
  }
  const stats = document.createElement("div");
  stats.className = "spectate-stats";
  const rtt = spectator.rttMs;
  stats.textContent = `tick ${fmtInt(room.view.tick)} · ${room.snapshotRate(performance.now())} snapshots/s · drawn ${fmtMs((room.interp.targetDelay * 1000) / room.tickRate)} behind${rtt !== undefined ? ` · rtt ${fmtMs(rtt)}` : ""}`;
  const list = document.createElement("div");
  list.className = "spectate-players";
  const ents = [...room.view.entities.values()].filter((e) => e.kind === KIND_PLAYER).sort((a, b) => b.score - a.score || a.id - b.id);
  for (const e of ents) {
    const p = document.createElement("span");
    p.className = "who";
    const sw = document.createElement("i");
    sw.style.background = seatColor(room.seatOf(e.id));
    const dead = (e.flags & FLAG_DEAD) !== 0;
    p.append(sw, document.createTextNode(`${room.nameOf(e.id)} ${dead ? "✖" : `${e.health} hp`} · ${e.kills}/${e.deaths} · ${e.score} pts`));
    list.append(p);
  }
  info.replaceChildren(stats, list);
}

const stream = new HealthStream(urls.health, {
  onHealth: (h) => {
    if (h.full) connectedOnce = true;
    model.apply(h);
    panels.render(model);
    renderConn();
  },
  onStatus: (_s, detail) => {
    streamDetail = detail;
    renderConn();
  },
});

bindDrain($<HTMLButtonElement>("drain"), urls.drain, (text, bad) => {
  drainReport = { text, bad };
  renderNotice();
});

window.addEventListener("resize", () => panels.renderChart(model));
window.setInterval(() => {
  renderConn();
  if (spectator.status === "watching") renderSpectate();
}, 250);

stream.start();
renderConn();

const state: DashboardState = Object.freeze({
  get connected() {
    return stream.status === "open" && model.messages > 0;
  },
  get stream() {
    return stream.status;
  },
  get messages() {
    return stream.messages;
  },
  get fullMessages() {
    return model.fullMessages;
  },
  get lastHealth() {
    return model.last ? plainHealth(model.last) : null;
  },
  get points() {
    return model.points.length;
  },
  get spectating() {
    return spectator.state();
  },
});
Object.defineProperty(window, "__dashboard", { value: state, writable: false, configurable: false });
