/**
 * Is a live stream really live? Combines the connection's state (from sse.ts) with when data
 * last arrived and what the instance is doing, into what a badge says:
 *
 * - `live`: frames arrive (the last one within the stall threshold);
 * - `stalled`: connected, but no frame for longer than max(minStallMs, factor × expected interval);
 * - `paused` / `waiting`: no frames, and none are expected (the instance is paused, or waits for
 *   a person's action);
 * - `reconnecting`: the connection dropped and sse.ts retries (with backoff and jitter);
 * - `ended`: the server completed the stream (its instance ended), or the instance ended;
 * - `failed`: a retry cannot help (forbidden, a bad query);
 * - `connecting`: the first connection is being made.
 *
 * A stream stalled for `stuckMs` asks its owner to resubscribe (`onStuck`): a connection that
 * is open but delivers nothing is as good as a dropped one.
 */

import type { StreamStatus } from "./sse";

export type Health = "connecting" | "live" | "stalled" | "paused" | "waiting" | "reconnecting" | "ended" | "failed";

export interface HealthState {
  health: Health;
  /** Reconnecting: how long until the next attempt. */
  retryInMs?: number;
  /** Why it is reconnecting or failed. */
  message?: string;
  /** Waiting: for whom. */
  waitingFor?: string;
}

export interface HealthContext {
  /** The instance is paused: no frames are expected. */
  paused?: boolean;
  /** The instance waits for a person (Instance.waitingFor). */
  waitingFor?: string | null;
  /** The instance has ended: the stream is over, whatever the connection says. */
  ended?: boolean;
  /**
   * The interval frames are expected at, in ms (1000 / min(asked rate, instance pace)); null for
   * event streams that carry news only when something happens (never "stalled").
   */
  expectedIntervalMs?: number | null;
}

export interface HealthOptions {
  now?: () => number;
  /** Never call a stream stalled sooner than this. */
  minStallMs?: number;
  /** Stalled after this many expected intervals without a frame. */
  factor?: number;
  /** Stalled this long: ask for a fresh subscription (onStuck). */
  stuckMs?: number;
  onChange?: (state: HealthState) => void;
  onStuck?: () => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** The stall threshold for an expected interval. */
export function stallThresholdMs(expectedIntervalMs: number, minStallMs = 2000, factor = 3): number {
  return Math.max(minStallMs, factor * expectedIntervalMs);
}

export class StreamHealth {
  private connection: StreamStatus | null = null;
  private context: HealthContext = {};
  private lastData: number | null = null;
  private openedAt: number | null = null;
  private timer: unknown = null;
  private stuckReported = false;
  private current: HealthState = { health: "connecting" };
  private readonly now: () => number;
  private readonly minStallMs: number;
  private readonly factor: number;
  private readonly stuckMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: HealthOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.minStallMs = options.minStallMs ?? 2000;
    this.factor = options.factor ?? 3;
    this.stuckMs = options.stuckMs ?? 15_000;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get state(): HealthState {
    return this.current;
  }

  /** The connection changed (sse.ts onStatus). */
  status(status: StreamStatus): void {
    this.connection = status;
    if (status.state === "open") {
      this.openedAt = this.now();
      this.lastData = null;
      this.stuckReported = false;
    }
    this.update();
  }

  /** A result (frame, event) arrived. */
  data(): void {
    this.lastData = this.now();
    this.stuckReported = false;
    if (this.current.health !== "live") this.update();
    else this.schedule();
  }

  setContext(context: HealthContext): void {
    this.context = context;
    this.update();
  }

  dispose(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  private threshold(): number | null {
    const interval = this.context.expectedIntervalMs;
    if (interval === null || interval === undefined || !Number.isFinite(interval) || interval <= 0) return null;
    return stallThresholdMs(interval, this.minStallMs, this.factor);
  }

  private compute(): HealthState {
    const c = this.connection;
    if (this.context.ended || c?.state === "closed") return { health: "ended" };
    if (c?.state === "failed") return { health: "failed", ...(c.message ? { message: c.message } : {}) };
    if (c?.state === "retrying") {
      return { health: "reconnecting", ...(c.delayMs !== undefined ? { retryInMs: c.delayMs } : {}), ...(c.message ? { message: c.message } : {}) };
    }
    if (!c || c.state === "connecting") return { health: c && c.attempt > 0 ? "reconnecting" : "connecting" };
    // Open.
    if (this.context.paused) return { health: "paused" };
    if (this.context.waitingFor) return { health: "waiting", waitingFor: this.context.waitingFor };
    const threshold = this.threshold();
    if (threshold === null) return { health: "live" };
    const since = this.lastData ?? this.openedAt ?? this.now();
    if (this.now() - since < threshold) return { health: this.lastData === null ? "connecting" : "live" };
    return { health: "stalled" };
  }

  private update(): void {
    const next = this.compute();
    const changed = JSON.stringify(next) !== JSON.stringify(this.current);
    this.current = next;
    if (changed) this.options.onChange?.(next);
    this.schedule();
  }

  /** Wake up when the state may change by itself: at the stall threshold, or when stuck. */
  private schedule(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    const threshold = this.threshold();
    const health = this.current.health;
    if (threshold === null || !["live", "connecting", "stalled"].includes(health)) return;
    const since = this.lastData ?? this.openedAt;
    if (since === null) return;
    const elapsed = this.now() - since;
    let wait: number;
    if (health !== "stalled") wait = threshold - elapsed;
    else if (!this.stuckReported) wait = Math.max(threshold, this.stuckMs) - elapsed;
    else return;
    this.timer = this.setTimer(
      () => {
        this.timer = null;
        if (this.current.health === "stalled" && !this.stuckReported && this.now() - since >= Math.max(threshold, this.stuckMs)) {
          this.stuckReported = true;
          this.options.onStuck?.();
        }
        this.update();
      },
      Math.max(0, wait),
    );
  }
}

/** The interval frames should come at: the asked rate, or the instance's (slower) pace. */
export function expectedInterval(maxHz: number, pace?: number | null, stepsPerSecond?: number | null): number {
  let hz = maxHz;
  if (typeof pace === "number" && pace > 0) hz = Math.min(hz, pace);
  // A measured rate well below both (a slow env) is what the stream can deliver.
  if (typeof stepsPerSecond === "number" && stepsPerSecond > 0) hz = Math.min(hz, stepsPerSecond);
  return 1000 / Math.max(hz, 0.01);
}
