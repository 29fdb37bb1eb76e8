/** Numbers, sizes and times as people read them. */

export function num(value: unknown, digits = 3): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return value == null ? "–" : String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(2);
  return value.toFixed(abs >= 100 ? 1 : digits).replace(/\.?0+$/, "");
}

export function bytes(value: number | null | undefined): string {
  if (value == null) return "–";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = value;
  let unit = 0;
  while (v >= 1000 && unit < units.length - 1) {
    v /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? v : v.toFixed(1)} ${units[unit]}`;
}

export function when(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "–";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const seconds = Math.round((now - t) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(t).toLocaleDateString();
}

export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : "–";
}
