/** Values drawn by their modality: images, bars / sparklines for vectors, highlighted choices. */

import { useEffect, useRef } from "preact/hooks";
import { num } from "../lib/format";
import { type DisplayWidget, displayWidget, flatNumbers, type Modalities, type Modality } from "../lib/modalities";
import { Series, type TelemetryFeed, useFeed } from "../lib/telemetry";
import { drawBars, drawHeatmap, drawLines, LiveCanvas } from "./charts";

/** A modality for a value that came without one (a plain-class env declares no spaces). */
export function inferModality(value: unknown): Modality {
  if (typeof value === "number") return { kind: "box", shape: [1] };
  if (typeof value === "string") return { kind: "text" };
  if (Array.isArray(value)) {
    const flat = flatNumbers(value);
    if (flat.length > 0 && !flat.some(Number.isNaN)) return { kind: "box", shape: [flat.length] };
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return { kind: "dict", spaces: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inferModality(v)])) };
  }
  return { kind: "unknown" };
}

function bound(b: unknown): number | null {
  return typeof b === "number" && Number.isFinite(b) ? b : null;
}

export function ModalityValue({ name, modality, value, series }: { name: string; modality: Modality | null | undefined; value: unknown; series?: Series }) {
  const m = modality ?? inferModality(value);
  const widget = displayWidget(m);
  return (
    <div class={`modality w-${widget.kind}`} data-widget={widget.kind} data-name={name}>
      <div class="modality-name">{name}</div>
      <WidgetBody widget={widget} modality={m} value={value} series={series} />
    </div>
  );
}

function WidgetBody({ widget, modality, value, series }: { widget: DisplayWidget; modality: Modality; value: unknown; series?: Series | undefined }) {
  switch (widget.kind) {
    case "image":
      return <ImageArray value={value} />;
    case "sparkline": {
      const v = flatNumbers(value)[0];
      return (
        <div class="spark">
          <span class="value">{num(v)}</span>
          {series ? <LiveCanvas feed={null} label="recent values" height={36} draw={drawLines([{ name: "", series }])} /> : null}
        </div>
      );
    }
    case "bars": {
      const values = flatNumbers(value);
      return (
        <div>
          <LiveCanvas feed={null} label="values as bars" height={56} draw={drawBars(values, bound(modality.low), bound(modality.high))} />
          {values.length <= 8 ? (
            <div class="numbers">
              {values.map((v, i) => (
                <span key={i}>{num(v)}</span>
              ))}
            </div>
          ) : null}
        </div>
      );
    }
    case "heatmap":
      return <LiveCanvas feed={null} label="values as a heatmap" height={Math.min(160, 8 * widget.rows)} draw={drawHeatmap(flatNumbers(value), widget.cols)} />;
    case "choices":
      return <Choices choices={widget.choices} chosen={typeof value === "number" ? value : flatNumbers(value)[0]} />;
    case "multi-choices": {
      const chosen = flatNumbers(value);
      return (
        <div>
          {widget.groups.map((g, i) => (
            <Choices key={i} choices={g} chosen={chosen[i]} />
          ))}
        </div>
      );
    }
    case "bits": {
      const bits = flatNumbers(value);
      return (
        <div class="choices">
          {Array.from({ length: widget.size }, (_, i) => (
            <span key={i} class={`chip ${bits[i] ? "on" : ""}`}>
              {i}
            </span>
          ))}
        </div>
      );
    }
    case "text":
      return <code class="text-value">{String(value ?? "")}</code>;
    case "group": {
      const entries = widget.entries;
      const record = (value ?? {}) as Record<string, unknown>;
      return (
        <div class="group">
          {entries.map(([key, sub]) => (
            <ModalityValue key={key} name={key} modality={sub} value={record[key]} />
          ))}
        </div>
      );
    }
    default:
      return <pre class="json">{JSON.stringify(value, null, 1)?.slice(0, 2000)}</pre>;
  }
}

export function Choices({ choices, chosen }: { choices: number[]; chosen: number | undefined }) {
  return (
    <div class="choices" role="list">
      {choices.map((c) => (
        <span key={c} role="listitem" class={`chip ${c === chosen ? "on" : ""}`} aria-current={c === chosen ? "true" : undefined}>
          {c}
        </span>
      ))}
    </div>
  );
}

/** An image sent as nested arrays (H×W, H×W×3 or H×W×4 of 0-255). */
function ImageArray({ value }: { value: unknown }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || !Array.isArray(value)) return;
    const rows = value as unknown[][];
    const h = rows.length;
    const w = Array.isArray(rows[0]) ? rows[0].length : 0;
    if (!h || !w) return;
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    const image = ctx.createImageData(w, h);
    for (let y = 0; y < h; y += 1) {
      for (let x = 0; x < w; x += 1) {
        const px = rows[y]![x];
        const [r, g, b, a] = Array.isArray(px) ? (px as number[]) : [px as number, px as number, px as number];
        const o = (y * w + x) * 4;
        image.data[o] = r ?? 0;
        image.data[o + 1] = g ?? r ?? 0;
        image.data[o + 2] = b ?? r ?? 0;
        image.data[o + 3] = a ?? 255;
      }
    }
    ctx.putImageData(image, 0, 0);
  }, [value]);
  return <canvas ref={ref} class="pixels" role="img" aria-label="image" />;
}

/** All values of a stream (`inputs` or `outputs`), each by its modality, kept live. */
export function ModalityPanel({ feed, stream, modalities }: { feed: TelemetryFeed; stream: "inputs" | "outputs"; modalities: Modalities | null | undefined }) {
  useFeed(feed, 20);
  const history = useRef(new Map<string, Series>());
  useEffect(
    () =>
      feed.listen((frame) => {
        const values = frame.streams[stream] as Record<string, unknown> | undefined;
        if (!values) return;
        for (const [name, v] of Object.entries(values)) {
          if (typeof v !== "number" && !(Array.isArray(v) && v.length === 1)) continue;
          let s = history.current.get(name);
          if (!s) history.current.set(name, (s = new Series(300)));
          s.push(frame.step, flatNumbers(v)[0]!);
        }
      }),
    [feed, stream],
  );
  const values = (feed.get(stream)?.value ?? null) as Record<string, unknown> | null;
  const names = [...new Set([...Object.keys(modalities ?? {}), ...Object.keys(values ?? {})])];
  if (names.length === 0) return <p class="muted">nothing yet</p>;
  return (
    <div class="modalities-live" data-testid={`${stream}-panel`}>
      {names.map((name) => (
        <ModalityValue key={name} name={name} modality={modalities?.[name]} value={values?.[name]} series={history.current.get(name)} />
      ))}
    </div>
  );
}
