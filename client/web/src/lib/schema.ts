/**
 * What this server's API offers, read once by introspection: the client builds its queries
 * from the core schema, and adds optional fields and screens (sign-in providers, public
 * visibility, administration) only when the server has them. A server whose introspection is
 * off gets the core client.
 */

import type { Api } from "./graphql";

export interface TypeRef {
  kind: string;
  name: string | null;
  ofType?: TypeRef | null;
}

export interface FieldInfo {
  name: string;
  args: { name: string; type: TypeRef }[];
  type: TypeRef;
}

interface RawType {
  name: string;
  kind: string;
  fields: FieldInfo[] | null;
  inputFields: { name: string; type: TypeRef }[] | null;
}

const TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";
export const INTROSPECTION = `query Capabilities { __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { name kind
    fields { name args { name type { ${TYPE_REF} } } type { ${TYPE_REF} } }
    inputFields { name type { ${TYPE_REF} } } } } }`;

interface IntrospectionResult {
  __schema: {
    queryType: { name: string } | null;
    mutationType: { name: string } | null;
    subscriptionType: { name: string } | null;
    types: RawType[];
  };
}

export class Schema {
  private readonly types = new Map<string, RawType>();

  constructor(
    result: IntrospectionResult | null,
    readonly queryType = result?.__schema.queryType?.name ?? "Query",
    readonly mutationType = result?.__schema.mutationType?.name ?? "Mutation",
    readonly subscriptionType = result?.__schema.subscriptionType?.name ?? "Subscription",
  ) {
    for (const type of result?.__schema.types ?? []) this.types.set(type.name, type);
  }

  /** True when introspection answered. */
  get known(): boolean {
    return this.types.size > 0;
  }

  field(typeName: string, field: string): FieldInfo | undefined {
    return this.types.get(typeName)?.fields?.find((f) => f.name === field);
  }

  has(typeName: string, field: string): boolean {
    return this.field(typeName, field) !== undefined;
  }

  /** Whether an input type (e.g. LaunchInput) has a field. */
  hasInput(typeName: string, field: string): boolean {
    return !!this.types.get(typeName)?.inputFields?.some((f) => f.name === field);
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

  /** The first of `names` the Query type has. */
  firstQuery(...names: string[]): FieldInfo | undefined {
    return names.map((n) => this.query(n)).find((f) => f !== undefined);
  }

  /** The first of `names` the Mutation type has. */
  firstMutation(...names: string[]): FieldInfo | undefined {
    return names.map((n) => this.mutation(n)).find((f) => f !== undefined);
  }

  /** A mutation taking an argument named `arg` (e.g. the Google sign-in's idToken). */
  mutationWithArg(arg: string): FieldInfo | undefined {
    return this.types.get(this.mutationType)?.fields?.find((f) => f.args.some((a) => a.name === arg));
  }

  /**
   * A selection set naming every scalar and enum field of a field's type, and the scalar fields
   * of object fields one level down ("" for scalars): enough to show an unfamiliar result.
   */
  selection(type: TypeRef, depth = 1): string {
    const named = this.types.get(namedType(type));
    if (!named || !named.fields) return "";
    const parts: string[] = [];
    for (const field of named.fields) {
      if (field.args.some((a) => a.type.kind === "NON_NULL")) continue;
      const inner = this.types.get(namedType(field.type));
      if (!inner || inner.kind === "SCALAR" || inner.kind === "ENUM") parts.push(field.name);
      else if (depth > 0 && inner.kind === "OBJECT") {
        const sub = this.selection(field.type, depth - 1);
        if (sub) parts.push(`${field.name} ${sub}`);
      }
    }
    return parts.length ? `{ ${parts.join(" ")} }` : "";
  }

  /** The argument type's name, e.g. "[String!]" -> "String" (for building variable definitions). */
  argType(field: FieldInfo, arg: string): string | null {
    const found = field.args.find((a) => a.name === arg);
    return found ? typeText(found.type) : null;
  }
}

export function namedType(type: TypeRef): string {
  let current: TypeRef | null | undefined = type;
  while (current && !current.name) current = current.ofType;
  return current?.name ?? "";
}

/** GraphQL type syntax for a type reference: NON_NULL(LIST(String)) -> "[String]!". */
export function typeText(type: TypeRef): string {
  if (type.kind === "NON_NULL" && type.ofType) return `${typeText(type.ofType)}!`;
  if (type.kind === "LIST" && type.ofType) return `[${typeText(type.ofType)}]`;
  return type.name ?? "JSON";
}

export async function loadSchema(api: Api): Promise<Schema> {
  try {
    return new Schema(await api.request<IntrospectionResult>(INTROSPECTION));
  } catch {
    return new Schema(null);
  }
}
