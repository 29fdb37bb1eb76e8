/** Two checkpoints' replays of one recording, side by side: per stream, charts, step by step. */

import { num } from "../lib/format";
import { flatNumbers } from "../lib/modalities";
import type { Replay } from "../lib/queries";
import type { Comparison } from "../lib/replays";
import { Series } from "../lib/telemetry";
import { drawLines, LiveCanvas } from "./charts";

export interface SideBySide {
  a: { checkpoint: string; replay: Replay; comparison: Comparison };
  b: { checkpoint: string; replay: Replay; comparison: Comparison };
  /** A's replay against B's, straight from compareRecordings. */
  ab: Comparison | null;
}

export function SideBySideView({ result, labelA, labelB }: { result: SideBySide; labelA: string; labelB: string }) {
  const streams = [...new Set([...Object.keys(result.a.comparison.streams ?? {}), ...Object.keys(result.b.comparison.streams ?? {})])];
  const rowsA = result.a.comparison.perStep ?? [];
  const rowsB = result.b.comparison.perStep ?? [];
  const series = (rows: Comparison["perStep"], key: "recorded" | "replayed", stream: string) => {
    const s = new Series(1000);
    (rows ?? []).forEach((row) => {
      const v = flatNumbers(row.differences[stream]?.[key])[0];
      if (v !== undefined) s.push(row.index, v);
    });
    return s;
  };
  const ab = result.ab;
  return (
    <div class="side-by-side" data-testid="comparison">
      {ab ? (
        <p>
          {labelA} and {labelB} {ab.identical ? "did exactly the same" : "differ"} on {num(ab.comparedSteps ?? 0)} compared steps
          {Object.entries(ab.streams ?? {}).map(([s, v]) => ` · ${s}: same on ${num(v.equalSteps)}`)}
        </p>
      ) : null}
      <table>
        <thead>
          <tr>
            <th>Stream</th>
            <th>{labelA}: same as recorded</th>
            <th>{labelB}: same as recorded</th>
          </tr>
        </thead>
        <tbody>
          {streams.map((s) => {
            const x = result.a.comparison.streams?.[s];
            const y = result.b.comparison.streams?.[s];
            const total = (c: Comparison) => c.comparedSteps ?? 0;
            return (
              <tr key={s}>
                <td>
                  <code>{s}</code>
                </td>
                <td>{x ? `${num(x.equalSteps)} / ${num(total(result.a.comparison))} steps · mean |Δ| ${num(x.meanAbsDiff)}` : "–"}</td>
                <td>{y ? `${num(y.equalSteps)} / ${num(total(result.b.comparison))} steps · mean |Δ| ${num(y.meanAbsDiff)}` : "–"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {streams.slice(0, 2).map((s) => (
        <div key={s}>
          <p class="small muted">
            {s}, first {rowsA.length} steps: recorded, {labelA}, {labelB}
          </p>
          <LiveCanvas
            feed={null}
            label={`${s} side by side`}
            height={90}
            draw={drawLines([
              { name: "recorded", series: series(rowsA, "recorded", s) },
              { name: labelA, series: series(rowsA, "replayed", s) },
              { name: labelB, series: series(rowsB, "replayed", s) },
            ])}
          />
        </div>
      ))}
      <details>
        <summary>Step by step</summary>
        <div class="table-wrap">
          <table class="small">
            <thead>
              <tr>
                <th class="num">#</th>
                <th class="num">Step</th>
                {streams.map((s) => (
                  <th key={s} colSpan={3}>
                    {s}: recorded · {labelA} · {labelB}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rowsA.slice(0, 100).map((row, i) => (
                <tr key={row.index}>
                  <td class="num">{row.index}</td>
                  <td class="num">{row.step}</td>
                  {streams.map((s) => {
                    const da = row.differences[s];
                    const db = rowsB[i]?.differences[s];
                    return [
                      <td key={`${s}r`}>{JSON.stringify(da?.recorded ?? db?.recorded ?? null)}</td>,
                      <td key={`${s}a`} class={da && !da.equal ? "diff" : ""}>
                        {JSON.stringify(da?.replayed ?? null)}
                      </td>,
                      <td key={`${s}b`} class={db && !db.equal ? "diff" : ""}>
                        {JSON.stringify(db?.replayed ?? null)}
                      </td>,
                    ];
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}
