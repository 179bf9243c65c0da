// The room link (src/net/roomlink.ts) against fake connections and fake
// timers: Hello, Welcome, then JoinRoom once; reconnects to the same
// endpoint with the session token (no second JoinRoom: the server gives the
// seat back); a normal close stops everything; a replaced session, a refused
// client and a node that stays away end the link. A watching link
// (spectate) sends Spectate instead, after every Welcome (the server keeps
// no place for a spectator), and never JoinRoom or an Input.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ServerMessageSchema, type ServerMessage } from "../src/gen/arbiter/v1/envelope_pb";
import { ErrorCode } from "../src/gen/arbiter/v1/error_pb";
import type { Welcome } from "../src/gen/arbiter/v1/session_pb";
import type { ClientMsg, CloseInfo, ConnectionHandlers } from "../src/net/connection";
import { RoomLink, type LinkConnection, type LinkEnd, type LinkEntry, type RoomLinkEvents } from "../src/net/roomlink";

const ENDPOINT = "ws://127.0.0.1:28082/v1/connect";
type ServerMsg = NonNullable<MessageInitShape<typeof ServerMessageSchema>["msg"]>;

/** A connection whose server side the test plays. */
class FakeConn implements LinkConnection {
  isOpen = false;
  bytesIn = 0;
  bytesOut = 0;
  closed = false;
  readonly sent: ClientMsg[] = [];
  constructor(
    readonly url: string,
    private readonly h: ConnectionHandlers,
  ) {}
  send(msg: ClientMsg): boolean {
    if (!this.isOpen) return false;
    this.sent.push(msg);
    return true;
  }
  close(): void {
    this.closed = true;
    this.isOpen = false;
  }
  sever(): void {
    this.drop(4000);
  }
  // The server's side.
  open(): void {
    this.isOpen = true;
    this.h.onOpen();
  }
  deliver(msg: ServerMsg): void {
    this.h.onMessage(create(ServerMessageSchema, { msg }));
  }
  welcome(playerId = "p1", nodeId = "b"): void {
    this.deliver({ case: "welcome", value: { playerId, sessionToken: `tok-${playerId}`, name: "alice", server: { nodeId } } });
  }
  drop(code = 1006, opened = true): void {
    this.isOpen = false;
    this.h.onClose({ code, reason: "", opened });
  }
  cases(): string[] {
    return this.sent.map((m) => m.case ?? "");
  }
}

interface Recorded {
  opens: boolean[];
  welcomes: { w: Welcome; reconnected: boolean }[];
  messages: ServerMessage[];
  downs: CloseInfo[];
  ends: LinkEnd[];
}

const JOIN: LinkEntry = { kind: "join", joinToken: "join-1" };
const SPECTATE: LinkEntry = { kind: "spectate" };

/** A link over fake connections; closeOnWelcome makes the app close it on Welcome (a new identity). */
function setup(giveUpMs = 60_000, entry: LinkEntry = JOIN, closeOnWelcome = false) {
  const conns: FakeConn[] = [];
  const rec: Recorded = { opens: [], welcomes: [], messages: [], downs: [], ends: [] };
  let token = "tok-0";
  const events: RoomLinkEvents = {
    hello: () => ({ sessionToken: token, name: "alice" }),
    onOpen: (resuming) => rec.opens.push(resuming),
    onWelcome: (w, reconnected) => {
      rec.welcomes.push({ w, reconnected });
      if (closeOnWelcome) link.close();
    },
    onMessage: (m) => rec.messages.push(m),
    onDown: (info) => rec.downs.push(info),
    onEnd: (why) => rec.ends.push(why),
  };
  const link = new RoomLink(
    ENDPOINT,
    "room-1",
    entry,
    (url, h) => {
      const c = new FakeConn(url, h);
      conns.push(c);
      return c;
    },
    events,
    { protocolVersion: 1, client: "test", giveUpMs, now: () => Date.now(), random: () => 0.5 },
  );
  const last = () => conns[conns.length - 1]!;
  return { link, conns, rec, last, setToken: (t: string) => (token = t) };
}

