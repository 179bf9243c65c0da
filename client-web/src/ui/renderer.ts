// Canvas 2D drawing of the arena. The canvas fills the window and its
// backing store follows devicePixelRatio, so lines and text stay sharp on
// HiDPI screens. Everything here is in world units (1/8 of the wire's
// fixed-point unit); the camera fits the whole map into the window.

import type { MapData } from "../game/mapdata";

export interface DrawPlayer {
  id: number;
  x: number;
  y: number;
  /** Facing in radians (0 = +x, clockwise on screen). */
  angle: number;
  name: string;
  health: number;
  maxHealth: number;
  dead: boolean;
  invulnerable: boolean;
  firing: boolean;
  self: boolean;
  seat: number;
}

export interface Effect {
  kind: "tracer" | "spark" | "ring" | "damage" | "hitmarker";
  x: number;
  y: number;
  x2: number;
  y2: number;
  /** performance.now() when it started, and how long it lasts (ms). */
  born: number;
  life: number;
  self: boolean;
}

const SEAT_COLORS = ["#4cc9f0", "#f72585", "#b5e48c", "#ffb703", "#9d4edd", "#fb8500", "#06d6a0", "#e5e5e5"];

export function seatColor(seat: number): string {
  return SEAT_COLORS[((seat % SEAT_COLORS.length) + SEAT_COLORS.length) % SEAT_COLORS.length]!;
}

export class Renderer {
  private ctx: CanvasRenderingContext2D;
  private dpr = 1;
  private cssW = 0;
  private cssH = 0;
  /** Camera: CSS px = o + world * scale. */
  scale = 1;
  ox = 0;
  oy = 0;

  constructor(private canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("canvas 2D is not available");
    this.ctx = ctx;
  }

  /** Matches the backing store to the CSS size and the pixel ratio. */
  resize(): void {
    const dpr = Math.max(1, Math.min(4, window.devicePixelRatio || 1));
    const w = this.canvas.clientWidth || window.innerWidth;
    const h = this.canvas.clientHeight || window.innerHeight;
    if (w === this.cssW && h === this.cssH && dpr === this.dpr) return;
    this.cssW = w;
    this.cssH = h;
    this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
  }

  private fit(map: MapData): void {
    const mw = map.width / map.scale;
    const mh = map.height / map.scale;
    const margin = 16;
    this.scale = Math.max(0.05, Math.min((this.cssW - 2 * margin) / mw, (this.cssH - 2 * margin) / mh));
    this.ox = (this.cssW - mw * this.scale) / 2;
    this.oy = (this.cssH - mh * this.scale) / 2;
  }

  worldToScreen(x: number, y: number): { x: number; y: number } {
    return { x: this.ox + x * this.scale, y: this.oy + y * this.scale };
  }

  screenToWorld(x: number, y: number): { x: number; y: number } {
    return { x: (x - this.ox) / this.scale, y: (y - this.oy) / this.scale };
  }

