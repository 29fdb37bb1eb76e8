/** A takeover's actions on their way to the server, in order (real time: only the newest waits). */

import type { Api } from "./graphql";
import { ACT, OVERRIDE } from "./queries";
import type { ActionValue, TakeoverMode } from "./takeover";

/**
 * Sends actions in order; in real time only the newest waiting one is kept. The first action
 * starts the takeover (an override of the target carrying that action: the API needs one),
 * the following ones go through `act`.
 */
export class ActSender {
  private inFlight = false;
  private queue: ActionValue[] = [];
  sent = 0;
  constructor(
    private readonly api: Api,
    private readonly id: string,
    private readonly target: string,
    private readonly mode: TakeoverMode,
    private started: boolean,
    private readonly onError: (message: string) => void,
    private readonly onStarted: (overrideId: string) => void = () => undefined,
  ) {}

  send(value: ActionValue): void {
    if (!this.started && value === null && this.queue.length === 0) return; // nothing to hand back yet
    if (this.mode === "realtime") this.queue = [value];
    else this.queue.push(value);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.inFlight) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.inFlight = true;
    try {
      if (this.started) {
        await this.api.request(ACT, { id: this.id, value: next, target: this.target });
      } else if (next !== null) {
        const data = await this.api.request(OVERRIDE, {
          id: this.id,
          input: { target: this.target, value: next, takeover: this.mode },
        });
        this.started = true;
        this.onStarted(data.override.id);
      }
      this.sent += 1;
    } catch (e) {
      this.onError(e instanceof Error ? e.message : String(e));
    } finally {
      this.inFlight = false;
      void this.pump();
    }
  }
}
