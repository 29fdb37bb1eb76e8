/**
 * Sign-in: a password form when the server has local accounts, a Google button and buttons
 * for other providers (GitHub, GitLab, ...) when configured. The providers come from the
 * server's `authProviders` when it has it; without it, only the password form is offered.
 */

import { useEffect, useRef, useState } from "preact/hooks";
import type { StoredSession } from "../lib/config";
import type { Api } from "../lib/graphql";
import { AUTH_PROVIDERS, CREATE_OWN_ACCOUNT, LOGIN, type Provider, SIGN_IN_WITH_GOOGLE } from "../lib/queries";
import type { Schema } from "../lib/schema";
import { ErrorNote, useAction } from "./common";
import logo from "../assets/icon.svg?inline";

/**
 * A provider's code flow ends on the server's callback page, which hands the session over: by
 * `postMessage` to the window that opened it (same origin), or, when the page itself went
 * there, in localStorage under this key before returning to "/".
 */
export const SESSION_HANDOFF = "ainimal-zookeeper.session";

export interface HandedSession extends StoredSession {
  username?: string | null;
}

function asSession(value: unknown): StoredSession | null {
  const s = value as HandedSession | null;
  return s && typeof s.token === "string" && typeof s.expiresAt === "string" ? { token: s.token, expiresAt: s.expiresAt } : null;
}

/** Take (and remove) a session the callback page left in localStorage. */
export function takeHandedSession(storage: Storage): StoredSession | null {
  const raw = storage.getItem(SESSION_HANDOFF);
  if (!raw) return null;
  storage.removeItem(SESSION_HANDOFF);
  try {
    return asSession(JSON.parse(raw));
  } catch {
    return null;
  }
}

/** Start a provider's code flow in a popup (or this page when popups are blocked). */
function startCodeFlow(server: string, path: string, onSession: (session: StoredSession) => void): () => void {
  const url = `${server.replace(/\/+$/, "")}${path}`;
  const listener = (event: MessageEvent) => {
    const data = event.data as { type?: string; session?: unknown } | null;
    if (event.origin !== new URL(url).origin || data?.type !== SESSION_HANDOFF) return;
    const session = asSession(data.session);
    if (session) onSession(session);
  };
  window.addEventListener("message", listener);
  const popup = window.open(url, "zk-sign-in", "width=520,height=680");
  if (!popup) window.location.assign(url);
  return () => window.removeEventListener("message", listener);
}

export async function loadProviders(api: Api, schema: Schema): Promise<Provider[] | null> {
  if (!schema.query("authProviders")) return null;
  return (await api.request(AUTH_PROVIDERS, {})).authProviders;
}

