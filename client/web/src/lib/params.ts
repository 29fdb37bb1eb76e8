/**
 * Launch forms generated from a spec's parameters (`AINIMAL_PARAMETERS` or the config's
 * `create_params`): one field per parameter, with its type, default, range, choices and
 * description, and the same checks the server makes, so mistakes show before anything is sent.
 */

export interface Parameter {
  name: string;
  type: string; // int | float | str | bool | choice (others: JSON)
  default?: unknown;
  description?: string | null;
  range?: number[] | null;
  choices?: unknown[] | null;
  display?: string | null;
}

export type FieldKind = "integer" | "number" | "checkbox" | "select" | "text" | "json";
export type RawValue = string | boolean;

export interface FormField {
  name: string;
  label: string;
  kind: FieldKind;
  description: string | null;
  min: number | null;
  max: number | null;
  step: number | "any" | null;
  choices: unknown[];
  default: unknown;
}

export function formField(param: Parameter): FormField {
  const type = param.type.toLowerCase();
  const choices = param.choices ?? [];
  const [min = null, max = null] = param.range ?? [];
  let kind: FieldKind;
  if (choices.length > 0 || type === "choice") kind = "select";
  else if (type === "int" || type === "integer") kind = "integer";
  else if (type === "float" || type === "number") kind = "number";
  else if (type === "bool" || type === "boolean") kind = "checkbox";
  else if (type === "str" || type === "string") kind = "text";
  else kind = "json";
  return {
    name: param.name,
    label: param.display || param.name.replace(/_/g, " "),
    kind,
    description: param.description ?? null,
    min: kind === "integer" || kind === "number" ? min : null,
    max: kind === "integer" || kind === "number" ? max : null,
    step: kind === "integer" ? 1 : kind === "number" ? "any" : null,
    choices,
    default: param.default ?? null,
  };
}

/** What the form's inputs start with: the defaults, as the inputs hold them. */
export function initialRaw(field: FormField): RawValue {
  const value = field.default;
  switch (field.kind) {
    case "checkbox":
      return value === true;
    case "select": {
      const index = field.choices.findIndex((c) => JSON.stringify(c) === JSON.stringify(value));
      return String(Math.max(index, 0));
    }
    case "json":
      return value === null || value === undefined ? "" : JSON.stringify(value);
    default:
      return value === null || value === undefined ? "" : String(value);
  }
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

function inRange(field: FormField, value: number, what: string): Parsed {
  const { min, max } = field;
  if ((min !== null && value < min) || (max !== null && value > max)) {
    const lo = min ?? "-∞";
    const hi = max ?? "∞";
    return { ok: false, error: `${field.label} expects ${what} in [${lo}, ${hi}], got ${value}` };
  }
  return { ok: true, value };
}

/** Check one input; an empty input means "the default" (absent from what is sent). */
export function parseRaw(field: FormField, raw: RawValue): Parsed {
  if (field.kind === "checkbox") return { ok: true, value: raw === true };
  const text = String(raw).trim();
  if (field.kind === "select") {
    const index = Number(text);
    if (!Number.isInteger(index) || index < 0 || index >= field.choices.length) {
      return { ok: false, error: `${field.label}: pick one of the choices` };
    }
    return { ok: true, value: field.choices[index] };
  }
  if (text === "") return { ok: true, value: undefined };
  if (field.kind === "integer") {
    if (!/^[-+]?\d+$/.test(text)) return { ok: false, error: `${field.label} expects a whole number, got "${text}"` };
    return inRange(field, Number(text), "a whole number");
  }
  if (field.kind === "number") {
    const value = Number(text);
    if (!Number.isFinite(value)) return { ok: false, error: `${field.label} expects a number, got "${text}"` };
    return inRange(field, value, "a number");
  }
  if (field.kind === "json") {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false, error: `${field.label} expects JSON (e.g. [1, 2] or {"a": 1}), got "${text}"` };
    }
  }
  return { ok: true, value: text };
}

/** Values to send (only those that parse and are not empty) and the errors by field name. */
export function collect(fields: FormField[], raws: Record<string, RawValue>): { values: Record<string, unknown>; errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const parsed = parseRaw(field, raws[field.name] ?? initialRaw(field));
    if (!parsed.ok) errors[field.name] = parsed.error;
    else if (parsed.value !== undefined) values[field.name] = parsed.value;
  }
  return { values, errors };
}
