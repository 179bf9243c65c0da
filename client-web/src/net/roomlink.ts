// A RoomLink is the connection to the node hosting the player's room, when
// that is not the lobby connection's node (rooms.ts): it opens a WebSocket
// to the room's endpoint (MatchFound.endpoint, or a watched room's from GET
// /v1/rooms), says Hello with the session token (which every node of a
// cluster accepts), waits for Welcome, enters the room (LinkEntry: JoinRoom
// with the join token, or Spectate), and from then on carries the room's
// traffic. When it drops it reconnects to the same endpoint with the
// session token: a player's seat is given back by the server (Welcome.resumed,
// Joined, a full snapshot), as the lobby connection's own reconnects do; a
// spectator has no seat, so the link sends Spectate again.

import type { ServerMessage } from "../gen/arbiter/v1/envelope_pb";
import { ErrorCode, type Error as ServerError } from "../gen/arbiter/v1/error_pb";
import type { Welcome } from "../gen/arbiter/v1/session_pb";
import { reconnectDelay } from "./backoff";
import type { ClientMsg, CloseInfo, ConnectionHandlers } from "./connection";

/**
 * How the link enters the room once welcomed. join: JoinRoom with
 * MatchFound's join token, once (the seat is the player's from then on, and
 * the server gives it back after a reconnect). spectate: Spectate{room id}
 * after every Welcome (the server keeps no place for a spectator).
 */
export type LinkEntry = { kind: "join"; joinToken: string } | { kind: "spectate" };

/** What a RoomLink uses of a connection: a Connection, or a fake in tests. */
export interface LinkConnection {
  readonly isOpen: boolean;
  readonly bytesIn: number;
  readonly bytesOut: number;
  send(msg: ClientMsg): boolean;
  /** Closes with 1000 without reporting it. */
  close(): void;
  /** Test hook: drops the socket as a lost connection would (reported). */
  sever(): void;
}

/** Opens a connection to url; the handlers are called asynchronously. */
export type Dial<C extends LinkConnection = LinkConnection> = (url: string, handlers: ConnectionHandlers) => C;

/**
 * connecting: the first connection, until Welcome; open: welcomed;
 * reconnecting: dropped, until the next Welcome; closed: for good.
 */
export type LinkState = "connecting" | "open" | "reconnecting" | "closed";

/** Why a link ended without being closed. */
export type LinkEnd =
  /** The session was resumed on another connection (Error SESSION_EXPIRED, then a close). */
  | { kind: "replaced"; message: string }
  /** The server refused this client (Error PROTOCOL_VERSION). */
  | { kind: "refused"; message: string }
  /** No connection for giveUpMs. */
  | { kind: "unreachable" };

export interface RoomLinkEvents {
  /** The session token and name for the Hello, read at each (re)connect. */
  hello(): { sessionToken: string; name: string };
  /**
   * The socket opened and Hello went out. resuming: JoinRoom went out on
   * an earlier connection, so the server should give the seat back (never
   * for a spectator).
   */
  onOpen(resuming: boolean): void;
  /**
   * Welcome arrived; reconnected: after a drop. JoinRoom follows on the
   * first, Spectate on every one.
   */
  onWelcome(w: Welcome, reconnected: boolean): void;
  /** Every other server message. */
  onMessage(m: ServerMessage): void;
  /** The connection dropped; the link is reconnecting. */
  onDown(info: CloseInfo): void;
  /** The link ended on its own (see LinkEnd); it will not reconnect. */
  onEnd(why: LinkEnd): void;
}

export interface RoomLinkOptions {
  protocolVersion: number;
  /** Hello.client, e.g. "arbiter-web/0.1". */
  client: string;
  /** Stop reconnecting after this long without a connection (ms). */
  giveUpMs: number;
  /** Local time in ms (default performance.now). */
  now?: () => number;
  /** Spread of the reconnect delays (default Math.random). */
  random?: () => number;
}

/**
 * RoomLink owns the room's connection to one endpoint. It is created
 * connecting and lives until close() or onEnd. Events are reported only
 * for its current connection, never after close().
 */
