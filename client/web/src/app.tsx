/** The shell: connect to a server, sign in when it asks, then the screens the viewer may use. */

import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { Admin, adminAvailable } from "./components/Admin";
import { Catalog } from "./components/Catalog";
import { Compare } from "./components/Compare";
import { ConnectScreen } from "./components/ConnectScreen";
import { InstanceView } from "./components/InstanceView";
import { Instances } from "./components/Instances";
import { LaunchScreen } from "./components/LaunchForm";
import { SignIn, takeHandedSession } from "./components/SignIn";
import { App as AppCtx, type AppContext } from "./context";
import { type ClientConfig, dropSession, forgetServer, initialServer, loadSession, rememberServer, type StoredSession, saveSession } from "./lib/config";
import { Api } from "./lib/graphql";
import { isOpenServer, isSignedIn, mayGlobally, type Viewer } from "./lib/permissions";
import { ME } from "./lib/queries";
import { href, useRoute } from "./lib/router";
import { loadSchema, type Schema } from "./lib/schema";
import logo from "./assets/icon.svg?inline";

type Phase =
  | { name: "connect"; error: string | null }
  | { name: "connecting"; server: string }
  | { name: "sign-in"; api: Api; schema: Schema; viewer: Viewer }
  | { name: "ready"; api: Api; schema: Schema; viewer: Viewer };

interface Toast {
  id: number;
  message: string;
  kind: "info" | "error";
}

export function App({ config, storage = localStorage }: { config: ClientConfig; storage?: Storage }) {
  const [phase, setPhase] = useState<Phase>(() => {
    const server = initialServer(config, storage, window.location.origin);
    return server ? { name: "connecting", server } : { name: "connect", error: null };
  });
  const [toasts, setToasts] = useState<Toast[]>([]);
  // An anonymous viewer who chose to watch what is public instead of signing in.
  const [browsing, setBrowsing] = useState(false);

  const notify = useCallback((message: string, kind: "info" | "error" = "info") => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t.slice(-3), { id, message, kind }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === "error" ? 8000 : 4000);
  }, []);

  const connect = useCallback(
    async (server: string) => {
      setPhase({ name: "connecting", server });
      // A provider's sign-in that ran in this page (no popup) left its session here.
      const handed = takeHandedSession(storage);
      if (handed) saveSession(storage, server, handed);
      const session = loadSession(storage, server);
      const api = new Api(server, session?.token ?? null);
      try {
        let me: Viewer;
        try {
          me = (await api.request(ME, {})).me;
        } catch (error) {
          if (!session) throw error;
          // The saved session is no longer valid: continue as anonymous.
          dropSession(storage, server);
          api.setToken(null);
          me = (await api.request(ME, {})).me;
        }
        const schema = await loadSchema(api);
        if (config.server === null) rememberServer(storage, server);
        api.onUnauthenticated = () => {
          dropSession(storage, server);
          api.setToken(null);
          void connect(server);
        };
        setPhase(isSignedIn(me) ? { name: "ready", api, schema, viewer: me } : { name: "sign-in", api, schema, viewer: me });
      } catch (error) {
        setPhase({ name: "connect", error: error instanceof Error ? error.message : String(error) });
      }
    },
    [config.server, storage],
  );

  useEffect(() => {
    if (phase.name === "connecting") void connect(phase.server);
    // Only the first phase starts a connection by itself: later ones come from connect itself.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, on mount
  }, []);

  const signedIn = useCallback(
    (session: StoredSession) => {
      if (phase.name !== "sign-in" && phase.name !== "ready") return;
      saveSession(storage, phase.api.server, { token: session.token, expiresAt: session.expiresAt });
      setBrowsing(false);
      void connect(phase.api.server);
    },
    [phase, storage, connect],
  );

  const signOut = useCallback(() => {
    if (phase.name !== "ready" && phase.name !== "sign-in") return;
    dropSession(storage, phase.api.server);
    setBrowsing(false);
    void connect(phase.api.server);
  }, [phase, storage, connect]);

  const changeServer = useCallback(() => {
    forgetServer(storage);
    setPhase({ name: "connect", error: null });
  }, [storage]);

  if (phase.name === "connect" || phase.name === "connecting") {
    return (
      <ConnectScreen
        busy={phase.name === "connecting"}
        error={phase.name === "connect" ? phase.error : null}
        initial={phase.name === "connecting" ? phase.server : (storage.getItem("zk.server") ?? "")}
        onConnect={(server) => void connect(server)}
      />
    );
  }
  if (phase.name === "sign-in" && !browsing) {
    return (
      <SignIn
        api={phase.api}
        schema={phase.schema}
        onSignedIn={signedIn}
        onBrowse={mayGlobally(phase.viewer, "VIEW") ? () => setBrowsing(true) : null}
        onChangeServer={config.server === null ? changeServer : null}
      />
    );
  }
  return (
    <Shell
      api={phase.api}
      schema={phase.schema}
      viewer={phase.viewer}
      notify={notify}
      toasts={toasts}
      onSignOut={isOpenServer(phase.viewer) ? null : signOut}
      onSignIn={phase.name === "sign-in" ? () => setBrowsing(false) : null}
      onChangeServer={config.server === null ? changeServer : null}
    />
  );
}

