/**
 * GraphQL subscriptions over Server-Sent Events (graphql-sse "distinct connections" mode):
 * POST the operation with `Accept: text/event-stream`, read `next` events until `complete`.
 *
 * fetch (not EventSource) so the request can carry the Authorization header; a dropped
 * connection is retried with exponential backoff and jitter, and the backoff resets as soon as
 * an event arrives. Errors that retrying cannot fix (401, 403, a bad query) end the stream.
 * A connection silent for longer than `idleTimeoutMs` (no event, no keep-alive) is dropped
 * and made again.
 */

export interface SSEEvent {
  event: string;
  data: string;
}

/** Incremental parser for the text/event-stream format (WHATWG HTML, "Server-sent events"). */
export class SSEParser {
  private buffer = "";
  private eventType = "";
  private data: string[] = [];

  /** Feed decoded text; returns the events completed by it. */
  push(text: string): SSEEvent[] {
    this.buffer += text;
    const events: SSEEvent[] = [];
    // A lone "\r" at the very end may be the first half of "\r\n": wait for more text.
    const lines = this.buffer.split(/\r\n|\n|\r(?!$)/);
    this.buffer = lines.pop() ?? "";
    for (const line of lines) {
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SSEEvent | null {
    if (line === "") {
      if (this.data.length === 0 && this.eventType === "") return null;
      const event = { event: this.eventType || "message", data: this.data.join("\n") };
      this.eventType = "";
      this.data = [];
      return event;
    }
    if (line.startsWith(":")) return null; // a comment: the server's keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.eventType = value;
    else if (field === "data") this.data.push(value);
    return null;
  }
}

export interface GraphQLPayload {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export type StreamState = "connecting" | "open" | "retrying" | "closed" | "failed";

export interface StreamStatus {
  state: StreamState;
  attempt: number;
  /** How long until the next attempt (retrying) */
  delayMs?: number;
  /** Why it is retrying or failed. */
  message?: string;
  /** The HTTP status behind a failure, if any. */
  status?: number;
}

export interface SubscribeOptions {
  url: string;
  body: string;
  /** Called for each attempt, so a token refreshed meanwhile is used. */
  headers: () => Record<string, string>;
  onNext: (payload: GraphQLPayload) => void;
  onStatus?: (status: StreamStatus) => void;
  fetchImpl?: typeof fetch;
  initialDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  /**
   * Reconnect when nothing at all (not even the server's keep-alive comment, every 15 s) came
   * for this long: a half-open connection otherwise looks open for ever. 0 turns it off.
   */
  idleTimeoutMs?: number;
}

/** Statuses a retry will not fix. */
const FATAL = new Set([400, 401, 403, 404, 405, 406, 413, 415, 422]);

/** The wait before retry `attempt` (1, 2, ...): doubling from `initial`, capped, with jitter. */
export function backoffDelay(attempt: number, initial: number, max: number, random: () => number): number {
  const base = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + random() / 2));
}

/** Start a subscription; the returned function ends it. */
export function subscribeSSE(options: SubscribeOptions): () => void {
  const controller = new AbortController();
  void run(options, controller.signal);
  return () => controller.abort();
}

class Fatal extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

async function run(options: SubscribeOptions, signal: AbortSignal): Promise<void> {
  const report = options.onStatus ?? (() => undefined);
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 15_000;
  const random = options.random ?? Math.random;
  let attempt = 0;
  while (!signal.aborted) {
    report({ state: "connecting", attempt });
    let message: string;
    try {
      const completed = await stream(
        options,
        signal,
        () => {
          attempt = 0;
        },
        () => report({ state: "open", attempt }),
      );
      if (completed) {
        report({ state: "closed", attempt });
        return;
      }
      message = "the stream ended";
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof Fatal) {
        report({ state: "failed", attempt, message: error.message, ...(error.status ? { status: error.status } : {}) });
        return;
      }
      message = error instanceof Error ? error.message : String(error);
    }
    attempt += 1;
    const delayMs = backoffDelay(attempt, initial, max, random);
    report({ state: "retrying", attempt, delayMs, message });
    await sleep(delayMs, signal);
  }
}

/** One connection; true when the server said `complete`, false when the stream just ended. */
async function stream(options: SubscribeOptions, signal: AbortSignal, onEvent: () => void, onOpen: () => void): Promise<boolean> {
  const doFetch = options.fetchImpl ?? fetch;
  const response = await doFetch(options.url, {
    method: "POST",
    headers: { ...options.headers(), "Content-Type": "application/json", Accept: "text/event-stream" },
    body: options.body,
    signal,
    cache: "no-store",
  });
  const type = response.headers.get("content-type") ?? "";
  if (!response.ok || !type.includes("text/event-stream") || !response.body) {
    const text = await response.text().catch(() => "");
    const reason = errorMessage(text) ?? `the server answered ${response.status}`;
    if (FATAL.has(response.status) || (response.ok && !type.includes("text/event-stream"))) {
      throw new Fatal(reason, response.status);
    }
    throw new Error(reason);
  }
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SSEParser();
  const idle = options.idleTimeoutMs ?? 45_000;
  // A stream the server refuses after accepting the request (unknown instance, no right to it)
  // says why in a `next` with errors and no data, then `complete`: that is a failure, not an end.
  let refusal: string | null = null;
  try {
    for (;;) {
      const { value, done } = idle > 0 ? await readWithin(reader, idle) : await reader.read();
      if (done) return false;
      for (const event of parser.push(value)) {
        if (event.event === "complete") {
          if (refusal !== null) throw new Fatal(refusal);
          return true;
        }
        if (event.event !== "next") continue;
        onEvent();
        const payload = JSON.parse(event.data) as GraphQLPayload;
        if (payload.errors?.length && (payload.data === null || payload.data === undefined)) {
          refusal = payload.errors[0]!.message;
        }
        options.onNext(payload);
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** One read, or an error when nothing arrives within `ms`. */
async function readWithin<T>(reader: ReadableStreamDefaultReader<T>, ms: number): Promise<ReadableStreamReadResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing came for ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([reader.read(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorMessage(text: string): string | null {
  try {
    const body = JSON.parse(text) as GraphQLPayload;
    return body.errors?.[0]?.message ?? null;
  } catch {
    return text.trim() ? text.trim().slice(0, 200) : null;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
