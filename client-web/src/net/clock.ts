// Clock sync from Ping/Pong (docs/PROTOCOL.md, "Inputs and timing").
//
// Each Pong gives the round-trip time and, in a room, the room's tick clock
// when the server wrote it (tick + tick_fraction/65536). Assuming the Pong
// took half the round trip, the server tick at local time t is
//
//	pong.tick + fraction + (t - t_recv + rtt/2) * tickRate
//
// Of the recent samples the one with the smallest round trip is the least
// disturbed by queueing, so it is the one used (as NTP does). The estimate
// moves towards a new best sample gradually, never jumping by less than a
// tick, so that the command clock built on it does not stutter.

interface Sample {
  rttMs: number;
  /** server ticks - local ticks, at the moment of the sample. */
  offset: number;
  at: number;
}

export class ClockSync {
  private samples: Sample[] = [];
  private rtts: number[] = [];
  private offset: number | undefined;
  private lastUpdate = 0;
  /** Smoothed round-trip time in ms (undefined before the first Pong). */
  rttMs: number | undefined;
  /** Smallest round trip of the recent window, in ms. */
  minRttMs: number | undefined;
  /** Round-trip jitter: the spread of recent RTTs above the smallest, in ms. */
  jitterMs = 0;

  constructor(public tickRate: number) {}

  private ticks(ms: number): number {
    return (ms * this.tickRate) / 1000;
  }

  /** Forgets the tick mapping (a new room); RTT statistics are kept. */
  resetTicks(): void {
    this.samples = [];
    this.offset = undefined;
  }

  /** Records a round trip measured outside a room (no tick). */
  onRtt(rttMs: number): void {
    this.rtts.push(rttMs);
    if (this.rtts.length > 16) this.rtts.shift();
    this.rttMs = this.rttMs === undefined ? rttMs : this.rttMs * 0.8 + rttMs * 0.2;
    const sorted = [...this.rtts].sort((a, b) => a - b);
    this.minRttMs = sorted[0];
    const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]!;
    this.jitterMs = p90 - sorted[0]!;
  }

  /**
   * Records a Pong: sent and received at local ms (performance.now()),
   * with the server's tick position when it was written (tick 0 and fraction
   * 0 outside a room).
   */
  onPong(sentMs: number, recvMs: number, tick: number, fraction: number): void {
    const rtt = Math.max(0, recvMs - sentMs);
    this.onRtt(rtt);
    if (tick === 0 && fraction === 0) return;
    const serverTicks = tick + fraction / 65536 + this.ticks(rtt / 2);
    this.samples.push({ rttMs: rtt, offset: serverTicks - this.ticks(recvMs), at: recvMs });
    if (this.samples.length > 8) this.samples.shift();
    let best = this.samples[0]!;
    for (const s of this.samples) if (s.rttMs < best.rttMs) best = s;
    if (this.offset === undefined || Math.abs(best.offset - this.offset) > 2) {
      this.offset = best.offset;
    } else {
      // Converge gradually on the best estimate.
      this.offset += (best.offset - this.offset) * 0.5;
    }
    this.lastUpdate = recvMs;
  }

  /**
   * Seeds the mapping from a snapshot of the given tick received at nowMs,
   * when no Pong from this room has come yet: the server was at about that
   * tick half a round trip ago.
   */
  seedFromSnapshot(tick: number, nowMs: number): void {
    if (this.samples.length > 0) return;
    const oneWay = (this.rttMs ?? 0) / 2;
    const off = tick + this.ticks(oneWay) - this.ticks(nowMs);
    // A snapshot is written after its tick ran: never assume the server is behind it.
    if (this.offset === undefined || off > this.offset) this.offset = off;
  }

  /** Whether the tick mapping is known. */
  get synced(): boolean {
    return this.offset !== undefined;
  }

  /** Whether a Pong from this room has refined the mapping. */
  get fromPong(): boolean {
    return this.samples.length > 0;
  }

  /** The estimated server tick (fractional) at local time nowMs. */
  serverTick(nowMs: number): number {
    return this.ticks(nowMs) + (this.offset ?? 0);
  }

  /**
   * How far ahead of the server clock inputs are sent, in ticks: half the
   * round trip plus a margin for jitter, so that each input arrives shortly
   * before the tick it names.
   */
  leadTicks(): number {
    const rtt = this.minRttMs ?? this.rttMs ?? 0;
    const margin = Math.max(this.ticks(this.jitterMs), 0.3) + 0.2;
    return this.ticks(rtt / 2) + margin;
  }

  get lastUpdateMs(): number {
    return this.lastUpdate;
  }
}

/**
 * CommandClock runs the client's input ticks: it follows target(now) (the
 * estimated server tick plus the lead) smoothly, running up to 10% fast or
 * slow to close small gaps and jumping only for large ones.
 */
export class CommandClock {
  private value: number | undefined;
  private last = 0;
  private speed = 1;

  constructor(public tickRate: number) {}

  reset(): void {
    this.value = undefined;
  }

  /** Advances to nowMs towards target and returns the command tick (fractional). */
  update(nowMs: number, target: number): number {
    if (this.value === undefined) {
      this.value = target;
      this.last = nowMs;
      return target;
    }
    const dt = Math.max(0, nowMs - this.last);
    this.last = nowMs;
    this.value += ((dt * this.tickRate) / 1000) * this.speed;
    const err = target - this.value;
    if (Math.abs(err) > 4) {
      this.value = target;
      this.speed = 1;
    } else {
      this.speed = 1 + Math.max(-0.1, Math.min(0.1, err * 0.1));
    }
    return this.value;
  }

  /** Milliseconds until the command tick reaches its next whole tick. */
  msToNextTick(): number {
    if (this.value === undefined) return 1000 / this.tickRate;
    const frac = this.value - Math.floor(this.value);
    return ((1 - frac) * 1000) / this.tickRate / this.speed;
  }
}
