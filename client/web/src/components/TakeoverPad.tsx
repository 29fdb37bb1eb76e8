/** The live controls while a takeover is in force: keyboard, gamepad and on-screen input. */

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { useApp } from "../context";
import { ActSender } from "../lib/actsender";
import type { ControlWidget } from "../lib/modalities";
import { type ActionValue, keyBindings, sameValue, type TakeoverMode, valueFromGamepad, valueFromKeys } from "../lib/takeover";
import { ErrorNote } from "./common";
import { OnScreen } from "./TakeoverControls";

function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName) || target.isContentEditable);
}

/** The live controls while a takeover is in force. */
export function Pad({
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
    // `started` only seeds the sender: once it has started the takeover it knows by itself.
    // eslint-disable-next-line react-hooks/exhaustive-deps
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
