/**
 * Compare runs: pick instances, overlay one metric's history (episode return by default) on
 * one chart with a legend. Drawn from `metricHistory`, refreshed every few seconds.
 */

import { useMemo } from "preact/hooks";
import { useApp } from "../context";
import { num } from "../lib/format";
import { HISTORY_POINTS, historyPoints, METRIC_HISTORY } from "../lib/history";
import { usePolledQuery } from "../lib/live";
import { INSTANCES } from "../lib/queries";
import { href, navigate } from "../lib/router";
import { Series } from "../lib/telemetry";
import { COLORS, drawLines, LiveCanvas } from "./charts";
import { ErrorNote, Section } from "./common";

/** At most this many runs on one chart (beyond it the colours and the legend stop helping). */
export const MAX_COMPARED = 8;

/** A run's name on the chart: its model and the start of its id. */
function label(instances: { id: string; model: { name: string } }[], id: string): string {
  const found = instances.find((i) => i.id === id);
  return `${found?.model.name ?? "?"} ${id.slice(0, 6)}`;
}

export function Compare({ ids, metric }: { ids: string[]; metric: string | null }) {
  const { api, schema } = useApp();
  const chosen = ids.slice(0, MAX_COMPARED);
  const chosenKey = chosen.join(",");
  const name = metric || "episode_return";
  const list = usePolledQuery(api, INSTANCES, {}, 10_000);
  const history = usePolledQuery(api, chosen.length ? METRIC_HISTORY : null, { ids: chosen, names: [name], maxPoints: HISTORY_POINTS }, 5000);
  const instances = useMemo(() => list.data?.instances ?? [], [list.data]);
  const lines = useMemo(() => {
    const found = history.data?.metricHistory ?? [];
    return (chosenKey ? chosenKey.split(",") : []).map((id) => {
      const s = new Series(HISTORY_POINTS * 2);
      const series = found.find((f) => f.instance === id && f.name === name);
      if (series) s.points = historyPoints(series);
      return { name: label(instances, id), series: s };
    });
  }, [history.data, chosenKey, name, instances]);
  if (!schema.query("metricHistory")) return <p>This server keeps no metric history to compare.</p>;
  const toggle = (id: string, on: boolean) => {
    const next = on ? [...chosen, id].slice(0, MAX_COMPARED) : chosen.filter((x) => x !== id);
    navigate({ name: "compare", ids: next, metric: metric ?? null });
  };
  return (
    <div class="compare" data-testid="compare">
      <div class="row spread wrap">
        <h1>Compare runs</h1>
        <label class="inline">
          Metric
          <input
            aria-label="Metric"
            value={name}
            onChange={(e) => navigate({ name: "compare", ids: chosen, metric: (e.target as HTMLInputElement).value.trim() || null })}
          />
        </label>
      </div>
      <ErrorNote error={list.error ?? history.error} />
      <Section title={name.replace(/_/g, " ")}>
        {chosen.length === 0 ? (
          <p class="muted">Pick runs below to overlay their {name.replace(/_/g, " ")}.</p>
        ) : (
          <>
            <LiveCanvas feed={null} label={`${name} of ${chosen.length} runs`} height={260} draw={drawLines(lines)} />
            <ul class="legend" data-testid="legend">
              {lines.map((l, i) => (
                <li key={chosen[i]}>
                  <span class="swatch" style={{ background: COLORS[i % COLORS.length] }} />
                  <a href={href({ name: "instance", id: chosen[i]!, tab: null })}>{l.name}</a>
                  <span class="muted small"> {l.series.points.length ? `last ${num(lastValue(l.series))}` : "no data yet"}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </Section>
      <div class="table-wrap">
        <table class="instances">
          <thead>
            <tr>
              <th />
              <th>Model</th>
              <th>Environment</th>
              <th>Status</th>
              <th class="num">Step</th>
            </tr>
          </thead>
          <tbody>
            {instances.map((i) => (
              <tr key={i.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`compare ${i.model.name} ${i.id.slice(0, 6)}`}
                    checked={chosen.includes(i.id)}
                    disabled={!chosen.includes(i.id) && chosen.length >= MAX_COMPARED}
                    onChange={(e) => toggle(i.id, (e.target as HTMLInputElement).checked)}
                  />
                </td>
                <td>
                  {i.model.name} <span class="muted">{i.id.slice(0, 6)}</span>
                </td>
                <td>{i.environment?.name ?? "–"}</td>
                <td>{i.status.toLowerCase()}</td>
                <td class="num">{num(i.step)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function lastValue(series: Series): number | null {
  for (let i = series.points.length - 1; i >= 0; i -= 1) if (series.points[i]!.value !== null) return series.points[i]!.value;
  return null;
}
