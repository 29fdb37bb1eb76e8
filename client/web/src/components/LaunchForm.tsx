/** Launch: pick a model, an environment and a mode, fill the generated parameter forms. */

import { useMemo, useState } from "preact/hooks";
import { useApp } from "../context";
import { collect, type FormField, formField, initialRaw, parseRaw, type RawValue } from "../lib/params";
import type { LaunchInput } from "../graphql/generated";
import { may } from "../lib/permissions";
import { type EnvSpec, LAUNCH, type ModelSpec, type RunMode } from "../lib/queries";
import { EMPTY_PLAN, type RunPlanRaw, runPlan } from "../lib/runplan";
import { href, navigate } from "../lib/router";
import { type CatalogData, launchable, useCatalog } from "./Catalog";
import { ErrorNote, useAction } from "./common";

/** The modes a viewer may launch a model in: what the model supports, TRAIN/BOTH if the server lets them `train` it. */
export function launchModes(model: ModelSpec): RunMode[] {
  return model.modes.filter((mode) => (mode === "TRAIN" || mode === "BOTH" ? may(model, "train") : true));
}

/**
 * Why a launch link's model or environment cannot be launched here, or null when it can: a
 * link never silently opens another model's form.
 */
export function unavailable(catalog: CatalogData, kind: "model" | "environment", name: string | null): string | null {
  if (name === null) return null;
  const entries: (ModelSpec | EnvSpec)[] = kind === "model" ? catalog.models : catalog.environments;
  const found = entries.find((e) => e.name === name);
  if (!found) return `There is no ${kind} named “${name}” on this server (or you may not see it).`;
  if (found.error) return `The ${kind} “${name}” is unavailable: ${found.error}`;
  if (!may(found, "launch")) return `You may not launch the ${kind} “${name}”.`;
  return null;
}

/** Inputs for a list of parameters: each checked as it changes, and again before sending. */
export function ParameterFields({
  legend,
  fields,
  raws,
  onChange,
  prefix,
}: {
  legend: string;
  fields: FormField[];
  raws: Record<string, RawValue>;
  onChange: (name: string, raw: RawValue) => void;
  prefix: string;
}) {
  if (fields.length === 0) return null;
  return (
    <fieldset>
      <legend>{legend}</legend>
      {fields.map((field) => {
        const raw = raws[field.name] ?? initialRaw(field);
        const parsed = parseRaw(field, raw);
        const id = `${prefix}-${field.name}`;
        const describedBy = `${id}-help`;
        const common = { id, name: field.name, "aria-invalid": !parsed.ok, "aria-describedby": describedBy };
        let input;
        if (field.kind === "checkbox") {
          input = <input {...common} type="checkbox" checked={raw === true} onChange={(e) => onChange(field.name, (e.target as HTMLInputElement).checked)} />;
        } else if (field.kind === "select") {
          input = (
            <select {...common} value={String(raw)} onChange={(e) => onChange(field.name, (e.target as HTMLSelectElement).value)}>
              {field.choices.map((choice, i) => (
                <option key={i} value={String(i)}>
                  {typeof choice === "string" ? choice : JSON.stringify(choice)}
                </option>
              ))}
            </select>
          );
        } else {
          const numeric = field.kind === "integer" || field.kind === "number";
          input = (
            <input
              {...common}
              type={numeric ? "number" : "text"}
              inputMode={field.kind === "integer" ? "numeric" : numeric ? "decimal" : undefined}
              min={field.min ?? undefined}
              max={field.max ?? undefined}
              step={field.step ?? undefined}
              placeholder={field.default === null || field.default === undefined ? "default" : String(JSON.stringify(field.default))}
              value={String(raw)}
              onInput={(e) => onChange(field.name, (e.target as HTMLInputElement).value)}
            />
          );
        }
        const range = field.min !== null || field.max !== null ? `${field.min ?? "−∞"} … ${field.max ?? "∞"}` : null;
        return (
          <div class={`field ${field.kind === "checkbox" ? "check" : ""}`} key={field.name}>
            <label for={id}>{field.label}</label>
            {input}
            <small id={describedBy} class={parsed.ok ? "muted" : "error"}>
              {parsed.ok ? [field.description, range].filter(Boolean).join(" · ") : parsed.error}
            </small>
          </div>
        );
      })}
    </fieldset>
  );
}

