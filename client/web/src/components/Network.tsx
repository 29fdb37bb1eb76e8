/**
 * Inside the AInimal: its architecture as a tree, and for the layers being watched their
 * activations (a heatmap per layer) and weight histograms. Only watched layers are streamed:
 * the worker computes what someone looks at.
 */

import { useMemo } from "preact/hooks";
import { num } from "../lib/format";
import { flatNumbers } from "../lib/modalities";
import type { Architecture, Layer } from "../lib/queries";
import { type TelemetryFeed, useFeed } from "../lib/telemetry";
import { drawHeatmap, drawHistogram, LiveCanvas } from "./charts";

export interface LayerNode {
  layer: Layer;
  children: LayerNode[];
}

/** Layers nested by their dotted names: "policy.0" sits under "policy". */
export function layerTree(layers: Layer[]): LayerNode[] {
  const nodes = new Map<string, LayerNode>(layers.map((l) => [l.name, { layer: l, children: [] }]));
  const roots: LayerNode[] = [];
  for (const layer of layers) {
    const node = nodes.get(layer.name)!;
    const parentName = layer.name.includes(".") ? layer.name.slice(0, layer.name.lastIndexOf(".")) : null;
    const parent = parentName ? nodes.get(parentName) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

/** Layers worth watching at first: leaves with an output, at most `max`. */
export function defaultWatched(layers: Layer[], max = 6): string[] {
  const parents = new Set(layers.map((l) => (l.name.includes(".") ? l.name.slice(0, l.name.lastIndexOf(".")) : "")));
  return layers
    .filter((l) => !parents.has(l.name) && l.output_shape)
    .slice(0, max)
    .map((l) => l.name);
}

/** The telemetry streams for the watched layers: activations and each parameter's weights. */
export function networkStreams(layers: Layer[], watched: string[]): string[] {
  const streams: string[] = [];
  for (const layer of layers) {
    if (!watched.includes(layer.name)) continue;
    streams.push(`activations/${layer.name}`);
    for (const param of Object.keys(layer.shapes ?? {})) streams.push(`weights/${layer.name}.${param}`);
  }
  return streams;
}

export function Network({
  architecture,
  watched,
  onWatch,
  feed,
}: {
  architecture: Architecture | null;
  watched: string[];
  onWatch: (names: string[]) => void;
  feed: TelemetryFeed;
}) {
  const layers = useMemo(() => architecture?.layers ?? [], [architecture]);
  const tree = useMemo(() => layerTree(layers), [layers]);
  if (layers.length === 0) {
    return <p class="muted">This AInimal does not describe its layers (only torch modules and AInimals that declare them do).</p>;
  }
  const toggle = (name: string) => onWatch(watched.includes(name) ? watched.filter((n) => n !== name) : [...watched, name]);
  return (
    <div class="network">
      <div class="tree" aria-label="architecture">
        <p class="muted small">
          {architecture?.framework ?? "model"} · {num(architecture?.parameters ?? layers.reduce((s, l) => s + l.parameters, 0))} parameters
        </p>
        <ul>
          {tree.map((node) => (
            <TreeNode key={node.layer.name} node={node} watched={watched} onToggle={toggle} />
          ))}
        </ul>
      </div>
      <div class="layers">
        {layers
          .filter((l) => watched.includes(l.name))
          .map((l) => (
            <LayerView key={l.name} layer={l} feed={feed} />
          ))}
      </div>
    </div>
  );
}

function TreeNode({ node, watched, onToggle }: { node: LayerNode; watched: string[]; onToggle: (name: string) => void }) {
  const { layer } = node;
  return (
    <li>
      <label class="check">
        <input type="checkbox" checked={watched.includes(layer.name)} onChange={() => onToggle(layer.name)} aria-label={`watch ${layer.name}`} />
        <code>{layer.name.split(".").pop()}</code> <span>{layer.type}</span>
        <span class="muted small">
          {layer.output_shape ? ` → [${layer.output_shape.join("×")}]` : ""}
          {layer.parameters ? ` · ${num(layer.parameters)} params` : ""}
        </span>
      </label>
      {node.children.length ? (
        <ul>
          {node.children.map((c) => (
            <TreeNode key={c.layer.name} node={c} watched={watched} onToggle={onToggle} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

interface Stats {
  shape?: number[];
  mean?: number;
  std?: number;
  min?: number;
  max?: number;
  values?: unknown;
  histogram?: { counts: number[]; edges: number[] };
}

function LayerView({ layer, feed }: { layer: Layer; feed: TelemetryFeed }) {
  useFeed(feed, 4);
  const act = feed.get(`activations/${layer.name}`)?.value as Stats | undefined;
  const values = act?.values !== undefined ? flatNumbers(act.values) : [];
  const shape = act?.shape ?? layer.output_shape ?? [];
  const cols = shape.length >= 2 ? shape[shape.length - 1]! : Math.ceil(Math.sqrt(values.length || 1));
  return (
    <div class="layer" data-testid={`layer-${layer.name}`}>
      <h3>
        <code>{layer.name}</code> <span class="muted small">{layer.type}</span>
      </h3>
      {act ? (
        <>
          {values.length ? (
            <LiveCanvas
              feed={null}
              label={`activations of ${layer.name}`}
              height={Math.min(120, Math.max(24, 12 * Math.ceil(values.length / cols)))}
              draw={drawHeatmap(values, cols)}
            />
          ) : null}
          <p class="small muted">
            activations mean {num(act.mean)} · std {num(act.std)} · [{num(act.min)}, {num(act.max)}]
          </p>
        </>
      ) : (
        <p class="small muted">waiting for activations…</p>
      )}
      {Object.keys(layer.shapes ?? {}).map((param) => {
        const w = feed.get(`weights/${layer.name}.${param}`)?.value as Stats | undefined;
        return (
          <div key={param} class="weights">
            <span class="small">
              {param} [{(layer.shapes[param] ?? []).join("×")}]
            </span>
            {w?.histogram ? (
              <LiveCanvas feed={null} label={`histogram of ${param}`} height={48} draw={drawHistogram(w.histogram.counts, w.histogram.edges)} />
            ) : null}
            {w ? (
              <span class="small muted">
                mean {num(w.mean)} · std {num(w.std)}
              </span>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}
