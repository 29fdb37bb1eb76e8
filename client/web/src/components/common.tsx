/** Small pieces the screens share. */

import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { StreamStatus } from "../lib/sse";
import type { HealthState } from "../lib/streamhealth";

/** Run an async action with a busy flag and its error, e.g. for a button. */
export function useAction<A extends unknown[]>(
  action: (...args: A) => Promise<unknown>,
): { run: (...args: A) => Promise<void>; busy: boolean; error: string | null; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const mounted = useRef(true);
  useEffect(() => () => void (mounted.current = false), []);
  const run = useCallback(
    async (...args: A) => {
      setBusy(true);
      setError(null);
      try {
        await action(...args);
      } catch (e) {
        if (mounted.current) setError(e instanceof Error ? e.message : String(e));
      } finally {
        if (mounted.current) setBusy(false);
      }
    },
    [action],
  );
  return { run, busy, error, clear: () => setError(null) };
}

export function ErrorNote({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

const STATUS_CLASS: Record<string, string> = {
  RUNNING: "ok",
  PAUSED: "warn",
  STARTING: "info",
  PENDING: "info",
  STOPPING: "warn",
  TERMINATED: "muted",
  FAILED: "bad",
};

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge ${STATUS_CLASS[status] ?? "muted"}`}>{status.toLowerCase()}</span>;
}

/** The live connection's state, shown only when it is not simply open. */
export function LiveBadge({ status }: { status: StreamStatus | null }) {
  if (!status || status.state === "open") {
    return (
      <span class="live" title="live">
        ● live
      </span>
    );
  }
  const text =
    status.state === "retrying"
      ? `reconnecting in ${Math.ceil((status.delayMs ?? 0) / 1000)} s`
      : status.state === "failed"
        ? `live updates stopped: ${status.message ?? ""}`
        : status.state === "closed"
          ? "stream ended"
          : "connecting…";
  return <span class={`live ${status.state}`}>{text}</span>;
}

const HEALTH_TITLE: Record<string, string> = {
  live: "data arrives as it should",
  stalled: "connected, but no data came for a while",
  paused: "the instance is paused: nothing to stream",
  waiting: "the instance waits for a person's action",
  reconnecting: "the connection dropped: reconnecting by itself",
  ended: "the instance ended: no more data will come",
  failed: "a retry cannot help",
  connecting: "connecting",
};

/** How live a stream really is (streamhealth.ts): "● live" only while data arrives. */
export function HealthBadge({ state }: { state: HealthState }) {
  const h = state.health;
  const text =
    h === "live"
      ? "● live"
      : h === "reconnecting"
        ? `reconnecting${state.retryInMs ? ` in ${Math.ceil(state.retryInMs / 1000)} s` : "…"}`
        : h === "waiting"
          ? `waiting for ${state.waitingFor ?? "a person"}`
          : h === "failed"
            ? `live updates stopped${state.message ? `: ${state.message}` : ""}`
            : h === "connecting"
              ? "connecting…"
              : h;
  const cls = h === "live" ? "" : h === "stalled" || h === "reconnecting" || h === "failed" ? "retrying" : "muted";
  return (
    <span class={`live ${cls}`} data-testid="live-badge" data-health={h} title={[HEALTH_TITLE[h], state.message].filter(Boolean).join(": ")}>
      {text}
    </span>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="panel">
      <header>
        <h2>{title}</h2>
        {actions ? <div class="actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** Modal-free confirmation: the button asks once more before acting. */
export function ConfirmButton({
  label,
  confirm,
  onConfirm,
  disabled,
  class: className,
}: {
  label: string;
  confirm: string;
  onConfirm: () => void;
  disabled?: boolean;
  class?: string;
}) {
  const [asking, setAsking] = useState(false);
  useEffect(() => {
    if (!asking) return undefined;
    const timer = setTimeout(() => setAsking(false), 4000);
    return () => clearTimeout(timer);
  }, [asking]);
  return (
    <button
      type="button"
      class={`${className ?? ""} ${asking ? "danger" : ""}`}
      disabled={disabled}
      onClick={() => (asking ? (setAsking(false), onConfirm()) : setAsking(true))}
    >
      {asking ? confirm : label}
    </button>
  );
}
