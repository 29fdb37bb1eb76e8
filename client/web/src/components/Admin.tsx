/**
 * Administration, for those the server lets in (`me.globalPermissions` has ADMINISTER):
 * accounts and their roles, grants, and which instances are public. Changing accounts needs
 * MANAGE_USERS; each instance says whether the viewer may make it public (`manage`).
 */

import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { useApp } from "../context";
import * as G from "../graphql/generated";
import type { Document } from "../lib/graphql";
import { ACTIONS, may, mayGlobally, type Viewer } from "../lib/permissions";
import { INSTANCES, SET_PUBLIC } from "../lib/queries";
import { ConfirmButton, ErrorNote, Section, useAction } from "./common";

const ROLES = ["admin", "operator", "user", "viewer"];
const KINDS = ["model", "environment", "instance", "user"];

/** Whether the server lets this viewer see the administration screen. */
export function adminAvailable(viewer: Viewer): boolean {
  return mayGlobally(viewer, "ADMINISTER");
}

type Account = G.AccountFieldsFragment;
type GrantRow = G.GrantFieldsFragment;

function useLoad<T>(load: (() => Promise<T>) | null): { value: T | null; error: string | null; reload: () => void } {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!load) return;
    load()
      .then((v) => {
        setValue(v);
        setError(null);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [load, tick]);
  return { value, error, reload: useCallback(() => setTick((t) => t + 1), []) };
}

export function Admin() {
  const { api, viewer } = useApp();
  return (
    <div class="admin">
      <h1>Administration</h1>
      <Accounts mayManage={mayGlobally(viewer, "MANAGE_USERS")} />
      <Grants />
      <PublicInstances />
      <p class="small muted">
        Signed in as {viewer.username} ({viewer.roles.join(", ") || "no roles"}) on {api.server}.
      </p>
    </div>
  );
}

/** Run an administration mutation, say what it did, and reload the list it changed. */
function useChange(reload: () => void) {
  const { api, notify } = useApp();
  const action = useAction(async (send: () => Promise<unknown>, message: string) => {
    await send();
    notify(message);
    reload();
  });
  return {
    ...action,
    run: <R, V>(document: Document<R, V>, variables: V, message: string) => action.run(() => api.request(document, variables), message),
  };
}

