/**
 * The live environment frame. Frames arrive as base64 JPEG / PNG; each is decoded off the main
 * thread (createImageBitmap) and drawn on the next animation frame. While one decodes, only the
 * newest of those arriving meanwhile is kept: a slow device shows fewer frames, never old ones.
 */

import { useEffect, useRef, useState } from "preact/hooks";
import type { TelemetryFeed } from "../lib/telemetry";

export interface EncodedFrame {
  format: string;
  mime: string;
  width: number;
  height: number;
  data: string;
}

export function isEncodedFrame(value: unknown): value is EncodedFrame {
  return !!value && typeof value === "object" && typeof (value as EncodedFrame).data === "string";
}

function base64Bytes(data: string): Uint8Array<ArrayBuffer> {
  const text = atob(data);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
  return bytes;
}

type Drawable = ImageBitmap | HTMLImageElement;

async function decode(frame: EncodedFrame): Promise<Drawable> {
  if (typeof createImageBitmap === "function") {
    return createImageBitmap(new Blob([base64Bytes(frame.data)], { type: frame.mime }));
  }
  const image = new Image();
  image.src = `data:${frame.mime};base64,${frame.data}`;
  await image.decode();
  return image;
}

export function FrameCanvas({ feed, stream = "frame", ended = false }: { feed: TelemetryFeed; stream?: string; ended?: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<"waiting" | "live" | "none">("waiting");
  const [fps, setFps] = useState(0);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return undefined;
    let alive = true;
    let lastData: string | null = null;
    let busy = false;
    let pending: EncodedFrame | null = null;
    let current: Drawable | null = null;
    let raf = 0;
    let drawn = 0;
    let dropped = 0;
    let shown = false;
    let counted = 0;

    const draw = () => {
      raf = 0;
      if (!current) return;
      const w = "naturalWidth" in current ? current.naturalWidth : current.width;
      const h = "naturalHeight" in current ? current.naturalHeight : current.height;
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      canvas.getContext("2d")?.drawImage(current, 0, 0);
      drawn += 1;
      canvas.dataset.frames = String(drawn);
      canvas.dataset.dropped = String(dropped);
      if (!shown) {
        shown = true;
        setState("live");
      }
    };
    const start = async (frame: EncodedFrame) => {
      busy = true;
      try {
        const image = await decode(frame);
        if (!alive) {
          if ("close" in image) image.close();
          return;
        }
        if (current && "close" in current) current.close();
        current = image;
        if (!raf) raf = requestAnimationFrame(draw);
      } catch {
        // A frame that does not decode is skipped; the next one will do.
      } finally {
        busy = false;
        const next = pending;
        pending = null;
        if (next && alive) void start(next);
      }
    };
    const stop = feed.listen(() => {
      const value = feed.get(stream)?.value;
      if (value === null) {
        if (!shown) setState("none");
        return;
      }
      if (!isEncodedFrame(value) || value.data === lastData) return;
      lastData = value.data;
      if (busy) {
        if (pending) dropped += 1;
        pending = value;
      } else void start(value);
    });
    const meter = setInterval(() => {
      setFps(drawn - counted);
      counted = drawn;
    }, 1000);
    return () => {
      alive = false;
      stop();
      clearInterval(meter);
      if (raf) cancelAnimationFrame(raf);
      if (current && "close" in current) current.close();
    };
  }, [feed, stream]);
  return (
    <div class={state === "none" ? "frame no-frames" : "frame"}>
      <canvas ref={ref} data-testid="env-frame" aria-label="environment frame" role="img" />
      {state === "waiting" ? <p class="overlay muted">{ended ? "the instance has ended" : "waiting for frames…"}</p> : null}
      {state === "none" ? <p class="overlay muted">this environment draws no frames</p> : null}
      {state === "live" ? <span class="fps">{fps} fps</span> : null}
    </div>
  );
}
