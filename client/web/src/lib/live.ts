/** Hooks for data that changes: refetch on events, poll as a fallback, pause when hidden. */

import { useEffect, useRef, useState } from "preact/hooks";
import type { Api, Variables } from "./graphql";
import type { StreamStatus } from "./sse";

/**
 * Run `query` now, again whenever `refresh()` is called (debounced), and every `pollMs` while
 * the page is visible. Keeps the last good data when a refetch fails.
 */
export function usePolledQuery<T>(
  api: Api,
  query: string,
  variables: Variables,
  pollMs: number,
): { data: T | null; error: string | null; refresh: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify(variables);
  const refreshRef = useRef<() => void>(() => undefined);
  useEffect(() => {
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
        const result = await api.request<T>(query, JSON.parse(key) as Variables);
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
export function useSubscription<T>(
  api: Api,
  query: string | null,
  variables: Variables,
  onData: (data: T) => void,
): StreamStatus | null {
  const [status, setStatus] = useState<StreamStatus | null>(null);
  const handler = useRef(onData);
  handler.current = onData;
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (!query) return undefined;
    return api.subscribe<T>(query, JSON.parse(key) as Variables, (d) => handler.current(d), setStatus);
  }, [api, query, key]);
  return status;
}
