/**
 * What this server's API offers, read once by introspection. The client's documents are
 * generated from this project's schema; a server of another version may lack some of its
 * optional operations (metric history, logs, pacing, takeover leases, emergency stop ...), and
 * the screens that use them appear only where the server has them. A server whose
 * introspection is off gets the core client.
 */

import { CapabilitiesDocument, type CapabilitiesQuery } from "../graphql/generated";
import type { Api } from "./graphql";

/** A field's name and its arguments' names (what feature checks ask about). */
export interface FieldInfo {
  name: string;
  args: { name: string }[];
}

export class Schema {
  private readonly fields = new Map<string, FieldInfo[]>();
  private readonly inputs = new Map<string, string[]>();
  readonly queryType: string;
  readonly mutationType: string;
  readonly subscriptionType: string;

  constructor(result: CapabilitiesQuery | null) {
    this.queryType = result?.__schema.queryType.name ?? "Query";
    this.mutationType = result?.__schema.mutationType?.name ?? "Mutation";
    this.subscriptionType = result?.__schema.subscriptionType?.name ?? "Subscription";
    for (const type of result?.__schema.types ?? []) {
      if (!type.name) continue;
      if (type.fields)
        this.fields.set(
          type.name,
          type.fields.map((f) => ({ name: f.name, args: f.args.map((a) => ({ name: a.name })) })),
        );
      if (type.inputFields)
        this.inputs.set(
          type.name,
          type.inputFields.map((f) => f.name),
        );
    }
  }

  /** True when introspection answered. */
  get known(): boolean {
    return this.fields.size > 0;
  }

  field(typeName: string, field: string): FieldInfo | undefined {
    return this.fields.get(typeName)?.find((f) => f.name === field);
  }

  has(typeName: string, field: string): boolean {
    return this.field(typeName, field) !== undefined;
  }

  /** Whether an input type (e.g. LaunchInput) has a field. */
  hasInput(typeName: string, field: string): boolean {
    return !!this.inputs.get(typeName)?.includes(field);
  }

  query(name: string): FieldInfo | undefined {
    return this.field(this.queryType, name);
  }

  subscription(name: string): FieldInfo | undefined {
    return this.field(this.subscriptionType, name);
  }

  mutation(name: string): FieldInfo | undefined {
    return this.field(this.mutationType, name);
  }
}

export async function loadSchema(api: Api): Promise<Schema> {
  try {
    return new Schema(await api.request(CapabilitiesDocument, {}));
  } catch {
    return new Schema(null);
  }
}
