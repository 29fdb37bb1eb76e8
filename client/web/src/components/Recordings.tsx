/**
 * Recordings: start and stop one, download it (Arrow IPC or a Minari dataset), replay it, and
 * compare two checkpoints on one recording side by side (CompareCheckpoints.tsx).
 */

import { useState } from "preact/hooks";
import { useApp } from "../context";
import type { Controls } from "../lib/controls";
import { num } from "../lib/format";
import { type Checkpoint, type Recording, REPLAY_CLOSED, REPLAY_OPEN, START_RECORDING, STOP_RECORDING } from "../lib/queries";
import { waitForReplay } from "../lib/replays";
import { ErrorNote, useAction } from "./common";
import { CompareCheckpoints } from "./CompareCheckpoints";
import { RecordingTable } from "./RecordingTable";

const STREAM_CHOICES = ["inputs", "outputs", "reward", "metrics", "frame"];

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
    const data = await api.request(STOP_RECORDING, { recording: recording.id });
    notify(`Recorded ${num(data.stopRecording.steps)} steps`);
    onChanged();
  });
  const replay = useAction(async (id: string, closed: boolean) => {
    const variables = { id: instanceId, recording: id };
    const started = closed ? (await api.request(REPLAY_CLOSED, variables)).replayClosedLoop : (await api.request(REPLAY_OPEN, variables)).replay;
    const done = await waitForReplay(api, started.id, (r) => setProgress(`replaying: ${num(r.steps)} / ${num(r.totalSteps ?? 0)} steps`));
    setProgress(null);
    notify(
      done.status === "complete" ? `Replay done: ${num(done.steps)} steps` : `Replay ${done.status}: ${done.error ?? ""}`,
      done.status === "complete" ? "info" : "error",
    );
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
      <RecordingTable
        recordings={recordings}
        checkpoints={checkpoints}
        controls={controls}
        busy={replay.busy}
        onDownload={(path, name) => void download.run(path, name)}
        onReplay={(id, closed) => void replay.run(id, closed)}
      />
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
