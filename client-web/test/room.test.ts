// The client tick end to end against a simulated server: clock sync from
// Pong, inputs stamped for the tick they should arrive before, the server
// applying them one Move each, and reconciliation on every snapshot. With
// the server agreeing, the prediction never needs a correction.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { JoinedSchema, RosterSchema } from "../src/gen/arbiter/v1/room_pb";
import { SnapshotSchema } from "../src/gen/arbiter/v1/snapshot_pb";
import { move, newMoveParams, type Body } from "../src/game/movement";
import type { MapData } from "../src/game/mapdata";
import { RoomSession, type InputFrame } from "../src/game/room";
import { ClockSync } from "../src/net/clock";

const RATE = 30;
const DT = 1000 / RATE;
const params = newMoveParams(RATE);
const map: MapData = {
  name: "test/box",
  scale: 8,
  width: 8000,
  height: 8000,
  walls: [
    [0, 0, 8000, 100],
    [0, 7900, 8000, 8000],
    [0, 0, 100, 8000],
    [7900, 0, 8000, 8000],
    [3000, 3000, 3400, 3400],
  ],
  spawns: [[1000, 1000]],
  halfSize: 112,
  move: { "30": params },
  weapon: { range: 7200, damage: 25, maxHealth: 100, fireRate: 6 },
};

interface Msg {
  at: number;
  deliver: () => void;
}

function simulate(oneWayMs: number, jitterMs: number, seconds: number) {
  const clock = new ClockSync(RATE);
  // The app pings from Hello on, so it knows the round trip before it joins.
  clock.onRtt(2 * oneWayMs + jitterMs);
  const start = 1000; // local ms when the room's tick 0 began (server time = local time here)
  const joinTick = 5;
  const room = new RoomSession(create(JoinedSchema, { roomId: "r1", seat: 0, tick: joinTick, tickRate: RATE, snapshotEvery: 1, map: map.name }), "p1", clock, map);
  room.setRoster(create(RosterSchema, { version: 1, players: [{ seat: 0, playerId: "p1", name: "me", entityId: 1, connected: true }] }));

  let server: Body = { x: 1000, y: 1000, vx: 0, vy: 0 };
  let lastSeq = 0;
  const inbox: InputFrame[] = [];
  const toClient: Msg[] = [];
  const toServer: { at: number; f: InputFrame }[] = [];
  let sentSnap: Body | undefined;
  let late = 0;
  let applied = 0;
  const errors: number[] = [];
  let rng = 12345;
  const rand = () => {
    rng = (rng * 1103515245 + 12345) & 0x7fffffff;
    return rng / 0x7fffffff;
  };
  const delay = () => oneWayMs + rand() * jitterMs;

  const sendSnapshot = (tick: number, t: number) => {
    const body = { ...server };
    // As game/encode.go does: position-only changes go in `moved`, others in `updated`.
    let init: MessageInitShape<typeof SnapshotSchema>;
    if (!sentSnap) {
      init = { tick, ackSeq: lastSeq, created: [{ id: 1, x: body.x, y: body.y, health: 100 }] };
    } else if (body.vx === sentSnap.vx && body.vy === sentSnap.vy) {
      const moved = body.x !== sentSnap.x || body.y !== sentSnap.y ? [1, body.x - sentSnap.x, body.y - sentSnap.y] : [];
      init = { tick, baseAge: 1, ackSeq: lastSeq, moved };
    } else {
      const d = (a: number, b: number) => (a === b ? undefined : a - b);
      init = { tick, baseAge: 1, ackSeq: lastSeq, updated: [{ id: 1, x: d(body.x, sentSnap.x), y: d(body.y, sentSnap.y), vx: d(body.vx, sentSnap.vx), vy: d(body.vy, sentSnap.vy) }] };
    }
    sentSnap = body;
    const s = create(SnapshotSchema, init);
    const at = Math.max(t + delay(), toClient.at(-1)?.at ?? 0); // TCP: in order
    toClient.push({ at, deliver: () => room.onSnapshot(s, at) });
  };

  let nextTick = joinTick + 1;
  let pingId = 0;
  let nextPing = start + joinTick * DT;
  const end = start + seconds * 1000;
  let stick = { moveX: 0, moveY: 0 };
  sendSnapshot(joinTick, start + joinTick * DT);
  for (let now = start + joinTick * DT; now < end; now += 1) {
    // Server ticks.
    while (start + nextTick * DT <= now) {
      const n = nextTick++;
      const due = inbox.filter((f) => f.tick <= n).sort((a, b) => a.seq - b.seq);
      for (const f of due.slice(0, 4)) {
        inbox.splice(inbox.indexOf(f), 1);
        if (f.seq <= lastSeq) continue;
        if (f.tick < n && now > start + 1500) late++;
        server = move(server, f.moveX, f.moveY, params, map.walls);
        lastSeq = f.seq;
        applied++;
      }
      sendSnapshot(n, start + n * DT);
    }
    // Inputs reaching the server.
    while (toServer.length && toServer[0]!.at <= now) inbox.push(toServer.shift()!.f);
    // Messages reaching the client.
    while (toClient.length && toClient[0]!.at <= now) {
      toClient.shift()!.deliver();
      errors.push(room.predictor!.lastError);
    }
    // Pings once a second (answered at once by the server).
    if (now >= nextPing) {
      nextPing += 1000;
      const sent = now;
      const id = ++pingId;
      const srvAt = now + delay();
      const d = srvAt - start;
      const tick = Math.floor(d / DT);
      const frac = Math.floor(((d - tick * DT) / DT) * 65536);
      const at = srvAt + delay();
      toClient.push({ at, deliver: () => clock.onPong(sent, at, tick, frac) });
      toClient.sort((a, b) => a.at - b.at);
      void id;
    }
    // The player changes direction every half second.
    const phase = Math.floor((now - start) / 500) % 4;
    stick = [
      { moveX: 127, moveY: 0 },
      { moveX: 0, moveY: 127 },
      { moveX: -127, moveY: -127 },
      { moveX: 0, moveY: 0 },
    ][phase]!;
    for (const f of room.pump(now, () => ({ ...stick, aim: 0, fire: false }))) {
      toServer.push({ at: now + delay(), f });
      toServer.sort((a, b) => a.at - b.at);
    }
  }
  return { room, late, applied, errors, server, lastSeq };
}

