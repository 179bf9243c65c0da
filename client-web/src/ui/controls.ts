// Keyboard and mouse state for the game: WASD or arrows move, the mouse
// aims, a click or Space fires. Keys typed into a text field are not game
// keys.

import { MOVE_MAX } from "../game/movement";

const LEFT = new Set(["KeyA", "ArrowLeft"]);
const RIGHT = new Set(["KeyD", "ArrowRight"]);
const UP = new Set(["KeyW", "ArrowUp"]);
const DOWN = new Set(["KeyS", "ArrowDown"]);

function isTextField(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t.isContentEditable;
}

export class Controls {
  private keys = new Set<string>();
  private mouseDown = false;
  /** Mouse position in CSS pixels relative to the canvas. */
  mouseX = 0;
  mouseY = 0;
  hasMouse = false;
  /** Whether the game has the keyboard (false while typing in chat). */
  enabled = true;

  constructor(canvas: HTMLCanvasElement) {
    window.addEventListener("keydown", (e) => {
      if (isTextField(e.target)) return;
      if (LEFT.has(e.code) || RIGHT.has(e.code) || UP.has(e.code) || DOWN.has(e.code) || e.code === "Space") {
        if (this.enabled) e.preventDefault();
      }
      this.keys.add(e.code);
    });
    window.addEventListener("keyup", (e) => {
      this.keys.delete(e.code);
    });
    window.addEventListener("blur", () => {
      this.keys.clear();
      this.mouseDown = false;
    });
    canvas.addEventListener("pointermove", (e) => {
      const r = canvas.getBoundingClientRect();
      this.mouseX = e.clientX - r.left;
      this.mouseY = e.clientY - r.top;
      this.hasMouse = true;
    });
    canvas.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const r = canvas.getBoundingClientRect();
      this.mouseX = e.clientX - r.left;
      this.mouseY = e.clientY - r.top;
      this.hasMouse = true;
      this.mouseDown = true;
    });
    window.addEventListener("pointerup", (e) => {
      if (e.button === 0) this.mouseDown = false;
    });
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  private any(set: Set<string>): boolean {
    for (const k of set) if (this.keys.has(k)) return true;
    return false;
  }

  /** The movement stick: ±127 per axis (the server normalises diagonals). */
  stick(): { x: number; y: number } {
    if (!this.enabled) return { x: 0, y: 0 };
    const x = (this.any(RIGHT) ? MOVE_MAX : 0) - (this.any(LEFT) ? MOVE_MAX : 0);
    const y = (this.any(DOWN) ? MOVE_MAX : 0) - (this.any(UP) ? MOVE_MAX : 0);
    return { x, y };
  }

  firing(): boolean {
    return this.enabled && (this.mouseDown || this.keys.has("Space"));
  }

  clear(): void {
    this.keys.clear();
    this.mouseDown = false;
  }
}

/** The aim from (dx, dy) in 1/65536 turn: 0 = +x, clockwise on screen. */
export function aimFrom(dx: number, dy: number): number {
  if (dx === 0 && dy === 0) return 0;
  return Math.round((Math.atan2(dy, dx) / (2 * Math.PI)) * 65536) & 65535;
}
