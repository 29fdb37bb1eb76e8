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

  /** Tell listeners (charts) to redraw without a new frame (history arrived). */
  touch(): void {
    this.version += 1;
    for (const listener of this.listeners) listener({ instance: "", step: this.step, time: 0, streams: {} });
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
  /** null: a break in the line (no data came for a while). */
  value: number | null;
  /** Seconds since the epoch, when known. */
  time?: number;
}

/** A bounded series: the oldest points go first. A null value breaks the line. */
export class Series {
  points: Point[] = [];
  constructor(readonly capacity = 600) {}

  push(step: number, value: number, time?: number): void {
    if (!Number.isFinite(value)) return;
    const last = this.points[this.points.length - 1];
    if (last && last.step === step && last.value !== null) {
      last.value = value;
      return;
    }
    if (last && step < last.step) this.points.length = 0; // restored to an older step: start over
    this.points.push(time === undefined ? { step, value } : { step, value, time });
    this.trim();
  }

  /** Break the line here: the next point starts a new segment. */
  gap(step: number): void {
    const last = this.points[this.points.length - 1];
    if (!last || last.value === null) return;
    this.points.push({ step: Math.max(step, last.step), value: null });
  }

  /** Start from history: `history` first, then what came live after its last step. */
  merge(history: Point[], gapSeconds: number): void {
    const lastHistory = [...history].reverse().find((p) => p.value !== null);
    if (!lastHistory) return;
    const live = this.points.filter((p) => p.step > lastHistory.step);
    const firstLive = live.find((p) => p.value !== null);
    const joined = [...history];
    // Live data that starts long after the history ends (the view opened on a stalled
    // instance, or the history lags) is a gap, not a straight line.
    if (firstLive && (firstLive.time === undefined || lastHistory.time === undefined || firstLive.time - lastHistory.time > gapSeconds)) {
      joined.push({ step: lastHistory.step, value: null });
    }
    this.points = [...joined, ...live];
    this.trim();
  }

  private trim(): void {
    if (this.points.length > this.capacity) this.points.splice(0, this.points.length - this.capacity);
    while (this.points[0]?.value === null) this.points.shift();
  }
}

/** Names of counters, not worth a chart of their own. */
const COUNTERS = new Set(["episodes", "episode", "steps", "step", "total_steps"]);

/**
 * Charts of an instance: every numeric scalar of `metrics` (episode return, loss, steps/s and
 * whatever the AInimal logs) and reward per step; filled from history, extended live. A pause
 * in the stream longer than `gapSeconds` breaks every line.
 */
export class Histories {
  readonly series = new Map<string, Series>();
  private lastEpisode: number | null = null;
  private lastFrameTime: number | null = null;
  private lastStep = 0;
  /** Changes whenever a series is added (for components listing them). */
  names = 0;

  constructor(
    feed: TelemetryFeed,
    readonly gapSeconds = 5,
    readonly capacity = 2000,
  ) {
    feed.listen((frame) => this.add(frame));
  }

  get(name: string): Series {
    let series = this.series.get(name);
    if (!series) {
      series = new Series(this.capacity);
      this.series.set(name, series);
      this.names += 1;
    }
    return series;
  }

  /** Series worth charting besides the given ones: custom scalars, steps/s, ... */
  others(shown: string[], known: string[] = []): string[] {
    const named = new Set([...known, ...[...this.series.keys()].filter((n) => this.series.get(n)!.points.length > 0)]);
    return [...named].filter((n) => !shown.includes(n) && !COUNTERS.has(n)).sort();
  }

  /** The stream dropped or stalled: whatever comes next starts a new segment. */
  gap(): void {
    for (const series of this.series.values()) series.gap(this.lastStep);
  }

  /** Fill from metricHistory's series (then live frames extend them). */
  load(history: { name: string; points: Point[] }[]): void {
    for (const { name, points } of history) this.get(name).merge(points, this.gapSeconds);
  }

  private add(frame: Frame): void {
    if (!frame.instance) return; // a redraw nudge (TelemetryFeed.touch), not data
    if (this.lastFrameTime !== null && typeof frame.time === "number" && frame.time - this.lastFrameTime > this.gapSeconds) this.gap();
    if (typeof frame.time === "number") this.lastFrameTime = frame.time;
    this.lastStep = frame.step;
    const { reward, metrics } = frame.streams as { reward?: unknown; metrics?: Record<string, unknown> };
    if (typeof reward === "number") this.get("reward").push(frame.step, reward, frame.time);
    if (metrics && typeof metrics === "object") {
      const episode = typeof metrics.episodes === "number" ? metrics.episodes : (frame.episode ?? null);
      for (const [name, value] of Object.entries(metrics)) {
        if (typeof value !== "number") continue;
        // Per-episode numbers get one point per episode, not one per frame.
        if (name.startsWith("episode_") && episode !== null && episode === this.lastEpisode) continue;
        this.get(name).push(frame.step, value, frame.time);
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
