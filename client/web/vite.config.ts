/// <reference types="vitest/config" />
/**
 * Builds the client into the Python package (src/ainimal_zookeeper/client/static/), as ONE
 * page with its script and styles inlined, beside the PWA files from public/ (manifest,
 * service worker, icons). One page means any server route that returns HTML serves the whole
 * app; the PWA files make it installable where they are served too.
 */

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";

interface Output {
  type: "chunk" | "asset";
  isEntry?: boolean;
  code?: string;
  source?: string | Uint8Array;
}

const OUT_DIR = resolve(import.meta.dirname, "../../src/ainimal_zookeeper/client/static");

/** Inline the entry script and the stylesheet into index.html; stamp the service worker. */
function singlePage(): Plugin {
  let html = "";
  return {
    name: "zk-single-page",
    apply: "build",
    enforce: "post",
    generateBundle(_options, bundle) {
      const outputs = bundle as unknown as Record<string, Output>;
      const page = outputs["index.html"];
      if (!page) return;
      let source = String(page.source);
      for (const [name, output] of Object.entries(outputs)) {
        if (output.type === "chunk" && output.isEntry) {
          const code = String(output.code).replace(/<\/script/gi, "<\\/script");
          const tag = new RegExp(`<script type="module" crossorigin src="[^"]*${escape(name)}"></script>`);
          source = source.replace(tag, () => `<script type="module">${code}</script>`);
          delete bundle[name];
        } else if (output.type === "asset" && name.endsWith(".css")) {
          const css = String(output.source).replace(/<\/style/gi, "<\\/style");
          const tag = new RegExp(`<link rel="stylesheet" crossorigin href="[^"]*${escape(name)}">`);
          source = source.replace(tag, () => `<style>${css}</style>`);
          delete bundle[name];
        } else if (output.type === "asset" && name !== "index.html" && source.includes(name)) {
          // The favicon and the like: a data URL, so the page needs no other file.
          const type = name.endsWith(".svg") ? "image/svg+xml" : name.endsWith(".png") ? "image/png" : "application/octet-stream";
          const data = Buffer.from(output.source ?? "").toString("base64");
          source = source.replace(new RegExp(`"[^"]*${escape(name)}"`, "g"), () => `"data:${type};base64,${data}"`);
          delete bundle[name];
        }
      }
      page.source = source;
      html = source;
    },
    writeBundle() {
      const version = createHash("sha256").update(html).digest("hex").slice(0, 12);
      const sw = resolve(OUT_DIR, "sw.js");
      writeFileSync(sw, readFileSync(sw, "utf8").replace("__BUILD_VERSION__", version));
    },
  };
}

/**
 * The generated documents (src/graphql/generated.ts) are indented GraphQL: the page ships them
 * with each run of whitespace made one space (our operations hold no string literals).
 */
function compactDocuments(): Plugin {
  return {
    name: "zk-compact-documents",
    apply: "build",
    transform(code, id) {
      if (!id.endsWith("/src/graphql/generated.ts")) return null;
      return { code: code.replace(/`[^`]*`/g, (text) => text.replace(/\s+/g, " ")), map: null };
    },
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export default defineConfig({
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: "es2022",
    modulePreload: false,
    assetsInlineLimit: 100_000,
    cssCodeSplit: false,
    reportCompressedSize: false,
  },
  plugins: [compactDocuments(), singlePage()],
  server: {
    // `npm run dev` against a server on :8000 (`make run`): the API is proxied, same origin.
    proxy: { "/graphql": "http://127.0.0.1:8000", "/recordings": "http://127.0.0.1:8000" },
  },
  test: {
    environment: "node",
    include: ["tests/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
