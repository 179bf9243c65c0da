// The Cluster panel's view data, from the ClusterHealth part of a Health
// message: the nodes in the registry as table rows (this node marked, a
// load fraction against the node's caps) and each mode's matchmaking lease
// with a label for its holder. Pure functions: panels.ts only draws them.
// A single node sends no ClusterHealth, and gets no view: the panel hides.

import type { ClusterHealth, ClusterNode } from "../gen/arbiter/v1/health_pb";
import { fmtAge, fmtInt } from "./format";

/** A node's load at or above this fraction of a cap is shown as a warning. */
export const LOAD_WARN = 0.75;

export type LoadLevel = "ok" | "warn" | "full" | "none";

/** One row of the nodes table. */
export interface ClusterNodeRow {
  id: string;
  /** This row is the node the page is connected to. */
  self: boolean;
  publicUrl: string;
  /** "3 / 10", or "3" without a room cap. */
  rooms: string;
  /** "12 / 100", or "12 / ∞" without a player cap. */
  players: string;
  /** Used fraction of the tighter cap, 0..1; null when the node has no caps. */
  load: number | null;
  /** "45%", or "no cap". */
  loadText: string;
  loadLevel: LoadLevel;
  draining: boolean;
  ageMs: number;
  /** How long ago the node refreshed its entry, e.g. "0.4 s". */
  age: string;
}

/** One row of the leases table. */
export interface ClusterLeaseRow {
  mode: string;
  /** The holder's node id; "" while nobody holds the lease. */
  holder: string;
  /** "a", "a (this node)" or "none". */
  label: string;
  /** This node runs the mode's matchmaker. */
  self: boolean;
  /** Nobody holds the lease (tickets of the mode wait for a holder). */
  vacant: boolean;
}

export interface ClusterView {
  /** The node that sends the stream (the page's node). */
  nodeId: string;
  natsConnected: boolean;
  nodes: ClusterNodeRow[];
  leases: ClusterLeaseRow[];
  /** Whether this node is among the registry's nodes (not while it has left it, or cannot reach NATS). */
  selfListed: boolean;
  /** "2 nodes · 5 players · 3 rooms", over the listed nodes. */
  summary: string;
}

type Capped = Pick<ClusterNode, "players" | "maxPlayers" | "rooms" | "maxRooms">;

/**
 * The used fraction of a node's tighter cap (players of max players, rooms
 * of max rooms; a cap of 0 is none), clamped to 0..1; null without caps.
 */
export function loadFraction(n: Capped): number | null {
  let f: number | null = null;
  if (n.maxPlayers > 0) f = n.players / n.maxPlayers;
  if (n.maxRooms > 0) f = Math.max(f ?? 0, n.rooms / n.maxRooms);
  return f === null ? null : Math.min(1, Math.max(0, f));
}

export function loadLevel(f: number | null): LoadLevel {
  if (f === null) return "none";
  if (f >= 1) return "full";
  return f >= LOAD_WARN ? "warn" : "ok";
}

/** The holder of a lease as the panel shows it. */
export function leaseHolderLabel(holder: string, selfId: string): string {
  if (!holder) return "none";
  return holder === selfId ? `${holder} (this node)` : holder;
}

export function nodeRow(n: ClusterNode, selfId: string): ClusterNodeRow {
  const load = loadFraction(n);
  return {
    id: n.id,
    self: n.id === selfId,
    publicUrl: n.publicUrl,
    rooms: n.maxRooms > 0 ? `${fmtInt(n.rooms)} / ${fmtInt(n.maxRooms)}` : fmtInt(n.rooms),
    players: `${fmtInt(n.players)} / ${n.maxPlayers > 0 ? fmtInt(n.maxPlayers) : "∞"}`,
    load,
    loadText: load === null ? "no cap" : `${Math.round(load * 100)}%`,
    loadLevel: loadLevel(load),
    draining: n.draining,
    ageMs: n.ageMs,
    age: fmtAge(n.ageMs),
  };
}

const plural = (n: number, one: string) => `${fmtInt(n)} ${one}${n === 1 ? "" : "s"}`;

/** The panel's view of the cluster, or undefined on a single node (no ClusterHealth). */
export function clusterView(c: ClusterHealth | undefined): ClusterView | undefined {
  if (!c) return undefined;
  const self = c.nodeId;
  const nodes = c.nodes.map((n) => nodeRow(n, self)).sort((a, b) => a.id.localeCompare(b.id));
  const leases = c.leases
    .map((l) => ({ mode: l.mode, holder: l.holder, label: leaseHolderLabel(l.holder, self), self: !!self && l.holder === self, vacant: !l.holder }))
    .sort((a, b) => a.mode.localeCompare(b.mode));
  let players = 0;
  let rooms = 0;
  for (const n of c.nodes) {
    players += n.players;
    rooms += n.rooms;
  }
  return {
    nodeId: self,
    natsConnected: c.natsConnected,
    nodes,
    leases,
    selfListed: nodes.some((n) => n.self),
    summary: `${plural(nodes.length, "node")} · ${plural(players, "player")} · ${plural(rooms, "room")}`,
  };
}
