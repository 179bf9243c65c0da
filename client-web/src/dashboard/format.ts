// Number formatting for the dashboard: short, fixed-width friendly, units
// always shown.

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Bytes as B, KiB, MiB, GiB. */
export function fmtBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** A rate in bytes per second. */
export function fmtRate(bytesPerS: number): string {
  return `${fmtBytes(bytesPerS)}/s`;
}

/** Milliseconds with a precision that suits the size (µs below 1 ms). */
export function fmtMs(ms: number): string {
  if (ms <= 0) return "0 ms";
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return fmtDuration(ms / 1000);
}

/** Seconds as 42s, 3m 05s, 2h 04m, 3d 02h. */
export function fmtDuration(s: number): string {
  s = Math.max(0, Math.floor(s));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d ${String(Math.floor(s / 3600) % 24).padStart(2, "0")}h`;
}

/** An age in ms: 400 ms, 2.5 s, 3m 05s, 2h 04m. */
export function fmtAge(ms: number): string {
  ms = Math.max(0, ms);
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return fmtDuration(ms / 1000);
}

export function fmtPercent(p: number): string {
  return `${p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

/** A counter name from the server (e.g. "input_rate_limited") as words. */
export function fmtReason(name: string): string {
  return name.replace(/_/g, " ");
}
