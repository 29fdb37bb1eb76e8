/**
 * Modalities (the server's JSON description of a space, see sdk/modalities.py) decide how a
 * value is drawn and whether a person can produce one from a keyboard, a gamepad or a screen.
 */

export interface Modality {
  kind: string;
  shape?: number[];
  dtype?: string;
  low?: number | null | NestedNumbers;
  high?: number | null | NestedNumbers;
  low_min?: number | null;
  high_max?: number | null;
  n?: number | number[];
  start?: number | number[];
  nvec?: number[];
  spaces?: Record<string, Modality> | Modality[];
  min_length?: number;
  max_length?: number | null;
  charset?: string | null;
  [key: string]: unknown;
}
type NestedNumbers = (number | null | NestedNumbers)[];
export type Modalities = Record<string, Modality>;

/** How a value of a modality is shown. */
export type DisplayWidget =
  | { kind: "image" }
  | { kind: "sparkline" } // a single number, drawn over time
  | { kind: "bars"; size: number } // a short vector: one bar per element
  | { kind: "heatmap"; rows: number; cols: number } // a large array
  | { kind: "choices"; choices: number[] } // discrete: the chosen one highlighted
  | { kind: "multi-choices"; groups: number[][] } // multi_discrete
  | { kind: "bits"; size: number } // multi_binary
  | { kind: "text" }
  | { kind: "group"; entries: [string, Modality][] } // dict / tuple
  | { kind: "json" };

export function size(shape: number[] | undefined): number {
  return (shape ?? []).reduce((a, b) => a * b, 1);
}

function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}

/** The widget that draws values of `modality`. */
export function displayWidget(modality: Modality | null | undefined): DisplayWidget {
  switch (modality?.kind) {
    case "image":
      return { kind: "image" };
    case "box": {
      const shape = modality.shape ?? [];
      const n = size(shape);
      if (n === 1) return { kind: "sparkline" };
      if (n <= 64) return { kind: "bars", size: n };
      const cols = shape.length >= 2 ? (shape[shape.length - 1] ?? n) : Math.ceil(Math.sqrt(n));
      return { kind: "heatmap", rows: Math.ceil(n / cols), cols };
    }
    case "discrete":
      return { kind: "choices", choices: range(Number(modality.start ?? 0), Number(modality.n ?? 0)) };
    case "multi_discrete": {
      const starts = Array.isArray(modality.start) ? modality.start : [];
      return { kind: "multi-choices", groups: (modality.nvec ?? []).map((n, i) => range(starts[i] ?? 0, n)) };
    }
    case "multi_binary":
      return { kind: "bits", size: Array.isArray(modality.n) ? size(modality.n) : Number(modality.n ?? 0) };
    case "text":
      return { kind: "text" };
    case "dict":
    case "tuple":
      return { kind: "group", entries: subModalities(modality) };
    default:
      return { kind: "json" };
  }
}

export function subModalities(modality: Modality): [string, Modality][] {
  const spaces = modality.spaces ?? {};
  return Array.isArray(spaces) ? spaces.map((m, i) => [String(i), m]) : Object.entries(spaces);
}

/** How a person produces an action of a modality; null when nothing sensible maps to it. */
export type ControlWidget =
  | { kind: "buttons"; choices: number[] } // discrete: one button / key per choice
  | { kind: "joystick"; low: [number, number]; high: [number, number] } // a 2-D box
  | { kind: "sliders"; low: number[]; high: number[]; shape: number[] } // a small box
  | { kind: "toggles"; size: number }; // multi_binary

/** Most buttons a screen, a keyboard row and a gamepad can offer for one discrete action. */
export const MAX_BUTTONS = 12;
/** Most sliders a takeover panel shows for a box action. */
export const MAX_SLIDERS = 8;

export function controlWidget(modality: Modality | null | undefined): ControlWidget | null {
  if (!modality) return null;
  if (modality.kind === "discrete") {
    const n = Number(modality.n ?? 0);
    if (n < 1 || n > MAX_BUTTONS) return null;
    return { kind: "buttons", choices: range(Number(modality.start ?? 0), n) };
  }
  if (modality.kind === "box") {
    const n = size(modality.shape);
    if (n < 1 || n > MAX_SLIDERS) return null;
    const low = bounds(modality.low, n);
    const high = bounds(modality.high, n);
    if (!low || !high) return null; // unbounded: no slider can cover it
    if (n === 2) return { kind: "joystick", low: [low[0]!, low[1]!], high: [high[0]!, high[1]!] };
    return { kind: "sliders", low, high, shape: modality.shape ?? [n] };
  }
  if (modality.kind === "multi_binary") {
    const n = Array.isArray(modality.n) ? size(modality.n) : Number(modality.n ?? 0);
    return n >= 1 && n <= MAX_BUTTONS ? { kind: "toggles", size: n } : null;
  }
  return null;
}

/** A box bound as n finite numbers, or null when any element is unbounded. */
function bounds(bound: Modality["low"], n: number): number[] | null {
  if (typeof bound === "number") return Array.from({ length: n }, () => bound);
  if (!Array.isArray(bound)) return null;
  const flat = (bound as unknown[]).flat(8) as (number | null)[];
  if (flat.length !== n || flat.some((x) => typeof x !== "number" || !Number.isFinite(x))) return null;
  return flat as number[];
}

/** The action modality a takeover drives: the one output, or the one named "action". */
export function actionTarget(outputs: Modalities | null | undefined): { name: string; modality: Modality } | null {
  const entries = Object.entries(outputs ?? {});
  const found = entries.find(([name]) => name === "action") ?? (entries.length === 1 ? entries[0] : undefined);
  return found ? { name: found[0], modality: found[1] } : null;
}

/** Flatten nested number arrays (activations, box values) for drawing. */
export function flatNumbers(value: unknown): number[] {
  if (typeof value === "number") return [value];
  if (typeof value === "boolean") return [value ? 1 : 0];
  if (!Array.isArray(value)) return [];
  const out: number[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "number") out.push(v);
    else if (typeof v === "boolean") out.push(v ? 1 : 0);
    else out.push(Number.NaN);
  };
  walk(value);
  return out;
}
