/** Instances: status, mode, step and episode return of each, kept live. */

import { useApp } from "../context";
import { availableControls } from "../lib/controls";
import { num, when } from "../lib/format";
import { useLiveStream, usePolledQuery } from "../lib/live";
import { isSignedIn, mayGlobally } from "../lib/permissions";
import { INSTANCE_EVENTS, INSTANCES, type InstanceSummary } from "../lib/queries";
import { href } from "../lib/router";
import { ErrorNote, HealthBadge, StatusBadge } from "./common";
import { EmergencyStopButton, useHasEmergencyStop } from "./EmergencyStop";

export function episodeReturn(metrics: Record<string, unknown> | null): unknown {
  return metrics?.episode_return ?? metrics?.mean_return ?? null;
}

export function Instances() {
  const { api, schema, viewer } = useApp();
  const { data, error, refresh } = usePolledQuery(api, INSTANCES, {}, 2000);
  // Events carry news only when something happens: never "stalled", but reconnected when dropped.
  const live = useLiveStream(api, INSTANCE_EVENTS, { id: null }, refresh, { expectedIntervalMs: null }, { onResume: refresh });
  const instances = data?.instances ?? [];
  const active = instances.filter((i) => !["TERMINATED", "FAILED"].includes(i.status));
  const ended = instances.filter((i) => ["TERMINATED", "FAILED"].includes(i.status));
  return (
    <div>
      <div class="row spread">
        <h1>
          Instances <HealthBadge state={live} />
        </h1>
        <div class="row">
          {schema.query("metricHistory") && instances.length > 1 ? (
            <a class="button" href={href({ name: "compare", ids: [] })}>
              Compare runs
            </a>
          ) : null}
          {mayGlobally(viewer, "LAUNCH") ? (
            <a class="button primary" href={href({ name: "catalog" })}>
              Launch…
            </a>
          ) : null}
        </div>
      </div>
      <ErrorNote error={error} />
      {data && instances.length === 0 ? (
        <p class="muted">No instances {mayGlobally(viewer, "LAUNCH") ? "yet: launch one from the catalog." : "you may watch right now."}</p>
      ) : null}
      <InstanceTable instances={active} onChanged={refresh} />
      {ended.length > 0 ? (
        <details>
          <summary>{ended.length} ended</summary>
          <InstanceTable instances={ended} onChanged={refresh} />
        </details>
      ) : null}
    </div>
  );
}

function InstanceTable({ instances, onChanged }: { instances: InstanceSummary[]; onChanged: () => void }) {
  const { schema, viewer } = useApp();
  const hasStop = useHasEmergencyStop();
  if (instances.length === 0) return null;
  const mayStop = (i: InstanceSummary) =>
    hasStop &&
    availableControls(
      { ...i, environment: null, model: { ...i.model, trainable: false, checkpointable: false } },
      {
        signedIn: isSignedIn(viewer),
        hasSetPublic: !!schema.mutation("setPublic"),
      },
    ).emergencyStop;
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
            {hasStop ? <th /> : null}
          </tr>
        </thead>
        <tbody>
          {instances.map((i) => (
            <tr key={i.id} data-testid={`instance-${i.id}`}>
              <td>
                <a href={href({ name: "instance", id: i.id, tab: null })}>{i.model.name}</a> <span class="muted">{i.id.slice(0, 6)}</span>
                {i.public ? <span class="tag">public</span> : null}
              </td>
              <td>{i.environment?.name ?? "–"}</td>
              <td>
                <StatusBadge status={i.status} />
                {i.waitingFor ? (
                  <span class="badge warn" data-testid="waiting-for" title="this instance waits for a person">
                    waiting for {i.waitingFor}
                  </span>
                ) : null}
                {i.stopReason && ["TERMINATED", "FAILED"].includes(i.status) ? (
                  <span class="muted small" data-testid="stop-reason">
                    {" "}
                    {i.stopReason}
                  </span>
                ) : null}
              </td>
              <td>{i.mode.toLowerCase()}</td>
              <td class="num">{num(i.step)}</td>
              <td class="num">{num(i.episode)}</td>
              <td class="num">{num(episodeReturn(i.metrics))}</td>
              <td>{i.owner ?? "–"}</td>
              <td>{when(i.createdAt)}</td>
              {hasStop ? <td>{mayStop(i) ? <EmergencyStopButton id={i.id} onStopped={onChanged} compact /> : null}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
