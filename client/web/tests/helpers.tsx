import type { ComponentChildren } from "preact";
import { App, type AppContext } from "../src/context";
import { Api } from "../src/lib/graphql";
import type { Permissions, Viewer } from "../src/lib/permissions";
import { Schema } from "../src/lib/schema";

export const OPEN: Permissions = {
  open: true,
  view: true,
  inspect: true,
  launch: true,
  control: true,
  override: true,
  train: true,
  checkpoint: true,
  record: true,
  delete: true,
  manage: true,
};

const NONE = { view: false, inspect: false, launch: false, control: false, override: false, train: false, checkpoint: false, record: false, delete: false, manage: false };

/** The permissions RoleAuthorizer sends a signed-in viewer (role "viewer"). */
export const VIEWER_ROLE: Permissions = {
  ...NONE,
  open: false,
  username: "vera",
  roles: ["viewer"],
  global: { model: ["view"], environment: ["view"], instance: ["view"], user: [] },
  owned: { instance: [] },
  public: { instance: ["view"] },
  grants: [],
  view: true,
};

/** An operator: everything but managing users. */
export const OPERATOR: Permissions = {
  open: false,
  username: "otto",
  roles: ["operator"],
  global: {
    model: ["*"],
    environment: ["*"],
    instance: ["view", "inspect", "launch", "control", "override", "train", "checkpoint", "record", "delete", "manage"],
    user: ["view"],
  },
  owned: { instance: [] },
  public: { instance: ["view"] },
  grants: [],
  ...Object.fromEntries(Object.keys(NONE).map((a) => [a, true])),
};

/** Nobody signed in. */
export const ANONYMOUS: Permissions = {
  ...NONE,
  open: false,
  username: null,
  roles: ["anonymous"],
  global: { model: [], environment: [], instance: [], user: [] },
  owned: { instance: [] },
  public: { instance: ["view"] },
  grants: [],
  view: true,
};

export function viewer(permissions: Permissions): Viewer {
  return { username: (permissions.username as string | null | undefined) ?? (permissions.open ? "local" : null), roles: permissions.roles ?? [], permissions };
}

type Handler = (query: string, variables: Record<string, unknown>) => unknown;

/** An Api whose requests a test answers; every request is kept in `calls`. */
export class FakeApi extends Api {
  calls: { query: string; variables: Record<string, unknown> }[] = [];
  constructor(private readonly handler: Handler = () => ({})) {
    super("http://zoo.test");
  }
  override async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    this.calls.push({ query, variables });
    return this.handler(query, variables) as T;
  }
  override subscribe(): () => void {
    return () => undefined;
  }
}

export function Context({
  permissions,
  api = new FakeApi(),
  schema = new Schema(null),
  children,
}: {
  permissions: Permissions;
  api?: Api;
  schema?: Schema;
  children: ComponentChildren;
}) {
  const value: AppContext = { api, schema, viewer: viewer(permissions), notify: () => undefined };
  return <App.Provider value={value}>{children}</App.Provider>;
}

/** A Schema that has the named Query / Mutation fields (no arguments, JSON results). */
export function schemaWith(fields: { query?: string[]; mutation?: string[]; instance?: string[] }): Schema {
  const field = (name: string) => ({ name, args: [], type: { kind: "SCALAR", name: "JSON" } });
  return new Schema({
    __schema: {
      queryType: { name: "Query" },
      mutationType: { name: "Mutation" },
      subscriptionType: null,
      types: [
        { name: "Query", kind: "OBJECT", fields: (fields.query ?? []).map(field), inputFields: null },
        { name: "Mutation", kind: "OBJECT", fields: (fields.mutation ?? []).map(field), inputFields: null },
        { name: "Instance", kind: "OBJECT", fields: (fields.instance ?? []).map(field), inputFields: null },
        { name: "JSON", kind: "SCALAR", fields: null, inputFields: null },
      ],
    },
  });
}
