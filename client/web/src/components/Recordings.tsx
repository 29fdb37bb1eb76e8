/**
 * Recordings: start and stop one, download it (Arrow IPC or a Minari dataset), replay it, and
 * compare two checkpoints on one recording side by side (each replays the recording's inputs;
 * the table shows, step by step, what was recorded and what each checkpoint did).
 */

import { useState } from "preact/hooks";
import { useApp } from "../context";
import type { Controls } from "../lib/controls";
import { bytes, num, when } from "../lib/format";
import type { Api } from "../lib/graphql";
import { flatNumbers } from "../lib/modalities";
import {
  type Checkpoint,
  COMPARE,
  type Recording,
  REPLAY_CLOSED,
  REPLAY_OPEN,
  REPLAY_STATUS,
  type Replay,
  RESTORE_CHECKPOINT,
  SAVE_CHECKPOINT,
  START_RECORDING,
  STOP_RECORDING,
} from "../lib/queries";
import { Series } from "../lib/telemetry";
import { drawLines, LiveCanvas } from "./charts";
import { ErrorNote, useAction } from "./common";

const STREAM_CHOICES = ["inputs", "outputs", "reward", "metrics", "frame"];

interface Comparison {
  recordedSteps?: number;
  replayedSteps?: number;
  comparedSteps?: number;
  identical?: boolean;
  firstDifference?: number | null;
  streams?: Record<string, { equalSteps: number; maxAbsDiff: number | null; meanAbsDiff: number | null }>;
  perStep?: { index: number; step: number; differences: Record<string, { equal: boolean; recorded: unknown; replayed: unknown; maxAbsDiff?: number | null }> }[];
}

async function waitForReplay(api: Api, id: string, onProgress: (r: Replay) => void): Promise<Replay> {
  for (;;) {
    const { replay } = await api.request<{ replay: Replay }>(REPLAY_STATUS, { id });
    onProgress(replay);
    if (replay.status !== "running" && replay.status !== "pending") return replay;
    await new Promise((r) => setTimeout(r, 400));
  }
}

