/** A takeover's lease: renewed while its person is here (lib/lease.ts), shown counting down. */

import { useEffect, useRef, useState } from "preact/hooks";
import { useApp } from "../context";
import { type LeaseInfo, LeaseRenewer, RENEW_TAKEOVER, renewIntervalMs, secondsUntil } from "../lib/lease";

/**
 * While this page drives (`overrideId` set), renew the takeover's lease every holdSeconds / 3
 * as long as the tab is visible and its person present; stop when the tab closes. Returns the
 * lease as the server last told it, and `touch` for inputs the window does not see (gamepads).
 */
export function useTakeoverLease(
  instanceId: string,
  overrideId: string | null,
  holdSeconds: number | null | undefined,
  onLost: (message: string) => void,
): { lease: LeaseInfo | null; touch: () => void } {
  const { api, schema } = useApp();
  const [lease, setLease] = useState<LeaseInfo | null>(null);
  const renewer = useRef<LeaseRenewer | null>(null);
  const lost = useRef(onLost);
  lost.current = onLost;
  const supported = !!schema.mutation("renewTakeover");
  useEffect(() => {
    if (!overrideId || !supported) return undefined;
    const r = new LeaseRenewer({
      renew: async () => (await api.request(RENEW_TAKEOVER, { id: instanceId, override: overrideId })).renewTakeover,
      intervalMs: renewIntervalMs(holdSeconds),
      onRenewed: (info) => info && setLease(info),
      onLost: (message) => lost.current(message),
    });
    renewer.current = r;
    const touch = () => r.touch();
    const visibility = () => {
      if (document.visibilityState === "visible") r.wake();
    };
    const events = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"] as const;
    for (const e of events) window.addEventListener(e, touch, { passive: true });
    document.addEventListener("visibilitychange", visibility);
    // Closing the tab: no more renewals, the server hands control back when the lease lapses.
    window.addEventListener("pagehide", () => r.stop(), { once: true });
    return () => {
      r.stop();
      renewer.current = null;
      for (const e of events) window.removeEventListener(e, touch);
      document.removeEventListener("visibilitychange", visibility);
    };
  }, [api, instanceId, overrideId, holdSeconds, supported]);
  useEffect(() => {
    if (!overrideId) setLease(null);
  }, [overrideId]);
  return { lease, touch: () => renewer.current?.touch() };
}

/** "held by alice · lapses in 4 s", counting down. */
export function LeaseNote({ holder, expiresAt, mine }: { holder: string | null | undefined; expiresAt: string | null | undefined; mine: boolean }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (!expiresAt) return undefined;
    const timer = setInterval(() => tick((n) => n + 1), 500);
    return () => clearInterval(timer);
  }, [expiresAt]);
  const left = secondsUntil(expiresAt);
  if (!holder && left === null) return null;
  return (
    <p class="small muted" data-testid="takeover-lease">
      {holder ? `held by ${holder}${mine ? " (you)" : ""}` : "held"}
      {left !== null ? ` · lapses in ${left} s${mine ? " unless renewed (this tab renews it while you are here)" : ""}` : ""}
    </p>
  );
}
