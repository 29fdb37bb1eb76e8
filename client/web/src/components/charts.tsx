/**
 * Canvas charts. Live ones redraw on animation frames when their feed changes, without a
 * Preact render: a 60 Hz stream costs one draw per displayed frame at most.
 */

import { useEffect, useRef } from "preact/hooks";
import type { Series } from "../lib/telemetry";
import type { TelemetryFeed } from "../lib/telemetry";

export type Draw = (ctx: CanvasRenderingContext2D, width: number, height: number) => void;

export const COLORS = ["#4cc2ff", "#ffb347", "#7ddc7d", "#ff6b8b", "#b39dff", "#f5e663"];

/** Size the backing store to the element's CSS size times the pixel ratio, then draw. */
function paint(canvas: HTMLCanvasElement, draw: Draw): void {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || Number(canvas.getAttribute("width")) || 300;
  const height = canvas.clientHeight || Number(canvas.getAttribute("height")) || 100;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  draw(ctx, width, height);
}

/** A canvas redrawn whenever `feed` changes (at most once per animation frame), or on render. */
export function LiveCanvas({
  feed,
  draw,
  class: className,
  label,
  height = 100,
}: {
  feed: TelemetryFeed | null;
  draw: Draw;
  class?: string;
  label: string;
  height?: number;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const drawRef = useRef(draw);
  drawRef.current = draw;
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return undefined;
    paint(canvas, drawRef.current);
    if (!feed) return undefined;
    let raf = 0;
    const stop = feed.listen(() => {
      if (raf) return;
      raf = requestAnimationFrame(() => {
        raf = 0;
        paint(canvas, drawRef.current);
      });
    });
    return () => {
      stop();
      if (raf) cancelAnimationFrame(raf);
    };
  }, [feed]);
  useEffect(() => {
    if (ref.current) paint(ref.current, drawRef.current);
  });
  return <canvas ref={ref} class={`chart ${className ?? ""}`} style={{ height: `${height}px` }} role="img" aria-label={label} />;
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  return [lo, hi];
}

function label(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, align: CanvasTextAlign = "left"): void {
  ctx.fillStyle = "#9aa4b2";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = align;
  ctx.fillText(text, x, y);
}

function short(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e5)) return v.toExponential(1);
  return String(Math.round(v * 100) / 100);
}

/**
 * Lines of one or more series against step. A null point breaks its line: a stretch without
 * data shows as a gap, never as a straight line across it. The canvas's `data-points` says how
 * many points it drew (for tests and curious readers).
 */
export function drawLines(series: { name: string; series: Series }[]): Draw {
  return (ctx, w, h) => {
    const all = series.flatMap((s) => s.series.points).filter((p) => p.value !== null);
    ctx.canvas?.setAttribute?.("data-points", String(all.length));
    if (all.length === 0) {
      label(ctx, "waiting for data…", w / 2, h / 2, "center");
      return;
    }
    const [lo, hi] = extent(all.map((p) => p.value as number));
    const [s0, s1] = extent(all.map((p) => p.step));
    const pad = { l: 40, r: 6, t: 14, b: 14 };
    const x = (s: number) => pad.l + ((s - s0) / (s1 - s0 || 1)) * (w - pad.l - pad.r);
    const y = (v: number) => h - pad.b - ((v - lo) / (hi - lo || 1)) * (h - pad.t - pad.b);
    ctx.strokeStyle = "#2a3140";
    ctx.beginPath();
    ctx.moveTo(pad.l, y(lo));
    ctx.lineTo(w - pad.r, y(lo));
    ctx.stroke();
    label(ctx, short(hi), pad.l - 4, pad.t + 4, "right");
    label(ctx, short(lo), pad.l - 4, h - pad.b, "right");
    series.forEach((s, i) => {
      const points = s.series.points;
      const color = COLORS[i % COLORS.length]!;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let open = false;
      points.forEach((p, j) => {
        if (p.value === null) {
          open = false;
          return;
        }
        if (!open) {
          ctx.moveTo(x(p.step), y(p.value));
          // A lone point between two gaps gets a dot, or it would not show at all.
          const next = points[j + 1];
          if (!next || next.value === null) ctx.fillRect(x(p.step) - 1, y(p.value) - 1, 2, 2);
        } else ctx.lineTo(x(p.step), y(p.value));
        open = true;
      });
      ctx.stroke();
      let last: number | null = null;
      for (let j = points.length - 1; j >= 0 && last === null; j -= 1) last = points[j]!.value;
      label(ctx, `${s.name} ${last !== null ? short(last) : ""}`, pad.l + 4 + i * 130, 10);
    });
  };
}

/** One bar per element, from zero; bounds (when finite) fix the scale. */
export function drawBars(values: number[], low?: number | null, high?: number | null, highlight?: number | null): Draw {
  return (ctx, w, h) => {
    if (values.length === 0) return;
    let [lo, hi] = extent(values);
    if (typeof low === "number" && Number.isFinite(low)) lo = Math.min(lo, low);
    if (typeof high === "number" && Number.isFinite(high)) hi = Math.max(hi, high);
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
    const y = (v: number) => h - 4 - ((v - lo) / (hi - lo || 1)) * (h - 8);
    const bw = w / values.length;
    values.forEach((v, i) => {
      ctx.fillStyle = i === highlight ? "#ffb347" : v >= 0 ? "#4cc2ff" : "#ff6b8b";
      const top = Math.min(y(v), y(0));
      ctx.fillRect(i * bw + 1, top, Math.max(1, bw - 2), Math.max(1, Math.abs(y(v) - y(0))));
    });
  };
}

/** Diverging colours: blue for negative, red for positive, by magnitude. */
export function heatColor(v: number, scale: number): string {
  if (!Number.isFinite(v)) return "#555";
  const t = Math.max(-1, Math.min(1, v / (scale || 1)));
  const a = Math.abs(t);
  const base = [22, 26, 34];
  const end = t >= 0 ? [255, 107, 107] : [76, 194, 255];
  const c = base.map((b, i) => Math.round(b + (end[i]! - b) * a));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function drawHeatmap(values: number[], cols: number): Draw {
  return (ctx, w, h) => {
    if (values.length === 0) return;
    const columns = Math.max(1, cols);
    const rows = Math.ceil(values.length / columns);
    const scale = values.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
    const cw = w / columns;
    const ch = h / rows;
    values.forEach((v, i) => {
      ctx.fillStyle = heatColor(v, scale);
      ctx.fillRect((i % columns) * cw, Math.floor(i / columns) * ch, Math.ceil(cw), Math.ceil(ch));
    });
  };
}

export function drawHistogram(counts: number[], edges: number[]): Draw {
  return (ctx, w, h) => {
    if (counts.length === 0) return;
    const max = Math.max(...counts, 1);
    const bw = w / counts.length;
    counts.forEach((c, i) => {
      const bh = (c / max) * (h - 14);
      const mid = ((edges[i] ?? 0) + (edges[i + 1] ?? 0)) / 2;
      ctx.fillStyle = mid >= 0 ? "#ff9b9b" : "#8fd3ff";
      ctx.fillRect(i * bw + 0.5, h - 12 - bh, Math.max(1, bw - 1), bh);
    });
    if (edges.length > 1) {
      label(ctx, short(edges[0]!), 0, h - 1);
      label(ctx, short(edges[edges.length - 1]!), w, h - 1, "right");
    }
  };
}
