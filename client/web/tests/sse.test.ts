import { describe, expect, it } from "vitest";
import { backoffDelay, SSEParser, type StreamStatus, subscribeSSE } from "../src/lib/sse";

describe("SSEParser", () => {
  it("reads next and complete events split anywhere, skipping keep-alive comments", () => {
    const parser = new SSEParser();
    const text = 'event: next\ndata: {"data": 1}\n\n:\n\nevent: next\r\ndata: {"data"\r\ndata: : 2}\r\n\r\nevent: complete\ndata:\n\n';
    const events = [];
    for (let i = 0; i < text.length; i += 7) events.push(...parser.push(text.slice(i, i + 7)));
    expect(events).toEqual([
      { event: "next", data: '{"data": 1}' },
      { event: "next", data: '{"data"\n: 2}' },
      { event: "complete", data: "" },
    ]);
  });
});

describe("backoff", () => {
  it("doubles from the first delay up to the cap, with jitter between half and all of it", () => {
    const full = () => 1;
    expect([1, 2, 3, 4, 10].map((a) => backoffDelay(a, 500, 4000, full))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect(backoffDelay(3, 500, 4000, () => 0)).toBe(1000);
  });
});

function sseResponse(chunks: string[], keepOpen = false): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      if (!keepOpen) controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
}

function until(check: () => boolean, ms = 2000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => (check() ? resolve() : Date.now() - start > ms ? reject(new Error("timed out")) : setTimeout(tick, 5));
    tick();
  });
}

describe("subscribeSSE", () => {
  it("delivers results, reconnects after a dropped stream, and stops at complete", async () => {
    const attempts: RequestInit[] = [];
    const responses = [
      () => sseResponse(['event: next\ndata: {"data": {"n": 1}}\n\n']), // drops without `complete`
      () => Promise.reject(new TypeError("network down")),
      () => sseResponse(['event: next\ndata: {"data": {"n": 2}}\n\n', "event: complete\ndata:\n\n"]),
    ];
    const seen: unknown[] = [];
    const states: StreamStatus[] = [];
    subscribeSSE({
      url: "http://zoo.test/graphql",
      body: "{}",
      headers: () => ({ Authorization: "Bearer t" }),
      onNext: (p) => seen.push(p.data),
      onStatus: (s) => states.push(s),
      fetchImpl: (async (_url: string, init: RequestInit) => {
        attempts.push(init);
        return responses[attempts.length - 1]!();
      }) as unknown as typeof fetch,
      initialDelayMs: 1,
      maxDelayMs: 4,
    });
    await until(() => states.some((s) => s.state === "closed"));
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    expect(attempts).toHaveLength(3);
    expect((attempts[0]!.headers as Record<string, string>).Authorization).toBe("Bearer t");
    expect((attempts[0]!.headers as Record<string, string>).Accept).toBe("text/event-stream");
    // The second failure came before any event: it backs off further.
    expect(states.filter((s) => s.state === "retrying").map((s) => s.attempt)).toEqual([1, 2]);
  });

  it("gives up at once when the server refuses (401), and says why", async () => {
    const states: StreamStatus[] = [];
    let calls = 0;
    subscribeSSE({
      url: "u",
      body: "{}",
      headers: () => ({}),
      onNext: () => undefined,
      onStatus: (s) => states.push(s),
      fetchImpl: (async () => {
        calls += 1;
        return new Response(JSON.stringify({ errors: [{ message: "token expired" }] }), { status: 401 });
      }) as unknown as typeof fetch,
    });
    await until(() => states.some((s) => s.state === "failed"));
    expect(calls).toBe(1);
    expect(states.at(-1)).toMatchObject({ state: "failed", status: 401, message: "token expired" });
  });

  it("fails, saying why, when the stream carries only an error before it completes", async () => {
    const states: StreamStatus[] = [];
    let calls = 0;
    subscribeSSE({
      url: "u",
      body: "{}",
      headers: () => ({}),
      onNext: () => undefined,
      onStatus: (s) => states.push(s),
      fetchImpl: (async () => {
        calls += 1;
        return sseResponse(['event: next\ndata: {"data": null, "errors": [{"message": "unknown instance \'x\'"}]}\n\n', "event: complete\ndata:\n\n"]);
      }) as unknown as typeof fetch,
    });
    await until(() => states.some((s) => s.state === "failed"));
    expect(calls).toBe(1); // not retried
    expect(states.at(-1)).toMatchObject({ state: "failed", message: "unknown instance 'x'" });
  });

  it("stops reading when unsubscribed", async () => {
    let aborted = false;
    const stop = subscribeSSE({
      url: "u",
      body: "{}",
      headers: () => ({}),
      onNext: () => undefined,
      fetchImpl: (async (_u: string, init: RequestInit) => {
        init.signal?.addEventListener("abort", () => (aborted = true));
        return sseResponse([":\n\n"], true);
      }) as unknown as typeof fetch,
    });
    await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(aborted).toBe(true);
  });
});