function Shell({
  api,
  schema,
  viewer,
  notify,
  toasts,
  onSignOut,
  onSignIn,
  onChangeServer,
}: {
  api: Api;
  schema: Schema;
  viewer: Viewer;
  notify: AppContext["notify"];
  toasts: Toast[];
  onSignOut: (() => void) | null;
  onSignIn: (() => void) | null;
  onChangeServer: (() => void) | null;
}) {
  const route = useRoute();
  const context = useMemo(() => ({ api, schema, viewer, notify }), [api, schema, viewer, notify]);
  const showAdmin = adminAvailable(viewer);
  const mayLaunch = mayGlobally(viewer, "LAUNCH");
  const server = api.server === window.location.origin ? null : api.server.replace(/^https?:\/\//, "");
  return (
    <AppCtx.Provider value={context}>
      <header class="topbar">
        <a class="brand" href="#/instances">
          <img src={logo} alt="" width="28" height="28" />
          <span>AInimal Zookeeper</span>
        </a>
        <nav>
          <a href="#/instances" class={route.name === "instances" || route.name === "instance" ? "active" : ""}>
            Instances
          </a>
          {schema.query("metricHistory") ? (
            <a href="#/compare" class={route.name === "compare" ? "active" : ""}>
              Compare
            </a>
          ) : null}
          {mayGlobally(viewer, "VIEW") ? (
            <a href="#/catalog" class={route.name === "catalog" || route.name === "launch" ? "active" : ""}>
              {mayLaunch ? "Launch" : "Catalog"}
            </a>
          ) : null}
          {showAdmin ? (
            <a href="#/admin" class={route.name === "admin" ? "active" : ""}>
              Admin
            </a>
          ) : null}
        </nav>
        <div class="who">
          {server ? (
            <button type="button" class="link" onClick={onChangeServer ?? undefined} disabled={!onChangeServer} title="change server">
              {server}
            </button>
          ) : null}
          {isOpenServer(viewer) ? (
            <span class="muted" title="this server runs without sign-in">
              open server
            </span>
          ) : viewer.username ? (
            <span data-testid="username">{viewer.username}</span>
          ) : (
            <span class="muted">not signed in</span>
          )}
          {onSignIn ? (
            <button type="button" onClick={onSignIn}>
              Sign in
            </button>
          ) : null}
          {onSignOut && viewer.username ? (
            <button type="button" class="link" onClick={onSignOut}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      <main>
        {route.name === "instances" ? <Instances /> : null}
        {route.name === "catalog" ? <Catalog /> : null}
        {route.name === "launch" ? <LaunchScreen model={route.model} environment={route.environment} checkpoint={route.checkpoint ?? null} /> : null}
        {route.name === "instance" ? <InstanceView key={route.id} id={route.id} tab={route.tab} /> : null}
        {route.name === "compare" ? <Compare ids={route.ids} metric={route.metric ?? null} /> : null}
        {route.name === "admin" ? (
          showAdmin ? (
            <Admin />
          ) : (
            <p>
              Nothing to administer here. <a href={href({ name: "instances" })}>Back</a>
            </p>
          )
        ) : null}
      </main>
      <div class="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} class={`toast ${t.kind}`}>
            {t.message}
          </div>
        ))}
      </div>
    </AppCtx.Provider>
  );
}
