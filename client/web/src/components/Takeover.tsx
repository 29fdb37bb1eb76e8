/**
 * Takeover: a person drives the AInimal's action from the keyboard, a gamepad or the screen.
 * The controls come from the action's modality (discrete: buttons and keys; a 2-D box: a
 * joystick; a small box: sliders). Real time: the latest action holds until released, when
 * the AInimal acts again. Lockstep: the env waits for each action.
 */

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { useApp } from "../context";
import type { Api } from "../lib/graphql";
import { type ControlWidget, controlWidget, type Modality } from "../lib/modalities";
import { ACT, CLEAR_OVERRIDE, OVERRIDE, type Override } from "../lib/queries";
import {
  type ActionValue,
  joystickValue,
  keyBindings,
  sameValue,
  type TakeoverMode,
  valueFromGamepad,
  valueFromKeys,
} from "../lib/takeover";
import { DEFAULT_HOLD_SECONDS, type LeaseInfo, LeaseRenewer, RENEW_TAKEOVER, renewIntervalMs, secondsUntil } from "../lib/lease";
import { ErrorNote, useAction } from "./common";

/**
 * While this page drives (`overrideId` set), renew the takeover's lease every holdSeconds / 3
 * as long as the tab is visible and its person present; stop when the tab closes. Returns the
 * lease as the server last told it, and `touch` for inputs the window does not see (gamepads).
 */
function useTakeoverLease(
  instanceId: string,
  overrideId: string | null,
  holdSeconds: number | null | undefined,
  onLost: (message: string) => void,
): { lease: LeaseInfo | null; touch: () => void } {
  const { api, schema } = useApp();
  const [lease, setLease] = useState<LeaseInfo | null>(null);
  const renewer = useRef<LeaseRenewer | null>(null);
  const lost = useRef(onLost);
  lost.current = onLost;
  const supported = !!schema.mutation("renewTakeover");
  useEffect(() => {
    if (!overrideId || !supported) return undefined;
    const r = new LeaseRenewer({
      renew: async () => (await api.request<{ renewTakeover: LeaseInfo }>(RENEW_TAKEOVER, { id: instanceId, override: overrideId })).renewTakeover,
      intervalMs: renewIntervalMs(holdSeconds),
      onRenewed: (info) => info && setLease(info),
      onLost: (message) => lost.current(message),
    });
    renewer.current = r;
    const touch = () => r.touch();
    const visibility = () => {
      if (document.visibilityState === "visible") r.wake();
    };
    const events = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"] as const;
    for (const e of events) window.addEventListener(e, touch, { passive: true });
    document.addEventListener("visibilitychange", visibility);
    // Closing the tab: no more renewals, the server hands control back when the lease lapses.
    window.addEventListener("pagehide", () => r.stop(), { once: true });
    return () => {
      r.stop();
      renewer.current = null;
      for (const e of events) window.removeEventListener(e, touch);
      document.removeEventListener("visibilitychange", visibility);
    };
  }, [api, instanceId, overrideId, holdSeconds, supported]);
  useEffect(() => {
    if (!overrideId) setLease(null);
  }, [overrideId]);
  return { lease, touch: () => renewer.current?.touch() };
}

/** "held by alice · lapses in 4 s", counting down. */
function LeaseNote({ holder, expiresAt, mine }: { holder: string | null | undefined; expiresAt: string | null | undefined; mine: boolean }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (!expiresAt) return undefined;
    const timer = setInterval(() => tick((n) => n + 1), 500);
    return () => clearInterval(timer);
  }, [expiresAt]);
  const left = secondsUntil(expiresAt);
  if (!holder && left === null) return null;
  return (
    <p class="small muted" data-testid="takeover-lease">
      {holder ? `held by ${holder}${mine ? " (you)" : ""}` : "held"}
      {left !== null ? ` · lapses in ${left} s${mine ? " unless renewed (this tab renews it while you are here)" : ""}` : ""}
    </p>
  );
}

/**
 * Sends actions in order; in real time only the newest waiting one is kept. The first action
 * starts the takeover (an override of the target carrying that action: the API needs one),
 * the following ones go through `act`.
 */
export class ActSender {
  private inFlight = false;
  private queue: ActionValue[] = [];
  sent = 0;
  constructor(
    private readonly api: Api,
    private readonly id: string,
    private readonly target: string,
    private readonly mode: TakeoverMode,
    private started: boolean,
    private readonly onError: (message: string) => void,
    private readonly onStarted: (overrideId: string) => void = () => undefined,
  ) {}

