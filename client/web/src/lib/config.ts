/**
 * Where the API is and who we are to it: the runtime config the page was served with, plus
 * what this browser remembers (the last server URL, a session token per server).
 *
 * A server started with `--client` injects `window.__ZK_CONFIG__ = {server: ""}` (same origin):
 * the Connect screen is skipped. `python -m ainimal_zookeeper.client` injects `{server: null}`
 * (or the URL given with `--server`): the user enters or confirms the server URL.
 */

export interface ClientConfig {
  /** The API's origin; "" means the origin the page came from; null means ask the user. */
  server: string | null;
}

declare global {
  interface Window {
    __ZK_CONFIG__?: Partial<ClientConfig>;
  }
}

const SERVER_KEY = "zk.server";
const TOKEN_PREFIX = "zk.session.";

export function runtimeConfig(win: Window = window): ClientConfig {
  const injected = win.__ZK_CONFIG__;
  const server = injected && "server" in injected ? injected.server : null;
  return { server: server ?? null };
}

/** Normalise what a person typed: scheme added, trailing slashes and a trailing /graphql removed. */
export function normaliseServerUrl(raw: string): string {
  let url = raw.trim();
  if (!url) throw new Error("enter the server's address, e.g. http://192.168.1.20:8000");
  if (!/^https?:\/\//i.test(url)) url = `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`"${raw}" is not a web address: expected something like http://host:8000`);
  }
  const path = parsed.pathname.replace(/\/+$/, "").replace(/\/graphql$/, "");
  return `${parsed.protocol}//${parsed.host}${path}`;
}

/** The server to use at start: the injected one, else the remembered one, else none. */
export function initialServer(config: ClientConfig, storage: Storage, origin: string): string | null {
  if (config.server === "") return origin;
  if (config.server) return normaliseServerUrl(config.server);
  return storage.getItem(SERVER_KEY);
}

export function rememberServer(storage: Storage, server: string): void {
  storage.setItem(SERVER_KEY, server);
}

export function forgetServer(storage: Storage): void {
  storage.removeItem(SERVER_KEY);
}

export interface StoredSession {
  token: string;
  expiresAt: string;
}

/** The session saved for `server`, unless it has expired (then it is dropped). */
export function loadSession(storage: Storage, server: string, now: number = Date.now()): StoredSession | null {
  const raw = storage.getItem(TOKEN_PREFIX + server);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as StoredSession;
    if (typeof session.token === "string" && Date.parse(session.expiresAt) > now) return session;
  } catch {
    // A corrupt entry is as good as none.
  }
  storage.removeItem(TOKEN_PREFIX + server);
  return null;
}

export function saveSession(storage: Storage, server: string, session: StoredSession): void {
  storage.setItem(TOKEN_PREFIX + server, JSON.stringify(session));
}

export function dropSession(storage: Storage, server: string): void {
  storage.removeItem(TOKEN_PREFIX + server);
}
