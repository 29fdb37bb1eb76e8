/**
 * One instance, live: the env frame, inputs and outputs by modality, reward and loss charts,
 * controls, takeover, and (for those who may look inside) network, checkpoints, recordings.
 */

import { useEffect, useMemo, useState } from "preact/hooks";
import { useApp } from "../context";
import { availableControls, FINAL } from "../lib/controls";
import { num, when } from "../lib/format";
import { HISTORY_POINTS, historyPoints, METRIC_HISTORY } from "../lib/history";
import { useLiveStream, usePolledQuery } from "../lib/live";
import { expectedInterval, type HealthState } from "../lib/streamhealth";
import { actionTarget } from "../lib/modalities";
import { isSignedIn } from "../lib/permissions";
import { Histories, TelemetryFeed, useFeed } from "../lib/telemetry";
import { CLEAR_OVERRIDE, INSTANCE, INSTANCE_EVENTS, type InstanceDetail, TELEMETRY } from "../lib/queries";
import { href } from "../lib/router";
import { drawLines, LiveCanvas } from "./charts";
import { Checkpoints } from "./Checkpoints";
import { ErrorNote, HealthBadge, Section, StatusBadge, useAction } from "./common";
import { ControlBar, PaceControl } from "./ControlBar";
import { FailureTraceback, Logs, useHasLogs } from "./Logs";
import { FrameCanvas } from "./FrameCanvas";
import { episodeReturn } from "./Instances";
import { ModalityPanel } from "./ModalityView";
import { defaultWatched, Network, networkStreams } from "./Network";
import { Recordings } from "./Recordings";
import { Takeover } from "./Takeover";

const RATES = [10, 30, 60];
const TABS = ["network", "checkpoints", "recordings", "logs", "details"] as const;
/** Charts drawn in their own sections; every other scalar gets a small chart of its own. */
const MAIN_SERIES = ["reward", "episode_return", "mean_return", "loss"];

export function InstanceView({ id, tab }: { id: string; tab: string | null }) {
  const { api, viewer } = useApp();
  const { data, error, refresh } = usePolledQuery(api, INSTANCE, { id }, 3000);
  const instance = data?.instance ?? null;
  const ended = !!data?.instance && FINAL.includes(data.instance.status);
  const events = useLiveStream(api, INSTANCE_EVENTS, { id }, refresh, { expectedIntervalMs: null, ended }, { onResume: refresh });
  if (error && !instance) return <ErrorNote error={error} />;
  if (!data) return <p class="muted">Loading…</p>;
  if (!instance) {
    return (
      <p>
        There is no instance {id} you may see. <a href={href({ name: "instances" })}>All instances</a>
      </p>
    );
  }
  return <Live instance={instance} tab={tab} refresh={refresh} events={events} signedIn={isSignedIn(viewer)} />;
}

