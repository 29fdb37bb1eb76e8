/** Hash routes (#/instances, #/instance/ID, ...): work from any static host and offline. */

import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "instances" }
  | { name: "catalog" }
  | { name: "launch"; model: string | null; environment: string | null; checkpoint?: string | null }
  | { name: "instance"; id: string; tab: string | null }
  | { name: "admin" }
  | { name: "compare"; ids: string[]; metric?: string | null };

export function parseRoute(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  switch (parts[0]) {
    case "catalog":
      return { name: "catalog" };
    case "launch":
      return { name: "launch", model: parts[1] ?? null, environment: params.get("env"), checkpoint: params.get("checkpoint") };
    case "instance":
      if (parts[1]) return { name: "instance", id: parts[1], tab: parts[2] ?? null };
      return { name: "instances" };
    case "admin":
      return { name: "admin" };
    case "compare":
      return { name: "compare", ids: (params.get("ids") ?? "").split(",").filter(Boolean), metric: params.get("metric") };
    default:
      return { name: "instances" };
  }
}

export function href(route: Route): string {
  switch (route.name) {
    case "catalog":
      return "#/catalog";
    case "launch": {
      const base = `#/launch${route.model ? `/${encodeURIComponent(route.model)}` : ""}`;
      const query = new URLSearchParams();
      if (route.environment) query.set("env", route.environment);
      if (route.checkpoint) query.set("checkpoint", route.checkpoint);
      const text = query.toString();
      return text ? `${base}?${text}` : base;
    }
    case "instance":
      return `#/instance/${encodeURIComponent(route.id)}${route.tab ? `/${route.tab}` : ""}`;
    case "admin":
      return "#/admin";
    case "compare": {
      const query = new URLSearchParams();
      if (route.ids.length) query.set("ids", route.ids.join(","));
      if (route.metric) query.set("metric", route.metric);
      const text = query.toString().replace(/%2C/g, ",");
      return text ? `#/compare?${text}` : "#/compare";
    }
    default:
      return "#/instances";
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
