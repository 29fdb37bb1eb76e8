/** The recordings of an instance: status, size, checkpoint, downloads and replays. */

import type { Controls } from "../lib/controls";
import { bytes, num, when } from "../lib/format";
import type { Checkpoint, Recording } from "../lib/queries";
import { tagOf } from "../lib/replays";

export function RecordingTable({
  recordings,
  checkpoints,
  controls,
  busy,
  onDownload,
  onReplay,
}: {
  recordings: Recording[];
  checkpoints: Checkpoint[];
  controls: Controls;
  /** A replay is under way: no second one. */
  busy: boolean;
  onDownload: (path: string, name: string) => void;
  /** Replay a recording: open loop (its inputs) or closed loop (the AInimal acts). */
  onReplay: (id: string, closed: boolean) => void;
}) {
  if (recordings.length === 0) return <p class="muted">No recordings yet.</p>;
  return (
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
                    <button type="button" class="small" onClick={() => onDownload(r.downloadUrl!, `recording-${r.id}.arrow`)}>
                      Arrow
                    </button>
                    {r.minariUrl ? (
                      <button type="button" class="small" onClick={() => onDownload(r.minariUrl!, `recording-${r.id}.zip`)}>
                        Minari
                      </button>
                    ) : null}
                  </>
                ) : null}
                {controls.replay && r.status === "complete" && !r.replayOf ? (
                  <>
                    <button type="button" class="small" disabled={busy} onClick={() => onReplay(r.id, false)} title="feed the recorded inputs to the AInimal">
                      Replay
                    </button>
                    <button
                      type="button"
                      class="small"
                      disabled={busy}
                      onClick={() => onReplay(r.id, true)}
                      title="restart the env where the recording did and let the AInimal act"
                    >
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
  );
}
