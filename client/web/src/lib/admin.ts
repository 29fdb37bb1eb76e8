/**
 * The administration API, found by introspection: the screen offers what the server has
 * (accounts, roles, grants, public visibility) and builds each call from the argument names
 * and types the server declares.
 */

import type { Api } from "./graphql";
import { canAdminister, type Permissions } from "./permissions";
import { type FieldInfo, type Schema, typeText } from "./schema";

export interface AdminApi {
  users?: FieldInfo;
  grants?: FieldInfo;
  setRoles?: FieldInfo;
  grant?: FieldInfo;
  revoke?: FieldInfo;
  disable?: FieldInfo;
  remove?: FieldInfo;
  createAccount?: FieldInfo;
  setPublic?: FieldInfo;
}

function defined(api: Record<string, FieldInfo | undefined>): AdminApi {
  return Object.fromEntries(Object.entries(api).filter(([, v]) => v !== undefined)) as AdminApi;
}

export function adminApi(schema: Schema): AdminApi {
  return defined({
    users: schema.firstQuery("users", "accounts"),
    grants: schema.firstQuery("grants"),
    setRoles: schema.firstMutation("setRoles", "setUserRoles", "assignRoles"),
    grant: schema.firstMutation("grant", "addGrant", "createGrant"),
    revoke: schema.firstMutation("revoke", "revokeGrant", "removeGrant", "deleteGrant"),
    disable: schema.firstMutation("disableAccount", "setAccountDisabled", "setDisabled", "disableUser"),
    remove: schema.firstMutation("deleteAccount", "deleteUser", "removeAccount"),
    createAccount: schema.firstMutation("createAccount", "createUser", "addUser"),
    setPublic: schema.firstMutation("setPublic"),
  });
}

/** Whether an Admin screen has anything to show this viewer. */
export function adminAvailableFor(api: AdminApi, permissions: Permissions): boolean {
  return canAdminister(permissions) && !!(api.users || api.grants);
}

/**
 * Call a field with the values whose names it declares as arguments (others are ignored).
 * Returns the field's result.
 */
export async function callField(
  api: Api,
  schema: Schema,
  operation: "query" | "mutation",
  field: FieldInfo,
  values: Record<string, unknown>,
): Promise<unknown> {
  const args = field.args.filter((a) => values[a.name] !== undefined);
  const definitions = args.map((a) => `$${a.name}: ${typeText(a.type)}`).join(", ");
  const passed = args.map((a) => `${a.name}: $${a.name}`).join(", ");
  const selection = schema.selection(field.type);
  const text = `${operation} Admin${definitions ? `(${definitions})` : ""} { ${field.name}${passed ? `(${passed})` : ""} ${selection} }`;
  const variables = Object.fromEntries(args.map((a) => [a.name, values[a.name]]));
  const data = await api.request<Record<string, unknown>>(text, variables);
  return data[field.name];
}
