import { render } from "preact";
import { App } from "./app";
import { runtimeConfig } from "./lib/config";
import "./styles.css";

render(<App config={runtimeConfig()} />, document.getElementById("app")!);

// The service worker caches the app shell so the installed app opens offline; it never
// touches API responses. Served over http(s) only (not from file:).
if ("serviceWorker" in navigator && location.protocol.startsWith("http")) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("sw.js").catch(() => {
      // A host that serves only the page (no sw.js) still runs the app, just not offline.
    });
  });
}
