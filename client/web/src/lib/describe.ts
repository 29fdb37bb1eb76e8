/** One-line descriptions of modalities and parameters, for the catalog. */

import { type Modality, size, subModalities } from "./modalities";
import type { Parameter } from "./params";

function bound(value: unknown): string {
  if (typeof value === "number") return String(Math.round(value * 1000) / 1000);
  if (value === null || value === undefined) return "∞";
  return "…";
}

export function describeModality(m: Modality | null | undefined): string {
  if (!m) return "unknown";
  switch (m.kind) {
    case "box": {
      const shape = (m.shape ?? []).join("×") || "scalar";
      const low = m.low ?? m.low_min;
      const high = m.high ?? m.high_max;
      const lo = Array.isArray(low) ? "per element" : bound(low);
      return Array.isArray(low) || Array.isArray(high) ? `box ${shape} (bounds ${lo})` : `box ${shape} in [${bound(low)}, ${bound(high)}]`;
    }
    case "image":
      return `image ${(m.shape ?? []).join("×")}`;
    case "discrete":
      return `discrete: ${m.n} choices${m.start ? ` from ${m.start}` : ""}`;
    case "multi_discrete":
      return `multi-discrete [${(m.nvec ?? []).join(", ")}]`;
    case "multi_binary":
      return `multi-binary ${Array.isArray(m.n) ? size(m.n) : m.n}`;
    case "text":
      return `text${m.max_length ? ` up to ${m.max_length} chars` : ""}`;
    case "dict":
    case "tuple":
      return `${m.kind} of ${subModalities(m).length}`;
    default:
      return m.kind;
  }
}

export function describeParameter(p: Parameter): string {
  const parts = [p.type];
  if (p.range && p.range.length === 2) parts.push(`in [${p.range[0]}, ${p.range[1]}]`);
  if (p.choices?.length) parts.push(`one of ${p.choices.map((c) => JSON.stringify(c)).join(", ")}`);
  if (p.default !== undefined && p.default !== null) parts.push(`default ${JSON.stringify(p.default)}`);
  return parts.join(", ");
}
