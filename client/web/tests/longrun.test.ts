import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { historyPoints, type MetricSeries } from "../src/lib/history";
import { LeaseRenewer, renewIntervalMs, secondsUntil } from "../src/lib/lease";
import { LogBuffer, type LogLine } from "../src/lib/logs";
import { EMPTY_PLAN, runPlan } from "../src/lib/runplan";
import { expectedInterval, type Health, stallThresholdMs, StreamHealth } from "../src/lib/streamhealth";
import { Histories, Series, TelemetryFeed } from "../src/lib/telemetry";

describe("stream health", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function health(expectedIntervalMs: number | null = 100) {
    const seen: Health[] = [];
    let stuck = 0;
    const h = new StreamHealth({ onChange: (s) => seen.push(s.health), onStuck: () => (stuck += 1), stuckMs: 10_000 });
    h.setContext({ expectedIntervalMs });
    return { h, seen, stuck: () => stuck };
  }

  it("is live only while frames arrive, stalled after three intervals (at least 2 s), live again with the next frame", () => {
    const { h } = health(1000);
    h.status({ state: "open", attempt: 0 });
    expect(h.state.health).toBe("connecting");
    h.data();
    expect(h.state.health).toBe("live");
    vi.advanceTimersByTime(2900);
    expect(h.state.health).toBe("live");
    vi.advanceTimersByTime(200);
    expect(h.state.health).toBe("stalled");
    h.data();
    expect(h.state.health).toBe("live");
  });

  it("keeps a fast stream live for many stall periods while frames keep coming", () => {
    const { h, seen } = health(33);
    h.status({ state: "open", attempt: 0 });
    for (let i = 0; i < 600; i += 1) {
      vi.advanceTimersByTime(33);
      h.data();
    }
    expect(h.state.health).toBe("live");
    expect(seen).not.toContain("stalled");
    expect(stallThresholdMs(33)).toBe(2000);
  });

  it("says paused or waiting instead of stalled, and ended without reconnecting", () => {
    const { h } = health(100);
    h.status({ state: "open", attempt: 0 });
    h.setContext({ expectedIntervalMs: 100, paused: true });
    vi.advanceTimersByTime(60_000);
    expect(h.state.health).toBe("paused");
    h.setContext({ expectedIntervalMs: 100, waitingFor: "alice" });
    expect(h.state).toEqual({ health: "waiting", waitingFor: "alice" });
    h.status({ state: "closed", attempt: 0 });
    expect(h.state.health).toBe("ended");
  });

  it("says reconnecting while the connection is retried, then live again", () => {
    const { h, seen } = health(100);
    h.status({ state: "open", attempt: 0 });
    h.data();
    h.status({ state: "retrying", attempt: 1, delayMs: 700, message: "the stream ended" });
    expect(h.state).toEqual({ health: "reconnecting", retryInMs: 700, message: "the stream ended" });
    h.status({ state: "connecting", attempt: 1 });
    expect(h.state.health).toBe("reconnecting");
    h.status({ state: "open", attempt: 1 });
    h.data();
    expect(seen).toEqual(["live", "reconnecting", "reconnecting", "connecting", "live"]);
    expect(h.state.health).toBe("live");
  });

  it("asks once for a fresh subscription when an open stream stays stalled, again after the next open", () => {
    const { h, stuck } = health(100);
    h.status({ state: "open", attempt: 0 });
    h.data();
    vi.advanceTimersByTime(9_000);
    expect(stuck()).toBe(0);
    vi.advanceTimersByTime(1_100);
    expect(stuck()).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(stuck()).toBe(1);
    h.status({ state: "open", attempt: 0 });
    vi.advanceTimersByTime(10_100);
    expect(stuck()).toBe(2);
  });

  it("never calls an event stream stalled", () => {
    const { h } = health(null);
    h.status({ state: "open", attempt: 0 });
    vi.advanceTimersByTime(600_000);
    expect(h.state.health).toBe("live");
  });

  it("expects frames at the slower of the asked rate, the pace and the measured rate", () => {
    expect(expectedInterval(30)).toBeCloseTo(33.3, 1);
    expect(expectedInterval(30, 2)).toBe(500);
    expect(expectedInterval(30, null, 0.5)).toBe(2000);
  });
});

