/** Pause / resume / terminate, the mode switch and public visibility: only what the viewer may use. */

import { useApp } from "../context";
import type { Controls } from "../lib/controls";
import { PAUSE, RESUME, type RunMode, SET_MODE, SET_PUBLIC, TERMINATE } from "../lib/queries";
import { ConfirmButton, ErrorNote, useAction } from "./common";
import { MODE_LABELS } from "./LaunchForm";

export function ControlBar({
  id,
  mode,
  isPublic,
  controls,
  onChanged,
}: {
  id: string;
  mode: RunMode;
  isPublic: boolean;
  controls: Controls;
  onChanged: () => void;
}) {
  const { api, notify } = useApp();
  const act = useAction(async (query: string, variables: Record<string, unknown>, message: string) => {
    await api.request(query, { id, ...variables });
    notify(message);
    onChanged();
  });
  const any = controls.pause || controls.resume || controls.terminate || controls.modes.length > 0 || controls.setPublic;
  if (!any) return null;
  return (
    <div class="controlbar" role="toolbar" aria-label="Instance controls">
      {controls.pause ? (
        <button type="button" disabled={act.busy} onClick={() => void act.run(PAUSE, {}, "Paused")}>
          ❚❚ Pause
        </button>
      ) : null}
      {controls.resume ? (
        <button type="button" class="primary" disabled={act.busy} onClick={() => void act.run(RESUME, {}, "Resumed")}>
          ▶ Resume
        </button>
      ) : null}
      {controls.modes.length > 0 ? (
        <label class="inline">
          Mode
          <select
            aria-label="Mode"
            value={mode}
            disabled={act.busy}
            onChange={(e) => {
              const next = (e.target as HTMLSelectElement).value as RunMode;
              void act.run(SET_MODE, { mode: next }, `Mode: ${MODE_LABELS[next]}`);
            }}
          >
            {controls.modes.map((m) => (
              <option key={m} value={m}>
                {MODE_LABELS[m]}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {controls.setPublic ? (
        <label class="inline check">
          <input
            type="checkbox"
            checked={isPublic}
            disabled={act.busy}
            onChange={(e) => {
              const value = (e.target as HTMLInputElement).checked;
              void act.run(SET_PUBLIC, { public: value }, value ? "Anyone may watch it now" : "Only people with rights may watch it now");
            }}
          />
          public
        </label>
      ) : null}
      {controls.terminate ? (
        <ConfirmButton label="■ Terminate" confirm="Really terminate?" disabled={act.busy} onConfirm={() => void act.run(TERMINATE, {}, "Terminated")} />
      ) : null}
      <ErrorNote error={act.error} />
    </div>
  );
}