function Accounts({ mayManage }: { mayManage: boolean }) {
  const { api } = useApp();
  const load = useMemo(() => async (): Promise<Account[]> => (await api.request(G.AccountsDocument, {})).users, [api]);
  const { value: accounts, error, reload } = useLoad(load);
  const change = useChange(reload);
  const [newName, setNewName] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [newRole, setNewRole] = useState("user");
  return (
    <Section title="Accounts">
      <ErrorNote error={error ?? change.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>User</th>
              <th>Roles</th>
              <th>Signed in with</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(accounts ?? []).map((a) => (
              <tr key={a.username} data-testid={`account-${a.username}`}>
                <td>
                  {a.username} {a.disabled ? <span class="tag">disabled</span> : null}
                  {a.email ? <div class="small muted">{a.email}</div> : null}
                </td>
                <td>
                  {ROLES.map((role) => (
                    <label key={role} class="check inline">
                      <input
                        type="checkbox"
                        checked={(a.roles ?? []).includes(role)}
                        disabled={!mayManage || change.busy}
                        onChange={(e) => {
                          const on = (e.target as HTMLInputElement).checked;
                          const roles = on ? [...(a.roles ?? []), role] : (a.roles ?? []).filter((r) => r !== role);
                          void change.run(G.SetRolesDocument, { username: a.username, roles }, `${a.username}: ${roles.join(", ") || "no roles"}`);
                        }}
                      />
                      {role}
                    </label>
                  ))}
                </td>
                <td>{a.provider ?? "password"}</td>
                <td class="actions">
                  {mayManage ? (
                    <button
                      type="button"
                      class="small"
                      onClick={() =>
                        void change.run(G.DisableAccountDocument, { username: a.username, disabled: !a.disabled }, a.disabled ? "Enabled" : "Disabled")
                      }
                    >
                      {a.disabled ? "Enable" : "Disable"}
                    </button>
                  ) : null}
                  {mayManage ? (
                    <ConfirmButton
                      class="small"
                      label="Delete"
                      confirm="Really delete?"
                      onConfirm={() => void change.run(G.DeleteAccountDocument, { username: a.username }, `Deleted ${a.username}`)}
                    />
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {mayManage ? (
        <form
          class="row wrap"
          onSubmit={(e) => {
            e.preventDefault();
            void change.run(G.CreateAccountDocument, { username: newName, password: newPassword, roles: [newRole] }, `Created ${newName}`).then(() => {
              setNewName("");
              setNewPassword("");
            });
          }}
        >
          <input aria-label="New username" placeholder="username" value={newName} onInput={(e) => setNewName((e.target as HTMLInputElement).value)} required />
          <input
            aria-label="New password"
            type="password"
            placeholder="password"
            autoComplete="new-password"
            value={newPassword}
            onInput={(e) => setNewPassword((e.target as HTMLInputElement).value)}
            required
          />
          <select aria-label="Role" value={newRole} onChange={(e) => setNewRole((e.target as HTMLSelectElement).value)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
          <button type="submit" class="primary">
            Add account
          </button>
        </form>
      ) : null}
    </Section>
  );
}

function Grants() {
  const { api } = useApp();
  const load = useMemo(() => async (): Promise<GrantRow[]> => (await api.request(G.GrantsDocument, {})).grants, [api]);
  const { value: grants, error, reload } = useLoad(load);
  const change = useChange(reload);
  const [subject, setSubject] = useState("role:viewer");
  const [kind, setKind] = useState("instance");
  const [resource, setResource] = useState("*");
  const [actions, setActions] = useState<string[]>(["view"]);
  return (
    <Section title="Grants">
      <ErrorNote error={error ?? change.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Who</th>
              <th>Kind</th>
              <th>Resource</th>
              <th>May</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(grants ?? []).map((g) => (
              <tr key={`${g.subject}-${g.kind}-${g.resource}`}>
                <td>{g.subject}</td>
                <td>{g.kind}</td>
                <td>{g.resource === "*" ? "every one" : g.resource}</td>
                <td>{g.actions.join(", ")}</td>
                <td>
                  <button
                    type="button"
                    class="small"
                    onClick={() => void change.run(G.RevokeDocument, { subject: g.subject, kind: g.kind, resource: g.resource }, "Revoked")}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form
        class="grant-form"
        onSubmit={(e) => {
          e.preventDefault();
          void change.run(G.GrantDocument, { subject, kind, resource, actions }, `Granted ${actions.join(", ")} to ${subject}`);
        }}
      >
        <input aria-label="Who (a username or role:NAME)" value={subject} onInput={(e) => setSubject((e.target as HTMLInputElement).value)} />
        <select aria-label="Kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
          {KINDS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
        <input aria-label="Resource (an id or name, * for all)" value={resource} onInput={(e) => setResource((e.target as HTMLInputElement).value)} />
        <fieldset class="inline">
          {ACTIONS.map((a) => (
            <label key={a} class="check">
              <input
                type="checkbox"
                checked={actions.includes(a)}
                onChange={() => setActions(actions.includes(a) ? actions.filter((x) => x !== a) : [...actions, a])}
              />
              {a}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={actions.length === 0}>
          Grant
        </button>
      </form>
    </Section>
  );
}

function PublicInstances() {
  const { api, notify } = useApp();
  const load = useMemo(() => async () => (await api.request(INSTANCES, {})).instances, [api]);
  const { value: instances, error, reload } = useLoad(load);
  const toggle = useAction(async (id: string, value: boolean) => {
    await api.request(SET_PUBLIC, { id, public: value });
    notify(value ? "Public" : "Private");
    reload();
  });
  const manageable = (instances ?? []).filter((i) => may(i, "manage") && !["TERMINATED", "FAILED"].includes(i.status));
  if (manageable.length === 0) return null;
  return (
    <Section title="Public instances">
      <p class="small muted">Anyone, signed in or not, may watch a public instance.</p>
      <ErrorNote error={error ?? toggle.error} />
      <ul class="plain">
        {manageable.map((i) => (
          <li key={i.id}>
            <label class="check">
              <input type="checkbox" checked={!!i.public} onChange={(e) => void toggle.run(i.id, (e.target as HTMLInputElement).checked)} />
              {i.model.name} <span class="muted">{i.id.slice(0, 8)}</span> {i.environment?.name ?? ""}
            </label>
          </li>
        ))}
      </ul>
    </Section>
  );
}
