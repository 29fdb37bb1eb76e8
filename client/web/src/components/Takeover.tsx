/**
 * Takeover: a person drives the AInimal's action from the keyboard, a gamepad or the screen.
 * The controls come from the action's modality (discrete: buttons and keys; a 2-D box: a
 * joystick; a small box: sliders). Real time: the latest action holds until released, when
 * the AInimal acts again. Lockstep: the env waits for each action.
 */

import { useMemo, useState } from "preact/hooks";
import { useApp } from "../context";
import { type ControlWidget, controlWidget, type Modality } from "../lib/modalities";
import { CLEAR_OVERRIDE, type Override } from "../lib/queries";
import { keyBindings, type TakeoverMode } from "../lib/takeover";
import { DEFAULT_HOLD_SECONDS } from "../lib/lease";
import { ErrorNote, useAction } from "./common";
import { LeaseNote, useTakeoverLease } from "./TakeoverLease";
import { Pad } from "./TakeoverPad";

export function Takeover({
  instanceId,
  actionName,
  modality,
  overrides,
  onChanged,
}: {
  instanceId: string;
  actionName: string;
  modality: Modality;
  overrides: Override[];
  onChanged: () => void;
}) {
  const { api, notify, viewer } = useApp();
  const target = `outputs/${actionName}`;
  const control = useMemo(() => controlWidget(modality), [modality]);
  const active = overrides.find((o) => o.target === target && o.takeover && o.active !== false) ?? null;
  const [mode, setMode] = useState<TakeoverMode>("realtime");
  // Armed: the controls are live here; the takeover starts with the first action sent.
  const [armed, setArmed] = useState<TakeoverMode | null>(null);
  // The takeover this page started, before the instance's override list shows it.
  const [startedId, setStartedId] = useState<string | null>(null);
  const stop = useAction(async () => {
    const id = active?.id ?? startedId;
    if (id) await api.request(CLEAR_OVERRIDE, { id: instanceId, override: id });
    setArmed(null);
    setStartedId(null);
    if (!id) return;
    notify("The AInimal acts again");
    onChanged();
  });
  const mineId = startedId ?? (active && (armed || (viewer.username && (active.holder ?? active.setBy) === viewer.username)) ? active.id : null);
  const { lease, touch } = useTakeoverLease(instanceId, mineId, active?.holdSeconds ?? DEFAULT_HOLD_SECONDS, (message) => {
    setArmed(null);
    setStartedId(null);
    notify(`Your takeover ended: ${message}. The AInimal acts again.`, "error");
    onChanged();
  });
  if (!control) return null;
  const driving = (active?.takeover as TakeoverMode | undefined) ?? armed;
  return (
    <div class="takeover" data-testid="takeover">
      <div class="row spread">
        <strong>Take over {actionName}</strong>
        {driving ? (
          <button type="button" class="danger" disabled={stop.busy} onClick={() => void stop.run()}>
            Hand back
          </button>
        ) : (
          <div class="row">
            <select aria-label="Takeover mode" value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value as TakeoverMode)}>
              <option value="realtime">real time</option>
              <option value="lockstep">lockstep (env waits)</option>
            </select>
            <button type="button" class="primary" onClick={() => setArmed(mode)}>
              Take over
            </button>
          </div>
        )}
      </div>
      <ErrorNote error={stop.error} />
      {active || lease ? (
        <LeaseNote
          holder={lease?.holder ?? active?.holder ?? active?.setBy}
          expiresAt={lease?.leaseExpiresAt ?? active?.leaseExpiresAt}
          mine={mineId !== null}
        />
      ) : null}
      {driving ? (
        <Pad
          onInput={touch}
          key={driving}
          instanceId={instanceId}
          target={target}
          control={control}
          mode={driving}
          started={!!active || startedId !== null}
          onStarted={(overrideId) => {
            setStartedId(overrideId);
            notify(`You drive ${actionName} now (${driving === "realtime" ? "real time" : "lockstep"})`);
            onChanged();
          }}
        />
      ) : (
        <p class="muted small">{describeControls(control)}</p>
      )}
    </div>
  );
}

function describeControls(control: ControlWidget): string {
  const keys = keyBindings(control);
  const how = keys.length ? `keys ${[...new Set(keys.map((k) => k.label))].join(" ")}, ` : "";
  return `Drive it with ${how}a gamepad or the on-screen ${control.kind === "buttons" ? "buttons" : control.kind}.`;
}