  draw(map: MapData | undefined, players: readonly DrawPlayer[], effects: readonly Effect[], now: number, crosshair?: { x: number; y: number }): void {
    this.resize();
    const ctx = this.ctx;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = "#0b0f1a";
    ctx.fillRect(0, 0, this.cssW, this.cssH);
    if (!map) return;
    this.fit(map);
    const s = this.scale;
    const sc = map.scale;
    ctx.setTransform(this.dpr * s, 0, 0, this.dpr * s, this.dpr * this.ox, this.dpr * this.oy);

    // Floor and grid.
    const mw = map.width / sc;
    const mh = map.height / sc;
    ctx.fillStyle = "#141b2d";
    ctx.fillRect(0, 0, mw, mh);
    ctx.strokeStyle = "rgba(255,255,255,0.05)";
    ctx.lineWidth = 1 / s;
    ctx.beginPath();
    for (let x = 100; x < mw; x += 100) {
      ctx.moveTo(x, 0);
      ctx.lineTo(x, mh);
    }
    for (let y = 100; y < mh; y += 100) {
      ctx.moveTo(0, y);
      ctx.lineTo(mw, y);
    }
    ctx.stroke();
    // Spawn points.
    ctx.fillStyle = "rgba(255,255,255,0.06)";
    for (const [x, y] of map.spawns) {
      ctx.beginPath();
      ctx.arc(x / sc, y / sc, 22, 0, Math.PI * 2);
      ctx.fill();
    }
    // Walls.
    ctx.fillStyle = "#3a4763";
    ctx.strokeStyle = "#5b6d94";
    ctx.lineWidth = 2 / s;
    for (const w of map.walls) {
      const x = w[0] / sc;
      const y = w[1] / sc;
      const ww = (w[2] - w[0]) / sc;
      const hh = (w[3] - w[1]) / sc;
      ctx.fillRect(x, y, ww, hh);
      ctx.strokeRect(x, y, ww, hh);
    }

    // Effects under the players: tracers.
    for (const e of effects) {
      const age = (now - e.born) / e.life;
      if (age < 0 || age >= 1) continue;
      if (e.kind === "tracer") {
        ctx.strokeStyle = e.self ? `rgba(255,240,150,${1 - age})` : `rgba(255,180,120,${1 - age})`;
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        ctx.moveTo(e.x, e.y);
        ctx.lineTo(e.x2, e.y2);
        ctx.stroke();
      }
    }

    const half = map.halfSize / sc;
    for (const p of players) {
      const color = seatColor(p.seat);
      ctx.save();
      ctx.translate(p.x, p.y);
      ctx.globalAlpha = p.dead ? 0.3 : 1;
      if (p.invulnerable && !p.dead) {
        ctx.strokeStyle = `rgba(255,255,255,${0.4 + 0.3 * Math.sin(now / 80)})`;
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(0, 0, half * 1.6, 0, Math.PI * 2);
        ctx.stroke();
      }
      // Barrel.
      ctx.save();
      ctx.rotate(p.angle);
      ctx.fillStyle = p.firing && !p.dead ? "#fff3b0" : "#cfd8e3";
      ctx.fillRect(half * 0.4, -3, half * 1.4, 6);
      ctx.restore();
      // Body.
      ctx.fillStyle = color;
      ctx.strokeStyle = p.self ? "#ffffff" : "rgba(0,0,0,0.6)";
      ctx.lineWidth = p.self ? 3 : 2;
      ctx.beginPath();
      ctx.roundRect(-half, -half, half * 2, half * 2, 6);
      ctx.fill();
      ctx.stroke();
      if (p.dead) {
        ctx.strokeStyle = "#ff4d6d";
        ctx.lineWidth = 3;
        ctx.beginPath();
        ctx.moveTo(-half * 0.6, -half * 0.6);
        ctx.lineTo(half * 0.6, half * 0.6);
        ctx.moveTo(half * 0.6, -half * 0.6);
        ctx.lineTo(-half * 0.6, half * 0.6);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
      // Health bar and name.
      if (!p.dead) {
        const f = Math.max(0, Math.min(1, p.health / p.maxHealth));
        ctx.fillStyle = "rgba(0,0,0,0.6)";
        ctx.fillRect(-half, -half - 10, half * 2, 5);
        ctx.fillStyle = f > 0.5 ? "#06d6a0" : f > 0.25 ? "#ffb703" : "#ef233c";
        ctx.fillRect(-half, -half - 10, half * 2 * f, 5);
      }
      ctx.fillStyle = p.self ? "#ffffff" : "#d0d7e2";
      ctx.font = `${Math.max(10, 12 / Math.min(1, s))}px system-ui, sans-serif`;
      ctx.textAlign = "center";
      ctx.textBaseline = "bottom";
      ctx.fillText(p.name, 0, -half - 13);
      ctx.restore();
    }

    // Effects over the players.
    for (const e of effects) {
      const age = (now - e.born) / e.life;
      if (age < 0 || age >= 1) continue;
      if (e.kind === "spark") {
        ctx.fillStyle = `rgba(255,220,120,${1 - age})`;
        ctx.beginPath();
        ctx.arc(e.x, e.y, 4 + 10 * age, 0, Math.PI * 2);
        ctx.fill();
      } else if (e.kind === "ring") {
        ctx.strokeStyle = `rgba(255,77,109,${1 - age})`;
        ctx.lineWidth = 4;
        ctx.beginPath();
        ctx.arc(e.x, e.y, 10 + 60 * age, 0, Math.PI * 2);
        ctx.stroke();
      } else if (e.kind === "hitmarker") {
        const r = 8 + 6 * age;
        ctx.strokeStyle = e.self ? `rgba(255,255,255,${1 - age})` : `rgba(255,77,109,${1 - age})`;
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        ctx.moveTo(e.x - r, e.y - r);
        ctx.lineTo(e.x - r / 2, e.y - r / 2);
        ctx.moveTo(e.x + r, e.y - r);
        ctx.lineTo(e.x + r / 2, e.y - r / 2);
        ctx.moveTo(e.x - r, e.y + r);
        ctx.lineTo(e.x - r / 2, e.y + r / 2);
        ctx.moveTo(e.x + r, e.y + r);
        ctx.lineTo(e.x + r / 2, e.y + r / 2);
        ctx.stroke();
      }
    }

    // Screen-space overlays.
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    for (const e of effects) {
      const age = (now - e.born) / e.life;
      if (e.kind !== "damage" || age < 0 || age >= 1) continue;
      const g = ctx.createRadialGradient(this.cssW / 2, this.cssH / 2, Math.min(this.cssW, this.cssH) * 0.3, this.cssW / 2, this.cssH / 2, Math.max(this.cssW, this.cssH) * 0.7);
      g.addColorStop(0, "rgba(239,35,60,0)");
      g.addColorStop(1, `rgba(239,35,60,${0.45 * (1 - age)})`);
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, this.cssW, this.cssH);
    }
    if (crosshair) {
      ctx.strokeStyle = "rgba(255,255,255,0.85)";
      ctx.lineWidth = 1.5;
      const { x, y } = crosshair;
      ctx.beginPath();
      ctx.arc(x, y, 9, 0, Math.PI * 2);
      ctx.moveTo(x - 14, y);
      ctx.lineTo(x - 5, y);
      ctx.moveTo(x + 5, y);
      ctx.lineTo(x + 14, y);
      ctx.moveTo(x, y - 14);
      ctx.lineTo(x, y - 5);
      ctx.moveTo(x, y + 5);
      ctx.lineTo(x, y + 14);
      ctx.stroke();
    }
  }
}
