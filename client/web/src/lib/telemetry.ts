/**
 * Live telemetry in the browser: the newest value of each stream (a newer frame replaces an
 * older one, nothing queues up) and short histories for charts. Components that draw on a
 * canvas listen to the feed directly; DOM text re-renders at a capped rate (`useFeed`).
 */

import { useEffect, useState } from "preact/hooks";

export interface Frame {
  instance: string;
  step: number;
  time: number;
  episode?: number | null;
  dropped?: number | null;
  streams: Record<string, unknown>;
}

export interface Sample {
  value: unknown;
  step: number;
  time: number;
}

export class TelemetryFeed {
  private readonly values = new Map<string, Sample>();
  private readonly listeners = new Set<(frame: Frame) => void>();
  version = 0;
  step = 0;
  episode: number | null = null;
  dropped = 0;
  frames = 0;

  push(frame: Frame): void {
    for (const [stream, value] of Object.entries(frame.streams ?? {})) {
      this.values.set(stream, { value, step: frame.step, time: frame.time });
    }
    if (frame.step >= this.step || frame.episode !== this.episode) this.step = frame.step;
    if (frame.episode != null) this.episode = frame.episode;
    if (frame.dropped != null) this.dropped = frame.dropped;
    this.frames += 1;
    this.version += 1;
    for (const listener of this.listeners) listener(frame);
  }

  get(stream: string): Sample | undefined {
    return this.values.get(stream);
  }

  streams(): string[] {
    return [...this.values.keys()];
  }

  listen(listener: (frame: Frame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface Point {
  step: number;
  value: number;
}

/** A bounded series: the oldest points go first. */
export class Series {
  readonly points: Point[] = [];
  constructor(readonly capacity = 600) {}

  push(step: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const last = this.points[this.points.length - 1];
    if (last && last.step === step) {
      last.value = value;
      return;
    }
    if (last && step < last.step) this.points.length = 0; // restored to an older step: start over
    this.points.push({ step, value });
    if (this.points.length > this.capacity) this.points.splice(0, this.points.length - this.capacity);
  }
}

/** Charts of an instance: episode return and loss from `metrics`, reward per step. */
export class Histories {
  readonly series = new Map<string, Series>();
  private lastEpisode: number | null = null;

  constructor(feed: TelemetryFeed) {
    feed.listen((frame) => this.add(frame));
  }

  get(name: string): Series {
    let series = this.series.get(name);
    if (!series) {
      series = new Series();
      this.series.set(name, series);
    }
    return series;
  }

  private add(frame: Frame): void {
    const { reward, metrics } = frame.streams as { reward?: unknown; metrics?: Record<string, unknown> };
    if (typeof reward === "number") this.get("reward").push(frame.step, reward);
    if (metrics && typeof metrics === "object") {
      const episode = typeof metrics.episodes === "number" ? metrics.episodes : (frame.episode ?? null);
      for (const [name, value] of Object.entries(metrics)) {
        if (typeof value !== "number") continue;
        // Per-episode numbers get one point per episode, not one per frame.
        if (name.startsWith("episode_") && episode !== null && episode === this.lastEpisode) continue;
        this.get(name).push(frame.step, value);
      }
      this.lastEpisode = episode;
    }
  }
}

/**
 * Re-render the calling component when the feed changes, at most `maxHz` times a second
 * (on animation frames, so hidden tabs cost nothing). Returns the feed's version.
 */
export function useFeed(feed: TelemetryFeed | null, maxHz = 10): number {
  const [version, setVersion] = useState(feed?.version ?? 0);
  useEffect(() => {
    if (!feed) return undefined;
    let dirty = false;
    let last = 0;
    let raf = 0;
    const tick = (now: number) => {
      raf = 0;
      if (!dirty) return;
      if (now - last < 1000 / maxHz) {
        raf = requestAnimationFrame(tick);
        return;
      }
      dirty = false;
      last = now;
      setVersion(feed.version);
    };
    const stop = feed.listen(() => {
      dirty = true;
      if (!raf) raf = requestAnimationFrame(tick);
    });
    return () => {
      stop();
      if (raf) cancelAnimationFrame(raf);
    };
  }, [feed, maxHz]);
  return version;
}
