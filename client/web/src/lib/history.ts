/**
 * Metric history (`metricHistory`): the series an instance kept, so charts start full when a
 * view opens or reloads, and several runs can be drawn on one chart.
 */

import { MetricHistoryDocument } from "../graphql/generated";
import type { Point } from "./telemetry";

export interface MetricSeries {
  instance: string;
  name: string;
  steps: number[];
  times: number[];
  values: (number | null)[];
}

export const METRIC_HISTORY = MetricHistoryDocument;

/** How many points a chart asks for: about one per pixel of a wide chart. */
export const HISTORY_POINTS = 600;

/**
 * A series as chart points. A null value, or a pause between two points much longer than the
 * usual spacing (at least `minGapSeconds`), breaks the line; a step going back (a restore)
 * starts it over, as the live chart does.
 */
export function historyPoints(series: MetricSeries, minGapSeconds = 30, factor = 10): Point[] {
  const n = Math.min(series.steps.length, series.times.length, series.values.length);
  let start = 0;
  for (let i = 1; i < n; i += 1) if (series.steps[i]! < series.steps[i - 1]!) start = i;
  const deltas: number[] = [];
  for (let i = start + 1; i < n; i += 1) deltas.push(series.times[i]! - series.times[i - 1]!);
  const typical = median(deltas);
  const gap = Math.max(minGapSeconds, factor * typical);
  const points: Point[] = [];
  for (let i = start; i < n; i += 1) {
    const step = series.steps[i]!;
    const time = series.times[i]!;
    const value = series.values[i];
    const previous = points[points.length - 1];
    if (value === null || value === undefined || !Number.isFinite(value)) {
      if (previous && previous.value !== null) points.push({ step, value: null, time });
      continue;
    }
    if (previous && previous.value !== null && previous.time !== undefined && time - previous.time > gap) {
      points.push({ step: previous.step, value: null, time: previous.time });
    }
    points.push({ step, value, time });
  }
  while (points.length && points[points.length - 1]!.value === null) points.pop();
  return points;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Series by instance, then name. */
export function byInstance(series: MetricSeries[]): Map<string, Map<string, MetricSeries>> {
  const out = new Map<string, Map<string, MetricSeries>>();
  for (const s of series) {
    let names = out.get(s.instance);
    if (!names) out.set(s.instance, (names = new Map()));
    names.set(s.name, s);
  }
  return out;
}
