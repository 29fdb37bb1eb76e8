/** Instances: status, mode, step and episode return of each, kept live. */

import { useApp } from "../context";
import { num, when } from "../lib/format";
import { usePolledQuery, useSubscription } from "../lib/live";
import { can } from "../lib/permissions";
import { INSTANCE_EVENTS, type InstanceSummary, instancesQuery } from "../lib/queries";
import { href } from "../lib/router";
import { ErrorNote, LiveBadge, StatusBadge } from "./common";

export function episodeReturn(metrics: Record<string, unknown> | null): unknown {
  return metrics?.episode_return ?? metrics?.mean_return ?? null;
}

export function Instances() {
  const { api, schema, viewer } = useApp();
  const { data, error, refresh } = usePolledQuery<{ instances: InstanceSummary[] }>(api, instancesQuery(schema), {}, 2000);
  const live = useSubscription(api, INSTANCE_EVENTS, { id: null }, refresh);
  const instances = data?.instances ?? [];
  const active = instances.filter((i) => !["TERMINATED", "FAILED"].includes(i.status));
  const ended = instances.filter((i) => ["TERMINATED", "FAILED"].includes(i.status));
  return (
    <div>
      <div class="row spread">
        <h1>
          Instances <LiveBadge status={live} />
        </h1>
        {can(viewer.permissions, "launch") ? (
          <a class="button primary" href={href({ name: "catalog" })}>
            Launch…
          </a>
        ) : null}
      </div>
      <ErrorNote error={error} />
      {data && instances.length === 0 ? (
        <p class="muted">
          No instances {can(viewer.permissions, "launch") ? "yet: launch one from the catalog." : "you may watch right now."}
        </p>
      ) : null}
      <InstanceTable instances={active} />
      {ended.length > 0 ? (
        <details>
          <summary>{ended.length} ended</summary>
          <InstanceTable instances={ended} />
        </details>
      ) : null}
    </div>
  );
}

function InstanceTable({ instances }: { instances: InstanceSummary[] }) {
  if (instances.length === 0) return null;
  return (
    <div class="table-wrap">
      <table class="instances">
        <thead>
          <tr>
            <th>Model</th>
            <th>Environment</th>
            <th>Status</th>
            <th>Mode</th>
            <th class="num">Step</th>
            <th class="num">Episode</th>
            <th class="num">Return</th>
            <th>Owner</th>
            <th>Started</th>
          </tr>
        </thead>
        <tbody>
          {instances.map((i) => (
            <tr key={i.id} data-testid={`instance-${i.id}`}>
              <td>
                <a href={href({ name: "instance", id: i.id, tab: null })}>{i.model.name}</a>{" "}
                <span class="muted">{i.id.slice(0, 6)}</span>
                {i.public ? <span class="tag">public</span> : null}
              </td>
              <td>{i.environment?.name ?? "–"}</td>
              <td>
                <StatusBadge status={i.status} />
              </td>
              <td>{i.mode.toLowerCase()}</td>
              <td class="num">{num(i.step)}</td>
              <td class="num">{num(i.episode)}</td>
              <td class="num">{num(episodeReturn(i.metrics))}</td>
              <td>{i.owner ?? "–"}</td>
              <td>{when(i.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
