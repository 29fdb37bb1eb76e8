/** Pause / resume / terminate, the mode switch and public visibility: only what the viewer may use. */

import { useState } from "preact/hooks";
import { useApp } from "../context";
import type { Controls } from "../lib/controls";
import { num } from "../lib/format";
import { PAUSE, RESUME, type RunMode, SET_MODE, SET_PACE, SET_PUBLIC, TERMINATE } from "../lib/queries";
import { MAX_PACE, paceText } from "../lib/runplan";
import { ConfirmButton, ErrorNote, useAction } from "./common";
import { EmergencyStopButton, useHasEmergencyStop } from "./EmergencyStop";
import { MODE_LABELS } from "./LaunchForm";

/**
 * The pace (most steps per second) and the measured steps per second; a controller may set
 * another pace, realtime (the env's render_fps) or none (as fast as it goes).
 */
export function PaceControl({
  id,
  pace,
  stepsPerSecond,
  mayChange,
  onChanged,
}: {
  id: string;
  pace: number | null | undefined;
  stepsPerSecond: number | null | undefined;
  mayChange: boolean;
  onChanged: () => void;
}) {
  const { api, schema, notify } = useApp();
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const set = useAction(async (variables: { pace: number | null; realtime?: boolean }) => {
    await api.request(SET_PACE, { id, ...variables });
    notify(variables.realtime ? "Pace: realtime" : `Pace: ${paceText(variables.pace)}`);
    setText("");
    onChanged();
  });
  const canSet = mayChange && !!schema.mutation("setPace");
  if (pace === undefined && stepsPerSecond === undefined && !canSet) return null;
  const submit = () => {
    const v = Number(text.trim());
    if (!text.trim() || !Number.isFinite(v) || v <= 0 || v > MAX_PACE) {
      setProblem(`pace expects a number of steps per second > 0 and ≤ ${MAX_PACE}, got ${text.trim() || "nothing"}`);
      return;
    }
    setProblem(null);
    void set.run({ pace: v });
  };
  return (
    <div class="pace row small" data-testid="pace">
      <span title="the most steps per second this instance takes">
        pace <strong data-testid="pace-value">{paceText(pace)}</strong>
      </span>
      {typeof stepsPerSecond === "number" ? (
        <span class="muted" title="measured">
          · {num(stepsPerSecond)} steps/s
        </span>
      ) : null}
      {canSet ? (
        <form
          class="row"
          aria-label="Set pace"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <input
            aria-label="Pace (steps per second)"
            type="number"
            min="0"
            step="any"
            inputMode="decimal"
            placeholder="steps/s"
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
            style={{ width: "6rem" }}
          />
          <button type="submit" class="small" disabled={set.busy}>
            Set pace
          </button>
          <button type="button" class="small" disabled={set.busy} onClick={() => void set.run({ pace: null, realtime: true })}>
            realtime
          </button>
          <button type="button" class="small" disabled={set.busy} onClick={() => void set.run({ pace: null })}>
            flat out
          </button>
        </form>
      ) : null}
      <ErrorNote error={problem ?? set.error} />
    </div>
  );
}

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
  const act = useAction(async (send: () => Promise<unknown>, message: string) => {
    await send();
    notify(message);
    onChanged();
  });
  const hasStop = useHasEmergencyStop();
  const stop = controls.emergencyStop && hasStop;
  const any = controls.pause || controls.resume || controls.terminate || controls.modes.length > 0 || controls.setPublic || stop;
  if (!any) return null;
  return (
    <div class="controlbar" role="toolbar" aria-label="Instance controls">
      {stop ? <EmergencyStopButton id={id} onStopped={onChanged} hotkey /> : null}
      {controls.pause ? (
        <button type="button" disabled={act.busy} onClick={() => void act.run(() => api.request(PAUSE, { id }), "Paused")}>
          ❚❚ Pause
        </button>
      ) : null}
      {controls.resume ? (
        <button type="button" class="primary" disabled={act.busy} onClick={() => void act.run(() => api.request(RESUME, { id }), "Resumed")}>
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
              void act.run(() => api.request(SET_MODE, { id, mode: next }), `Mode: ${MODE_LABELS[next]}`);
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
              void act.run(
                () => api.request(SET_PUBLIC, { id, public: value }),
                value ? "Anyone may watch it now" : "Only people with rights may watch it now",
              );
            }}
          />
          public
        </label>
      ) : null}
      {controls.terminate ? (
        <ConfirmButton
          label="■ Terminate"
          confirm="Really terminate?"
          disabled={act.busy}
          onConfirm={() => void act.run(() => api.request(TERMINATE, { id }), "Terminated")}
        />
      ) : null}
      <ErrorNote error={act.error} />
    </div>
  );
}
