/**
 * A takeover lasts while its person is there: the client renews it (`renewTakeover`) every
 * holdSeconds / 3 while the tab is visible and the person has touched a key, the pointer or a
 * gamepad within `presenceMs`. Hidden, closed or left alone, the tab stops renewing and the
 * server hands control back to the AInimal when the lease lapses.
 */

import { RenewTakeoverDocument } from "../graphql/generated";

export interface LeaseInfo {
  holder?: string | null;
  /** ISO time the lease lapses unless renewed. */
  leaseExpiresAt?: string | null;
}

export const RENEW_TAKEOVER = RenewTakeoverDocument;

/** holdSeconds the server uses when an override does not say (the "a few seconds"). */
export const DEFAULT_HOLD_SECONDS = 3;

/** Renew three times per hold, never more than 4 times a second. */
export function renewIntervalMs(holdSeconds: number | null | undefined): number {
  const hold = typeof holdSeconds === "number" && holdSeconds > 0 ? holdSeconds : DEFAULT_HOLD_SECONDS;
  return Math.max(250, (hold * 1000) / 3);
}

export interface RenewerOptions {
  renew: () => Promise<LeaseInfo | null | undefined>;
  intervalMs: number;
  /** The person is gone after this long without input. */
  presenceMs?: number;
  visible?: () => boolean;
  now?: () => number;
  onRenewed?: (info: LeaseInfo | null) => void;
  /** A renewal failed (lapsed, not the holder): the takeover is over. */
  onLost?: (message: string) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class LeaseRenewer {
  private lastInput: number;
  private timer: unknown = null;
  private stopped = false;
  private inFlight = false;
  renewals = 0;
  private readonly now: () => number;
  private readonly visible: () => boolean;
  private readonly presenceMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: RenewerOptions) {
    this.now = options.now ?? (() => Date.now());
    this.visible = options.visible ?? (() => typeof document === "undefined" || document.visibilityState !== "hidden");
    this.presenceMs = options.presenceMs ?? 120_000;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.lastInput = this.now();
    this.schedule();
  }

  /** The person did something (a key, the pointer, a gamepad). */
  touch(): void {
    this.lastInput = this.now();
  }

  /** Whether a renewal would be sent now. */
  get wanted(): boolean {
    return !this.stopped && this.visible() && this.now() - this.lastInput < this.presenceMs;
  }

  /** The tab became visible again: renew at once (the lease may be close to lapsing). */
  wake(): void {
    if (this.stopped) return;
    this.clear();
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private clear(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.clear();
    this.timer = this.setTimer(() => {
      this.timer = null;
      void this.tick();
    }, this.options.intervalMs);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.wanted && !this.inFlight) {
      this.inFlight = true;
      try {
        const info = await this.options.renew();
        this.renewals += 1;
        this.options.onRenewed?.(info ?? null);
      } catch (error) {
        // Unreachable server (status 0): try again next time; an answer (lapsed, not yours) ends it.
        if ((error as { status?: number }).status === 0) {
          this.inFlight = false;
          this.schedule();
          return;
        }
        this.stop();
        this.options.onLost?.(error instanceof Error ? error.message : String(error));
        return;
      } finally {
        this.inFlight = false;
      }
    }
    this.schedule();
  }
}

/** Seconds until an ISO time, rounded up; null when unknown. */
export function secondsUntil(iso: string | null | undefined, now = Date.now()): number | null {
  if (!iso) return null;
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
