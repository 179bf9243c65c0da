// Where the dashboard's endpoints are: beside the page, under the admin
// address's /dashboard/ (also behind a proxy that mounts it elsewhere), with
// the admin token the page was opened with (?token=...) passed on to every
// one of them, since a browser cannot set an Authorization header on a
// WebSocket.

export interface Endpoints {
  /** GET, WebSocket: the arbiter.v1.Health stream. */
  health: string;
  /** GET, WebSocket: the game protocol, allowed to Spectate any room. */
  spectate: string;
  /** POST: start the drain. */
  drain: string;
  /** GET: a map as JSON, e.g. map("arena/yard"). */
  map(name: string): string;
}

/**
 * The endpoints for a page at loc: /dashboard/ (served by the server as
 * /dashboard/ or /dashboard/dashboard.html) or /dashboard.html (the Vite
 * dev server, which forwards /dashboard/ to the admin address).
 */
export function endpointsFor(loc: Pick<Location, "protocol" | "host" | "pathname" | "search">): Endpoints {
  const path = loc.pathname;
  const i = path.lastIndexOf("/dashboard/");
  const base = i >= 0 ? path.slice(0, i + "/dashboard/".length) : path.replace(/[^/]*$/, "") + "dashboard/";
  const token = new URLSearchParams(loc.search).get("token");
  const q = token ? `?token=${encodeURIComponent(token)}` : "";
  const ws = loc.protocol === "https:" ? "wss:" : "ws:";
  const http = `${loc.protocol}//${loc.host}${base}`;
  return {
    health: `${ws}//${loc.host}${base}ws${q}`,
    spectate: `${ws}//${loc.host}${base}spectate${q}`,
    drain: `${http}drain${q}`,
    map: (name: string) => `${http}maps/${name.split("/").map(encodeURIComponent).join("/")}${q}`,
  };
}
