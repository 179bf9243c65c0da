// One WebSocket to the server, speaking arbiter.v1: one binary protobuf
// ClientMessage / ServerMessage per WebSocket message.

import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ClientMessageSchema, ServerMessageSchema, type ServerMessage } from "../gen/arbiter/v1/envelope_pb";

/** The oneof of a ClientMessage, with plain objects allowed for the messages. */
export type ClientMsg = NonNullable<MessageInitShape<typeof ClientMessageSchema>["msg"]>;

export interface CloseInfo {
  code: number;
  reason: string;
  /** Whether the socket ever opened (false: the connection attempt failed). */
  opened: boolean;
}

export interface ConnectionHandlers {
  onOpen(): void;
  onMessage(m: ServerMessage): void;
  onClose(info: CloseInfo): void;
}

/** The default WebSocket URL: the page's own host, /v1/connect (or ?server=ws://...). */
export function defaultURL(loc: Location): string {
  const q = new URLSearchParams(loc.search).get("server");
  if (q) return q;
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${loc.host}/v1/connect`;
}

/** GET /v1/rooms (the rooms players may watch) beside the WebSocket URL wsURL. */
export function roomsURL(wsURL: string): string {
  const u = new URL(wsURL);
  u.protocol = u.protocol === "wss:" ? "https:" : "http:";
  u.pathname = "/v1/rooms";
  u.search = "";
  u.hash = "";
  return u.toString();
}

/**
 * Connection wraps one WebSocket. Its handlers are called for this socket
 * only: once close() or detach() has been called, nothing more is reported,
 * so a replaced connection can never disturb its successor.
 */
export class Connection {
  private ws: WebSocket;
  private opened = false;
  private detached = false;
  bytesIn = 0;
  bytesOut = 0;
  messagesIn = 0;

  constructor(
    /** The WebSocket URL this connection was opened to. */
    readonly url: string,
    private handlers: ConnectionHandlers,
  ) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => {
      this.opened = true;
      if (!this.detached) this.handlers.onOpen();
    };
    this.ws.onmessage = (ev: MessageEvent) => {
      if (this.detached) return;
      if (!(ev.data instanceof ArrayBuffer)) {
        console.warn("arbiter: ignoring a text message from the server");
        return;
      }
      this.bytesIn += ev.data.byteLength;
      this.messagesIn++;
      let m: ServerMessage;
      try {
        m = fromBinary(ServerMessageSchema, new Uint8Array(ev.data));
      } catch (e) {
        console.warn("arbiter: undecodable server message", e);
        return;
      }
      this.handlers.onMessage(m);
    };
    // A failed connection fires error, then close: close alone is reported.
    this.ws.onerror = () => {};
    this.ws.onclose = (ev: CloseEvent) => {
      if (this.detached) return;
      this.detached = true;
      this.handlers.onClose({ code: ev.code, reason: ev.reason, opened: this.opened });
    };
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.detached;
  }

  /** Sends one ClientMessage; false if the socket is not open. */
  send(msg: ClientMsg): boolean {
    if (!this.isOpen) return false;
    const b = toBinary(ClientMessageSchema, create(ClientMessageSchema, { msg }));
    this.bytesOut += b.byteLength;
    this.ws.send(b);
    return true;
  }

  /** Closes the socket (normal closure) without reporting it. */
  close(): void {
    this.detached = true;
    try {
      this.ws.close(1000);
    } catch {
      // already closing
    }
  }

  /**
   * Test hook: closes the socket as a lost connection would look to the
   * app (the close is reported as usual).
   */
  sever(): void {
    try {
      this.ws.close(4000, "severed by test");
    } catch {
      // already closing
    }
  }
}
