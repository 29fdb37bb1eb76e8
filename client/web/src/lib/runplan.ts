/**
 * The launch form's pace, budget and checkpoint schedule (LaunchInput.pace / realtime /
 * stopAfter / checkpointEvery): raw text in, checked values or a message per field out.
 */

export interface RunPlanRaw {
  pace: string;
  realtime: boolean;
  stopSteps: string;
  stopEpisodes: string;
  stopSeconds: string;
  everySteps: string;
  everySeconds: string;
  keep: string;
}

export const EMPTY_PLAN: RunPlanRaw = {
  pace: "",
  realtime: false,
  stopSteps: "",
  stopEpisodes: "",
  stopSeconds: "",
  everySteps: "",
  everySeconds: "",
  keep: "",
};

export interface RunPlan {
  pace?: number;
  realtime?: boolean;
  stopAfter?: { steps?: number; episodes?: number; seconds?: number };
  checkpointEvery?: { steps?: number; seconds?: number; keep?: number };
}

/** The most steps per second the form accepts (the server checks its own bound too). */
export const MAX_PACE = 100_000;

type Kind = "int" | "positive";

function parse(label: string, text: string, kind: Kind, errors: Record<string, string>, field: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const v = Number(t);
  if (kind === "int" && (!/^\d+$/.test(t) || v < 1 || v > max)) {
    errors[field] = `${label} expects a whole number ≥ 1, got ${t}`;
    return undefined;
  }
  if (kind === "positive" && (!Number.isFinite(v) || v <= 0 || v > max)) {
    errors[field] = `${label} expects a number > 0${max < Number.MAX_SAFE_INTEGER ? ` and ≤ ${max}` : ""}, got ${t}`;
    return undefined;
  }
  return v;
}

/** Checked values (only what was filled in) and the problems, by field. */
export function runPlan(raw: RunPlanRaw, checkpointable: boolean): { plan: RunPlan; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const plan: RunPlan = {};
  if (raw.realtime) plan.realtime = true;
  else {
    const pace = parse("pace (steps per second)", raw.pace, "positive", errors, "pace", MAX_PACE);
    if (pace !== undefined) plan.pace = pace;
  }
  const steps = parse("stop after steps", raw.stopSteps, "int", errors, "stopSteps");
  const episodes = parse("stop after episodes", raw.stopEpisodes, "int", errors, "stopEpisodes");
  const seconds = parse("stop after seconds", raw.stopSeconds, "positive", errors, "stopSeconds");
  const stop = { ...(steps !== undefined ? { steps } : {}), ...(episodes !== undefined ? { episodes } : {}), ...(seconds !== undefined ? { seconds } : {}) };
  if (Object.keys(stop).length) plan.stopAfter = stop;
  const everySteps = parse("checkpoint every steps", raw.everySteps, "int", errors, "everySteps");
  const everySeconds = parse("checkpoint every seconds", raw.everySeconds, "positive", errors, "everySeconds");
  const keep = parse("keep checkpoints", raw.keep, "int", errors, "keep");
  const every = {
    ...(everySteps !== undefined ? { steps: everySteps } : {}),
    ...(everySeconds !== undefined ? { seconds: everySeconds } : {}),
    ...(keep !== undefined ? { keep } : {}),
  };
  if (Object.keys(every).length) {
    if (!checkpointable) errors.everySteps = "this model cannot save checkpoints: leave the checkpoint schedule empty";
    else if (every.steps === undefined && every.seconds === undefined && !errors.everySteps && !errors.everySeconds) {
      errors.keep = "keep needs a schedule: fill in checkpoint every steps or seconds";
    } else plan.checkpointEvery = every;
  }
  return { plan, errors };
}

/** A pace as text: "as fast as it goes", "realtime (50/s)", "20/s". */
export function paceText(pace: number | null | undefined): string {
  if (pace === null || pace === undefined) return "as fast as it goes";
  return `${Math.round(pace * 100) / 100} steps/s`;
}
