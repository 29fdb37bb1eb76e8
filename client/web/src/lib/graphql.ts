/** The GraphQL client: queries and mutations over POST /graphql, subscriptions over SSE. */

import type { TypedDocumentString } from "../graphql/generated";
import { type GraphQLPayload, type StreamStatus, subscribeSSE } from "./sse";

/**
 * An operation generated from the schema (src/graphql/*.graphql, `npm run codegen`): its text,
 * typed with the data it answers and the variables it takes, so tsc checks both.
 */
export type Document<Result, Vars> = TypedDocumentString<Result, Vars>;

export class ApiError extends Error {
  constructor(
    message: string,
    /** The GraphQL error's `extensions.code` (FORBIDDEN, NOT_FOUND, ...), when given. */
    readonly code: string | null = null,
    /** The HTTP status; 0 when the server could not be reached. */
    readonly status: number = 200,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export class Api {
  /** Called when the server says the token is no good (HTTP 401 or UNAUTHENTICATED). */
  onUnauthenticated: (() => void) | null = null;

  constructor(
    /** The server's origin (and path prefix), without /graphql. */
    readonly server: string,
    private token: string | null = null,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  get endpoint(): string {
    return `${this.server.replace(/\/+$/, "")}/graphql`;
  }

  get signedIn(): boolean {
    return this.token !== null;
  }

  setToken(token: string | null): void {
    this.token = token;
  }

  /** Headers every request carries: the session token, never in a URL. */
  authHeaders(): Record<string, string> {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
  }

  /** Run a query or mutation. Partial data (fields the viewer may not see are null) is returned. */
  async request<Result, Vars>(document: Document<Result, Vars>, variables: Vars, signal?: AbortSignal): Promise<Result> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", ...this.authHeaders() },
        body: JSON.stringify({ query: document.toString(), variables }),
        cache: "no-store",
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(`cannot reach ${this.server}: is the server running, and is the address right?`, null, 0);
    }
    const body = (await response.json().catch(() => null)) as GraphQLPayload | null;
    const first = body?.errors?.[0];
    const code = first?.extensions?.code ?? null;
    if (response.status === 401 || code === "UNAUTHENTICATED") {
      // Only a token can have expired; without one this is a failed sign-in, told as it is.
      if (this.token !== null) this.onUnauthenticated?.();
      throw new ApiError(first?.message ?? "sign in first", "UNAUTHENTICATED", 401);
    }
    if (body?.data == null) {
      throw new ApiError(first?.message ?? `the server answered ${response.status}`, code, response.status);
    }
    // The server answers the document it was sent: its data has the document's generated type.
    return body.data as Result;
  }

  /** Subscribe; `onData` gets each result's data. Returns the function that stops it. */
  subscribe<Result, Vars>(
    document: Document<Result, Vars>,
    variables: Vars,
    onData: (data: Result) => void,
    onStatus?: (status: StreamStatus) => void,
  ): () => void {
    return subscribeSSE({
      url: this.endpoint,
      body: JSON.stringify({ query: document.toString(), variables }),
      headers: () => this.authHeaders(),
      fetchImpl: this.fetchImpl,
      onNext: (payload) => {
        if (payload.data != null) onData(payload.data as Result);
      },
      onStatus: (status) => {
        if (status.state === "failed" && status.status === 401 && this.token !== null) this.onUnauthenticated?.();
        onStatus?.(status);
      },
    });
  }

  /** Fetch a file the API links to (a recording) with the token, and hand it to the browser. */
  async download(path: string, fallbackName: string): Promise<void> {
    const url = /^https?:/.test(path) ? path : `${this.server.replace(/\/+$/, "")}${path}`;
    const response = await this.fetchImpl(url, { headers: this.authHeaders() });
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as GraphQLPayload | null;
      throw new ApiError(body?.errors?.[0]?.message ?? `download failed: ${response.status}`, null, response.status);
    }
    const disposition = response.headers.get("content-disposition") ?? "";
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }
}
