// ESLint for the web client (flat config): JavaScript's and typescript-eslint's recommended
// rules, and the rules of hooks (Preact's hooks follow React's rules: same names, same calls).
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig([
  // Generated from the schema (npm run codegen), and build outputs.
  globalIgnores(["src/graphql/generated.ts", "node_modules/", "dist/"]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // The service worker runs in its own global scope.
    files: ["public/sw.js"],
    languageOptions: { globals: { self: "readonly", caches: "readonly", fetch: "readonly", URL: "readonly", Response: "readonly" } },
  },
  {
    files: ["**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
]);
