// DOM rendering of the dashboard's tiles and tables from the model. Rows
// are updated in place, keyed (a room's row stays the same element while
// the room runs), so that a click is never lost to a redraw and the page
// does not flicker at 2 Hz.

import type { QueueHealth, RoomHealth } from "../gen/arbiter/v1/health_pb";
import { drawLineChart, drawSparkline } from "./chart";
import { clusterView, type ClusterLeaseRow, type ClusterNodeRow, type ClusterView } from "./cluster";
import { fmtBytes, fmtDuration, fmtInt, fmtMs, fmtPercent, fmtRate, fmtReason } from "./format";
import { HISTORY_MS, type CounterRow, type HealthModel } from "./model";

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el as T;
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Sets a row's cells to texts, making or dropping cells as needed. */
function fillRow(tr: HTMLTableRowElement, cells: readonly string[]): void {
  while (tr.cells.length > cells.length) tr.deleteCell(-1);
  cells.forEach((text, i) => setText(tr.cells[i] ?? tr.insertCell(), text));
}

/** Keyed rows of a tbody: one element per key, kept in the given order. */
function syncRows<T>(tbody: HTMLTableSectionElement, items: readonly T[], key: (t: T) => string, fill: (tr: HTMLTableRowElement, t: T) => void): void {
  const existing = new Map<string, HTMLTableRowElement>();
  for (const tr of Array.from(tbody.rows)) existing.set(tr.dataset.key ?? "", tr);
  let prev: HTMLTableRowElement | undefined;
  for (const it of items) {
    const k = key(it);
    let tr = existing.get(k);
    if (tr) existing.delete(k);
    else {
      tr = document.createElement("tr");
      tr.dataset.key = k;
    }
    fill(tr, it);
    const want = prev ? prev.nextSibling : tbody.firstChild;
    if (want !== tr) tbody.insertBefore(tr, want);
    prev = tr;
  }
  for (const tr of existing.values()) tr.remove();
}

/** A span with a class, for cells with more than text. */
function span(className: string, text = ""): HTMLSpanElement {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}

/** The cells of a nodes-table row, made once per row. */
function nodeCells(tr: HTMLTableRowElement): void {
  const id = tr.insertCell();
  id.className = "mono";
  id.append(span("node-id"), span("badge self", "this node"));
  tr.insertCell().className = "mono url";
  tr.insertCell();
  tr.insertCell();
  const bar = span("load");
  bar.append(document.createElement("i"));
  const load = span("load-wrap");
  load.append(bar, span("load-text"));
  tr.insertCell().append(load);
  tr.insertCell().append(span("badge warn", "draining"));
  tr.insertCell();
}

function fillNode(tr: HTMLTableRowElement, n: ClusterNodeRow): void {
  if (tr.cells.length === 0) nodeCells(tr);
  const c = (i: number) => tr.cells[i]!;
  const part = <T extends HTMLElement>(i: number, sel: string) => c(i).querySelector<T>(sel)!;
  setText(part(0, ".node-id"), n.id);
  part(0, ".badge").hidden = !n.self;
  setText(c(1), n.publicUrl);
  setText(c(2), n.rooms);
  setText(c(3), n.players);
  const bar = part(4, ".load");
  bar.className = `load ${n.loadLevel}`;
  const width = `${Math.round((n.load ?? 0) * 100)}%`;
  const fill = bar.firstElementChild as HTMLElement;
  if (fill.style.width !== width) fill.style.width = width;
  setText(part(4, ".load-text"), n.loadText);
  c(4).title = n.load === null ? "no player or room cap set on this node" : "seats or rooms used, of the tighter cap";
  part(5, ".badge").hidden = !n.draining;
  setText(c(6), n.age);
  tr.classList.toggle("self", n.self);
  tr.classList.toggle("draining", n.draining);
}

function fillLease(tr: HTMLTableRowElement, l: ClusterLeaseRow): void {
  fillRow(tr, [l.mode, l.label]);
  tr.cells[1]!.className = l.vacant ? "" : "mono";
  tr.classList.toggle("self", l.self);
  tr.classList.toggle("vacant", l.vacant);
}

