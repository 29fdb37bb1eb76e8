/** The catalog: models and environments with their modalities and parameters. */

import { useEffect, useState } from "preact/hooks";
import { useApp } from "../context";
import { describeModality, describeParameter } from "../lib/describe";
import type { Modalities } from "../lib/modalities";
import type { Parameter } from "../lib/params";
import { may } from "../lib/permissions";
import { CATALOG, type EnvSpec, type ModelSpec } from "../lib/queries";
import { href } from "../lib/router";
import { ErrorNote } from "./common";

export interface CatalogData {
  models: ModelSpec[];
  environments: EnvSpec[];
}

/** The models and environments the viewer may launch (the server says which), and that can run. */
export function launchable(catalog: CatalogData): CatalogData {
  return {
    models: catalog.models.filter((m) => !m.error && may(m, "launch")),
    environments: catalog.environments.filter((e) => !e.error && may(e, "launch")),
  };
}

export function useCatalog(): { catalog: CatalogData | null; error: string | null } {
  const { api } = useApp();
  const [catalog, setCatalog] = useState<CatalogData | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .request(CATALOG, {})
      .then(setCatalog)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [api]);
  return { catalog, error };
}

export function Catalog() {
  const { catalog, error } = useCatalog();
  if (error) return <ErrorNote error={error} />;
  if (!catalog) return <p class="muted">Loading the catalog…</p>;
  const { models: launchableModels, environments: launchableEnvs } = launchable(catalog);
  return (
    <div class="catalog">
      <h1>Models</h1>
      <div class="cards">
        {catalog.models.map((m) => {
          const mayLaunch = launchableModels.includes(m) && launchableEnvs.length > 0;
          return (
            <article class="card spec" key={m.name} data-testid={`model-${m.name}`}>
              <header>
                <h3>{m.name}</h3>
                <span class="muted">{m.kind}</span>
              </header>
              {m.description ? <p>{m.description}</p> : null}
              <p class="tags">
                {m.modes
                  .filter((x) => x !== "NONE")
                  .map((x) => (
                    <span class="tag" key={x}>
                      {x.toLowerCase()}
                    </span>
                  ))}
                {m.checkpointable ? <span class="tag">checkpoints</span> : null}
              </p>
              <ModalityList title="Inputs" modalities={m.inputModalities} fallback="from the environment" />
              <ModalityList title="Outputs" modalities={m.outputModalities} fallback="from the environment" />
              <ParameterList parameters={m.parameters} />
              <ErrorNote error={m.error} />
              {mayLaunch ? (
                <a class="button primary" href={href({ name: "launch", model: m.name, environment: null })}>
                  Launch…
                </a>
              ) : null}
            </article>
          );
        })}
      </div>
      <h1>Environments</h1>
      <div class="cards">
        {catalog.environments.map((e) => (
          <article class="card spec" key={e.name} data-testid={`env-${e.name}`}>
            <header>
              <h3>{e.name}</h3>
              <span class="muted">{e.kind}</span>
            </header>
            {e.description ? <p>{e.description}</p> : null}
            <ModalityList title="Observations" modalities={e.observationModalities} fallback="not declared" />
            <ModalityList title="Actions" modalities={e.actionModalities} fallback="not declared" />
            <ParameterList parameters={e.parameters} />
            <ErrorNote error={e.error} />
          </article>
        ))}
      </div>
    </div>
  );
}

function ModalityList({ title, modalities, fallback }: { title: string; modalities: Modalities | null; fallback: string }) {
  const entries = Object.entries(modalities ?? {});
  return (
    <p class="modalities">
      <strong>{title}:</strong>{" "}
      {entries.length === 0 ? (
        <span class="muted">{fallback}</span>
      ) : (
        entries.map(([name, m], i) => (
          <span key={name}>
            {i > 0 ? "; " : ""}
            <code>{name}</code> {describeModality(m)}
          </span>
        ))
      )}
    </p>
  );
}

function ParameterList({ parameters }: { parameters: Parameter[] }) {
  if (parameters.length === 0) return null;
  return (
    <details class="params">
      <summary>
        {parameters.length} parameter{parameters.length === 1 ? "" : "s"}
      </summary>
      <dl>
        {parameters.map((p) => (
          <div key={p.name}>
            <dt>
              {p.display ?? p.name} <span class="muted">{describeParameter(p)}</span>
            </dt>
            {p.description ? <dd>{p.description}</dd> : null}
          </div>
        ))}
      </dl>
    </details>
  );
}
