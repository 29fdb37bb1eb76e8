/** Connect: which server to talk to (remembered for next time). */

import { useState } from "preact/hooks";
import { normaliseServerUrl } from "../lib/config";
import { ErrorNote } from "./common";
import logo from "../assets/icon.svg?inline";

export function ConnectScreen({
  initial,
  busy,
  error,
  onConnect,
}: {
  initial: string;
  busy: boolean;
  error: string | null;
  onConnect: (server: string) => void;
}) {
  const [value, setValue] = useState(initial);
  const [invalid, setInvalid] = useState<string | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    try {
      setInvalid(null);
      onConnect(normaliseServerUrl(value));
    } catch (e) {
      setInvalid(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div class="centered">
      <form class="card narrow" onSubmit={submit} aria-label="Connect">
        <img src={logo} alt="" width="64" height="64" />
        <h1>AInimal Zookeeper</h1>
        <p class="muted">Enter the address of the zookeeper server to observe and steer its AInimals.</p>
        <label>
          Server address
          <input
            name="server"
            type="url"
            inputMode="url"
            autoComplete="url"
            placeholder="http://192.168.1.20:8000"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <ErrorNote error={invalid ?? error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Connecting…" : "Connect"}
        </button>
      </form>
    </div>
  );
}