const TICK = "#4cc9f0";
const LATE = "#ffb703";
const BUDGET = "#ef476f";

export class Panels {
  private readonly chart = $<HTMLCanvasElement>("chart");
  private readonly rooms = $<HTMLTableElement>("rooms");
  private selected = "";

  constructor(private readonly onRoomClick: (roomId: string) => void) {
    const tbody = this.rooms.tBodies[0]!;
    const pick = (ev: Event) => {
      const tr = (ev.target as HTMLElement).closest<HTMLTableRowElement>("tr[data-key]");
      if (tr?.dataset.key) this.onRoomClick(tr.dataset.key);
    };
    tbody.addEventListener("click", pick);
    tbody.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        pick(ev);
      }
    });
  }

  /** Marks the room being watched. */
  select(roomId: string): void {
    this.selected = roomId;
    for (const tr of Array.from(this.rooms.tBodies[0]!.rows)) tr.classList.toggle("selected", tr.dataset.key === roomId);
  }

  render(m: HealthModel): void {
    const n = m.node;
    if (!n) return;
    const pts = m.points;
    const recent = (f: (p: (typeof pts)[number]) => number) => pts.slice(-120).map(f);

    setText($("node-info"), `v${n.version} · up ${fmtDuration((m.serverTimeMs - Number(n.startedUs) / 1000) / 1000)} · ${n.tickRate} ticks/s`);
    const drain = $<HTMLButtonElement>("drain");
    drain.disabled = n.draining;
    setText(drain, n.draining ? "Draining" : "Drain…");

    setText($("players"), fmtInt(n.players));
    setText($("players-sub"), `${fmtInt(n.spectators)} watching`);
    drawSparkline($<HTMLCanvasElement>("players-spark"), recent((p) => p.players), TICK, 2);
    setText($("sessions"), fmtInt(n.sessions));
    setText($("sessions-sub"), `${fmtInt(n.goroutines)} goroutines`);
    setText($("rooms-count"), fmtInt(n.rooms));
    setText($("rooms-sub"), `${n.tickRate} ticks/s each`);
    const over = $("overruns");
    setText(over, fmtInt(Number(n.overruns)));
    over.classList.toggle("alert", n.overruns > 0n);
    setText($("overruns-sub"), `${fmtInt(Number(n.skippedTicks))} ticks skipped`);
    setText($("cpu"), fmtPercent(n.cpuPercent));
    drawSparkline($<HTMLCanvasElement>("cpu-spark"), recent((p) => p.cpuPercent), "#b5e48c", 10);
    setText($("memory"), fmtBytes(Number(n.rssBytes)));
    setText($("memory-sub"), `${fmtBytes(Number(n.heapBytes))} Go heap in use`);
    setText($("bw-in"), `in  ${fmtRate(n.bytesInPerS)}`);
    setText($("bw-out"), `out ${fmtRate(n.bytesOutPerS)}`);
    drawSparkline($<HTMLCanvasElement>("bandwidth-spark"), recent((p) => p.bytesOutPerS), "#9d4edd", 1024);

    this.renderChart(m);
    this.renderRooms(m.rooms);
    this.renderQueues(m.queues);
    this.renderCounters($<HTMLTableElement>("drops"), m.drops, "No messages or inputs dropped.");
    this.renderCounters($<HTMLTableElement>("closes"), m.closes, "No sessions closed yet.");
    this.renderCluster(clusterView(m.cluster));
  }

  /** The Cluster panel: hidden without a cluster (a single node). */
  private renderCluster(v: ClusterView | undefined): void {
    const card = $("cluster");
    card.hidden = !v;
    if (!v) return;
    card.classList.toggle("alarm", !v.natsConnected);
    const nats = $("cluster-nats");
    setText(nats, v.natsConnected ? "NATS connected" : "NATS disconnected");
    nats.className = `pill ${v.natsConnected ? "ok" : "bad"}`;
    setText($("cluster-summary"), v.summary);
    syncRows($<HTMLTableElement>("cluster-nodes").tBodies[0]!, v.nodes, (n) => n.id, (tr, n) => {
      if (!tr.dataset.testid) tr.dataset.testid = `dash-cluster-node-${n.id}`;
      fillNode(tr, n);
    });
    $("cluster-empty").hidden = v.nodes.length > 0;
    const note = !v.natsConnected
      ? `This node (${v.nodeId}) cannot reach NATS: the nodes and leases are as it last saw them.`
      : !v.selfListed && v.nodes.length > 0
        ? `This node (${v.nodeId}) is not in the registry.`
        : "";
    const noteEl = $("cluster-note");
    setText(noteEl, note);
    noteEl.hidden = !note;
    syncRows($<HTMLTableElement>("cluster-leases").tBodies[0]!, v.leases, (l) => l.mode, (tr, l) => {
      if (!tr.dataset.testid) tr.dataset.testid = `dash-cluster-lease-${l.mode}`;
      fillLease(tr, l);
    });
    $("cluster-leases-empty").hidden = v.leases.length > 0;
  }

  renderChart(m: HealthModel): void {
    const end = m.points.at(-1)?.t ?? m.serverTimeMs;
    drawLineChart(
      this.chart,
      m.points,
      end,
      [
        { label: "tick duration p99", color: TICK, value: (p) => p.tickP99Ms },
        { label: "tick lateness p99", color: LATE, value: (p) => p.latenessP99Ms },
      ],
      {
        windowMs: HISTORY_MS,
        format: fmtMs,
        minMax: 1,
        threshold: m.tickBudgetMs > 0 ? { value: m.tickBudgetMs, label: "budget", color: BUDGET } : undefined,
      },
    );
  }

  private renderRooms(rooms: readonly RoomHealth[]): void {
    const tbody = this.rooms.tBodies[0]!;
    const sorted = [...rooms].sort((a, b) => b.players - a.players || a.ageS - b.ageS || a.id.localeCompare(b.id));
    syncRows(tbody, sorted, (r) => r.id, (tr, r) => {
      if (!tr.dataset.testid) {
        tr.dataset.testid = `dash-room-${r.id}`;
        tr.tabIndex = 0;
        tr.title = `Watch room ${r.id}`;
      }
      fillRow(tr, [
        r.id.slice(0, 8),
        r.mode,
        `${r.players} / ${r.maxPlayers}`,
        String(r.spectators),
        fmtDuration(r.ageS),
        fmtInt(r.tick),
        fmtMs(r.tickP99Us / 1000),
        fmtInt(Number(r.overruns)),
      ]);
      tr.cells[0]!.className = "mono";
      tr.classList.toggle("selected", r.id === this.selected);
      tr.classList.toggle("alert", r.overruns > 0n);
    });
    $("rooms-empty").hidden = rooms.length > 0;
    setText($("rooms-note"), rooms.length ? `${rooms.length} running` : "");
  }

  private renderQueues(qs: readonly QueueHealth[]): void {
    const tbody = $<HTMLTableElement>("queues").tBodies[0]!;
    syncRows(tbody, qs, (q) => q.mode, (tr, q) => {
      fillRow(tr, [q.mode, fmtInt(q.waiting), q.waitP50Ms || q.waitP99Ms ? fmtMs(q.waitP50Ms) : "–", q.waitP99Ms ? fmtMs(q.waitP99Ms) : "–"]);
      tr.classList.toggle("busy", q.waiting > 0);
    });
  }

  private renderCounters(table: HTMLTableElement, rows: readonly CounterRow[], none: string): void {
    const tbody = table.tBodies[0]!;
    const items = rows.length ? rows : [{ name: "", value: 0, recent: 0 }];
    syncRows(tbody, items, (r) => r.name, (tr, r) => {
      if (!r.name) {
        tr.className = "none";
        fillRow(tr, [none]);
        tr.cells[0]!.colSpan = 3;
        return;
      }
      fillRow(tr, [fmtReason(r.name), fmtInt(r.value), r.recent > 0 ? `+${fmtInt(r.recent)}` : "0"]);
      tr.classList.toggle("alert", r.recent > 0);
    });
  }
}
