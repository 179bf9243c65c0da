// Headless players for the browser benchmarks: each speaks arbiter.v1 over
// Node's WebSocket (node --experimental-websocket on Node 20) with the same
// generated protobuf code as the browser client, queues for a mode, and once
// seated sends one input per tick: a random walk, a turning aim, and bursts
// of fire, so that the page under test draws moving, shooting players.

import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ClientMessageSchema, ServerMessageSchema } from "../src/gen/arbiter/v1/envelope_pb";

type Msg = NonNullable<MessageInitShape<typeof ClientMessageSchema>["msg"]>;

export class Bot {
  private ws: WebSocket;
  private seq = 0;
  private tick = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stick = { x: 0, y: 0 };
  private aim = 0;
  private n = 0;
  joined = false;
  snapshots = 0;
  readonly ready: Promise<void>;

  constructor(url: string, readonly name: string, readonly mode = "arena", tickRate = 30) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.ws.onopen = () => this.send({ case: "hello", value: { protocolVersion: 1, name, client: "arbiter-bench-bot" } });
    this.ws.onerror = () => reject(new Error(`bot ${name}: connection failed`));
    this.ws.onmessage = (ev: MessageEvent) => {
      const m = fromBinary(ServerMessageSchema, new Uint8Array(ev.data as ArrayBuffer)).msg;
      switch (m.case) {
        case "welcome":
          this.send({ case: "findMatch", value: { mode } });
          break;
        case "matchFound":
          this.send({ case: "joinRoom", value: { joinToken: m.value.joinToken } });
          break;
        case "joined":
          this.joined = true;
          this.seq = 0;
          this.tick = m.value.tick;
          this.timer ??= setInterval(() => this.step(), 1000 / tickRate);
          break;
        case "snapshot":
          this.tick = m.value.tick;
          if (this.snapshots++ === 0) resolve();
          break;
        case "roomClosed":
          this.joined = false;
          break;
        default:
          break;
      }
    };
  }

  private send(msg: Msg): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(toBinary(ClientMessageSchema, create(ClientMessageSchema, { msg })));
  }

  private step(): void {
    if (!this.joined) return;
    this.n++;
    if (this.n % 30 === 1) {
      const dirs = [-127, 0, 127];
      this.stick = { x: dirs[Math.floor(Math.random() * 3)]!, y: dirs[Math.floor(Math.random() * 3)]! };
    }
    this.aim = (this.aim + 700) & 65535;
    const fire = this.n % 60 < 15;
    this.seq++;
    this.send({
      case: "input",
      value: {
        seq: this.seq,
        tick: this.tick + 2,
        buttons: fire ? 1 : 0,
        moveX: this.stick.x,
        moveY: this.stick.y,
        aim: this.aim,
        renderTime: Math.max(0, (this.tick - 2) * 256),
      },
    });
  }

  /**
   * Leaves like a player who quits (LeaveRoom frees the seat at once; a
   * bare close would keep it for the rejoin grace period, and the next
   * scenario's bots would fill a room of ghosts), then closes.
   */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.send({ case: "leaveRoom", value: {} });
    this.ws.close();
  }
}
