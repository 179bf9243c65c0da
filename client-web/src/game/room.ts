// RoomSession is the netcode of one seat in one room: the snapshot view,
// prediction of the local player, interpolation of everyone else, and the
// client tick that produces one Input per server tick, stamped with the
// tick it is meant for and the render time the player is looking at.
//
// A spectator's session (Joined.spectator) has no seat: no own entity, no
// prediction, and pump() never produces an input.
//
// It has no DOM and no socket: the app feeds it messages and the current
// time, and sends the inputs it returns. That keeps it testable.

import type { Joined, Roster, RosterEntry } from "../gen/arbiter/v1/room_pb";
import type { Event, Snapshot } from "../gen/arbiter/v1/snapshot_pb";
import { ClockSync, CommandClock } from "../net/clock";
import { Interpolator, type FrameEntity } from "./interp";
import { moveParamsFor, type MapData } from "./mapdata";
import { Predictor } from "./predict";
import { FLAG_DEAD, KIND_PLAYER, View, type EntityState } from "./view";

/** One input ready to send. */
export interface InputFrame {
  seq: number;
  tick: number;
  buttons: number;
  moveX: number;
  moveY: number;
  aim: number;
  renderTime: number;
  /** Whether the local weapon fires with this input (a prediction of the server's cooldown). */
  shot: boolean;
}

/** What the player is doing right now, sampled once per client tick. */
export interface Intent {
  moveX: number;
  moveY: number;
  aim: number;
  fire: boolean;
}

/** Most inputs generated at once to catch up; beyond that, ticks are skipped. */
const MAX_CATCH_UP = 3;
/**
 * With no snapshot for this long the connection is stalled: inputs stop
 * (the player stands still on the server) instead of piling up in the
 * socket and reaching the server as one burst, which its rate limit would
 * drop, and the prediction waits too.
 */
export const STALL_MS = 500;

export class RoomSession {
  readonly roomId: string;
  /** Watching without a seat: no own entity, no prediction, no inputs. */
  readonly spectator: boolean;
  readonly tickRate: number;
  readonly snapshotEvery: number;
  readonly view = new View();
  readonly interp: Interpolator;
  readonly cmd: CommandClock;
  predictor: Predictor | undefined;
  map: MapData | undefined;
  roster: Roster | undefined;
  readonly byEntity = new Map<number, RosterEntry>();
  ownEntity = 0;
  /** The last input seq sent (inputs start at 1 after each Joined). */
  seq = 0;
  lastInputTick: number | undefined;
  /** The render time of remote entities, in server ticks. */
  renderTick = 0;
  /** The command clock's value at the last pump (fractional tick). */
  cmdTick = 0;
  /** Shots: ticks until the local weapon is ready (a prediction of the server's cooldown). */
  localCooldown = 0;
  readonly cooldownTicks: number;
  snapshots = 0;
  firstSnapshotAt: number | undefined;
  lastSnapshotAt = 0;
  private snapTimes: number[] = [];
  lastAim = 0;

  constructor(
    readonly joined: Joined,
    readonly playerId: string,
    readonly clock: ClockSync,
    map?: MapData,
  ) {
    this.roomId = joined.roomId;
    this.spectator = joined.spectator;
    this.tickRate = joined.tickRate || 30;
    this.snapshotEvery = joined.snapshotEvery || 1;
    this.interp = new Interpolator({ tickRate: this.tickRate, snapshotEvery: this.snapshotEvery });
    this.cmd = new CommandClock(this.tickRate);
    this.clock.tickRate = this.tickRate;
    this.clock.resetTicks();
    this.cooldownTicks = Math.max(1, Math.ceil(this.tickRate / (map?.weapon.fireRate ?? 6)));
    if (map) this.setMap(map);
  }

  setMap(map: MapData): void {
    this.map = map;
    if (this.spectator) return;
    this.predictor = new Predictor(moveParamsFor(map, this.tickRate), map.walls);
    const own = this.own();
    if (own) this.predictor.reset(own);
  }

  setRoster(r: Roster): void {
    this.roster = r;
    this.byEntity.clear();
    for (const p of r.players) {
      if (p.entityId !== 0) this.byEntity.set(p.entityId, p);
      if (!this.spectator && p.playerId === this.playerId) this.ownEntity = p.entityId;
    }
  }

  own(): EntityState | undefined {
    return this.ownEntity ? this.view.entities.get(this.ownEntity) : undefined;
  }

  alive(): boolean {
    const e = this.own();
    return !!e && (e.flags & FLAG_DEAD) === 0;
  }

  /** Whether inputs can be produced: a full snapshot, the map, and the clock. */
  get ready(): boolean {
    return this.view.synced && !!this.predictor && this.clock.synced && !!this.own();
  }

