/**
 * Emergency stop: pause now and clear every override and takeover (`emergencyStop`). One
 * click on the button, or Escape pressed twice within a second anywhere in a view showing the
 * instance (Escape drives no takeover, and a double press is hard to make by accident; Shift+Esc
 * is the browser's task manager in Chrome). Shown only to those who may control the instance.
 */

import { useEffect, useRef } from "preact/hooks";
import { useApp } from "../context";
import { EMERGENCY_STOP } from "../lib/queries";
import { ErrorNote, useAction } from "./common";

/** Two Escape presses within this many ms stop the instance. */
export const DOUBLE_ESCAPE_MS = 1000;

/** Whether the server has emergencyStop (a partial merge may not). */
export function useHasEmergencyStop(): boolean {
  return !!useApp().schema.mutation("emergencyStop");
}

/** Calls `onStop` when Escape is pressed twice within DOUBLE_ESCAPE_MS (even while typing). */
export function useDoubleEscape(onStop: (() => void) | null, now: () => number = () => Date.now()): void {
  const last = useRef<number | null>(null);
  const handler = useRef(onStop);
  handler.current = onStop;
  useEffect(() => {
    if (!onStop) return undefined;
    const down = (e: KeyboardEvent) => {
      if (e.key !== "Escape" || e.repeat) return;
      const t = now();
      if (last.current !== null && t - last.current <= DOUBLE_ESCAPE_MS) {
        last.current = null;
        e.preventDefault();
        handler.current?.();
      } else last.current = t;
    };
    window.addEventListener("keydown", down);
    return () => window.removeEventListener("keydown", down);
    // Listen while there is something to stop; `handler` holds the latest onStop, `now` is fixed.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- re-attach only when stopping turns on or off
  }, [!onStop]);
}

export function EmergencyStopButton({
  id,
  onStopped,
  hotkey = false,
  compact = false,
}: {
  id: string;
  onStopped: () => void;
  /** Listen for Escape twice (one per view: the view's own instance). */
  hotkey?: boolean;
  compact?: boolean;
}) {
  const { api, notify } = useApp();
  const stop = useAction(async () => {
    await api.request(EMERGENCY_STOP, { id });
    notify("Emergency stop: paused, every override and takeover cleared");
    onStopped();
  });
  useDoubleEscape(hotkey ? () => void stop.run() : null);
  return (
    <span class="estop-wrap">
      <button
        type="button"
        class="danger estop"
        data-testid="emergency-stop"
        disabled={stop.busy}
        title={`Pause now and clear every override and takeover${hotkey ? " (Esc Esc)" : ""}`}
        aria-keyshortcuts={hotkey ? "Escape Escape" : undefined}
        onClick={() => void stop.run()}
      >
        {compact ? "Stop" : "Emergency stop"}
        {hotkey && !compact ? <kbd>Esc Esc</kbd> : null}
      </button>
      <ErrorNote error={stop.error} />
    </span>
  );
}