export function SignIn({
  api,
  schema,
  onSignedIn,
  onBrowse,
  onChangeServer,
}: {
  api: Api;
  schema: Schema;
  onSignedIn: (session: StoredSession) => void;
  onBrowse: (() => void) | null;
  onChangeServer: (() => void) | null;
}) {
  const stopFlow = useRef<(() => void) | null>(null);
  useEffect(() => () => stopFlow.current?.(), []);
  const [providers, setProviders] = useState<Provider[] | null>(null);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    loadProviders(api, schema)
      .then(setProviders)
      .catch(() => setProviders(null))
      .finally(() => setLoaded(true));
  }, [api, schema]);
  // Without a provider list, a password form is the one way in the core API offers.
  const password: Pick<Provider, "canCreateAccount"> | undefined = providers === null ? { canCreateAccount: null } : providers.find((p) => p.type === "jwt");
  const google = providers?.filter((p) => p.type === "google" && p.clientId) ?? [];
  const redirects = providers?.filter((p) => p.type !== "jwt" && p.authorizePath && !(p.type === "google" && p.clientId)) ?? [];
  return (
    <div class="centered">
      <div class="card narrow" aria-label="Sign in">
        <img src={logo} alt="" width="56" height="56" />
        <h1>Sign in</h1>
        <p class="muted">{api.server.replace(/^https?:\/\//, "")}</p>
        {loaded && password ? <PasswordForm api={api} schema={schema} canCreate={!!password.canCreateAccount} onSignedIn={onSignedIn} /> : null}
        {google.map((p) => (
          <GoogleButton key={p.name} api={api} schema={schema} provider={p} onSignedIn={onSignedIn} />
        ))}
        {redirects.map((p) => (
          <button
            key={p.name}
            type="button"
            class="provider"
            onClick={() => {
              stopFlow.current?.();
              stopFlow.current = startCodeFlow(api.server, p.authorizePath!, onSignedIn);
            }}
          >
            Sign in with {PROVIDER_LABELS[p.type] ?? capital(p.name)}
          </button>
        ))}
        <div class="row spread">
          {onBrowse ? (
            <button type="button" class="link" onClick={onBrowse}>
              Watch public AInimals without signing in
            </button>
          ) : (
            <span />
          )}
          {onChangeServer ? (
            <button type="button" class="link" onClick={onChangeServer}>
              Other server
            </button>
          ) : null}
        </div>
      </div>
    </div>
  );
}

const PROVIDER_LABELS: Record<string, string> = {
  github: "GitHub",
  gitlab: "GitLab",
  microsoft: "Microsoft",
  bitbucket: "Bitbucket",
  amazon: "Amazon",
  google: "Google",
};

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function PasswordForm({ api, schema, canCreate, onSignedIn }: { api: Api; schema: Schema; canCreate: boolean; onSignedIn: (session: StoredSession) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [creating, setCreating] = useState(false);
  const mayCreate = canCreate && !!schema.mutation("createAccount");
  const login = useAction(async () => {
    if (creating) {
      await api.request(CREATE_OWN_ACCOUNT, { username, password });
    }
    const data = await api.request(LOGIN, { username, password });
    onSignedIn(data.login);
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void login.run();
      }}
    >
      <label>
        Username
        <input name="username" autoComplete="username" value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} required />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete={creating ? "new-password" : "current-password"}
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          required
        />
      </label>
      <ErrorNote error={login.error} />
      <button type="submit" class="primary" disabled={login.busy}>
        {login.busy ? "Signing in…" : creating ? "Create account and sign in" : "Sign in"}
      </button>
      {mayCreate ? (
        <button type="button" class="link" onClick={() => setCreating(!creating)}>
          {creating ? "I have an account" : "Create an account"}
        </button>
      ) : null}
    </form>
  );
}

interface GoogleIdentity {
  accounts: {
    id: {
      initialize: (options: { client_id: string; callback: (response: { credential: string }) => void }) => void;
      renderButton: (element: HTMLElement, options: Record<string, unknown>) => void;
    };
  };
}

/** Google Identity Services' button: its ID token is exchanged for this server's session. */
function GoogleButton({ api, schema, provider, onSignedIn }: { api: Api; schema: Schema; provider: Provider; onSignedIn: (session: StoredSession) => void }) {
  const target = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const has = !!schema.mutation("signInWithGoogle");
  useEffect(() => {
    if (!has || !provider.clientId) return;
    const script = document.createElement("script");
    script.src = "https://accounts.google.com/gsi/client";
    script.async = true;
    script.onload = () => {
      const google = (window as unknown as { google?: GoogleIdentity }).google;
      if (!google || !target.current) return;
      google.accounts.id.initialize({
        client_id: provider.clientId!,
        callback: ({ credential }) => {
          api
            .request(SIGN_IN_WITH_GOOGLE, { idToken: credential, provider: provider.name })
            .then((data) => onSignedIn(data.signInWithGoogle))
            .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
        },
      });
      google.accounts.id.renderButton(target.current, { theme: "outline", size: "large", width: 280 });
    };
    script.onerror = () => setError("Google sign-in could not load (offline?)");
    document.head.append(script);
    return () => script.remove();
  }, [api, has, provider.name, provider.clientId, onSignedIn]);
  if (!has) return null;
  return (
    <div class="provider google">
      <div ref={target} />
      <ErrorNote error={error} />
    </div>
  );
}
