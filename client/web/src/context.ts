/** What every screen needs: the API, what the server offers, and who the viewer is. */

import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api } from "./lib/graphql";
import type { Viewer } from "./lib/permissions";
import type { Schema } from "./lib/schema";

export interface AppContext {
  api: Api;
  schema: Schema;
  viewer: Viewer;
  /** Show a short message at the bottom of the screen. */
  notify: (message: string, kind?: "info" | "error") => void;
}

export const App = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const value = useContext(App);
  if (!value) throw new Error("useApp outside <App.Provider>");
  return value;
}