/** Opens the newest connection and welcomes it. */
function connect(c: FakeConn, playerId = "p1"): void {
  c.open();
  c.welcome(playerId);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("RoomLink", () => {
  it("says Hello with the session token, then JoinRoom with the join token after Welcome", () => {
    const { link, conns, rec, last } = setup();
    expect(conns.map((c) => c.url)).toEqual([ENDPOINT]);
    expect(link.state).toBe("connecting");
    last().open();
    expect(last().sent).toEqual([{ case: "hello", value: { protocolVersion: 1, sessionToken: "tok-0", name: "alice", client: "test" } }]);
    expect(rec.opens).toEqual([false]);
    // Nothing but Hello before Welcome.
    last().deliver({ case: "pong", value: { id: 1 } });
    expect(last().cases()).toEqual(["hello"]);
    last().welcome();
    expect(link.state).toBe("open");
    expect(link.nodeId).toBe("b");
    expect(link.joined).toBe(true);
    expect(last().sent[1]).toEqual({ case: "joinRoom", value: { joinToken: "join-1" } });
    expect(rec.welcomes.map((x) => [x.w.playerId, x.reconnected])).toEqual([["p1", false]]);
    // Welcome is the link's; the rest goes to the app.
    last().deliver({ case: "joined", value: { roomId: "room-1" } });
    expect(rec.messages.map((m) => m.msg.case)).toEqual(["pong", "joined"]);
    link.close();
  });

  it("reconnects to the same endpoint after a drop and resumes without a second JoinRoom", () => {
    const { link, conns, rec, last, setToken } = setup();
    connect(last());
    last().drop(1006);
    expect(link.state).toBe("reconnecting");
    expect(rec.downs.map((d) => d.code)).toEqual([1006]);
    // The first attempt waits 250 ms (backoff with no spread at random 0.5).
    vi.advanceTimersByTime(249);
    expect(conns.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(conns.length).toBe(2);
    expect(last().url).toBe(ENDPOINT);
    setToken("tok-1"); // the token the app holds now
    last().open();
    expect(last().sent[0]).toMatchObject({ case: "hello", value: { sessionToken: "tok-1" } });
    expect(rec.opens).toEqual([false, true]);
    last().welcome();
    expect(link.state).toBe("open");
    expect(rec.welcomes.map((x) => x.reconnected)).toEqual([false, true]);
    expect(last().cases()).toEqual(["hello"]);
    link.close();
  });

  it("backs off between failed attempts and sends JoinRoom once it gets through", () => {
    const { link, conns, rec, last } = setup();
    last().drop(1006, false); // never opened
    vi.advanceTimersByTime(250);
    last().drop(1006, false);
    vi.advanceTimersByTime(499);
    expect(conns.length).toBe(2);
    vi.advanceTimersByTime(1);
    expect(conns.length).toBe(3);
    connect(last());
    expect(rec.opens).toEqual([false]);
    expect(last().cases()).toEqual(["hello", "joinRoom"]);
    expect(rec.welcomes[0]!.reconnected).toBe(true);
    link.close();
  });

  it("closes normally, stops reconnecting and reports nothing more", () => {
    const { link, conns, rec, last } = setup();
    connect(last());
    last().drop();
    link.close();
    expect(link.state).toBe("closed");
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(conns.length).toBe(1);

    const b = setup();
    connect(b.last());
    b.link.close();
    expect(b.last().closed).toBe(true);
    expect(b.link.conn).toBeUndefined();
    // A late close event of the old socket is not reported.
    b.last().drop();
    expect(b.rec.downs).toEqual([]);
    expect(rec.ends).toEqual([]);
  });

  it("ends without reconnecting when another connection took the session over", () => {
    const { link, conns, rec, last } = setup();
    connect(last());
    last().deliver({ case: "error", value: { code: ErrorCode.SESSION_EXPIRED, message: "this session was resumed on another connection" } });
    last().drop(1008);
    expect(rec.ends).toEqual([{ kind: "replaced", message: "this session was resumed on another connection" }]);
    expect(link.state).toBe("closed");
    expect(rec.downs).toEqual([]);
    vi.advanceTimersByTime(10_000);
    expect(conns.length).toBe(1);
  });

  it("ends when the server refuses the protocol version", () => {
    const { rec, last } = setup();
    last().open();
    last().deliver({ case: "error", value: { code: ErrorCode.PROTOCOL_VERSION, message: "this server speaks protocol version 2" } });
    last().drop(1008);
    expect(rec.ends).toEqual([{ kind: "refused", message: "this server speaks protocol version 2" }]);
  });

  it("gives up when the node stays away", () => {
    const { link, conns, rec, last } = setup(3000);
    connect(last());
    last().drop();
    // Every attempt fails to open; the attempts keep the same endpoint.
    for (let i = 0; i < 20 && rec.ends.length === 0; i++) {
      vi.advanceTimersByTime(1000);
      last().drop(1006, false);
    }
    expect(rec.ends).toEqual([{ kind: "unreachable" }]);
    expect(link.state).toBe("closed");
    expect(conns.length).toBeGreaterThan(2);
    expect(new Set(conns.map((c) => c.url))).toEqual(new Set([ENDPOINT]));
    expect(vi.getTimerCount()).toBe(0);
  });

  it("resync drops the connection and resumes at once", () => {
    const { link, conns, rec, last } = setup();
    connect(last());
    const first = last();
    link.resync();
    expect(first.closed).toBe(true);
    expect(conns.length).toBe(2);
    expect(link.state).toBe("reconnecting");
    last().open();
    expect(rec.opens).toEqual([false, true]);
    last().welcome();
    expect(last().cases()).toEqual(["hello"]);
    expect(rec.welcomes.at(-1)!.reconnected).toBe(true);
    link.close();
  });

  it("sends no JoinRoom when the app closed the link on Welcome (a new identity)", () => {
    const { link, conns } = setup(1000, JOIN, true);
    conns[0]!.open();
    conns[0]!.welcome("someone-else");
    expect(conns[0]!.cases()).toEqual(["hello"]);
    expect(link.joined).toBe(false);
  });
});

describe("RoomLink watching a room (spectate)", () => {
  it("says Hello with the session token, then Spectate with the room id after Welcome, never JoinRoom", () => {
    const { link, conns, rec, last } = setup(60_000, SPECTATE);
    expect(conns.map((c) => c.url)).toEqual([ENDPOINT]);
    expect(link.spectating).toBe(true);
    last().open();
    expect(last().sent).toEqual([{ case: "hello", value: { protocolVersion: 1, sessionToken: "tok-0", name: "alice", client: "test" } }]);
    expect(rec.opens).toEqual([false]);
    // Nothing but Hello before Welcome.
    last().deliver({ case: "pong", value: { id: 1 } });
    expect(last().cases()).toEqual(["hello"]);
    last().welcome();
    expect(link.state).toBe("open");
    expect(last().sent[1]).toEqual({ case: "spectate", value: { roomId: "room-1" } });
    expect(last().cases()).toEqual(["hello", "spectate"]);
    expect(link.joined).toBe(false);
    // The watched room's traffic goes to the app.
    last().deliver({ case: "joined", value: { roomId: "room-1", spectator: true } });
    last().deliver({ case: "roster", value: {} });
    last().deliver({ case: "snapshot", value: { tick: 5 } });
    expect(rec.messages.map((m) => m.msg.case)).toEqual(["pong", "joined", "roster", "snapshot"]);
    link.close();
    expect(last().closed).toBe(true);
  });

  it("sends Spectate again after a reconnect (no place is resumed for a spectator)", () => {
    const { link, conns, rec, last, setToken } = setup(60_000, SPECTATE);
    connect(last());
    last().drop(1006);
    expect(link.state).toBe("reconnecting");
    vi.advanceTimersByTime(250);
    expect(conns.length).toBe(2);
    expect(last().url).toBe(ENDPOINT);
    setToken("tok-1");
    last().open();
    // Not resuming: the app expects no seat back.
    expect(rec.opens).toEqual([false, false]);
    expect(last().sent[0]).toMatchObject({ case: "hello", value: { sessionToken: "tok-1" } });
    last().welcome();
    expect(rec.welcomes.map((x) => x.reconnected)).toEqual([false, true]);
    expect(last().cases()).toEqual(["hello", "spectate"]);
    expect(last().sent[1]).toEqual({ case: "spectate", value: { roomId: "room-1" } });
    // And after a resync too.
    link.resync();
    expect(conns.length).toBe(3);
    connect(last());
    expect(last().cases()).toEqual(["hello", "spectate"]);
    // Failed attempts send nothing; the one that gets through spectates.
    last().drop(1006);
    vi.advanceTimersByTime(250);
    last().drop(1006, false);
    vi.advanceTimersByTime(500);
    expect(conns.length).toBe(5);
    expect(conns[3]!.sent).toEqual([]);
    connect(last());
    expect(last().cases()).toEqual(["hello", "spectate"]);
    // Never a JoinRoom nor an Input, on any connection.
    const all = conns.flatMap((c) => c.cases());
    expect(all.filter((c) => c === "joinRoom" || c === "input")).toEqual([]);
    expect(all.filter((c) => c === "spectate").length).toBe(4);
    link.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sends no Spectate when the app closed the link on Welcome", () => {
    const { link, conns } = setup(1000, SPECTATE, true);
    conns[0]!.open();
    conns[0]!.welcome();
    expect(conns[0]!.cases()).toEqual(["hello"]);
    expect(link.state).toBe("closed");
  });

  it("gives up when the watched room's node stays away", () => {
    const { link, rec, last } = setup(3000, SPECTATE);
    connect(last());
    last().drop();
    for (let i = 0; i < 20 && rec.ends.length === 0; i++) {
      vi.advanceTimersByTime(1000);
      last().drop(1006, false);
    }
    expect(rec.ends).toEqual([{ kind: "unreachable" }]);
    expect(link.state).toBe("closed");
    expect(vi.getTimerCount()).toBe(0);
  });
});