  /**
   * Applies a snapshot received at nowMs: the view, reconciliation of the
   * local player, and the interpolation buffer. Throws DesyncError.
   */
  onSnapshot(s: Snapshot, nowMs: number): readonly Event[] {
    const full = s.baseAge === 0;
    this.view.apply(s);
    this.snapshots++;
    this.firstSnapshotAt ??= nowMs;
    this.lastSnapshotAt = nowMs;
    this.snapTimes.push(nowMs);
    while (this.snapTimes.length > 0 && this.snapTimes[0]! < nowMs - 1000) this.snapTimes.shift();
    this.clock.seedFromSnapshot(s.tick, nowMs);

    const own = this.own();
    if (own && this.predictor) {
      if (full && this.snapshots === 1) {
        this.predictor.reset(own);
      } else {
        this.predictor.reconcile(s.ackSeq, own, (own.flags & FLAG_DEAD) === 0);
      }
    }
    const ents = new Map<number, FrameEntity>();
    for (const e of this.view.entities.values()) {
      if (e.kind !== KIND_PLAYER) continue;
      ents.set(e.id, { x: e.x, y: e.y, vx: e.vx, vy: e.vy, angle: e.angle, flags: e.flags, health: e.health });
    }
    if (full) this.interp.reset();
    this.interp.push({ tick: s.tick, entities: ents }, nowMs);
    return this.view.events;
  }

  /** Snapshots received in the last second. */
  snapshotRate(nowMs: number): number {
    let n = 0;
    for (const t of this.snapTimes) if (t >= nowMs - 1000) n++;
    return n;
  }

  /** The render time in 1/256 tick for Input.render_time. */
  renderTime(): number {
    return Math.max(0, Math.floor(this.renderTick * 256)) >>> 0;
  }

  /** Advances the render clock; call once per drawn frame. */
  advanceRender(nowMs: number): number {
    this.renderTick = this.interp.renderTick(nowMs);
    this.interp.prune(this.renderTick - 2 * this.snapshotEvery);
    return this.renderTick;
  }

  /** The estimated server tick now. */
  serverTick(nowMs: number): number {
    return this.clock.serverTick(nowMs);
  }

  /**
   * Runs the client tick up to nowMs: returns the inputs due (one per
   * server tick, at most a few to catch up), each already applied to the
   * prediction. intent is sampled once and used for all of them.
   */
  pump(nowMs: number, intent: () => Intent): InputFrame[] {
    if (this.spectator || !this.ready) return [];
    if (nowMs - this.lastSnapshotAt > STALL_MS) {
      this.lastInputTick = undefined;
      return [];
    }
    if (this.interp.peekTick(nowMs) > 0) this.renderTick = Math.max(this.renderTick, this.interp.peekTick(nowMs));
    const target = this.clock.serverTick(nowMs) + this.clock.leadTicks();
    const cmd = this.cmd.update(nowMs, target);
    this.cmdTick = cmd;
    const t = Math.floor(cmd);
    if (this.lastInputTick === undefined || t - this.lastInputTick > MAX_CATCH_UP || this.lastInputTick - t > 8) {
      this.lastInputTick = t - 1;
    }
    const out: InputFrame[] = [];
    if (this.lastInputTick >= t) return out;
    const it = intent();
    this.lastAim = it.aim;
    const alive = this.alive();
    while (this.lastInputTick < t) {
      this.lastInputTick++;
      this.seq++;
      const fire = it.fire && alive;
      const shot = fire && this.localCooldown === 0;
      if (shot) this.localCooldown = this.cooldownTicks;
      const f: InputFrame = {
        seq: this.seq,
        tick: this.lastInputTick >>> 0,
        buttons: fire ? 1 : 0,
        moveX: it.moveX,
        moveY: it.moveY,
        aim: it.aim,
        renderTime: this.renderTime(),
        shot,
      };
      this.predictor!.applyInput({ seq: f.seq, moveX: f.moveX, moveY: f.moveY }, alive);
      if (this.localCooldown > 0) this.localCooldown--;
      out.push(f);
    }
    return out;
  }

  /** How far into the current client tick we are, for drawing the local player between ticks. */
  alpha(): number {
    if (this.lastInputTick === undefined) return 1;
    return Math.max(0, Math.min(1, this.cmdTick - this.lastInputTick));
  }

  /** The name of the player controlling entity id. */
  nameOf(id: number): string {
    return this.byEntity.get(id)?.name ?? `#${id}`;
  }

  seatOf(id: number): number {
    return this.byEntity.get(id)?.seat ?? id - 1;
  }
}