export function LaunchScreen({ model, environment, checkpoint }: { model: string | null; environment: string | null; checkpoint: string | null }) {
  const { catalog, error } = useCatalog();
  if (error) return <ErrorNote error={error} />;
  if (!catalog) return <p class="muted">Loading the catalog…</p>;
  const { models, environments: envs } = launchable(catalog);
  const problem = unavailable(catalog, "model", model) ?? unavailable(catalog, "environment", environment);
  if (problem) {
    return (
      <div class="card" data-testid="launch-unavailable">
        <h1>Cannot launch</h1>
        <p class="error" role="alert">
          {problem}
        </p>
        <p>
          <a href={href({ name: "catalog" })}>Back to the catalog</a>
        </p>
      </div>
    );
  }
  if (models.length === 0) {
    return <p>There is nothing you may launch here.</p>;
  }
  return (
    <LaunchForm
      models={models}
      environments={envs}
      initialModel={model ?? models[0]!.name}
      initialEnvironment={environment ?? envs[0]?.name ?? null}
      checkpoint={checkpoint}
    />
  );
}

export function LaunchForm({
  models,
  environments,
  initialModel,
  initialEnvironment,
  checkpoint,
}: {
  models: ModelSpec[];
  environments: EnvSpec[];
  initialModel: string;
  initialEnvironment: string | null;
  checkpoint: string | null;
}) {
  const { api, schema, notify } = useApp();
  const [plan, setPlan] = useState<RunPlanRaw>(EMPTY_PLAN);
  const [modelName, setModelName] = useState(initialModel);
  const [envName, setEnvName] = useState<string | null>(initialEnvironment);
  const model = models.find((m) => m.name === modelName) ?? models[0]!;
  const env = environments.find((e) => e.name === envName) ?? null;
  const modes = launchModes(model).filter((m) => m !== "NONE");
  const [mode, setMode] = useState<RunMode>(modes.includes("INFER") ? "INFER" : (modes[0] ?? "INFER"));
  const [seed, setSeed] = useState("");
  const modelFields = useMemo(() => model.parameters.map(formField), [model]);
  const envFields = useMemo(() => (env ? env.parameters.map(formField) : []), [env]);
  const [modelRaw, setModelRaw] = useState<Record<string, RawValue>>({});
  const [envRaw, setEnvRaw] = useState<Record<string, RawValue>>({});
  const [problems, setProblems] = useState<string[]>([]);

  const launch = useAction(async () => {
    const m = collect(modelFields, modelRaw);
    const e = collect(envFields, envRaw);
    const seedText = seed.trim();
    const seedProblem = seedText && !/^\d+$/.test(seedText) ? ["seed expects a whole number ≥ 0"] : [];
    const planned = runPlan(plan, model.checkpointable);
    const all = [...Object.values(m.errors), ...Object.values(e.errors), ...seedProblem, ...Object.values(planned.errors)];
    setProblems(all);
    if (all.length > 0) return;
    const input: LaunchInput = { model: model.name, mode, parameters: m.values, ...planned.plan };
    if (env) {
      input.environment = env.name;
      input.environmentParameters = e.values;
    }
    if (checkpoint) input.checkpoint = checkpoint;
    if (seedText) input.seed = Number(seedText);
    const data = await api.request(LAUNCH, { input });
    notify(`Launched ${model.name}${env ? ` on ${env.name}` : ""}`);
    navigate({ name: "instance", id: data.launch.id, tab: null });
  });

  return (
    <form
      class="card launch"
      aria-label="Launch"
      // The form's own checks name the field, the range and the value; the browser's would not.
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void launch.run();
      }}
    >
      <h1>Launch{checkpoint ? " from a checkpoint" : ""}</h1>
      {checkpoint ? (
        <p class="muted">
          Starts a new run from checkpoint <code>{checkpoint.slice(0, 8)}</code>.
        </p>
      ) : null}
      <div class="grid2">
        <div class="field">
          <label for="launch-model">Model</label>
          <select
            id="launch-model"
            value={model.name}
            disabled={!!checkpoint}
            onChange={(e) => {
              setModelName((e.target as HTMLSelectElement).value);
              setModelRaw({});
            }}
          >
            {models.map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
          {model.description ? <small class="muted">{model.description}</small> : null}
        </div>
        <div class="field">
          <label for="launch-env">Environment</label>
          <select
            id="launch-env"
            value={envName ?? ""}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              setEnvName(v || null);
              setEnvRaw({});
            }}
          >
            {environments.map((e) => (
              <option key={e.name} value={e.name}>
                {e.name}
              </option>
            ))}
            <option value="">none (the model runs alone)</option>
          </select>
          {env?.description ? <small class="muted">{env.description}</small> : null}
        </div>
        <div class="field">
          <label for="launch-mode">Mode</label>
          <select id="launch-mode" value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value as RunMode)}>
            {modes.map((m) => (
              <option key={m} value={m}>
                {MODE_LABELS[m]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="launch-seed">Seed</label>
          <input id="launch-seed" inputMode="numeric" placeholder="random" value={seed} onInput={(e) => setSeed((e.target as HTMLInputElement).value)} />
        </div>
      </div>
      <ParameterFields
        legend={`${model.name} parameters`}
        prefix="model"
        fields={modelFields}
        raws={modelRaw}
        onChange={(name, raw) => setModelRaw((r) => ({ ...r, [name]: raw }))}
      />
      <ParameterFields
        legend={`${env?.name ?? ""} parameters`}
        prefix="env"
        fields={envFields}
        raws={envRaw}
        onChange={(name, raw) => setEnvRaw((r) => ({ ...r, [name]: raw }))}
      />
      <RunPlanFields raw={plan} onChange={(next) => setPlan(next)} has={(f) => schema.hasInput("LaunchInput", f)} checkpointable={model.checkpointable} />
      {problems.length > 0 ? (
        <ul class="error" role="alert">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      <ErrorNote error={launch.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={launch.busy}>
          {launch.busy ? "Launching…" : "Launch"}
        </button>
      </div>
    </form>
  );
}

export const MODE_LABELS: Record<RunMode, string> = {
  INFER: "infer (act only)",
  TRAIN: "train",
  BOTH: "train and act",
  NONE: "idle",
};

/**
 * The advanced part of the form: pace, budget, checkpoint schedule. Only the fields this
 * server's LaunchInput has; each checked as it is typed (runplan.ts).
 */
function RunPlanFields({
  raw,
  onChange,
  has,
  checkpointable,
}: {
  raw: RunPlanRaw;
  onChange: (raw: RunPlanRaw) => void;
  has: (field: string) => boolean;
  checkpointable: boolean;
}) {
  const { errors } = runPlan(raw, checkpointable);
  if (!has("pace") && !has("stopAfter") && !has("checkpointEvery")) return null;
  const text = (field: keyof RunPlanRaw, label: string, help: string, disabled = false) => (
    <div class="field">
      <label for={`plan-${field}`}>{label}</label>
      <input
        id={`plan-${field}`}
        inputMode="decimal"
        placeholder="none"
        disabled={disabled}
        aria-invalid={!!errors[field]}
        value={String(raw[field])}
        onInput={(e) => onChange({ ...raw, [field]: (e.target as HTMLInputElement).value })}
      />
      <small class={errors[field] ? "error" : "muted"}>{errors[field] ?? help}</small>
    </div>
  );
  return (
    <details class="advanced" data-testid="run-plan">
      <summary>Pace, budget and checkpoints</summary>
      {has("pace") || has("realtime") ? (
        <fieldset>
          <legend>Pace</legend>
          <div class="grid2">
            {has("pace") ? text("pace", "Pace (steps per second)", "empty: as fast as it goes", raw.realtime) : null}
            {has("realtime") ? (
              <div class="field check">
                <label for="plan-realtime">Realtime (the env's frame rate)</label>
                <input
                  id="plan-realtime"
                  type="checkbox"
                  checked={raw.realtime}
                  onChange={(e) => onChange({ ...raw, realtime: (e.target as HTMLInputElement).checked })}
                />
              </div>
            ) : null}
          </div>
        </fieldset>
      ) : null}
      {has("stopAfter") ? (
        <fieldset>
          <legend>Stop after (whichever comes first)</legend>
          <div class="grid2">
            {text("stopSteps", "Steps", "whole number ≥ 1")}
            {text("stopEpisodes", "Episodes", "whole number ≥ 1")}
            {text("stopSeconds", "Seconds", "> 0")}
          </div>
        </fieldset>
      ) : null}
      {has("checkpointEvery") && checkpointable ? (
        <fieldset>
          <legend>Checkpoint every</legend>
          <div class="grid2">
            {text("everySteps", "Every steps", "whole number ≥ 1")}
            {text("everySeconds", "Every seconds", "> 0")}
            {text("keep", "Keep the newest", "whole number ≥ 1; empty: all")}
          </div>
        </fieldset>
      ) : null}
    </details>
  );
}
