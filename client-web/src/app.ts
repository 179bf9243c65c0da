// The browser client: screens, the connections and their reconnects, and
// the game loop (a fixed client tick for inputs, requestAnimationFrame for
// drawing).
//
// Connections: the lobby connection (conn) says Hello, queues, holds the
// party. A room joins on it, unless MatchFound names another node's
// endpoint (a cluster): then a RoomLink (net/roomlink.ts) connects there and
// carries everything of the room, while the lobby connection stays open
// (pinged every 10 s) for matchmaking and for RoomClosed{NODE_LOST}.
// Watching a room of another node works the same way: a RoomLink there
// sends Spectate (again after each reconnect) instead of JoinRoom.
// roomCarrier() is the connection room traffic goes over.

import { ChatScope } from "./gen/arbiter/v1/chat_pb";
import type { ServerMessage } from "./gen/arbiter/v1/envelope_pb";
import { ErrorCode, type Error as ServerError } from "./gen/arbiter/v1/error_pb";
import { MatchState, type MatchFound, type MatchStatus } from "./gen/arbiter/v1/match_pb";
import type { PartyState } from "./gen/arbiter/v1/party_pb";
import { RoomCloseReason, type Joined, type RoomClosed } from "./gen/arbiter/v1/room_pb";
import type { ServerInfo, Welcome } from "./gen/arbiter/v1/session_pb";
import { EventType, type Event, type RoundResult } from "./gen/arbiter/v1/snapshot_pb";
import { fetchMap, rayRects, type MapData } from "./game/mapdata";
import { RoomSession, type InputFrame } from "./game/room";
import { DesyncError, FLAG_DEAD, FLAG_FIRING, FLAG_INVULNERABLE } from "./game/view";
import { reconnectDelay } from "./net/backoff";
import { ClockSync } from "./net/clock";
import { Connection, defaultURL, roomsURL, type CloseInfo } from "./net/connection";
import { Keepalive } from "./net/keepalive";
import { RoomLink, type LinkEnd, type LinkEntry, type RoomLinkEvents } from "./net/roomlink";
import { roomCarrier, roomRoute, watchRoute, wsURL } from "./net/rooms";
import { parseWatchable, type WatchableRoom } from "./net/watchable";
import { aimFrom, Controls } from "./ui/controls";
import { Renderer, type DrawPlayer, type Effect } from "./ui/renderer";
import { playEvents, remotePlayers, type QueuedEvent } from "./ui/scene";

export type Phase = "start" | "searching" | "playing" | "results" | "watching";
export type ConnState = "idle" | "connecting" | "open" | "reconnecting" | "lost";

const PROTOCOL_VERSION = 1;
const CLIENT_NAME = "arbiter-web/0.1";
const SESSION_KEY = "arbiter.session";
const NAME_KEY = "arbiter.name";
const DEFAULT_MAP = "arena/yard";
/** Give up reconnecting after this long without a connection. */
const RECONNECT_GIVE_UP_MS = 60_000;
/**
 * Give up reconnecting a watched room's link (on another node) after this
 * long: nothing is held for a spectator, and the lobby hears nothing when
 * that node dies (RoomClosed{NODE_LOST} goes to its players only).
 */
const WATCH_GIVE_UP_MS = 10_000;

/** The entity list exposed to tests, in world units. */
export interface PublicEntity {
  id: number;
  playerId: string;
  name: string;
  x: number;
  y: number;
  health: number;
  kills: number;
  deaths: number;
  score: number;
  dead: boolean;
}

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el as T;
}

function fmtTime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function safeStorage(kind: "session" | "local"): Storage | undefined {
  try {
    return kind === "session" ? window.sessionStorage : window.localStorage;
  } catch {
    return undefined;
  }
}

interface FeedLine {
  html: string;
  at: number;
}

export class App {
  phase: Phase = "start";
  conn: Connection | undefined;
  connState: ConnState = "idle";
  playerId = "";
  welcomeName = "";
  serverInfo: ServerInfo | undefined;
  party: PartyState | undefined;
  room: RoomSession | undefined;
  map: MapData | undefined;
  readonly clock = new ClockSync(30);
  readonly renderer: Renderer;
  readonly controls: Controls;
  private readonly canvas: HTMLCanvasElement;

  private sessionToken = "";
  private mode = "arena";
  private searchStatus: MatchStatus | undefined;
  private searchSince = 0;
  private lastResult: RoundResult | undefined;
  private lastRoomNames = new Map<number, string>();
  private lastOwnEntity = 0;

  // Connection bookkeeping.
  /** Where the lobby connection goes: the page's server, or the room's node after a fold (foldRoomIntoLobby). */
  private lobbyURL = defaultURL(location);
  /** The lobby node's id from its Welcome (empty on a single node). */
  private lobbyNodeId = "";
  /** The connection to the room's node when it is not the lobby's. */
  private roomLink: RoomLink<Connection> | undefined;
  /** Keeps the lobby connection open while a room link carries the pings. */
  private readonly lobbyKeepalive = new Keepalive(() => this.keepLobbyAlive());
  private afterWelcome: (() => void)[] = [];
  private reconnectAttempt = 0;
  private reconnectTimer: number | undefined;
  private lostSince = 0;
  private lastError: ServerError | undefined;
  private resume: { roomId: string; fencePing: number } | undefined;
  private wasSearching = false;
  private pingTimer: number | undefined;
  private pingId = 0;
  private pings = new Map<number, number>();
  private welcomed = false;
  private rejoiningParty = false;

  // Game loop.
  private tickTimer: number | undefined;
  private effects: Effect[] = [];
  private queued: QueuedEvent[] = [];
  private feed: FeedLine[] = [];
  private statusText = "";
  private statusUntil = 0;
  private lastFrame = 0;
  private frameTimes: number[] = [];
  private frameWork: number[] = [];
  private frameGaps: number[] = [];
  private hudAt = 0;
  private scoreboardOpen = false;
  private chatOpen = false;
  /** Counters for the HUD and tests. */
  private counters = { shotsFired: 0, hitsLanded: 0, framesDrawn: 0, extrapolatedFrames: 0, reconnects: 0 };
  /** Local time Play was pressed, to measure time to the first snapshot. */
  private playPressedAt: number | undefined;
  /** Measured times from Play to the first snapshot of a room (ms). */
  readonly playToSnapshotMs: number[] = [];

  constructor() {
    this.canvas = $<HTMLCanvasElement>("game");
    this.renderer = new Renderer(this.canvas);
    this.controls = new Controls(this.canvas);
    const store = safeStorage("session");
    this.sessionToken = store?.getItem(SESSION_KEY) ?? "";
    const savedName = safeStorage("local")?.getItem(NAME_KEY);
    if (savedName) $<HTMLInputElement>("name").value = savedName;
    this.bindUI();
    window.addEventListener("resize", () => this.renderer.resize());
    this.renderer.resize();
    void this.loadMap(DEFAULT_MAP);
    requestAnimationFrame((t) => this.frame(t));
    // Back in the same seat after a reload: resume right away.
    if (this.sessionToken) this.connect(false);
    this.showPhase();
  }