export class RoomLink<C extends LinkConnection = LinkConnection> {
  state: LinkState = "connecting";
  conn: C | undefined;
  /** The node's id from its Welcome (empty on a single node, or before Welcome). */
  nodeId = "";
  private joinSent = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lostSince = 0;
  private lastError: ServerError | undefined;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(
    /** The WebSocket URL of the room's node. */
    readonly endpoint: string,
    readonly roomId: string,
    /** How to enter the room: JoinRoom with a join token, or Spectate. */
    readonly entry: LinkEntry,
    private readonly dial: Dial<C>,
    private readonly events: RoomLinkEvents,
    private readonly opts: RoomLinkOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.random = opts.random ?? Math.random;
    this.open();
  }

  /** Whether JoinRoom went out (the seat is the player's from then on); never for a spectator. */
  get joined(): boolean {
    return this.joinSent;
  }

  /** Whether the link watches the room (Spectate) rather than holding a seat. */
  get spectating(): boolean {
    return this.entry.kind === "spectate";
  }

  /** Closes the connection with 1000 and stops reconnecting; nothing more is reported. */
  close(): void {
    this.state = "closed";
    this.clearTimer();
    this.conn?.close();
    this.conn = undefined;
  }

  /** Drops the connection and reconnects at once (a desync needs a full snapshot). */
  resync(): void {
    if (this.state === "closed") return;
    this.conn?.close();
    this.conn = undefined;
    this.clearTimer();
    this.state = "reconnecting";
    this.lostSince = this.now();
    this.open();
  }

  /** Test hook: drops the socket as a lost connection would. */
  sever(): void {
    this.conn?.sever();
  }

  private open(): void {
    this.lastError = undefined;
    const conn: C = this.dial(this.endpoint, {
      onOpen: () => this.onOpen(conn),
      onMessage: (m) => this.onMessage(conn, m),
      onClose: (info) => this.onClose(conn, info),
    });
    this.conn = conn;
  }

  private onOpen(conn: C): void {
    if (conn !== this.conn) return;
    const { sessionToken, name } = this.events.hello();
    conn.send({ case: "hello", value: { protocolVersion: this.opts.protocolVersion, sessionToken, name, client: this.opts.client } });
    this.events.onOpen(this.joinSent);
  }

  private onMessage(conn: C, m: ServerMessage): void {
    if (conn !== this.conn) return;
    const msg = m.msg;
    if (msg.case === "welcome") {
      const reconnected = this.state === "reconnecting";
      this.state = "open";
      this.attempt = 0;
      this.lostSince = 0;
      this.nodeId = msg.value.server?.nodeId ?? "";
      this.events.onWelcome(msg.value, reconnected);
      // onWelcome may have closed the link (a new identity has no seat).
      if (this.state === "open" && conn === this.conn) this.enter(conn);
      return;
    }
    if (msg.case === "error") this.lastError = msg.value;
    this.events.onMessage(m);
  }

  /** Enters the room after a Welcome: JoinRoom the first time, Spectate every time. */
  private enter(conn: C): void {
    const e = this.entry;
    if (e.kind === "spectate") {
      conn.send({ case: "spectate", value: { roomId: this.roomId } });
      return;
    }
    if (!this.joinSent) this.joinSent = conn.send({ case: "joinRoom", value: { joinToken: e.joinToken } });
  }

  private onClose(conn: C, info: CloseInfo): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    if (this.state === "closed") return;
    const err = this.lastError;
    if (err?.code === ErrorCode.SESSION_EXPIRED && /another connection/.test(err.message)) {
      this.end({ kind: "replaced", message: err.message });
      return;
    }
    if (err?.code === ErrorCode.PROTOCOL_VERSION) {
      this.end({ kind: "refused", message: err.message });
      return;
    }
    if (this.state !== "reconnecting" || this.lostSince === 0) this.lostSince = this.now();
    this.state = "reconnecting";
    this.events.onDown(info);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.state !== "reconnecting") return;
    if (this.now() - this.lostSince > this.opts.giveUpMs) {
      this.end({ kind: "unreachable" });
      return;
    }
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state === "reconnecting") this.open();
    }, reconnectDelay(this.attempt, this.random()));
  }

  private end(why: LinkEnd): void {
    this.close();
    this.events.onEnd(why);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