  send(value: ActionValue): void {
    if (!this.started && value === null && this.queue.length === 0) return; // nothing to hand back yet
    if (this.mode === "realtime") this.queue = [value];
    else this.queue.push(value);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.inFlight) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.inFlight = true;
    try {
      if (this.started) {
        await this.api.request(ACT, { id: this.id, value: next, target: this.target });
      } else if (next !== null) {
        const data = await this.api.request<{ override: { id: string } }>(OVERRIDE, {
          id: this.id,
          input: { target: this.target, value: next, takeover: this.mode },
        });
        this.started = true;
        this.onStarted(data.override.id);
      }
      this.sent += 1;
    } catch (e) {
      this.onError(e instanceof Error ? e.message : String(e));
    } finally {
      this.inFlight = false;
      void this.pump();
    }
  }
}

function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName) || target.isContentEditable);
}

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
        <LeaseNote holder={lease?.holder ?? active?.holder ?? active?.setBy} expiresAt={lease?.leaseExpiresAt ?? active?.leaseExpiresAt} mine={mineId !== null} />
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

/** The live controls while a takeover is in force. */
function Pad({
  instanceId,
  target,
  control,
  mode,
  started,
  onStarted,
  onInput,
}: {
  instanceId: string;
  target: string;
  control: ControlWidget;
  mode: TakeoverMode;
  started: boolean;
  onStarted: (overrideId: string) => void;
  /** The person did something (keeps the lease renewed). */
  onInput: () => void;
}) {
  const { api } = useApp();
  const [error, setError] = useState<string | null>(null);
  const [last, setLast] = useState<ActionValue>(null);
  const [pad, setPad] = useState<string | null>(null);
  const startedRef = useRef(onStarted);
  startedRef.current = onStarted;
  // One sender per pad: it starts the takeover with the first action and knows it has.
  const sender = useMemo(
    () => new ActSender(api, instanceId, target, mode, started, setError, (overrideId) => startedRef.current(overrideId)),
    [api, instanceId, target, mode],
  );
  const bindings = useMemo(() => keyBindings(control), [control]);
  const held = useRef<string[]>([]);
  const screen = useRef<ActionValue>(null);
  const lastSent = useRef<ActionValue>(null);

  /** Realtime: send on every change; lockstep: send each new press (never a release). */
  const inputRef = useRef(onInput);
  inputRef.current = onInput;
  const emit = useCallback(
    (value: ActionValue, press: boolean) => {
      inputRef.current();
      if (mode === "lockstep") {
        if (press && value !== null) {
          sender.send(value);
          setLast(value);
        }
        return;
      }
      if (sameValue(value, lastSent.current)) return;
      lastSent.current = value;
      sender.send(value);
      setLast(value);
    },
    [mode, sender],
  );

  // The latest `emit`, read by the key listeners when a key moves: re-attaching the listeners
  // after each render (when the takeover starts) would leave a gap where a key press went to
  // the previous sender and was lost.
  const emitRef = useRef(emit);
  emitRef.current = emit;

  // Keyboard. A layout effect: the listeners are in place before the pad is painted, so a key
  // pressed the moment the pad appears is not lost.
  useLayoutEffect(() => {
    const emit = (value: ActionValue, press: boolean) => emitRef.current(value, press);
    const down = (e: KeyboardEvent) => {
      if (typing(e.target) || !bindings.some((b) => b.code === e.code)) return;
      e.preventDefault();
      if (e.repeat || held.current.includes(e.code)) return;
      held.current = [...held.current, e.code];
      emit(valueFromKeys(control, bindings, held.current), true);
    };
    const up = (e: KeyboardEvent) => {
      if (!held.current.includes(e.code)) return;
      held.current = held.current.filter((c) => c !== e.code);
      emit(valueFromKeys(control, bindings, held.current) ?? screen.current, false);
    };
    const blur = () => {
      held.current = [];
      emit(screen.current, false);
    };
    window.addEventListener("keydown", down);
    window.addEventListener("keyup", up);
    window.addEventListener("blur", blur);
    return () => {
      window.removeEventListener("keydown", down);
      window.removeEventListener("keyup", up);
      window.removeEventListener("blur", blur);
    };
  }, [bindings, control]);

  // Gamepad (polled: the Gamepad API has no events for buttons and sticks)
  useEffect(() => {
    if (typeof navigator.getGamepads !== "function") return undefined;
    let raf = 0;
    let previous: ActionValue = null;
    const poll = () => {
      const gp = [...navigator.getGamepads()].find((g) => g && g.connected) ?? null;
      setPad((name) => (name === (gp?.id ?? null) ? name : (gp?.id ?? null)));
      if (gp) {
        const value = valueFromGamepad(control, { buttons: gp.buttons.map((b) => b.pressed), axes: [...gp.axes] });
        if (!sameValue(value, previous)) {
          emit(value, value !== null);
          previous = value;
        }
      }
      raf = requestAnimationFrame(poll);
    };
    raf = requestAnimationFrame(poll);
    return () => cancelAnimationFrame(raf);
  }, [control, emit]);

  // Release everything when the pad goes away (takeover ended, view left).
  useEffect(() => () => void (mode === "realtime" && lastSent.current !== null && sender.send(null)), [mode, sender]);

  const onScreen = (value: ActionValue, press: boolean) => {
    screen.current = value;
    emit(value ?? valueFromKeys(control, bindings, held.current), press);
  };

  return (
    <div class="pad">
      <OnScreen control={control} onChange={onScreen} />
      <p class="small muted">
        {bindings.length ? (
          <>
            Keys:{" "}
            {bindings.map((b) => (
              <kbd key={b.code} title={b.code}>
                {b.label}
              </kbd>
            ))}{" "}
          </>
        ) : null}
        {pad ? `· gamepad: ${pad.slice(0, 30)}` : "· connect a gamepad and press a button to use it"}
      </p>
      <p class="small" data-testid="last-action">
        {started ? "" : "ready: your first action starts the takeover · "}
        {mode === "lockstep" ? "lockstep: each press is one step" : "real time"} · last action sent:{" "}
        <code>{last === null ? "none (the AInimal acts)" : JSON.stringify(last)}</code>
      </p>
      <ErrorNote error={error} />
    </div>
  );
}

