/**
 * An instance's logs: the tail from `logs(id:, tail:)`, then live lines from the `logs(id:)`
 * subscription (fetched again after a reconnect, merged without repeats), coloured by stream
 * (stderr and tracebacks stand out), following the end until the reader scrolls up. At most
 * LOG_CAPACITY lines are kept.
 */

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { useApp } from "../context";
import { useLiveStream } from "../lib/live";
import { LOG_LINES, LOG_TAIL, LogBuffer, type LogLine } from "../lib/logs";
import { ErrorNote, HealthBadge } from "./common";

const TAIL = 1000;

function clock(time: number): string {
  const d = new Date(time * 1000);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour12: false });
}

/** Whether the server serves logs (query and subscription). */
export function useHasLogs(): { query: boolean; live: boolean } {
  const { schema } = useApp();
  return { query: !!schema.query("logs"), live: !!schema.subscription("logs") };
}

/** The tail and the live lines of one instance, in a bounded buffer. */
function useLogs(id: string, live: boolean, tail: number) {
  const { api } = useApp();
  // eslint-disable-next-line react-hooks/exhaustive-deps -- a fresh buffer per instance
  const buffer = useMemo(() => new LogBuffer(), [id]);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const loaded = useRef(false);
  const pending = useRef<LogLine[]>([]);
  const fetchTail = useMemo(
    () => async () => {
      try {
        const data = await api.request(LOG_TAIL, { id, tail });
        buffer.merge(data.logs);
        loaded.current = true;
        buffer.merge(pending.current);
        pending.current = [];
        setError(null);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
      setVersion(buffer.version);
    },
    [api, id, tail, buffer],
  );
  useEffect(() => void fetchTail(), [fetchTail]);
  // Live lines re-render at most 5 times a second.
  const dirty = useRef<ReturnType<typeof setTimeout> | null>(null);
  const health = useLiveStream(
    api,
    live ? LOG_LINES : null,
    { id },
    (d) => {
      if (!loaded.current) pending.current.push(d.logs);
      else buffer.push(d.logs);
      if (!dirty.current) {
        dirty.current = setTimeout(() => {
          dirty.current = null;
          setVersion(buffer.version);
        }, 200);
      }
    },
    { expectedIntervalMs: null },
    { onResume: () => void fetchTail() },
  );
  useEffect(() => () => void (dirty.current && clearTimeout(dirty.current)), []);
  return { buffer, version, error, health };
}

export function Logs({ id, ended }: { id: string; ended: boolean }) {
  const { live } = useHasLogs();
  const { buffer, error, health } = useLogs(id, live && !ended, TAIL);
  const box = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [filter, setFilter] = useState<"all" | "errors">("all");
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  });
  const lines = filter === "errors" ? buffer.lines.filter((l) => l.stream === "stderr" || l.stream === "traceback") : buffer.lines;
  return (
    <div class="logs" data-testid="logs">
      <div class="row spread small">
        <span class="muted">
          {buffer.lines.length} lines{buffer.dropped ? ` (the oldest ${buffer.dropped} let go: the last ${buffer.capacity} are kept)` : ""}
          {live && !ended ? (
            <>
              {" · "}
              <HealthBadge state={health} />
            </>
          ) : null}
        </span>
        <span class="row">
          <label class="inline">
            Show
            <select aria-label="Show log lines" value={filter} onChange={(e) => setFilter((e.target as HTMLSelectElement).value as "all" | "errors")}>
              <option value="all">everything</option>
              <option value="errors">stderr and tracebacks</option>
            </select>
          </label>
          {follow ? null : (
            <button type="button" class="small" onClick={() => setFollow(true)}>
              ↓ follow
            </button>
          )}
        </span>
      </div>
      <ErrorNote error={error} />
      <div
        class="log-lines"
        ref={box}
        role="log"
        aria-label="log lines"
        data-follow={follow ? "yes" : "no"}
        onScroll={(e) => {
          const el = e.currentTarget as HTMLDivElement;
          const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          if (atEnd !== follow) setFollow(atEnd);
        }}
      >
        {lines.length === 0 ? <p class="muted">Nothing logged yet.</p> : null}
        {lines.map((l, i) => (
          <div key={i} class={`log-line ${l.stream}`} data-stream={l.stream}>
            <span class="log-time">{clock(l.time)}</span>
            <span class="log-text">{l.text}</span>
          </div>
        ))}
      </div>
    </div>
  );
}

/** A FAILED instance's traceback, shown prominently to those who may inspect it. */
export function FailureTraceback({ id }: { id: string }) {
  const { buffer, version } = useLogs(id, false, 200);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the buffer changes in place; version says when
  const lines = useMemo(() => buffer.traceback(), [buffer, version]);
  if (lines.length === 0) return null;
  return (
    <section class="panel traceback" data-testid="traceback">
      <header>
        <h2>Traceback</h2>
      </header>
      <pre>{lines.map((l) => l.text).join("\n")}</pre>
    </section>
  );
}
