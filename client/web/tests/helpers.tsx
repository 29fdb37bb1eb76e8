import type { ComponentChildren } from "preact";
import { App, type AppContext } from "../src/context";
import { Api } from "../src/lib/graphql";
import type { TypedDocumentString } from "../src/graphql/generated";
import type { Viewer } from "../src/lib/permissions";
import { Schema } from "../src/lib/schema";

/** The actions the server lists on an instance (Instance.permissions), in its order. */
export const ALL_INSTANCE_ACTIONS = ["view", "inspect", "control", "override", "train", "checkpoint", "record", "delete", "manage"];
const ALL_ACTIONS = ["view", "inspect", "launch", "control", "override", "train", "checkpoint", "record", "delete", "manage"];

/**
 * A viewer as the server describes it (`me`), with what the server says this viewer may do to
 * the instance and the model the tests use (`Instance.permissions`, `ModelSpec.permissions`).
 */
export interface Who extends Viewer {
  instanceActions: string[];
  modelActions: string[];
}

/** The local operator of a server running open. */
export const OPEN: Who = {
  username: "local",
  roles: ["admin"],
  permissions: { open: true, ...Object.fromEntries(ALL_ACTIONS.map((a) => [a, true])) },
  globalPermissions: ["VIEW", "LAUNCH"],
  instanceActions: ALL_INSTANCE_ACTIONS,
  modelActions: ALL_ACTIONS,
};

/** A signed-in viewer (role "viewer"): watches, launches nothing. */
export const VIEWER_ROLE: Who = {
  username: "vera",
  roles: ["viewer"],
  permissions: { open: false, username: "vera", roles: ["viewer"], view: true },
  globalPermissions: ["VIEW"],
  instanceActions: ["view"],
  modelActions: ["view"],
};

/** An operator: everything but managing users. */
export const OPERATOR: Who = {
  username: "otto",
  roles: ["operator"],
  permissions: { open: false, username: "otto", roles: ["operator"] },
  globalPermissions: ["VIEW", "LAUNCH", "ADMINISTER"],
  instanceActions: ALL_INSTANCE_ACTIONS,
  modelActions: ALL_ACTIONS,
};

/** Nobody signed in: watches public instances. */
export const ANONYMOUS: Who = {
  username: null,
  roles: ["anonymous"],
  permissions: { open: false, username: null, roles: ["anonymous"], view: true },
  globalPermissions: ["VIEW"],
  instanceActions: ["view"],
  modelActions: [],
};

/** An instance as `who` gets it from the server: with what `who` may do to it and to its model. */
export function seenBy<T extends { model: object }>(instance: T, who: Who): T & { permissions: string[]; model: T["model"] & { permissions: string[] } } {
  return { ...instance, permissions: who.instanceActions, model: { ...instance.model, permissions: who.modelActions } };
}

type Handler = (query: string, variables: Record<string, unknown>) => unknown;

/** An Api whose requests a test answers; every request is kept in `calls`. */
export class FakeApi extends Api {
  calls: { query: string; variables: Record<string, unknown> }[] = [];
  constructor(private readonly handler: Handler = () => ({})) {
    super("http://zoo.test");
  }
  override async request<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
    const query = document.toString();
    const given = variables as Record<string, unknown>;
    this.calls.push({ query, variables: given });
    return this.handler(query, given) as R;
  }
  override subscribe(): () => void {
    return () => undefined;
  }
}

/** The app's context for `permissions`: the viewer as the server describes it. */
export function Context({
  permissions,
  api = new FakeApi(),
  schema = new Schema(null),
  children,
}: {
  permissions: Viewer;
  api?: Api;
  schema?: Schema;
  children: ComponentChildren;
}) {
  const value: AppContext = { api, schema, viewer: permissions, notify: () => undefined };
  return <App.Provider value={value}>{children}</App.Provider>;
}

/** A Schema that has the named Query / Mutation / Instance fields (as introspection lists them). */
export function schemaWith(fields: { query?: string[]; mutation?: string[]; instance?: string[] }): Schema {
  const field = (name: string) => ({ name, args: [] });
  return new Schema({
    __schema: {
      queryType: { name: "Query" },
      mutationType: { name: "Mutation" },
      subscriptionType: null,
      types: [
        { name: "Query", fields: (fields.query ?? []).map(field), inputFields: null },
        { name: "Mutation", fields: (fields.mutation ?? []).map(field), inputFields: null },
        { name: "Instance", fields: (fields.instance ?? []).map(field), inputFields: null },
        { name: "JSON", fields: null, inputFields: null },
      ],
    },
  });
}