/** Touch / mouse controls for the action. */
export function OnScreen({ control, onChange }: { control: ControlWidget; onChange: (value: ActionValue, press: boolean) => void }) {
  if (control.kind === "buttons") {
    return (
      <div class="touch-buttons">
        {control.choices.map((choice) => (
          <button
            key={choice}
            type="button"
            class="touch"
            aria-label={`action ${choice}`}
            onPointerDown={(e) => {
              (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
              onChange(choice, true);
            }}
            onPointerUp={() => onChange(null, false)}
            onPointerCancel={() => onChange(null, false)}
          >
            {choice}
          </button>
        ))}
      </div>
    );
  }
  if (control.kind === "joystick") return <Joystick control={control} onChange={onChange} />;
  if (control.kind === "sliders") return <Sliders control={control} onChange={onChange} />;
  return <Toggles size={control.size} onChange={onChange} />;
}

function Joystick({ control, onChange }: { control: Extract<ControlWidget, { kind: "joystick" }>; onChange: (v: ActionValue, press: boolean) => void }) {
  const [knob, setKnob] = useState<[number, number]>([0, 0]);
  const move = (e: PointerEvent, press: boolean) => {
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * 2 - 1;
    const y = -(((e.clientY - rect.top) / rect.height) * 2 - 1);
    const length = Math.hypot(x, y);
    const [cx, cy] = length > 1 ? [x / length, y / length] : [x, y];
    setKnob([cx, cy]);
    onChange(joystickValue(control, cx, cy), press);
  };
  const release = () => {
    setKnob([0, 0]);
    onChange(null, false);
  };
  return (
    <div
      class="joystick"
      role="slider"
      aria-label="joystick"
      aria-valuetext={JSON.stringify(joystickValue(control, knob[0], knob[1]))}
      onPointerDown={(e) => {
        (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
        move(e, true);
      }}
      onPointerMove={(e) => {
        if (e.buttons) move(e, false);
      }}
      onPointerUp={release}
      onPointerCancel={release}
    >
      <div class="knob" style={{ left: `${50 + knob[0] * 40}%`, top: `${50 - knob[1] * 40}%` }} />
    </div>
  );
}

function Sliders({ control, onChange }: { control: Extract<ControlWidget, { kind: "sliders" }>; onChange: (v: ActionValue, press: boolean) => void }) {
  const middle = control.low.map((lo, i) => (lo + control.high[i]!) / 2);
  const [values, setValues] = useState(middle);
  return (
    <div class="sliders">
      {values.map((v, i) => (
        <label key={i}>
          {i}
          <input
            type="range"
            min={control.low[i]}
            max={control.high[i]}
            step={(control.high[i]! - control.low[i]!) / 100}
            value={v}
            onInput={(e) => {
              const next = values.slice();
              next[i] = Number((e.target as HTMLInputElement).value);
              setValues(next);
              onChange(next, true);
            }}
          />
          <span class="value">{v.toFixed(2)}</span>
        </label>
      ))}
      <button
        type="button"
        onClick={() => {
          setValues(middle);
          onChange(null, false);
        }}
      >
        Release
      </button>
    </div>
  );
}

function Toggles({ size, onChange }: { size: number; onChange: (v: ActionValue, press: boolean) => void }) {
  const [bits, setBits] = useState(() => Array.from({ length: size }, () => 0));
  return (
    <div class="touch-buttons">
      {bits.map((b, i) => (
        <button
          key={i}
          type="button"
          class={`touch ${b ? "on" : ""}`}
          aria-pressed={b === 1}
          onClick={() => {
            const next = bits.slice();
            next[i] = b ? 0 : 1;
            setBits(next);
            onChange(next.some((x) => x) ? next : null, true);
          }}
        >
          {i}
        </button>
      ))}
    </div>
  );
}
