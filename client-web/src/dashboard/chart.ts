// Small canvas charts for the dashboard, drawn from the per-second points:
// a line chart with axes, gridlines and an optional threshold line (the
// tick budget), and sparklines for the tiles. Both follow devicePixelRatio
// so that text and lines stay sharp.

import type { Point } from "./model";

export interface Series {
  label: string;
  color: string;
  value(p: Point): number;
}

export interface LineChartOptions {
  /** The time window shown, ending at the newest point, in ms. */
  windowMs: number;
  /** Formats a value for the y axis. */
  format(v: number): string;
  /** The y axis reaches at least this high. */
  minMax: number;
  /** A horizontal line, e.g. the tick budget. */
  threshold?: { value: number; label: string; color: string };
  /** Points further apart than this (ms) are not joined: the server was not sampling. */
  gapMs?: number;
}

const AXIS = "#7d8bb0";
const GRID = "rgba(125, 139, 176, 0.14)";
const FONT = "11px ui-monospace, SFMono-Regular, Menlo, monospace";

/** Sizes the backing store to the CSS size at the pixel ratio; returns a context in CSS pixels. */
function fit(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } | undefined {
  const ctx = canvas.getContext("2d");
  if (!ctx) return undefined;
  const dpr = Math.max(1, Math.min(4, window.devicePixelRatio || 1));
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (w === 0 || h === 0) return undefined;
  const bw = Math.round(w * dpr);
  const bh = Math.round(h * dpr);
  if (canvas.width !== bw || canvas.height !== bh) {
    canvas.width = bw;
    canvas.height = bh;
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

/** A round step (1, 2 or 5 times a power of ten) that cuts max into about n parts. */
export function niceStep(max: number, n: number): number {
  if (!(max > 0)) return 1;
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** Draws the series over the last windowMs ending at endT (Unix ms). */
export function drawLineChart(canvas: HTMLCanvasElement, points: readonly Point[], endT: number, series: readonly Series[], o: LineChartOptions): void {
  const c = fit(canvas);
  if (!c) return;
  const { ctx, w, h } = c;
  const left = 64;
  const right = 14;
  const top = 12;
  const bottom = 24;
  const pw = w - left - right;
  const ph = h - top - bottom;
  const start = endT - o.windowMs;
  const shown = points.filter((p) => p.t >= start && p.t <= endT);

  let dataMax = 0;
  for (const p of shown) for (const s of series) dataMax = Math.max(dataMax, s.value(p));
  let max = Math.max(o.minMax, dataMax * 1.15);
  const th = o.threshold;
  // The threshold joins the scale when the data comes near it; far above, it is noted instead.
  if (th && th.value <= max * 2.5) max = Math.max(max, th.value * 1.1);
  const step = niceStep(max, 4);
  max = Math.ceil(max / step) * step;
  const x = (t: number) => left + ((t - start) / o.windowMs) * pw;
  const y = (v: number) => top + ph - (Math.min(v, max) / max) * ph;

  ctx.font = FONT;
  ctx.lineWidth = 1;
  // Horizontal gridlines and the y axis labels.
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let v = 0; v <= max + step / 2; v += step) {
    const yy = Math.round(y(v)) + 0.5;
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(left, yy);
    ctx.lineTo(left + pw, yy);
    ctx.stroke();
    ctx.fillStyle = AXIS;
    ctx.fillText(o.format(v), left - 8, yy);
  }
  // Vertical gridlines each minute, labelled by how long ago.
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const minutes = Math.round(o.windowMs / 60_000);
  for (let m = 0; m <= minutes; m++) {
    const xx = Math.round(x(endT - m * 60_000)) + 0.5;
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(xx, top);
    ctx.lineTo(xx, top + ph);
    ctx.stroke();
    ctx.fillStyle = AXIS;
    ctx.textAlign = m === 0 ? "right" : m === minutes ? "left" : "center";
    ctx.fillText(m === 0 ? "now" : `−${m} min`, xx, top + ph + 7);
  }
  ctx.strokeStyle = "rgba(125, 139, 176, 0.45)";
  ctx.beginPath();
  ctx.moveTo(left + 0.5, top);
  ctx.lineTo(left + 0.5, top + ph + 0.5);
  ctx.lineTo(left + pw, top + ph + 0.5);
  ctx.stroke();

  // The threshold.
  if (th) {
    ctx.fillStyle = th.color;
    ctx.textAlign = "right";
    if (th.value <= max) {
      const yy = Math.round(y(th.value)) + 0.5;
      ctx.strokeStyle = th.color;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(left, yy);
      ctx.lineTo(left + pw, yy);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.textBaseline = "bottom";
      ctx.fillText(`${th.label} ${o.format(th.value)}`, left + pw - 4, yy - 3);
    } else {
      ctx.textBaseline = "top";
      ctx.fillText(`${th.label} ${o.format(th.value)} ↑ (off scale)`, left + pw - 4, top + 3);
    }
  }

  // The series.
  const gap = o.gapMs ?? 3000;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top - 2, pw, ph + 4);
  ctx.clip();
  ctx.lineWidth = 1.75;
  ctx.lineJoin = "round";
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.beginPath();
    let prev: Point | undefined;
    for (const p of shown) {
      const px = x(p.t);
      const py = y(s.value(p));
      if (!prev || p.t - prev.t > gap) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
      prev = p;
    }
    ctx.stroke();
    const lastP = shown.at(-1);
    if (lastP) {
      ctx.fillStyle = s.color;
      ctx.beginPath();
      ctx.arc(x(lastP.t), y(s.value(lastP)), 2.5, 0, Math.PI * 2);
      ctx.fill();
    }
  }
  ctx.restore();

  if (shown.length === 0) {
    ctx.fillStyle = AXIS;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("waiting for the first samples…", left + pw / 2, top + ph / 2);
  }
}

/** A bare line of the last values, scaled to their own maximum (at least minMax). */
export function drawSparkline(canvas: HTMLCanvasElement, values: readonly number[], color: string, minMax = 1): void {
  const c = fit(canvas);
  if (!c) return;
  const { ctx, w, h } = c;
  if (values.length < 2) return;
  const max = Math.max(minMax, ...values) * 1.1;
  const x = (i: number) => (i / (values.length - 1)) * (w - 2) + 1;
  const y = (v: number) => h - 1 - (Math.max(0, v) / max) * (h - 3);
  ctx.beginPath();
  ctx.moveTo(x(0), h);
  values.forEach((v, i) => ctx.lineTo(x(i), y(v)));
  ctx.lineTo(x(values.length - 1), h);
  ctx.closePath();
  ctx.globalAlpha = 0.15;
  ctx.fillStyle = color;
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.beginPath();
  values.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.stroke();
}