export function Recordings({
  instanceId,
  recordings,
  checkpoints,
  head,
  controls,
  onChanged,
}: {
  instanceId: string;
  recordings: Recording[];
  checkpoints: Checkpoint[];
  head: string | null;
  controls: Controls;
  onChanged: () => void;
}) {
  const { api, notify } = useApp();
  const [streams, setStreams] = useState<string[]>(["inputs", "outputs", "reward"]);
  const [progress, setProgress] = useState<string | null>(null);
  const recording = recordings.find((r) => r.status === "recording") ?? null;
  const start = useAction(async () => {
    await api.request(START_RECORDING, { id: instanceId, streams });
    notify("Recording");
    onChanged();
  });
  const stop = useAction(async () => {
    if (!recording) return;
    const data = await api.request<{ stopRecording: Recording }>(STOP_RECORDING, { recording: recording.id });
    notify(`Recorded ${num(data.stopRecording.steps)} steps`);
    onChanged();
  });
  const replay = useAction(async (id: string, closed: boolean) => {
    const data = await api.request<Record<string, Replay>>(closed ? REPLAY_CLOSED : REPLAY_OPEN, { id: instanceId, recording: id });
    const started = Object.values(data)[0]!;
    const done = await waitForReplay(api, started.id, (r) => setProgress(`replaying: ${num(r.steps)} / ${num(r.totalSteps ?? 0)} steps`));
    setProgress(null);
    notify(done.status === "complete" ? `Replay done: ${num(done.steps)} steps` : `Replay ${done.status}: ${done.error ?? ""}`, done.status === "complete" ? "info" : "error");
    onChanged();
  });
  const download = useAction(async (path: string, name: string) => api.download(path, name));
  const originals = recordings.filter((r) => !r.replayOf);
  return (
    <div class="recordings">
      {controls.record ? (
        <div class="row">
          {recording ? (
            <button type="button" class="danger" disabled={stop.busy} onClick={() => void stop.run()}>
              ■ Stop recording ({num(recording.steps)} steps so far)
            </button>
          ) : (
            <>
              <fieldset class="inline">
                {STREAM_CHOICES.map((s) => (
                  <label key={s} class="check">
                    <input
                      type="checkbox"
                      checked={streams.includes(s)}
                      onChange={() => setStreams(streams.includes(s) ? streams.filter((x) => x !== s) : [...streams, s])}
                    />
                    {s}
                  </label>
                ))}
              </fieldset>
              <button type="button" class="primary" disabled={start.busy || streams.length === 0} onClick={() => void start.run()}>
                ● Record
              </button>
            </>
          )}
        </div>
      ) : null}
      <ErrorNote error={start.error ?? stop.error ?? replay.error ?? download.error} />
      {progress ? <p class="muted">{progress}</p> : null}
      {recordings.length === 0 ? (
        <p class="muted">No recordings yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Recording</th>
                <th>Status</th>
                <th class="num">Steps</th>
                <th class="num">Size</th>
                <th>Checkpoint</th>
                <th>Started</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {recordings.map((r) => (
                <tr key={r.id} data-testid={`recording-${r.id}`}>
                  <td>
                    <code>{r.id.slice(0, 8)}</code> {r.replayOf ? <span class="tag">replay</span> : null}
                    <div class="small muted">{r.streams.join(", ")}</div>
                  </td>
                  <td>
                    {r.status}
                    {r.cutShort ? " (cut short)" : ""}
                  </td>
                  <td class="num">{num(r.steps)}</td>
                  <td class="num">{bytes(r.sizeBytes)}</td>
                  <td>{tagOf(checkpoints, r.checkpoint)}</td>
                  <td>{when(r.startedAt)}</td>
                  <td class="actions">
                    {r.status === "complete" && r.downloadUrl ? (
                      <>
                        <button type="button" class="small" onClick={() => void download.run(r.downloadUrl!, `recording-${r.id}.arrow`)}>
                          Arrow
                        </button>
                        {r.minariUrl ? (
                          <button type="button" class="small" onClick={() => void download.run(r.minariUrl!, `recording-${r.id}.zip`)}>
                            Minari
                          </button>
                        ) : null}
                      </>
                    ) : null}
                    {controls.replay && r.status === "complete" && !r.replayOf ? (
                      <>
                        <button type="button" class="small" disabled={replay.busy} onClick={() => void replay.run(r.id, false)} title="feed the recorded inputs to the AInimal">
                          Replay
                        </button>
                        <button type="button" class="small" disabled={replay.busy} onClick={() => void replay.run(r.id, true)} title="restart the env where the recording did and let the AInimal act">
                          Closed loop
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {controls.replay && controls.restore && originals.some((r) => r.status === "complete") && checkpoints.length >= 2 ? (
        <CompareCheckpoints
          instanceId={instanceId}
          recordings={originals.filter((r) => r.status === "complete")}
          checkpoints={checkpoints}
          head={head}
          canSave={controls.checkpoint}
          onChanged={onChanged}
        />
      ) : null}
    </div>
  );
}

function tagOf(checkpoints: Checkpoint[], id: string | null | undefined): string {
  if (!id) return "–";
  const c = checkpoints.find((x) => x.id === id);
  return c ? c.tag || c.id.slice(0, 8) : id.slice(0, 8);
}

interface SideBySide {
  a: { checkpoint: string; replay: Replay; comparison: Comparison };
  b: { checkpoint: string; replay: Replay; comparison: Comparison };
  /** A's replay against B's, straight from compareRecordings. */
  ab: Comparison | null;
}

function CompareCheckpoints({
  instanceId,
  recordings,
  checkpoints,
  head,
  canSave,
  onChanged,
}: {
  instanceId: string;
  recordings: Recording[];
  checkpoints: Checkpoint[];
  head: string | null;
  canSave: boolean;
  onChanged: () => void;
}) {
  const { api, notify } = useApp();
  const [recording, setRecording] = useState(recordings[0]!.id);
  const [a, setA] = useState(checkpoints[0]!.id);
  const [b, setB] = useState(checkpoints[checkpoints.length - 1]!.id);
  const [progress, setProgress] = useState<string | null>(null);
  const [result, setResult] = useState<SideBySide | null>(null);
  const run = useAction(async () => {
    setResult(null);
    // Keep the instance's current state: save it first and restore it at the end.
    let back = head;
    if (canSave) {
      setProgress("saving the current state…");
      const saved = await api.request<{ saveCheckpoint: Checkpoint }>(SAVE_CHECKPOINT, { id: instanceId, tag: "before comparison" });
      back = saved.saveCheckpoint.id;
    }
    const through = async (checkpoint: string, label: string) => {
      setProgress(`restoring ${label}…`);
      await api.request(RESTORE_CHECKPOINT, { id: instanceId, checkpoint });
      const data = await api.request<{ replay: Replay }>(REPLAY_OPEN, { id: instanceId, recording });
      const done = await waitForReplay(api, data.replay.id, (r) => setProgress(`${label}: ${num(r.steps)} / ${num(r.totalSteps ?? 0)} steps`));
      if (done.status !== "complete") throw new Error(`the replay through ${label} ${done.status}: ${done.error ?? ""}`);
      const cmp = await api.request<{ replay: { comparison: Comparison } }>(
        `query C($id: ID!) { replay(id: $id) { comparison(limit: 200) } }`,
        { id: done.id },
      );
      return { checkpoint, replay: done, comparison: cmp.replay.comparison ?? {} };
    };
    try {
      const first = await through(a, tagOf(checkpoints, a));
      const second = await through(b, tagOf(checkpoints, b));
      const outA = first.replay.outputRecording?.id;
      const outB = second.replay.outputRecording?.id;
      const ab = outA && outB ? await compareRecordings(api, outA, outB) : null;
      setResult({ a: first, b: second, ab });
    } finally {
      if (back) {
        setProgress("restoring the state from before…");
        await api.request(RESTORE_CHECKPOINT, { id: instanceId, checkpoint: back }).catch(() => undefined);
      }
      setProgress(null);
      onChanged();
    }
    notify("Comparison ready");
  });
  return (
    <div class="compare">
      <h3>Compare two checkpoints on one recording</h3>
      <div class="row">
        <label class="inline">
          Recording
          <select value={recording} onChange={(e) => setRecording((e.target as HTMLSelectElement).value)}>
            {recordings.map((r) => (
              <option key={r.id} value={r.id}>
                {r.id.slice(0, 8)} · {num(r.steps)} steps
              </option>
            ))}
          </select>
        </label>
        <label class="inline">
          A
          <select value={a} onChange={(e) => setA((e.target as HTMLSelectElement).value)}>
            {checkpoints.map((c) => (
              <option key={c.id} value={c.id}>
                {c.tag || c.id.slice(0, 8)}
              </option>
            ))}
          </select>
        </label>
        <label class="inline">
          B
          <select value={b} onChange={(e) => setB((e.target as HTMLSelectElement).value)}>
            {checkpoints.map((c) => (
              <option key={c.id} value={c.id}>
                {c.tag || c.id.slice(0, 8)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={run.busy || a === b} onClick={() => void run.run()}>
          Compare
        </button>
      </div>
      <p class="small muted">Each checkpoint is restored in turn and replays the recording's inputs; {canSave ? "the instance's state is saved first and restored after." : "the instance is left at B."}</p>
      {progress ? <p class="muted">{progress}</p> : null}
      <ErrorNote error={run.error} />
      {result ? <SideBySideView result={result} labelA={tagOf(checkpoints, result.a.checkpoint)} labelB={tagOf(checkpoints, result.b.checkpoint)} /> : null}
    </div>
  );
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
                <td>
                  {x ? `${num(x.equalSteps)} / ${num(total(result.a.comparison))} steps · mean |Δ| ${num(x.meanAbsDiff)}` : "–"}
                </td>
                <td>
                  {y ? `${num(y.equalSteps)} / ${num(total(result.b.comparison))} steps · mean |Δ| ${num(y.meanAbsDiff)}` : "–"}
                </td>
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

/** Two recordings, row by row. */
export async function compareRecordings(api: Api, recorded: string, replayed: string): Promise<Comparison> {
  const data = await api.request<{ compareRecordings: Comparison }>(COMPARE, { recorded, replayed, limit: 200 });
  return data.compareRecordings;
}