function Live({
  instance,
  tab,
  refresh,
  events,
  signedIn,
}: {
  instance: InstanceDetail;
  tab: string | null;
  refresh: () => void;
  events: HealthState;
  signedIn: boolean;
}) {
  const { api } = useApp();
  const controls = availableControls(instance, { signedIn, hasSetPublic: true });
  const ended = FINAL.includes(instance.status);
  const [rate, setRate] = useState(30);
  // A fresh feed per instance (its id is the reset key).
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const feed = useMemo(() => new TelemetryFeed(), [instance.id]);
  const histories = useMemo(() => new Histories(feed), [feed]);
  useMetricHistory(instance.id, histories, feed);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- a fresh feed per instance
  const deep = useMemo(() => new TelemetryFeed(), [instance.id]);
  const layers = instance.architecture?.layers ?? [];
  const hasLogs = useHasLogs();
  const [watched, setWatched] = useState<string[]>(() => defaultWatched(layers));
  // Only the sections this AInimal has: no network view without layers, no checkpoints if it cannot save.
  const tabs = TABS.filter(
    (t) =>
      (t !== "network" || layers.length > 0) &&
      (t !== "logs" || hasLogs.query) &&
      (t !== "checkpoints" || instance.model.checkpointable || (instance.checkpoints ?? []).length > 0),
  );
  const activeTab = tabs.find((t) => t === tab) ?? (controls.inspect ? tabs[0] : null);

  const streams = ["inputs", "outputs", "reward", "metrics", "frame", ...(controls.inspect ? ["state"] : [])];
  const live = useLiveStream(
    api,
    ended ? null : TELEMETRY,
    { id: instance.id, streams, maxHz: rate },
    (d) => feed.push(d.telemetry),
    {
      expectedIntervalMs: expectedInterval(rate, instance.pace, instance.stepsPerSecond),
      paused: instance.status === "PAUSED",
      waitingFor: instance.waitingFor ?? null,
      ended,
    },
    { onGap: () => histories.gap() },
  );
  const deepStreams = controls.inspect && activeTab === "network" ? networkStreams(layers, watched) : [];
  useLiveStream(api, ended || deepStreams.length === 0 ? null : TELEMETRY, { id: instance.id, streams: deepStreams, maxHz: 4 }, (d) => deep.push(d.telemetry), {
    expectedIntervalMs: null,
  });

  const outputs = instance.architecture?.outputModalities ?? instance.environment?.actionModalities ?? null;
  const inputs = instance.architecture?.inputModalities ?? instance.environment?.observationModalities ?? null;
  const action = actionTarget(outputs);

  return (
    <div class="instance" data-testid="instance-view" data-status={instance.status}>
      <div class="row spread wrap">
        <div>
          <h1>
            {instance.model.name}
            {instance.environment ? <span class="muted"> on {instance.environment.name}</span> : null} <StatusBadge status={instance.status} />
          </h1>
          <p class="muted small">
            <code>{instance.id}</code> · {instance.mode.toLowerCase()} · {instance.owner ? `${instance.owner} · ` : ""}started {when(instance.createdAt)}
            {instance.public ? " · public" : ""}
            {" · "}
            <HealthBadge state={ended ? { health: "ended" } : live.health === "ended" ? events : live} />
            {instance.stopReason ? <span data-testid="stop-reason"> · {instance.stopReason}</span> : null}
          </p>
        </div>
        <ControlBar id={instance.id} mode={instance.mode} isPublic={!!instance.public} controls={controls} onChanged={refresh} />
      </div>
      <ErrorNote error={instance.error} />
      {instance.status === "FAILED" && controls.inspect && hasLogs.query ? <FailureTraceback id={instance.id} /> : null}
      <PaceControl id={instance.id} pace={instance.pace} stepsPerSecond={instance.stepsPerSecond} mayChange={controls.pace} onChanged={refresh} />
      <Stats instance={instance} feed={feed} />
      <div class="live-grid">
        <div class="stage">
          <FrameCanvas feed={feed} ended={ended} />
          <div class="row small muted">
            <label class="inline">
              Live rate
              <select aria-label="Live rate" value={String(rate)} onChange={(e) => setRate(Number((e.target as HTMLSelectElement).value))}>
                {RATES.map((r) => (
                  <option key={r} value={String(r)}>
                    {r} Hz
                  </option>
                ))}
              </select>
            </label>
            <Dropped feed={feed} />
          </div>
          {controls.takeover && action ? (
            <Takeover instanceId={instance.id} actionName={action.name} modality={action.modality} overrides={instance.overrides ?? []} onChanged={refresh} />
          ) : null}
        </div>
        <div class="side">
          <Section title="Inputs">
            <ModalityPanel feed={feed} stream="inputs" modalities={inputs} />
          </Section>
          <Section title="Outputs">
            <ModalityPanel feed={feed} stream="outputs" modalities={outputs} />
          </Section>
          <Section title="Reward">
            <LiveCanvas feed={feed} label="reward per step" height={60} draw={drawLines([{ name: "reward", series: histories.get("reward") }])} />
          </Section>
        </div>
      </div>
      <div class="charts">
        <Section title="Episode return">
          <LiveCanvas
            feed={feed}
            label="episode return"
            height={120}
            draw={drawLines([
              { name: "return", series: histories.get("episode_return") },
              { name: "mean", series: histories.get("mean_return") },
            ])}
          />
        </Section>
        {instance.model.trainable ? (
          <Section title="Loss">
            <LiveCanvas feed={feed} label="loss" height={120} draw={drawLines([{ name: "loss", series: histories.get("loss") }])} />
          </Section>
        ) : null}
        <OtherCharts feed={feed} histories={histories} known={scalarNames(instance.metrics)} />
      </div>
      {controls.inspect ? (
        <>
          <nav class="tabs" aria-label="Instance sections">
            {tabs.map((t) => (
              <a key={t} href={href({ name: "instance", id: instance.id, tab: t })} class={activeTab === t ? "active" : ""}>
                {t}
              </a>
            ))}
          </nav>
          {activeTab === "network" ? <Network architecture={instance.architecture} watched={watched} onWatch={setWatched} feed={deep} /> : null}
          {activeTab === "checkpoints" ? (
            <Checkpoints
              instanceId={instance.id}
              modelName={instance.model.name}
              checkpoints={instance.checkpoints ?? []}
              head={instance.headCheckpoint?.id ?? null}
              controls={controls}
              onChanged={refresh}
            />
          ) : null}
          {activeTab === "recordings" ? (
            <Recordings
              instanceId={instance.id}
              recordings={instance.recordings ?? []}
              checkpoints={instance.checkpoints ?? []}
              head={instance.headCheckpoint?.id ?? null}
              controls={controls}
              onChanged={refresh}
            />
          ) : null}
          {activeTab === "logs" ? <Logs id={instance.id} ended={ended} /> : null}
          {activeTab === "details" ? <Details instance={instance} feed={feed} mayClear={controls.override} onChanged={refresh} /> : null}
        </>
      ) : null}
    </div>
  );
}