describe("chart gaps and history", () => {
  it("breaks every line when frames stop for longer than the gap, not a straight line across", () => {
    const feed = new TelemetryFeed();
    const h = new Histories(feed, 5);
    const frame = (step: number, time: number) => feed.push({ instance: "i", step, time, streams: { reward: 1, metrics: { loss: step } } });
    frame(1, 100);
    frame(2, 101);
    frame(3, 130); // 29 s later
    expect(h.get("loss").points.map((p) => p.value)).toEqual([1, 2, null, 3]);
    expect(h.get("reward").points.map((p) => p.value)).toEqual([1, 1, null, 1]);
  });

  it("marks a gap once, when told the stream dropped", () => {
    const s = new Series();
    s.push(1, 1);
    s.gap(1);
    s.gap(1);
    s.push(2, 2);
    expect(s.points.map((p) => p.value)).toEqual([1, null, 2]);
  });

  it("turns history into points with nulls and long pauses as breaks, from the last restore on", () => {
    const series: MetricSeries = {
      instance: "i",
      name: "episode_return",
      steps: [10, 20, 5, 15, 25, 35, 45],
      times: [1, 2, 3, 4, 5, 500, 501],
      values: [9, 9, 1, 2, null, 3, 4],
    };
    expect(historyPoints(series).map((p) => [p.step, p.value])).toEqual([
      [5, 1],
      [15, 2],
      [25, null],
      [35, 3],
      [45, 4],
    ]);
    const paused: MetricSeries = { instance: "i", name: "x", steps: [1, 2, 3, 4], times: [0, 1, 2, 100], values: [1, 2, 3, 4] };
    expect(historyPoints(paused).map((p) => p.value)).toEqual([1, 2, 3, null, 4]);
  });

  it("starts charts from history and keeps live points after its end, with a gap between when time passed", () => {
    const feed = new TelemetryFeed();
    const h = new Histories(feed, 5);
    feed.push({ instance: "i", step: 90, time: 1000, streams: { metrics: { loss: 0.5, custom_score: 7 } } });
    feed.push({ instance: "i", step: 110, time: 1001, streams: { metrics: { loss: 0.4 } } });
    h.load([
      {
        name: "loss",
        points: [
          { step: 50, value: 1, time: 990 },
          { step: 100, value: 0.6, time: 999.5 },
        ],
      },
      { name: "grad_norm", points: [{ step: 100, value: 3, time: 999.5 }] },
    ]);
    // History up to step 100, then the live point past it (the live one at step 90 is in the history's span).
    expect(h.get("loss").points.map((p) => [p.step, p.value])).toEqual([
      [50, 1],
      [100, 0.6],
      [110, 0.4],
    ]);
    h.load([{ name: "late", points: [{ step: 1, value: 1, time: 1 }] }]);
    feed.push({ instance: "i", step: 120, time: 1002, streams: { metrics: { late: 2 } } });
    expect(h.get("late").points.map((p) => p.value)).toEqual([1, 2]);
    // Custom scalars, from the history or the live metrics, get charts; counters do not.
    feed.push({ instance: "i", step: 130, time: 1003, streams: { metrics: { episodes: 3 } } });
    expect(h.others(["loss"])).toEqual(["custom_score", "grad_norm", "late"]);
  });

  it("separates history and later live data by a gap when the live data starts long after", () => {
    const s = new Series();
    s.push(500, 5, 2000);
    s.merge([{ step: 100, value: 1, time: 100 }], 5);
    expect(s.points.map((p) => p.value)).toEqual([1, null, 5]);
  });
});

describe("log buffer", () => {
  const line = (time: number, text = `line ${time}`, stream = "stdout"): LogLine => ({ time, stream, text });

  it("holds at most its capacity and counts what it let go", () => {
    const b = new LogBuffer(100);
    for (let i = 0; i < 1000; i += 1) b.push(line(i));
    expect(b.lines).toHaveLength(100);
    expect(b.lines[0]!.time).toBe(900);
    expect(b.dropped).toBe(900);
  });

  it("merges a tail that overlaps live lines without repeating them", () => {
    const b = new LogBuffer();
    b.push(line(5), line(6));
    b.merge([line(4), line(5), line(6), line(6, "other"), line(7)]);
    expect(b.lines.map((l) => `${l.time} ${l.text}`)).toEqual(["5 line 5", "6 line 6", "6 other", "7 line 7"]);
  });

  it("finds the latest traceback", () => {
    const b = new LogBuffer();
    b.push(
      line(1),
      line(2, "Traceback (most recent call last):", "traceback"),
      line(3, '  File "x.py"', "traceback"),
      line(4, "ValueError: no", "traceback"),
      line(5, "bye"),
    );
    expect(b.traceback().map((l) => l.time)).toEqual([2, 3, 4]);
    expect(new LogBuffer().traceback()).toEqual([]);
  });
});

