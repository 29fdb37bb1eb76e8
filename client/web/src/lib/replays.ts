/** Replays and comparisons: wait for a replay to finish, compare two recordings row by row. */

import type { Api } from "./graphql";
import { COMPARE, type Checkpoint, REPLAY_COMPARISON, REPLAY_STATUS, type Replay } from "./queries";

/** What `compareRecordings` and `Replay.comparison` (JSON fields) hold. */
export interface Comparison {
  recordedSteps?: number;
  replayedSteps?: number;
  comparedSteps?: number;
  identical?: boolean;
  firstDifference?: number | null;
  streams?: Record<string, { equalSteps: number; maxAbsDiff: number | null; meanAbsDiff: number | null }>;
  perStep?: {
    index: number;
    step: number;
    differences: Record<string, { equal: boolean; recorded: unknown; replayed: unknown; maxAbsDiff?: number | null }>;
  }[];
}

/** How many rows a comparison shows. */
export const COMPARED_ROWS = 200;

/** Poll a replay until it is no longer pending or running; `onProgress` sees each state. */
export async function waitForReplay(api: Api, id: string, onProgress: (r: Replay) => void, pollMs = 400): Promise<Replay> {
  for (;;) {
    const { replay } = await api.request(REPLAY_STATUS, { id });
    if (!replay) throw new Error(`replay ${id} is gone`);
    onProgress(replay);
    if (replay.status !== "running" && replay.status !== "pending") return replay;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** A finished replay against the recording it replayed, row by row. */
export async function replayComparison(api: Api, id: string): Promise<Comparison> {
  const data = await api.request(REPLAY_COMPARISON, { id, limit: COMPARED_ROWS });
  return (data.replay?.comparison as Comparison | null | undefined) ?? {};
}

/** Two recordings, row by row. */
export async function compareRecordings(api: Api, recorded: string, replayed: string): Promise<Comparison> {
  const data = await api.request(COMPARE, { recorded, replayed, limit: COMPARED_ROWS });
  return data.compareRecordings as Comparison;
}

/** A checkpoint's tag (or short id) for a label. */
export function tagOf(checkpoints: Checkpoint[], id: string | null | undefined): string {
  if (!id) return "–";
  const c = checkpoints.find((x) => x.id === id);
  return c ? c.tag || c.id.slice(0, 8) : id.slice(0, 8);
}