describe("RoomSession", () => {
  it("sends one input per tick that arrives before its tick, and predicts without corrections", () => {
    const r = simulate(75, 0, 6);
    // About one input per server tick.
    expect(r.room.seq).toBeGreaterThan(6 * RATE * 0.9);
    expect(r.room.seq).toBeLessThan(6 * RATE * 1.1);
    // Inputs are held for their tick, not late (the first before clock sync may be).
    expect(r.late).toBe(0);
    expect(r.applied).toBeGreaterThan(r.room.seq - 10);
    // The server always agreed with the prediction.
    expect(r.errors.filter((e) => e !== 0)).toEqual([]);
    expect(r.room.predictor!.corrections).toBe(0);
  });

  it("keeps predicting exactly at 150 ms with jitter", () => {
    const r = simulate(150, 30, 6);
    expect(r.errors.filter((e) => e !== 0)).toEqual([]);
    // A few inputs may be late with jitter (a late input is applied at once, still in order).
    expect(r.late).toBeLessThanOrEqual(10);
    // Render time lags the newest snapshot by at least two intervals.
    expect(r.room.view.tick - r.room.renderTick).toBeGreaterThanOrEqual(0);
  });

  it("stops sending inputs while snapshots stall, and resumes without a burst", () => {
    const clock = new ClockSync(RATE);
    clock.onRtt(20);
    const room = new RoomSession(create(JoinedSchema, { roomId: "r", tick: 10, tickRate: RATE, snapshotEvery: 1, map: map.name }), "p1", clock, map);
    room.setRoster(create(RosterSchema, { players: [{ seat: 0, playerId: "p1", entityId: 1, connected: true }] }));
    room.onSnapshot(create(SnapshotSchema, { tick: 10, created: [{ id: 1, x: 1000, y: 1000 }] }), 0);
    const intent = () => ({ moveX: 127, moveY: 0, aim: 0, fire: false });
    let sent = 0;
    for (let t = 0; t <= 300; t += 10) sent += room.pump(t, intent).length;
    expect(sent).toBeGreaterThan(5);
    // No snapshot since t=0: after STALL_MS nothing more is sent.
    const at = room.seq;
    for (let t = 510; t <= 2000; t += 10) expect(room.pump(t, intent)).toEqual([]);
    expect(room.seq).toBe(at);
    // Snapshots again: one input per tick, no catch-up burst.
    room.onSnapshot(create(SnapshotSchema, { tick: 70, baseAge: 60, ackSeq: at }), 2000);
    const burst = room.pump(2001, intent);
    expect(burst.length).toBeLessThanOrEqual(1);
  });

  it("watches as a spectator: no own entity, no prediction, never an input", () => {
    const session = (spectator: boolean) => {
      const clock = new ClockSync(RATE);
      clock.onRtt(20);
      const room = new RoomSession(create(JoinedSchema, { roomId: "r", tick: 10, tickRate: RATE, snapshotEvery: 1, map: map.name, spectator }), "p1", clock, map);
      // Even a roster entry with this client's player id is not its own.
      room.setRoster(create(RosterSchema, { players: [{ seat: 0, playerId: "p1", entityId: 1, connected: true }, { seat: 1, playerId: "p2", entityId: 2, connected: true }] }));
      room.onSnapshot(create(SnapshotSchema, { tick: 10, created: [{ id: 1, x: 1000, y: 1000 }, { id: 2, x: 2000, y: 1000 }] }), 0);
      let sent = 0;
      for (let t = 0; t <= 300; t += 10) sent += room.pump(t, () => ({ moveX: 127, moveY: 0, aim: 0, fire: true })).length;
      return { room, sent };
    };
    const player = session(false);
    expect(player.sent).toBeGreaterThan(5); // the same session with a seat does send

    const { room, sent } = session(true);
    expect(room.spectator).toBe(true);
    expect(sent).toBe(0);
    expect(room.seq).toBe(0);
    expect(room.ownEntity).toBe(0);
    expect(room.own()).toBeUndefined();
    expect(room.predictor).toBeUndefined();
    expect(room.ready).toBe(false);
    // Everyone is interpolated as a remote player.
    room.onSnapshot(create(SnapshotSchema, { tick: 11, baseAge: 1, moved: [1, 30, 0, 1, -30, 0] }), 33);
    expect([...room.view.entities.keys()].sort()).toEqual([1, 2]);
    expect(room.interp.ids(11).sort()).toEqual([1, 2]);
  });

  it("stamps render time in 1/256 tick", () => {
    const r = simulate(50, 0, 2);
    r.room.renderTick = 123.5;
    expect(r.room.renderTime()).toBe(123 * 256 + 128);
  });
});
