/** Hooks for data that changes: refetch on events, poll as a fallback, pause when hidden. */

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Api, Document } from "./graphql";
import type { StreamStatus } from "./sse";
import { type HealthContext, type HealthState, StreamHealth } from "./streamhealth";

/**
 * Run `query` now, again whenever `refresh()` is called (debounced), and every `pollMs` while
 * the page is visible. Keeps the last good data when a refetch fails. A null query waits.
 */
export function usePolledQuery<T, V>(
  api: Api,
  query: Document<T, V> | null,
  variables: V,
  pollMs: number,
): { data: T | null; error: string | null; refresh: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify(variables);
  const refreshRef = useRef<() => void>(() => undefined);
  useEffect(() => {
    if (!query) return undefined;
    let alive = true;
    let inFlight = false;
    let again = false;
    let debounce: ReturnType<typeof setTimeout> | undefined;
    const fetchNow = async () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      try {
        // The variables again from their key: a new object each render must not refetch.
        const result = await api.request(query, JSON.parse(key) as V);
        if (alive) {
          setData(result);
          setError(null);
        }
      } catch (e) {
        if (alive) setError(e instanceof Error ? e.message : String(e));
      } finally {
        inFlight = false;
        if (again && alive) {
          again = false;
          void fetchNow();
        }
      }
    };
    refreshRef.current = () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => void fetchNow(), 150);
    };
    void fetchNow();
    const timer = setInterval(() => {
      if (document.visibilityState !== "hidden") void fetchNow();
    }, pollMs);
    return () => {
      alive = false;
      clearInterval(timer);
      clearTimeout(debounce);
    };
  }, [api, query, key, pollMs]);
  return { data, error, refresh: () => refreshRef.current() };
}

/** Keep a subscription open while mounted; its status is returned for a live badge. */
export function useSubscription<T, V>(api: Api, query: Document<T, V> | null, variables: V, onData: (data: T) => void): StreamStatus | null {
  const [status, setStatus] = useState<StreamStatus | null>(null);
  const handler = useRef(onData);
  handler.current = onData;
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (!query) return undefined;
    return api.subscribe(query, JSON.parse(key) as V, (d) => handler.current(d), setStatus);
  }, [api, query, key]);
  return status;
}

/**
 * Keep a subscription open while mounted and say how live it really is (streamhealth.ts):
 * live / stalled / paused / waiting / reconnecting / ended. A stream stalled for long is
 * subscribed afresh. `onGap` runs when data stopped (dropped or stalled: charts break their
 * lines there), `onResume` when a dropped stream is open again (to fetch what was missed).
 */
export function useLiveStream<T, V>(
  api: Api,
  query: Document<T, V> | null,
  variables: V,
  onData: (data: T) => void,
  context: HealthContext,
  hooks: { onGap?: () => void; onResume?: () => void } = {},
): HealthState {
  const [state, setState] = useState<HealthState>({ health: query ? "connecting" : "ended" });
  const [generation, setGeneration] = useState(0);
  const handler = useRef(onData);
  handler.current = onData;
  const hooksRef = useRef(hooks);
  hooksRef.current = hooks;
  const health = useMemo(
    () =>
      new StreamHealth({
        onChange: (next) => {
          setState(next);
          if (next.health === "stalled" || next.health === "reconnecting") hooksRef.current.onGap?.();
        },
        onStuck: () => setGeneration((g) => g + 1),
      }),
    [],
  );
  useEffect(() => () => health.dispose(), [health]);
  const contextKey = JSON.stringify(context);
  useEffect(() => health.setContext(JSON.parse(contextKey) as HealthContext), [health, contextKey]);
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (!query) return undefined;
    let dropped = generation > 0;
    return api.subscribe(
      query,
      JSON.parse(key) as V,
      (d) => {
        health.data();
        handler.current(d);
      },
      (status) => {
        if (status.state === "retrying") dropped = true;
        health.status(status);
        if (status.state === "open" && dropped) {
          dropped = false;
          hooksRef.current.onResume?.();
        }
      },
    );
  }, [api, query, key, generation, health]);
  return query ? state : { health: "ended" };
}