describe("takeover renewal", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("renews every holdSeconds / 3 while the tab is visible and its person present, for many holds", async () => {
    let visible = true;
    const renew = vi.fn(async () => ({ holder: "alice", leaseExpiresAt: "2030-01-01T00:00:00Z" }));
    const r = new LeaseRenewer({ renew, intervalMs: renewIntervalMs(3), presenceMs: 120_000, visible: () => visible });
    await vi.advanceTimersByTimeAsync(30_000); // ten holds
    expect(renew).toHaveBeenCalledTimes(30);
    visible = false;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(renew).toHaveBeenCalledTimes(30); // hidden: no renewal, the server lets it lapse
    visible = true;
    r.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(renew).toHaveBeenCalledTimes(31);
    r.stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(renew).toHaveBeenCalledTimes(31);
  });

  it("stops renewing when the person has not touched anything for the presence window", async () => {
    const renew = vi.fn(async () => null);
    const r = new LeaseRenewer({ renew, intervalMs: 1000, presenceMs: 5000 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(renew).toHaveBeenCalledTimes(4); // 1, 2, 3, 4 s; from 5 s on the person is gone
    r.touch();
    await vi.advanceTimersByTimeAsync(3000);
    expect(renew).toHaveBeenCalledTimes(7);
    r.stop();
  });

  it("gives up when the server refuses a renewal, but retries when the server is unreachable", async () => {
    const lost: string[] = [];
    let calls = 0;
    const renew = vi.fn(async () => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error("offline"), { status: 0 });
      throw new Error("the takeover lapsed");
    });
    new LeaseRenewer({ renew, intervalMs: 1000, onLost: (m) => lost.push(m) });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(renew).toHaveBeenCalledTimes(2);
    expect(lost).toEqual(["the takeover lapsed"]);
  });

  it("renews at least every 250 ms and by default every 3 s / 3, and counts down to the lapse", () => {
    expect(renewIntervalMs(0.3)).toBe(250);
    expect(renewIntervalMs(null)).toBe(1000);
    expect(secondsUntil("2030-01-01T00:00:05Z", Date.parse("2030-01-01T00:00:00.500Z"))).toBe(5);
    expect(secondsUntil(null)).toBeNull();
  });
});

describe("launch plan", () => {
  it("sends only what was filled in, checked", () => {
    expect(runPlan(EMPTY_PLAN, true)).toEqual({ plan: {}, errors: {} });
    const ok = runPlan({ ...EMPTY_PLAN, pace: "50", stopSteps: "1000", stopSeconds: "2.5", everySteps: "500", keep: "3" }, true);
    expect(ok).toEqual({ plan: { pace: 50, stopAfter: { steps: 1000, seconds: 2.5 }, checkpointEvery: { steps: 500, keep: 3 } }, errors: {} });
    expect(runPlan({ ...EMPTY_PLAN, pace: "50", realtime: true }, true).plan).toEqual({ realtime: true });
  });

  it("refuses a negative pace, a budget of 0, a keep without a schedule and a schedule the model cannot save", () => {
    const bad = runPlan({ ...EMPTY_PLAN, pace: "-1", stopEpisodes: "0", stopSeconds: "x", keep: "2" }, true).errors;
    expect(bad.pace).toBe("pace (steps per second) expects a number > 0 and ≤ 100000, got -1");
    expect(bad.stopEpisodes).toBe("stop after episodes expects a whole number ≥ 1, got 0");
    expect(bad.stopSeconds).toContain("got x");
    expect(bad.keep).toContain("keep needs a schedule");
    expect(runPlan({ ...EMPTY_PLAN, everySeconds: "60" }, false).errors.everySteps).toContain("cannot save checkpoints");
  });
});

describe("charts do not appear under the pointer", () => {
  it("lists the scalars the instance already reported before any of their points arrive", () => {
    const h = new Histories(new TelemetryFeed());
    expect(h.others(["loss"], ["steps_per_second", "loss", "episode"])).toEqual(["steps_per_second"]);
  });
});
