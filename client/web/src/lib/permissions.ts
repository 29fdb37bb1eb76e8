/**
 * `can(permissions, action, resource)`: the client's one question before it shows a control.
 *
 * It reads `me.permissions` in both shapes the server sends:
 * - open: `{open: true, view: true, launch: true, ...}`: everybody may do everything;
 * - with sign-in: `{open: false, username, roles, global: {kind: [actions]}, owned: {instance:
 *   [actions]}, public: {instance: [actions]}, grants: [{kind, id, actions}], <action>: bool}`.
 *
 * Without a resource it answers "may do this to something" (the per-action booleans). The
 * server checks every request again; this only keeps the UI free of controls that would fail.
 */

export const ACTIONS = [
  "view",
  "inspect",
  "launch",
  "control",
  "override",
  "train",
  "checkpoint",
  "record",
  "delete",
  "manage",
] as const;
export type Action = (typeof ACTIONS)[number];
export type ResourceKind = "model" | "environment" | "instance" | "user";

export interface Resource {
  kind: ResourceKind;
  id?: string | null;
  owner?: string | null;
  public?: boolean | null;
}

export interface Grant {
  kind: string;
  id: string;
  actions: string[];
}

export interface Permissions {
  open?: boolean;
  username?: string | null;
  roles?: string[];
  global?: Partial<Record<string, string[]>>;
  owned?: Partial<Record<string, string[]>>;
  public?: Partial<Record<string, string[]>>;
  grants?: Grant[];
  [action: string]: unknown;
}

export interface Viewer {
  username: string | null;
  roles: string[];
  permissions: Permissions;
}

const ANY = "*";

function includes(actions: string[] | undefined, action: string): boolean {
  return !!actions && (actions.includes(action) || actions.includes(ANY));
}

/** Whether the viewer may do `action` (to `resource`, when given). */
export function can(permissions: Permissions | null | undefined, action: Action, resource?: Resource): boolean {
  if (!permissions) return false;
  if (permissions.open === true) return permissions[action] !== false;
  const anywhere = permissions[action] === true;
  if (!resource) return anywhere;
  if (!anywhere) return false;
  // A server that sends only the per-action booleans: trust them for every resource.
  if (!permissions.global && !permissions.grants && !permissions.owned && !permissions.public) return anywhere;
  if (includes(permissions.global?.[resource.kind], action)) return true;
  const username = permissions.username ?? null;
  if (resource.owner && username && resource.owner === username && includes(permissions.owned?.[resource.kind], action)) {
    return true;
  }
  if (resource.public === true && includes(permissions.public?.[resource.kind], action)) return true;
  return (permissions.grants ?? []).some(
    (grant) => grant.kind === resource.kind && (grant.id === ANY || grant.id === resource.id) && includes(grant.actions, action),
  );
}

/** Whether the viewer is someone (signed in, or the local operator of an open server). */
export function isSignedIn(viewer: Viewer | null | undefined): boolean {
  return !!viewer && (viewer.permissions.open === true || !!viewer.username);
}

/** Whether the viewer may see the administration screen at all. */
export function canAdminister(permissions: Permissions | null | undefined): boolean {
  if (!permissions || permissions.open === true) return false; // nobody to administer on an open server
  return includes(permissions.global?.user, "manage") || includes(permissions.global?.user, "view");
}

export function instanceResource(instance: { id: string; owner?: string | null; public?: boolean | null }): Resource {
  return { kind: "instance", id: instance.id, owner: instance.owner ?? null, public: instance.public ?? null };
}

/** `can` for one instance, preferring the server's own list (`Instance.permissions`) when sent. */
export function canOnInstance(
  permissions: Permissions | null | undefined,
  action: Action,
  instance: { id: string; owner?: string | null; public?: boolean | null; permissions?: string[] | null },
): boolean {
  return Array.isArray(instance.permissions) ? instance.permissions.includes(action) : can(permissions, action, instanceResource(instance));
}