function Stats({ instance, feed }: { instance: InstanceDetail; feed: TelemetryFeed }) {
  useFeed(feed, 8);
  const metrics = (feed.get("metrics")?.value as Record<string, unknown> | undefined) ?? instance.metrics ?? {};
  const step = feed.frames > 0 ? feed.step : instance.step;
  const episode = feed.episode ?? instance.episode;
  const rows: [string, unknown][] = [
    ["step", step],
    ["episode", episode],
    ["return", episodeReturn(metrics)],
    ["mean return", metrics.mean_return],
    ["loss", metrics.loss],
    ["steps/s", metrics.steps_per_second],
  ];
  return (
    <dl class="stats" data-testid="stats">
      {rows
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => (
          <div key={k} data-stat={k}>
            <dt>{k}</dt>
            <dd>{num(v)}</dd>
          </div>
        ))}
    </dl>
  );
}

function Dropped({ feed }: { feed: TelemetryFeed }) {
  useFeed(feed, 2);
  return feed.dropped ? <span title="frames the server skipped because this view was slower than the instance">{num(feed.dropped)} skipped</span> : null;
}

function Details({ instance, feed, mayClear, onChanged }: { instance: InstanceDetail; feed: TelemetryFeed; mayClear: boolean; onChanged: () => void }) {
  const { api } = useApp();
  useFeed(feed, 2);
  const clear = useAction(async (override: string) => {
    await api.request(CLEAR_OVERRIDE, { id: instance.id, override });
    onChanged();
  });
  const overrides = (instance.overrides ?? []).filter((o) => o.active !== false);
  return (
    <div class="details">
      <Section title="Parameters">
        <pre class="json">{JSON.stringify({ ...(instance.parameters ?? {}), seed: instance.seed }, null, 2)}</pre>
      </Section>
      <Section title="State">
        <pre class="json">{JSON.stringify(feed.get("state")?.value ?? null, null, 2)}</pre>
      </Section>
      <Section title="Overrides in force">
        {overrides.length === 0 ? <p class="muted">none</p> : null}
        <ul>
          {overrides.map((o) => (
            <li key={o.id}>
              <code>{o.target}</code> {o.takeover ? `taken over (${o.takeover})` : `${o.mode} ${JSON.stringify(o.value)}`} by {o.setBy ?? "?"}{" "}
              {mayClear ? (
                <button type="button" class="small" onClick={() => void clear.run(o.id)}>
                  clear
                </button>
              ) : null}
            </li>
          ))}
        </ul>
        <ErrorNote error={clear.error} />
      </Section>
      <p class="small muted">
        step {num(instance.step)} · episode {num(instance.episode)}
      </p>
    </div>
  );
}

/**
 * Fill the charts from `metricHistory` when the view opens (so a reload keeps them), then the
 * live frames extend them.
 */
function useMetricHistory(id: string, histories: Histories, feed: TelemetryFeed): void {
  const { api } = useApp();
  useEffect(() => {
    let alive = true;
    api
      .request(METRIC_HISTORY, { ids: [id], maxPoints: HISTORY_POINTS })
      .then((data) => {
        if (!alive) return;
        histories.load(data.metricHistory.filter((s) => s.instance === id).map((s) => ({ name: s.name, points: historyPoints(s) })));
        feed.touch();
      })
      .catch(() => undefined); // live data still comes; the charts just start empty
    return () => {
      alive = false;
    };
  }, [api, id, histories, feed]);
}

/** The names of the numbers among an instance's metrics (the scalars it has reported). */
export function scalarNames(metrics: Record<string, unknown> | null | undefined): string[] {
  return Object.entries(metrics ?? {})
    .filter(([, value]) => typeof value === "number")
    .map(([name]) => name);
}

/** A small chart for each other scalar: custom ones the AInimal logs, steps/s, ...
 *
 * The scalars the instance already reported (`known`, from its metrics) get their chart at the
 * first render, before their history or a frame arrives: a chart appearing later would push
 * everything below it down, under the pointer of someone about to click there. */
function OtherCharts({ feed, histories, known }: { feed: TelemetryFeed; histories: Histories; known: string[] }) {
  useFeed(feed, 1);
  const names = histories.others(MAIN_SERIES, known);
  return (
    <>
      {names.map((name) => (
        <Section key={name} title={name.replace(/_/g, " ")}>
          <div data-testid={`chart-${name}`}>
            <LiveCanvas feed={feed} label={name} height={90} draw={drawLines([{ name, series: histories.get(name) }])} />
          </div>
        </Section>
      ))}
    </>
  );
}
