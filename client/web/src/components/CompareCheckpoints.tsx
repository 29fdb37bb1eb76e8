/**
 * Compare two checkpoints on one recording: each is restored in turn and replays the
 * recording's inputs; the instance's state is saved first and restored after when it can be.
 */

import { useState } from "preact/hooks";
import { useApp } from "../context";
import { num } from "../lib/format";
import { type Checkpoint, type Recording, REPLAY_OPEN, RESTORE_CHECKPOINT, SAVE_CHECKPOINT } from "../lib/queries";
import { compareRecordings, replayComparison, tagOf, waitForReplay } from "../lib/replays";
import { ErrorNote, useAction } from "./common";
import { type SideBySide, SideBySideView } from "./SideBySide";

export function CompareCheckpoints({
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
      const saved = await api.request(SAVE_CHECKPOINT, { id: instanceId, tag: "before comparison" });
      back = saved.saveCheckpoint.id;
    }
    const through = async (checkpoint: string, label: string) => {
      setProgress(`restoring ${label}…`);
      await api.request(RESTORE_CHECKPOINT, { id: instanceId, checkpoint });
      const data = await api.request(REPLAY_OPEN, { id: instanceId, recording });
      const done = await waitForReplay(api, data.replay.id, (r) => setProgress(`${label}: ${num(r.steps)} / ${num(r.totalSteps ?? 0)} steps`));
      if (done.status !== "complete") throw new Error(`the replay through ${label} ${done.status}: ${done.error ?? ""}`);
      return { checkpoint, replay: done, comparison: await replayComparison(api, done.id) };
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
      <p class="small muted">
        Each checkpoint is restored in turn and replays the recording's inputs;{" "}
        {canSave ? "the instance's state is saved first and restored after." : "the instance is left at B."}
      </p>
      {progress ? (
        <p class="muted" data-testid="compare-progress">
          {progress}
        </p>
      ) : null}
      <ErrorNote error={run.error} />
      {result ? <SideBySideView result={result} labelA={tagOf(checkpoints, result.a.checkpoint)} labelB={tagOf(checkpoints, result.b.checkpoint)} /> : null}
    </div>
  );
}
