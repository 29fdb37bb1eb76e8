/**
 * What the viewer may do, as the server says it: the client follows these lists and derives
 * no permission itself (the server's authorizer decides, and checks every request again).
 *
 * - `me.globalPermissions`: the server as a whole (VIEW, LAUNCH, ADMINISTER, MANAGE_USERS);
 * - `Instance.permissions`: the actions on one instance (view, inspect, control, ...);
 * - `ModelSpec.permissions` / `EnvSpec.permissions`: the actions on a catalog entry (launch, train).
 */

import type { ViewerFieldsFragment, ViewerPermission } from "../graphql/generated";

/** The actions roles and grants name (the admin screen's grant form offers them). */
export const ACTIONS = ["view", "inspect", "launch", "control", "override", "train", "checkpoint", "record", "delete", "manage"] as const;
export type Action = (typeof ACTIONS)[number];

/** Who the viewer is, with what the server lets them do. */
export type Viewer = ViewerFieldsFragment;

/** Something the server lists the viewer's actions on (an instance, a model, an environment). */
export interface Permitted {
  permissions: readonly string[];
}

/** Whether the server lets the viewer do `permission` on this server as a whole. */
export function mayGlobally(viewer: Viewer | null | undefined, permission: ViewerPermission): boolean {
  return !!viewer && viewer.globalPermissions.includes(permission);
}

/** Whether the server lets the viewer do `action` to this instance, model or environment. */
export function may(entry: Permitted | null | undefined, action: Action): boolean {
  return !!entry && entry.permissions.includes(action);
}

/** Whether the server runs open (no sign-in: everybody is its local operator), as it says. */
export function isOpenServer(viewer: Viewer | null | undefined): boolean {
  const said = viewer?.permissions as { open?: unknown } | null | undefined;
  return said?.open === true;
}

/** Whether the viewer is someone (signed in, or the local operator of an open server). */
export function isSignedIn(viewer: Viewer | null | undefined): boolean {
  return !!viewer && (isOpenServer(viewer) || !!viewer.username);
}