  // ---------------------------------------------------------------- UI

  private bindUI(): void {
    $("play").addEventListener("click", () => this.play());
    $("name").addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.play();
    });
    $("cancel").addEventListener("click", () => this.cancelSearch());
    $("again").addEventListener("click", () => this.findMatch(this.mode));
    $("menu").addEventListener("click", () => this.toStart(""));
    $("leave").addEventListener("click", () => this.leaveRoom());
    $("watch").addEventListener("click", () => void this.watch());
    $("stop-watching").addEventListener("click", () => this.leaveRoom());
    $("party-create").addEventListener("click", () => this.withConnection(() => this.conn?.send({ case: "partyCreate", value: {} })));
    $("party-join").addEventListener("click", () => {
      const code = $<HTMLInputElement>("party-join-code").value.trim().toUpperCase();
      if (!code) return this.setStartMessage("Type a party code first.");
      this.withConnection(() => this.conn?.send({ case: "partyJoin", value: { code } }));
    });
    $("party-leave").addEventListener("click", () => {
      this.conn?.send({ case: "partyLeave", value: {} });
    });
    const chat = $<HTMLInputElement>("chat-input");
    chat.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        const text = chat.value.trim();
        if (text) this.sendChat(text);
        chat.value = "";
        this.closeChat();
      } else if (e.key === "Escape") {
        e.preventDefault();
        chat.value = "";
        this.closeChat();
      }
      e.stopPropagation();
    });
    chat.addEventListener("blur", () => this.closeChat());
    window.addEventListener("keydown", (e) => {
      const t = e.target;
      const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
      if (e.key === "Tab" && (this.phase === "playing" || this.phase === "watching")) {
        e.preventDefault();
        this.scoreboardOpen = true;
        this.renderScoreboard();
        return;
      }
      if (typing) return;
      if (e.key === "Enter" && (this.phase === "playing" || this.party)) {
        e.preventDefault();
        this.openChat();
      }
    });
    window.addEventListener("keyup", (e) => {
      if (e.key === "Tab") {
        this.scoreboardOpen = false;
        $("scoreboard").hidden = true;
      }
    });
  }

  private openChat(): void {
    const chat = $<HTMLInputElement>("chat-input");
    this.chatOpen = true;
    chat.hidden = false;
    this.controls.enabled = false;
    this.controls.clear();
    chat.focus();
  }

  private closeChat(): void {
    if (!this.chatOpen) return;
    this.chatOpen = false;
    const chat = $<HTMLInputElement>("chat-input");
    chat.hidden = true;
    chat.blur();
    this.controls.enabled = true;
  }

  private sendChat(text: string): void {
    if (this.room && !this.room.spectator) this.roomCarrier()?.send({ case: "chat", value: { text, scope: ChatScope.ROOM } });
    else this.conn?.send({ case: "chat", value: { text, scope: ChatScope.PARTY } });
  }

  private addChatLine(from: string, text: string, scope: ChatScope): void {
    const log = $("chat-log");
    const div = document.createElement("div");
    const b = document.createElement("b");
    b.textContent = `${scope === ChatScope.PARTY ? "[party] " : ""}${from}: `;
    div.append(b, document.createTextNode(text));
    log.append(div);
    while (log.childElementCount > 8) log.firstElementChild?.remove();
  }

  private setStartMessage(msg: string): void {
    $("start-message").textContent = msg;
  }

  private setBanner(text: string | undefined): void {
    const b = $("banner");
    if (text) {
      b.textContent = text;
      b.hidden = false;
    } else {
      b.hidden = true;
    }
  }

  private showPhase(): void {
    $("start").hidden = this.phase !== "start";
    $("searching").hidden = this.phase !== "searching";
    $("results").hidden = this.phase !== "results";
    const inRoom = this.phase === "playing" || this.phase === "watching";
    $("hud").hidden = !inRoom;
    $("leave").hidden = this.phase !== "playing";
    $("watching").hidden = this.phase !== "watching";
    if (!inRoom) {
      $("scoreboard").hidden = true;
      this.scoreboardOpen = false;
    }
    if (this.phase === "start") {
      $<HTMLSelectElement>("mode").value = this.mode;
    }
  }

  private setPhase(p: Phase): void {
    this.phase = p;
    this.showPhase();
    // A button of the screen just hidden must not keep the keyboard (Space would press it).
    if ((p === "playing" || p === "watching") && document.activeElement instanceof HTMLElement && document.activeElement !== $("chat-input")) {
      document.activeElement.blur();
    }
    if (p === "playing") this.startTickLoop();
    else this.stopTickLoop();
  }

  private renderParty(): void {
    const panel = $("party-panel");
    if (!this.party || !this.party.code) {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    $("party-code").textContent = this.party.code;
    const names = this.party.members.map((m) => (m.playerId === this.party!.leaderId ? `${m.name} (leader)` : m.name));
    $("party-members").textContent = ` · ${names.join(", ")}`;
  }

  private renderSearching(now: number): void {
    const st = this.searchStatus;
    $("search-mode").textContent = st?.mode || this.mode;
    const elapsed = st ? st.elapsedMs + (now - this.searchSince) : 0;
    $("search-elapsed").textContent = fmtTime(elapsed);
    $("search-queue").textContent = String(st?.queueSize ?? 0);
  }

  private renderResults(): void {
    const table = $("results-table");
    table.replaceChildren();
    const head = document.createElement("tr");
    for (const h of ["#", "player", "kills", "deaths", "score"]) {
      const th = document.createElement("th");
      th.textContent = h;
      head.append(th);
    }
    table.append(head);
    const r = this.lastResult;
    $("results-title").textContent = r ? "Round over" : "The room has ended";
    // In a party only the leader queues the next match; members follow.
    const again = $<HTMLButtonElement>("again");
    const member = !!this.party && this.party.leaderId !== this.playerId;
    again.disabled = member;
    again.textContent = member ? "The party leader starts the next match" : "Play again";
    for (const s of r?.standings ?? []) {
      const tr = document.createElement("tr");
      if (this.room?.ownEntity === s.entityId || this.lastOwnEntity === s.entityId) tr.className = "self";
      for (const v of [String(s.rank), this.lastRoomNames.get(s.entityId) ?? `seat ${s.seat}`, String(s.kills), String(s.deaths), String(s.score)]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      table.append(tr);
    }
  }

  private renderScoreboard(): void {
    const sb = $("scoreboard");
    const room = this.room;
    if (!this.scoreboardOpen || !room) {
      sb.hidden = true;
      return;
    }
    sb.hidden = false;
    const rows = [...room.view.entities.values()].sort((a, b) => b.score - a.score || b.kills - a.kills || a.deaths - b.deaths || a.id - b.id);
    const table = document.createElement("table");
    const head = document.createElement("tr");
    for (const h of ["", "player", "kills", "deaths", "score"]) {
      const th = document.createElement("th");
      th.textContent = h;
      head.append(th);
    }
    table.append(head);
    rows.forEach((e, i) => {
      const tr = document.createElement("tr");
      if (e.id === room.ownEntity) tr.className = "self";
      const entry = room.byEntity.get(e.id);
      const name = (entry?.name ?? `#${e.id}`) + (entry && !entry.connected ? " (away)" : "");
      for (const v of [String(i + 1), name, String(e.kills), String(e.deaths), String(e.score)]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      table.append(tr);
    });
    sb.replaceChildren(table);
  }

  // ------------------------------------------------------ player actions

  private currentName(): string {
    return $<HTMLInputElement>("name").value.trim();
  }

  play(): void {
    // A watch still on its way to another node's room gives way to playing.
    if (this.phase === "start" && this.roomLink?.spectating) this.closeRoom();
    this.mode = $<HTMLSelectElement>("mode").value || "arena";
    const name = this.currentName();
    safeStorage("local")?.setItem(NAME_KEY, name);
    this.setStartMessage("");
    this.playPressedAt = performance.now();
    // A new name needs a new Hello: resume the session under it (not while
    // in a party, which a new connection could leave).
    if (this.conn && this.welcomed && name && name !== this.welcomeName && !this.party) {
      this.conn.close();
      this.conn = undefined;
      this.welcomed = false;
      this.afterWelcome.push(() => this.findMatch(this.mode));
      this.connect(false);
      return;
    }
    this.withConnection(() => this.findMatch(this.mode));
  }

  private findMatch(mode: string): void {
    this.mode = mode;
    this.playPressedAt ??= performance.now();
    if (!this.conn?.isOpen || !this.welcomed) {
      this.withConnection(() => this.findMatch(mode));
      return;
    }
    this.conn.send({ case: "findMatch", value: { mode } });
    this.searchStatus = undefined;
    this.searchSince = performance.now();
    this.setPhase("searching");
  }

  private cancelSearch(): void {
    this.playPressedAt = undefined;
    if (this.conn?.isOpen) this.conn.send({ case: "cancelMatch", value: {} });
    this.wasSearching = false;
    this.toStart("");
  }

  /**
   * Watch a game: the first (fullest) room of GET /v1/rooms, as a
   * spectator: Spectate on the lobby connection when the room is on its
   * node, else over a room link to the room's node (startWatching).
   */
  private async watch(): Promise<void> {
    const button = $<HTMLButtonElement>("watch");
    if (button.disabled) return;
    button.disabled = true;
    this.setStartMessage("");
    const listedBy = defaultURL(location);
    let rooms: WatchableRoom[];
    try {
      const res = await fetch(roomsURL(listedBy), { cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      rooms = parseWatchable(await res.json());
    } catch (e) {
      console.warn("arbiter: could not list the rooms to watch:", e);
      this.setStartMessage("Could not get the games to watch. Try again?");
      return;
    } finally {
      button.disabled = false;
    }
    if (this.phase !== "start") return;
    const room = rooms[0];
    if (!room) {
      this.setStartMessage("No games to watch right now.");
      return;
    }
    // The lobby connection first: its Welcome gives the session token a
    // room link says Hello with (the same player on every node).
    this.withConnection(() => this.startWatching(room, listedBy));
  }

  /** Spectates room (listed by the node at listedBy) where it runs; Joined{spectator} switches to the watching screen. */
  private startWatching(room: WatchableRoom, listedBy: string): void {
    const lobby = this.conn;
    if (!lobby || this.phase !== "start") return;
    const route = watchRoute(room.endpoint, listedBy, lobby.url);
    if (route.kind === "lobby") {
      if (room.endpoint && !wsURL(room.endpoint, listedBy)) console.warn("arbiter: cannot read the watched room's endpoint; watching here", room.endpoint);
      this.dropRoomLink();
      lobby.send({ case: "spectate", value: { roomId: room.id } });
      return;
    }
    this.openRoomLink(route.url, room.id, { kind: "spectate" });
  }

  private leaveRoom(): void {
    const conn = this.roomCarrier();
    if (conn?.isOpen) conn.send({ case: "leaveRoom", value: {} });
    else this.toStart("");
  }

  private toStart(message: string): void {
    this.closeRoom();
    this.setStartMessage(message);
    this.setPhase("start");
  }

  /** Runs fn once connected and welcomed (connecting if needed). */
  private withConnection(fn: () => void): void {
    if (this.conn?.isOpen && this.welcomed) {
      fn();
      return;
    }
    this.afterWelcome.push(fn);
    if (!this.conn) {
      if (this.reconnectTimer !== undefined) {
        window.clearTimeout(this.reconnectTimer);
        this.reconnectTimer = undefined;
      }
      this.connect(false);
    }
  }

  // ---------------------------------------------------------- connection

  private connect(resuming: boolean): void {
    this.connState = resuming ? "reconnecting" : "connecting";
    this.welcomed = false;
    // A player's fresh start goes to the page's server again.
    if (!resuming && !this.roomLink) this.lobbyURL = defaultURL(location);
    const conn = new Connection(this.lobbyURL, {
      onOpen: () => this.onOpen(conn),
      onMessage: (m) => {
        if (conn === this.conn) this.onMessage(m, "lobby");
      },
      onClose: (info) => this.onClose(conn, info),
    });
    this.conn = conn;
  }

  private onOpen(conn: Connection): void {
    if (conn !== this.conn) return;
    this.lastError = undefined;
    conn.send({
      case: "hello",
      value: { protocolVersion: PROTOCOL_VERSION, sessionToken: this.sessionToken, name: this.currentName(), client: CLIENT_NAME },
    });
    // While a room link carries the room, the lobby only needs keeping alive.
    if (this.roomLink) return;
    // The server handles Hello (and a resumed seat) before this Ping, and
    // answers in order: if its Pong comes before Joined, the seat is gone.
    const id = this.sendPing(conn);
    if (this.resume) this.resume.fencePing = id;
    this.startPings();
  }

  private onClose(conn: Connection, info: CloseInfo): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    this.welcomed = false;
    if (!this.roomLink) this.stopPings();
    const err = this.lastError;
    const replaced = err?.code === ErrorCode.SESSION_EXPIRED && /another connection/.test(err.message);
    if (replaced && this.roomLink && this.linkOnLobbyNode()) {
      // The room's endpoint named the lobby's own node under another name:
      // the room link's Hello took the session over. One connection there.
      this.foldRoomIntoLobby();
      this.connect(true);
      return;
    }
    if (replaced || err?.code === ErrorCode.PROTOCOL_VERSION) {
      this.connState = "lost";
      this.setBanner(undefined);
      this.afterWelcome = [];
      this.toStart(replaced ? "This game was opened in another tab or window." : `The server refused this client: ${err?.message ?? ""}`);
      return;
    }
    if (this.roomLink) {
      this.lobbyDownDuringRoom(info);
      return;
    }
    // A spectator has no seat to come back to.
    if (this.phase === "watching") this.toStart("Lost the connection to the game you were watching.");
    if (this.room && !this.resume) this.resume = { roomId: this.room.roomId, fencePing: -1 };
    if (this.phase === "searching") this.wasSearching = true;
    if (this.phase === "start" && !this.party && this.afterWelcome.length === 0 && !this.room) {
      // Nothing to keep alive: reconnect when the player acts.
      this.connState = "idle";
      this.setBanner(undefined);
      return;
    }
    if (this.connState !== "reconnecting" || this.lostSince === 0) this.lostSince = performance.now();
    this.connState = "reconnecting";
    this.scheduleReconnect(info.code === 1001 ? "The server is going away" : "Connection lost");
  }

  /**
   * The lobby connection dropped while a room link carries the game: the
   * game goes on, and the lobby reconnects without a banner. When its node
   * cannot be reached again (an attempt failed to open), it goes to the
   * room's node instead (any node resumes the session), folding the room
   * into it.
   */
  private lobbyDownDuringRoom(info: CloseInfo): void {
    if (this.connState !== "reconnecting" || this.lostSince === 0) this.lostSince = performance.now();
    this.connState = "reconnecting";
    if (!info.opened) {
      console.info("arbiter: the lobby's server cannot be reached; reconnecting to the game's server");
      this.foldRoomIntoLobby();
      this.scheduleReconnect("Connection lost");
      return;
    }
    this.scheduleReconnect("Connection lost", true);
  }

  /** quiet: no banner (the game goes on over a room link). */
  private scheduleReconnect(why: string, quiet = false): void {
    if (this.reconnectTimer !== undefined) return;
    const since = performance.now() - this.lostSince;
    if (since > RECONNECT_GIVE_UP_MS) {
      this.connState = "lost";
      this.setBanner(undefined);
      this.resume = undefined;
      this.afterWelcome = [];
      this.toStart("Lost the connection to the server. Press Play to try again.");
      return;
    }
    this.reconnectAttempt++;
    const delay = reconnectDelay(this.reconnectAttempt, Math.random());
    if (!quiet) this.setBanner(`${why} — reconnecting${this.reconnectAttempt > 1 ? ` (attempt ${this.reconnectAttempt})` : ""}…`);
    this.reconnectTimer = window.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect(true);
    }, delay);
  }

  /** Sends a clock-sync Ping on conn (by default the room's carrier); its id. */
  private sendPing(conn = this.roomCarrier()): number {
    const id = ++this.pingId;
    const now = performance.now();
    this.pings.set(id, now);
    if (this.pings.size > 16) {
      const oldest = this.pings.keys().next().value;
      if (oldest !== undefined) this.pings.delete(oldest);
    }
    conn?.send({ case: "ping", value: { id, clientTimeUs: BigInt(Math.round(now * 1000)) } });
    return id;
  }

  /** A Ping on the lobby connection that only keeps it open (its Pong feeds no clock). */
  private keepLobbyAlive(): void {
    this.conn?.send({ case: "ping", value: { id: ++this.pingId, clientTimeUs: BigInt(Math.round(performance.now() * 1000)) } });
  }

  private startPings(): void {
    this.stopPings();
    this.pingTimer = window.setInterval(() => this.sendPing(), 1000);
  }

  private stopPings(): void {
    if (this.pingTimer !== undefined) window.clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  // ------------------------------------------------------------ messages

  /**
   * One server message, from the lobby connection or from the room link.
   * The lobby's own messages (Welcome, matchmaking, the party) count only
   * from the lobby; the room's (Joined, Roster, snapshots) only from the
   * room's carrier, except a Joined on the lobby, which means the lobby's
   * node gave the seat back there (the room link is then dropped).
   */
  private onMessage(m: ServerMessage, from: "lobby" | "room"): void {
    const now = performance.now();
    const msg = m.msg;
    const fromCarrier = from === "room" || !this.roomLink;
    switch (msg.case) {
      case "snapshot":
        if (fromCarrier) this.onSnapshot(msg.value, now);
        break;
      case "pong": {
        const sent = this.pings.get(msg.value.id);
        if (sent !== undefined) {
          this.pings.delete(msg.value.id);
          this.clock.onPong(sent, now, msg.value.tick, msg.value.tickFraction);
        }
        if (this.resume && this.resume.fencePing === msg.value.id) {
          // Hello was handled and no seat came back.
          const wasRoom = this.resume.roomId;
          this.resume = undefined;
          if (this.room?.roomId === wasRoom || this.roomLink?.roomId === wasRoom || this.phase === "playing") {
            this.toStart("Your seat is gone: the grace period ran out or the room ended.");
          }
        }
        break;
      }
      case "welcome":
        if (from === "lobby") this.onWelcome(msg.value);
        break;
      case "matchStatus":
        if (from === "lobby") this.onMatchStatus(msg.value, now);
        break;
      case "matchFound":
        if (from === "lobby") this.onMatchFound(msg.value);
        break;
      case "party":
        if (from !== "lobby") break;
        this.rejoiningParty = false;
        this.party = msg.value.code ? msg.value : undefined;
        this.renderParty();
        break;
      case "joined":
        if (!fromCarrier) this.dropRoomLink();
        this.onJoined(msg.value);
        break;
      case "roster":
        if (this.room && fromCarrier) {
          this.room.setRoster(msg.value);
          for (const p of msg.value.players) this.lastRoomNames.set(p.entityId, p.name);
        }
        break;
      case "roomClosed":
        // On the lobby while a room link carries the room: the room's node
        // went away (NODE_LOST), said by the node the player queued from.
        if (fromCarrier || msg.value.roomId === this.roomLink?.roomId) this.onRoomClosed(msg.value);
        break;
      case "chat":
        this.addChatLine(msg.value.fromName, msg.value.text, msg.value.scope);
        break;
      case "error":
        this.onError(msg.value, from);
        break;
      default:
        break;
    }
  }

  /** Joins the room MatchFound names: here, or over a room link to its node. */
  private onMatchFound(mf: MatchFound): void {
    const lobby = this.conn;
    if (!lobby) return;
    const route = roomRoute(mf.endpoint, lobby.url);
    if (route.kind === "lobby") {
      if (mf.endpoint && !wsURL(mf.endpoint, lobby.url)) console.warn("arbiter: cannot read the match's endpoint; joining here", mf.endpoint);
      lobby.send({ case: "joinRoom", value: { joinToken: mf.joinToken } });
      return;
    }
    this.openRoomLink(route.url, mf.roomId, { kind: "join", joinToken: mf.joinToken });
  }

  // ----------------------------------------------------------- room link

  /** The connection room traffic goes over: the room link's, or the lobby's. */
  private roomCarrier(): Connection | undefined {
    return roomCarrier(this.conn, this.roomLink);
  }

  /** Opens a room link to url that enters roomId as entry says (a seat, or watching). */
  private openRoomLink(url: string, roomId: string, entry: LinkEntry): void {
    this.dropRoomLink();
    const events: RoomLinkEvents = {
      hello: () => ({ sessionToken: this.sessionToken, name: this.currentName() }),
      onOpen: (resuming) => this.onLinkOpen(link, resuming),
      onWelcome: (w, reconnected) => this.onLinkWelcome(link, w, reconnected),
      onMessage: (m) => {
        if (link === this.roomLink) this.onMessage(m, "room");
      },
      onDown: (info) => this.onLinkDown(link, info),
      onEnd: (why) => this.onLinkEnd(link, why),
    };
    const giveUpMs = entry.kind === "spectate" ? WATCH_GIVE_UP_MS : RECONNECT_GIVE_UP_MS;
    const opts = { protocolVersion: PROTOCOL_VERSION, client: CLIENT_NAME, giveUpMs };
    const link = new RoomLink(url, roomId, entry, (u, h) => new Connection(u, h), events, opts);
    this.roomLink = link;
    this.lobbyKeepalive.start();
  }

  /** Closes the room link (1000), if any; the lobby carries room traffic again. */
  private dropRoomLink(): void {
    const link = this.roomLink;
    if (!link) return;
    this.roomLink = undefined;
    link.close();
    this.lobbyKeepalive.stop();
    // A banner of the link's goes with it (a lobby still down shows its own at its next attempt).
    if (link.state !== "open") this.setBanner(undefined);
    // Clock-sync pings go back to the lobby connection.
    if (this.conn?.isOpen) this.startPings();
    else this.stopPings();
  }

  private onLinkOpen(link: RoomLink<Connection>, resuming: boolean): void {
    if (link !== this.roomLink) return;
    // As on the lobby: a Pong to this Ping before Joined means the seat is gone.
    const id = this.sendPing();
    if (resuming) this.resume = { roomId: link.roomId, fencePing: id };
    this.startPings();
  }

  private onLinkWelcome(link: RoomLink<Connection>, w: Welcome, reconnected: boolean): void {
    if (link !== this.roomLink) return;
    if (reconnected) this.counters.reconnects++;
    if (this.playerId && w.playerId !== this.playerId) {
      // The session was not accepted there. A spectator needs no seat: it
      // watches under that identity, but the player's token stays.
      if (link.spectating) return;
      // A new identity has no seat.
      this.resume = undefined;
      this.toStart("Your session expired; you are no longer in the match.");
      return;
    }
    this.sessionToken = w.sessionToken;
    safeStorage("session")?.setItem(SESSION_KEY, w.sessionToken);
    // The lobby reconnects without a banner while the link is up: any banner is the link's.
    this.setBanner(undefined);
  }

  private onLinkDown(link: RoomLink<Connection>, info: CloseInfo): void {
    if (link !== this.roomLink) return;
    this.setBanner(`${info.code === 1001 ? "The game's server is going away" : "Connection to the game lost"} — reconnecting…`);
  }

  private onLinkEnd(link: RoomLink<Connection>, why: LinkEnd): void {
    if (link !== this.roomLink) return;
    this.dropRoomLink();
    if (link.spectating) {
      this.toStart(
        why.kind === "replaced"
          ? "This game was opened in another tab or window."
          : why.kind === "refused"
            ? `The server hosting the game you were watching refused this client: ${why.message}`
            : "Lost the connection to the game you were watching.",
      );
      return;
    }
    switch (why.kind) {
      case "replaced":
        if (this.conn && link.joined) {
          // Perhaps by the lobby connection itself, on the same node: its
          // Joined brings the seat back; a Pong first means it will not.
          this.resume = { roomId: link.roomId, fencePing: this.conn.isOpen ? this.sendPing(this.conn) : -1 };
          return;
        }
        this.toStart("This game was opened in another tab or window.");
        return;
      case "refused":
        this.toStart(`The server hosting your game refused this client: ${why.message}`);
        return;
      case "unreachable":
        this.resume = undefined;
        this.toStart("Lost the connection to the server hosting your game. Find a match again.");
        return;
    }
  }

  /** Whether the room link is on the lobby's own node (or may be: it has no Welcome yet). */
  private linkOnLobbyNode(): boolean {
    const link = this.roomLink;
    if (!link) return false;
    return link.state === "connecting" || (link.nodeId !== "" && link.nodeId === this.lobbyNodeId);
  }

  /**
   * Makes the lobby connection carry the room again, on the room's node:
   * drops the room link, points the lobby at its endpoint, and has the
   * lobby's next Hello resume the seat there (or JoinRoom, when the link
   * never sent it; Spectate again for a watched room). The caller
   * (re)connects the lobby.
   */
  private foldRoomIntoLobby(): void {
    const link = this.roomLink;
    if (!link) return;
    this.dropRoomLink();
    this.lobbyURL = link.endpoint;
    this.wasSearching = false;
    const entry = link.entry;
    if (entry.kind === "spectate") this.afterWelcome.push(() => this.conn?.send({ case: "spectate", value: { roomId: link.roomId } }));
    else if (link.joined) this.resume = { roomId: link.roomId, fencePing: -1 };
    else this.afterWelcome.push(() => this.conn?.send({ case: "joinRoom", value: { joinToken: entry.joinToken } }));
  }

  private onWelcome(w: Welcome): void {
    if (this.connState === "reconnecting") this.counters.reconnects++;
    this.welcomed = true;
    this.connState = "open";
    this.reconnectAttempt = 0;
    this.lostSince = 0;
    // A room link that is down keeps its banner.
    if (!this.roomLink || this.roomLink.state === "open") this.setBanner(undefined);
    this.lobbyNodeId = w.server?.nodeId ?? "";
    const resumedSession = w.resumed && w.playerId === this.playerId;
    this.playerId = w.playerId;
    this.welcomeName = w.name;
    this.sessionToken = w.sessionToken;
    safeStorage("session")?.setItem(SESSION_KEY, w.sessionToken);
    this.serverInfo = w.server;
    if (w.server) {
      $("server-info").textContent = `server ${w.server.version} · ${w.server.tickRate} ticks/s · you are ${w.name}`;
      const sel = $<HTMLSelectElement>("mode");
      for (const opt of Array.from(sel.options)) opt.disabled = w.server.modes.length > 0 && !w.server.modes.includes(opt.value);
    }
    const nameInput = $<HTMLInputElement>("name");
    if (!nameInput.value) nameInput.placeholder = w.name;
    if (!resumedSession && this.roomLink && !this.roomLink.spectating) {
      // A new identity: the room link's seat went with the old one.
      this.resume = undefined;
      this.toStart("Your session expired; you are no longer in the match.");
    } else if (this.resume && !w.resumed && !this.roomLink) {
      // A new identity: the seat went with the old one.
      this.resume = undefined;
      this.toStart("Your session expired; you are no longer in the match.");
    }
    // A dropped connection left the party and the queue on the server: go back.
    const party = this.party;
    if (party && !resumedSession) {
      this.party = undefined;
      this.renderParty();
    } else if (party) {
      this.party = undefined;
      this.renderParty();
      if (party.members.length > 1) {
        this.rejoiningParty = true;
        this.conn?.send({ case: "partyJoin", value: { code: party.code } });
      }
    }
    if (this.wasSearching) {
      this.wasSearching = false;
      const member = !!party && party.leaderId !== this.playerId;
      if (this.phase === "searching" && member) this.toStart("The connection dropped; waiting for the party leader.");
      else if (this.phase === "searching") this.findMatch(this.mode);
    }
    const fns = this.afterWelcome;
    this.afterWelcome = [];
    for (const fn of fns) fn();
  }

  private onError(e: ServerError, from: "lobby" | "room"): void {
    // The room link reads its own errors (roomlink.ts).
    if (from === "lobby") this.lastError = e;
    if (from === "room" && this.roomLink?.spectating && (e.code === ErrorCode.ROOM_CLOSED || e.code === ErrorCode.NOT_ALLOWED)) {
      // Spectate refused there (sent again after a reconnect: the room may have ended meanwhile).
      this.toStart(this.phase === "watching" ? "The game you were watching has ended." : e.message);
      return;
    }
    switch (e.code) {
      case ErrorCode.SESSION_EXPIRED:
        if (!/another connection/.test(e.message)) {
          this.sessionToken = "";
          safeStorage("session")?.removeItem(SESSION_KEY);
        }
        break;
      case ErrorCode.PARTY_NOT_FOUND:
      case ErrorCode.PARTY_FULL:
        if (this.rejoiningParty) {
          this.rejoiningParty = false;
          this.setStartMessage("Your party ended while the connection was down.");
        } else if (this.phase === "start") this.setStartMessage(e.message);
        break;
      case ErrorCode.ALREADY_QUEUED:
      case ErrorCode.ALREADY_IN_ROOM:
      case ErrorCode.NOT_IN_ROOM:
        break;
      case ErrorCode.RATE_LIMITED:
      case ErrorCode.INVALID_INPUT:
      case ErrorCode.INVALID_VALUE:
      case ErrorCode.BAD_MESSAGE:
      case ErrorCode.UNKNOWN_MESSAGE:
        console.warn(`arbiter: server error ${ErrorCode[e.code]}: ${e.message}`);
        break;
      case ErrorCode.IDLE:
      case ErrorCode.SLOW_CONSUMER:
      case ErrorCode.INTERNAL:
      case ErrorCode.DRAINING:
        if (this.phase === "start") this.setStartMessage(e.message);
        break;
      default:
        // Matchmaking, parties, tokens, rooms: the player should know.
        if (this.phase === "searching") this.toStart(e.message);
        else if (this.phase === "start") this.setStartMessage(e.message);
        else this.flashStatus(e.message, 3000);
    }
  }

  private onMatchStatus(st: MatchStatus, now: number): void {
    this.searchStatus = st;
    this.searchSince = now;
    switch (st.state) {
      case MatchState.SEARCHING:
        if (this.phase !== "searching" && !this.room) {
          this.mode = st.mode || this.mode;
          this.setPhase("searching");
        }
        break;
      case MatchState.CANCELLED:
        if (this.phase === "searching") this.toStart("");
        break;
      case MatchState.TIMED_OUT:
        this.toStart(`No match found in time${st.reason ? `: ${st.reason}` : ""}. Try again?`);
        break;
      case MatchState.FAILED:
        this.toStart(`Matchmaking failed${st.reason ? `: ${st.reason}` : ""}.`);
        break;
      default:
        break;
    }
    this.renderSearching(now);
  }

  private onJoined(j: Joined): void {
    const resumed = this.resume?.roomId === j.roomId;
    this.resume = undefined;
    this.clearRoom();
    this.room = new RoomSession(j, this.playerId, this.clock, this.map && this.map.name === j.map ? this.map : undefined);
    if (!this.room.map && j.map) void this.loadMap(j.map);
    this.effects = [];
    this.queued = [];
    this.lastResult = undefined;
    $("watching-room").textContent = j.spectator ? `${j.mode} · ${j.roomId.slice(0, 8)}` : "";
    this.setPhase(j.spectator ? "watching" : "playing");
    this.setBanner(undefined);
    if (resumed) this.flashStatus("Reconnected", 1500);
    // Tighten the clock sync quickly: a few pings now (the server allows 5/s).
    for (const d of [60, 200, 400]) window.setTimeout(() => this.roomCarrier()?.isOpen && this.sendPing(), d);
  }

  private onRoomClosed(rc: RoomClosed): void {
    if (rc.reason === RoomCloseReason.NODE_LOST) {
      // Said by the lobby's node, maybe late: only about the room the player is in.
      const current = [this.room?.roomId, this.roomLink?.roomId, this.resume?.roomId].includes(rc.roomId);
      if (!current) return;
      this.resume = undefined;
      const watching = this.phase === "watching" || !!this.roomLink?.spectating;
      this.toStart(watching ? "The server hosting the game you were watching went away." : "The server hosting your game went away. Find a match again.");
      return;
    }
    if (this.room) this.lastOwnEntity = this.room.ownEntity;
    this.resume = undefined;
    if (this.phase === "watching") {
      // Stop watching (LEFT) or the room ended: back to the start screen.
      this.toStart(rc.reason === RoomCloseReason.LEFT ? "" : rc.reason === RoomCloseReason.ROUND_OVER ? "The round you were watching is over." : "The game you were watching has ended.");
      return;
    }
    if (rc.reason === RoomCloseReason.ROUND_OVER) {
      this.closeRoom();
      this.renderResults();
      this.setPhase("results");
      return;
    }
    const msg =
      rc.reason === RoomCloseReason.LEFT
        ? rc.message || "You left the room."
        : rc.reason === RoomCloseReason.EMPTY
          ? "The room emptied."
          : rc.reason === RoomCloseReason.DRAIN
            ? "The server is shutting down; the room ended."
            : `The room ended${rc.message ? `: ${rc.message}` : ""}.`;
    this.toStart(msg.charAt(0).toUpperCase() + msg.slice(1));
  }

  /** Leaves the room: its state, and the room link if it has one (closed with 1000). */
  private closeRoom(): void {
    this.clearRoom();
    this.dropRoomLink();
  }

  /** Forgets the room's state (a new Joined replaces it on the same connection). */
  private clearRoom(): void {
    if (this.room) this.lastOwnEntity = this.room.ownEntity;
    this.room = undefined;
    this.stopTickLoop();
    this.effects = [];
    this.queued = [];
  }

  private onSnapshot(s: import("./gen/arbiter/v1/snapshot_pb").Snapshot, now: number): void {
    const room = this.room;
    if (!room) return;
    let events: readonly Event[];
    try {
      events = room.onSnapshot(s, now);
    } catch (e) {
      if (e instanceof DesyncError) {
        console.warn(`arbiter: ${e.message}; reconnecting for a full snapshot`);
        this.resyncConnection();
        return;
      }
      throw e;
    }
    if (room.snapshots === 1 && this.playPressedAt !== undefined) {
      this.playToSnapshotMs.push(now - this.playPressedAt);
      this.playPressedAt = undefined;
    }
    for (const ev of events) this.onEvent(room, ev, now);
    // Inputs may be due now that the clock and the prediction are seeded.
    this.pumpInputs(now);
  }

  /** Drops the connection and resumes at once (a desync needs a full snapshot). */
  private resyncConnection(): void {
    if (this.roomLink) {
      this.roomLink.resync();
      return;
    }
    const conn = this.conn;
    if (!conn) return;
    const room = this.room;
    if (room?.spectator) this.afterWelcome.push(() => this.conn?.send({ case: "spectate", value: { roomId: room.roomId } }));
    else if (room) this.resume = { roomId: room.roomId, fencePing: -1 };
    conn.close();
    this.conn = undefined;
    this.stopPings();
    this.connect(true);
  }

  // -------------------------------------------------------------- events

  private onEvent(room: RoomSession, ev: Event, now: number): void {
    // Nothing is drawn while the page is hidden: keep the backlog bounded.
    if (this.queued.length > 256) this.queued.splice(0, this.queued.length - 256);
    if (this.effects.length > 256) this.effects.splice(0, this.effects.length - 256);
    const me = room.ownEntity;
    const sc = room.map?.scale ?? 8;
    switch (ev.type) {
      case EventType.SHOT:
        if (ev.actor === me) {
          this.counters.shotsFired++;
          return; // drawn when fired
        }
        this.queued.push({ ev, at: ev.tick });
        return;
      case EventType.HIT:
        if (ev.actor === me) this.counters.hitsLanded++;
        if (ev.actor === me && ev.value > 0) {
          this.effects.push({ kind: "hitmarker", x: ev.x / sc, y: ev.y / sc, x2: 0, y2: 0, born: now, life: 300, self: true });
        }
        if (ev.target === me && ev.value > 0) {
          this.effects.push({ kind: "damage", x: 0, y: 0, x2: 0, y2: 0, born: now, life: 350, self: true });
        }
        this.queued.push({ ev, at: ev.tick });
        return;
      case EventType.KILL: {
        const a = room.nameOf(ev.actor);
        const t = room.nameOf(ev.target);
        this.addFeed(`<b>${escapeHTML(a)}</b> ✖ <b>${escapeHTML(t)}</b>`, now);
        if (ev.target === me) this.flashStatus(`Killed by ${a}`, 2000);
        else if (ev.actor === me) this.flashStatus(`You killed ${t}`, 1500);
        this.queued.push({ ev, at: ev.tick });
        return;
      }
      case EventType.ROUND_START:
        this.flashStatus("Fight!", 1200);
        return;
      case EventType.ROUND_END:
        if (ev.result) this.lastResult = ev.result;
        for (const [id, e] of room.byEntity) this.lastRoomNames.set(id, e.name);
        return;
      default:
        return;
    }
  }

  private addFeed(html: string, now: number): void {
    this.feed.push({ html, at: now });
    if (this.feed.length > 5) this.feed.shift();
    this.renderFeed(now);
  }

  private renderFeed(now: number): void {
    this.feed = this.feed.filter((f) => now - f.at < 6000);
    const kf = $("killfeed");
    kf.replaceChildren(
      ...this.feed.map((f) => {
        const d = document.createElement("div");
        d.innerHTML = f.html;
        return d;
      }),
    );
  }

  private flashStatus(text: string, ms: number): void {
    this.statusText = text;
    this.statusUntil = performance.now() + ms;
  }

  /** Shows the queued events whose tick the render time has reached. */
  private playEvents(room: RoomSession, now: number): void {
    ({ queued: this.queued, effects: this.effects } = playEvents(this.queued, this.effects, room.renderTick, room.map?.scale ?? 8, now));
  }

  // ----------------------------------------------------------- game loop

  private startTickLoop(): void {
    if (this.tickTimer !== undefined) return;
    const loop = () => {
      this.tickTimer = undefined;
      if (this.phase !== "playing") return;
      const now = performance.now();
      this.pumpInputs(now);
      const wait = this.room ? this.room.cmd.msToNextTick() : 1000 / 30;
      this.tickTimer = window.setTimeout(loop, Math.max(1, Math.min(50, wait + 0.5)));
    };
    loop();
  }

  private stopTickLoop(): void {
    if (this.tickTimer !== undefined) window.clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
  }

  /** The aim towards the mouse from where the local player is drawn. */
  private aim(room: RoomSession): number {
    const sc = room.map?.scale ?? 8;
    const pred = room.predictor;
    if (!this.controls.hasMouse || !pred) return room.lastAim;
    const p = pred.renderPos(room.alpha());
    const m = this.renderer.screenToWorld(this.controls.mouseX, this.controls.mouseY);
    const dx = m.x - p.x / sc;
    const dy = m.y - p.y / sc;
    if (Math.abs(dx) < 0.5 && Math.abs(dy) < 0.5) return room.lastAim;
    return aimFrom(dx, dy);
  }

  private pumpInputs(now: number): void {
    const room = this.room;
    const conn = this.roomCarrier();
    if (!room || !conn?.isOpen || this.phase !== "playing") return;
    const frames = room.pump(now, () => {
      const stick = this.controls.stick();
      return { moveX: stick.x, moveY: stick.y, aim: this.aim(room), fire: this.controls.firing() };
    });
    for (const f of frames) {
      this.sendInput(conn, f);
      if (f.shot) this.predictShot(room, f, now);
    }
  }

  private sendInput(conn: Connection, f: InputFrame): void {
    conn.send({
      case: "input",
      value: {
        seq: f.seq,
        tick: f.tick,
        buttons: f.buttons,
        moveX: f.moveX,
        moveY: f.moveY,
        aim: f.aim,
        renderTime: f.renderTime,
      },
    });
  }

  /** Draws the local shot at once: from the predicted position to the first wall or visible player. */
  private predictShot(room: RoomSession, f: InputFrame, now: number): void {
    const map = room.map;
    const pred = room.predictor;
    if (!map || !pred) return;
    const sc = map.scale;
    const a = (f.aim / 65536) * Math.PI * 2;
    const sx = pred.body.x;
    const sy = pred.body.y;
    const dx = Math.cos(a) * map.weapon.range;
    const dy = Math.sin(a) * map.weapon.range;
    const rects: [number, number, number, number][] = [...map.walls.map((w) => [w[0], w[1], w[2], w[3]] as [number, number, number, number])];
    const h = map.halfSize;
    for (const id of room.interp.ids(room.renderTick)) {
      if (id === room.ownEntity) continue;
      const s = room.interp.sample(id, room.renderTick);
      if (!s || s.flags & FLAG_DEAD) continue;
      rects.push([s.x - h, s.y - h, s.x + h, s.y + h]);
    }
    const t = rayRects(sx, sy, dx, dy, rects);
    this.effects.push({ kind: "tracer", x: sx / sc, y: sy / sc, x2: (sx + dx * t) / sc, y2: (sy + dy * t) / sc, born: now, life: 140, self: true });
  }

  private frame(now: number): void {
    requestAnimationFrame((t) => this.frame(t));
    const t0 = performance.now();
    const dt = this.lastFrame ? now - this.lastFrame : 16;
    if (this.lastFrame) {
      this.frameGaps.push(dt);
      if (this.frameGaps.length > 600) this.frameGaps.shift();
    }
    this.lastFrame = now;
    this.frameTimes.push(now);
    while (this.frameTimes.length > 0 && this.frameTimes[0]! < now - 1000) this.frameTimes.shift();

    const room = this.room;
    let players: DrawPlayer[] = [];
    let crosshair: { x: number; y: number } | undefined;
    if (room && (this.phase === "playing" || this.phase === "watching")) {
      this.pumpInputs(t0); // nothing while watching
      room.advanceRender(t0);
      room.predictor?.decay(dt);
      this.playEvents(room, t0);
      players = this.scene(room);
      if (this.controls.hasMouse && this.phase === "playing") crosshair = { x: this.controls.mouseX, y: this.controls.mouseY };
    }
    this.renderer.draw(room?.map ?? this.map, players, this.effects, t0, crosshair);

    if (now - this.hudAt > 250) {
      this.hudAt = now;
      this.updateHUD(t0);
    }
    this.frameWork.push(performance.now() - t0);
    if (this.frameWork.length > 600) this.frameWork.shift();
  }

  /** The players to draw: the local one predicted, the others interpolated. */
  private scene(room: RoomSession): DrawPlayer[] {
    const sc = room.map?.scale ?? 8;
    const maxHealth = room.map?.weapon.maxHealth ?? 100;
    const { players: out, extrapolated } = remotePlayers(room, room.renderTick);
    this.counters.framesDrawn++;
    if (extrapolated) this.counters.extrapolatedFrames++;
    const own = room.own();
    if (own && room.predictor) {
      const p = room.predictor.renderPos(room.alpha());
      out.push({
        id: own.id,
        x: p.x / sc,
        y: p.y / sc,
        angle: (room.lastAim / 65536) * Math.PI * 2,
        name: room.nameOf(own.id),
        health: own.health,
        maxHealth,
        dead: (own.flags & FLAG_DEAD) !== 0,
        invulnerable: (own.flags & FLAG_INVULNERABLE) !== 0,
        firing: (own.flags & FLAG_FIRING) !== 0,
        self: true,
        seat: room.seatOf(own.id),
      });
    }
    return out;
  }

  private updateHUD(now: number): void {
    if (this.phase === "searching") this.renderSearching(now);
    const room = this.room;
    if (!room || (this.phase !== "playing" && this.phase !== "watching")) return;
    const rtt = this.clock.rttMs;
    $("ping").textContent = rtt === undefined ? "–" : String(Math.round(rtt));
    $("snaprate").textContent = String(room.snapshotRate(now));
    $("fps").textContent = String(this.frameTimes.length);
    $("tick").textContent = String(room.view.tick);
    const end = room.joined.roundEndTick;
    $("timer").textContent = end > 0 && this.clock.synced ? fmtTime(((end - room.serverTick(now)) * 1000) / room.tickRate) : "";
    this.renderFeed(now);
    const own = room.own();
    let status = "";
    if (own && own.flags & FLAG_DEAD) {
      status = `Respawning in ${Math.max(0, Math.ceil(own.timer / room.tickRate))}…`;
    }
    if (now < this.statusUntil) status = this.statusText;
    $("status").textContent = status;
    if (this.scoreboardOpen) this.renderScoreboard();
  }

  // ---------------------------------------------------------------- misc

  private async loadMap(name: string): Promise<void> {
    try {
      const m = await fetchMap(name);
      if (!this.map || this.map.name !== m.name) this.map = m;
      if (this.room && !this.room.map && this.room.joined.map === m.name) this.room.setMap(m);
    } catch (e) {
      console.warn(`arbiter: could not load map ${name}:`, e);
    }
  }

  /** Stats for the HUD, tests and benchmarks (frame figures over the last 600 frames). */
  stats() {
    const now = performance.now();
    const pct = (xs: number[], p: number) => {
      if (xs.length === 0) return 0;
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
    };
    const work = this.frameWork;
    return {
      fps: this.frameTimes.filter((t) => t >= now - 1000).length,
      frames: work.length,
      frameMs: work.length ? work.reduce((a, b) => a + b, 0) / work.length : 0,
      frameP50Ms: pct(work, 0.5),
      frameP95Ms: pct(work, 0.95),
      frameP99Ms: pct(work, 0.99),
      frameMaxMs: work.length ? Math.max(...work) : 0,
      intervalP50Ms: pct(this.frameGaps, 0.5),
      intervalP95Ms: pct(this.frameGaps, 0.95),
      longFrames: this.frameGaps.filter((g) => g > 25).length,
      snapshotRate: this.room?.snapshotRate(now) ?? 0,
      bytesIn: (this.conn?.bytesIn ?? 0) + (this.roomLink?.conn?.bytesIn ?? 0),
      bytesOut: (this.conn?.bytesOut ?? 0) + (this.roomLink?.conn?.bytesOut ?? 0),
      rttMs: this.clock.rttMs,
      corrections: this.room?.predictor?.corrections ?? 0,
      interpDelayTicks: this.room?.interp.targetDelay ?? 0,
      jitterTicks: this.room?.interp.jitter ?? 0,
      leadTicks: this.clock.leadTicks(),
      ...this.counters,
    };
  }

  /** Forgets the frame figures (benchmarks start a clean window). */
  resetFrameStats(): void {
    this.frameWork = [];
    this.frameGaps = [];
  }

  /** The entities as the player sees them, in world units. */
  publicEntities(): PublicEntity[] {
    const room = this.room;
    if (!room) return [];
    const sc = room.map?.scale ?? 8;
    const out: PublicEntity[] = [];
    const t = room.interp.peekTick(performance.now()) || room.renderTick;
    for (const e of room.view.entities.values()) {
      let x = e.x;
      let y = e.y;
      if (e.id === room.ownEntity && room.predictor) {
        const p = room.predictor.renderPos(1);
        x = p.x - room.predictor.corrX;
        y = p.y - room.predictor.corrY;
      } else {
        const s = room.interp.sample(e.id, t);
        if (s) {
          x = s.x;
          y = s.y;
        }
      }
      out.push({
        id: e.id,
        playerId: room.byEntity.get(e.id)?.playerId ?? "",
        name: room.nameOf(e.id),
        x: x / sc,
        y: y / sc,
        health: e.health,
        kills: e.kills,
        deaths: e.deaths,
        score: e.score,
        dead: (e.flags & FLAG_DEAD) !== 0,
      });
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /** Test hook: drop the lobby connection's socket as a lost connection would. */
  severConnection(): void {
    this.conn?.sever();
  }

  /** Test hook: drop the room link's socket (when the room is on another node). */
  severRoomConnection(): void {
    this.roomLink?.sever();
  }

  /** The state of the connection that matters now: the room link's while there is one, else the lobby's. */
  connectionState(): ConnState {
    const link = this.roomLink;
    if (!link) return this.connState;
    return link.state === "closed" ? "lost" : link.state;
  }

  /** The room link's WebSocket URL ("" when the room, if any, is on the lobby connection). */
  get roomEndpoint(): string {
    return this.roomLink?.endpoint ?? "";
  }

  /** The lobby connection's WebSocket URL. */
  get lobbyEndpoint(): string {
    return this.conn?.url ?? this.lobbyURL;
  }
}

function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
