/**
 * Turning keys, gamepad buttons and sticks into action values for a takeover, from the action's
 * control widget (see modalities.controlWidget).
 *
 * Real time: every change of the resulting value is sent (`act(value)`), and `act(null)` when
 * everything is released, which hands the steps back to the AInimal. Lockstep: each press sends
 * one action, and the env waits for the next.
 */

import type { ControlWidget } from "./modalities";

export type TakeoverMode = "realtime" | "lockstep";
export type ActionValue = number | number[] | null;

export interface KeyBinding {
  /** KeyboardEvent.code */
  code: string;
  /** What to show on the key cap. */
  label: string;
  /** For buttons: the choice; for a joystick: the axis (0 x, 1 y) and direction; toggles: the bit. */
  choice?: number;
  axis?: 0 | 1;
  direction?: -1 | 1;
  bit?: number;
}

const DIGITS = ["Digit1", "Digit2", "Digit3", "Digit4", "Digit5", "Digit6", "Digit7", "Digit8", "Digit9", "Digit0", "Minus", "Equal"];
const DIGIT_LABELS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "-", "="];

/** The keys that drive a control: arrows where they read naturally, digits for every choice. */
export function keyBindings(control: ControlWidget | null): KeyBinding[] {
  if (!control) return [];
  if (control.kind === "buttons") {
    const c = control.choices;
    const keys: KeyBinding[] = c.map((choice, i) => ({ code: DIGITS[i]!, label: DIGIT_LABELS[i]!, choice }));
    if (c.length === 2 || c.length === 3) {
      keys.push({ code: "ArrowLeft", label: "←", choice: c[0]! }, { code: "ArrowRight", label: "→", choice: c[c.length - 1]! });
      if (c.length === 3) keys.push({ code: "ArrowDown", label: "↓", choice: c[1]! });
    }
    return keys;
  }
  if (control.kind === "joystick") {
    return [
      { code: "ArrowLeft", label: "←", axis: 0, direction: -1 },
      { code: "ArrowRight", label: "→", axis: 0, direction: 1 },
      { code: "ArrowDown", label: "↓", axis: 1, direction: -1 },
      { code: "ArrowUp", label: "↑", axis: 1, direction: 1 },
      { code: "KeyA", label: "A", axis: 0, direction: -1 },
      { code: "KeyD", label: "D", axis: 0, direction: 1 },
      { code: "KeyS", label: "S", axis: 1, direction: -1 },
      { code: "KeyW", label: "W", axis: 1, direction: 1 },
    ];
  }
  if (control.kind === "toggles") {
    return Array.from({ length: control.size }, (_, bit) => ({ code: DIGITS[bit]!, label: DIGIT_LABELS[bit]!, bit }));
  }
  if (control.kind === "sliders" && control.low.length === 1) {
    // A one-value box (a torque, a throttle): keys push it to either bound while held.
    return [
      { code: "ArrowLeft", label: "←", axis: 0, direction: -1 },
      { code: "ArrowRight", label: "→", axis: 0, direction: 1 },
      { code: "KeyA", label: "A", axis: 0, direction: -1 },
      { code: "KeyD", label: "D", axis: 0, direction: 1 },
    ];
  }
  return []; // larger boxes: on screen and from gamepad axes only
}

/** A joystick position (each axis in [-1, 1]) as a value inside the box's bounds. */
export function joystickValue(control: Extract<ControlWidget, { kind: "joystick" }>, x: number, y: number): number[] {
  return [0, 1].map((axis) => {
    const t = Math.max(-1, Math.min(1, axis === 0 ? x : y));
    const lo = control.low[axis]!;
    const hi = control.high[axis]!;
    return round(lo + ((t + 1) / 2) * (hi - lo));
  });
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** The action that the held keys (in the order they were pressed) make; null when none counts. */
export function valueFromKeys(control: ControlWidget | null, bindings: KeyBinding[], held: string[]): ActionValue {
  if (!control) return null;
  const active = held.map((code) => bindings.find((b) => b.code === code)).filter((b): b is KeyBinding => !!b);
  if (active.length === 0) return null;
  if (control.kind === "buttons") return active[active.length - 1]!.choice ?? null;
  if (control.kind === "joystick") {
    let x = 0;
    let y = 0;
    for (const b of active) {
      if (b.axis === 0) x += b.direction ?? 0;
      else y += b.direction ?? 0;
    }
    return joystickValue(control, x, y);
  }
  if (control.kind === "toggles") {
    const bits = Array.from({ length: control.size }, () => 0);
    for (const b of active) if (b.bit !== undefined) bits[b.bit] = 1;
    return bits;
  }
  if (control.kind === "sliders" && control.low.length === 1) {
    const x = Math.max(
      -1,
      Math.min(
        1,
        active.reduce((sum, b) => sum + (b.direction ?? 0), 0),
      ),
    );
    const lo = control.low[0]!;
    return [round(lo + ((x + 1) / 2) * (control.high[0]! - lo))];
  }
  return null;
}

/** What a gamepad (standard mapping) says, as an action; null when it is at rest. */
export interface PadState {
  buttons: boolean[];
  axes: number[];
}

const DEAD_ZONE = 0.15;
const DPAD_LEFT = 14;
const DPAD_RIGHT = 15;

export function valueFromGamepad(control: ControlWidget | null, pad: PadState): ActionValue {
  if (!control) return null;
  if (control.kind === "buttons") {
    const c = control.choices;
    if (c.length <= 3 && pad.buttons[DPAD_LEFT]) return c[0]!;
    if (c.length <= 3 && pad.buttons[DPAD_RIGHT]) return c[c.length - 1]!;
    const pressed = c.findIndex((_, i) => pad.buttons[i]);
    return pressed >= 0 ? c[pressed]! : null;
  }
  const axes = pad.axes.map((a) => (Math.abs(a) < DEAD_ZONE ? 0 : a));
  if (control.kind === "joystick") {
    const [x = 0, y = 0] = axes;
    if (x === 0 && y === 0) return null;
    return joystickValue(control, x, -y); // gamepads report "up" as negative
  }
  if (control.kind === "sliders") {
    if (axes.every((a) => a === 0)) return null;
    return control.low.map((lo, i) => round(lo + (((axes[i] ?? 0) + 1) / 2) * (control.high[i]! - lo)));
  }
  if (control.kind === "toggles") {
    const bits = Array.from({ length: control.size }, (_, i) => (pad.buttons[i] ? 1 : 0));
    return bits.some((b) => b) ? bits : null;
  }
  return null;
}

export function sameValue(a: ActionValue, b: ActionValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
