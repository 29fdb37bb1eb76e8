/** Checkpoints: save one, see the lineage as a graph, restore one or branch a new run from it. */

import { useState } from "preact/hooks";
import { useApp } from "../context";
import type { Controls } from "../lib/controls";
import { bytes, num, when } from "../lib/format";
import { layoutLineage } from "../lib/lineage";
import { type Checkpoint, RESTORE_CHECKPOINT, SAVE_CHECKPOINT } from "../lib/queries";
import { href } from "../lib/router";
import { ErrorNote, useAction } from "./common";

export function LineageGraph({
  checkpoints,
  head,
  selected,
  onSelect,
}: {
  checkpoints: Checkpoint[];
  head: string | null;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const { nodes, edges, lanes } = layoutLineage(checkpoints);
  const columns = Math.max(1, ...nodes.map((n) => n.column + 1));
  const dx = 96;
  const dy = 44;
  const width = columns * dx + 40;
  const height = lanes * dy + 20;
  const at = new Map(nodes.map((n) => [n.id, { x: 30 + n.column * dx, y: 24 + n.lane * dy, node: n }]));
  return (
    <div class="lineage">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="checkpoint lineage">
        {edges.map((e) => {
          const a = at.get(e.from);
          const b = at.get(e.to);
          if (!a || !b) return null;
          const mid = (a.x + b.x) / 2;
          return <path key={`${e.from}-${e.to}`} d={`M${a.x},${a.y} C${mid},${a.y} ${mid},${b.y} ${b.x},${b.y}`} class="edge" />;
        })}
        {[...at.values()].map(({ x, y, node }) => (
          <g
            key={node.id}
            class={`node ${node.external ? "external" : ""} ${node.id === head ? "head" : ""} ${node.id === selected ? "selected" : ""}`}
            transform={`translate(${x},${y})`}
            onClick={() => !node.external && onSelect(node.id)}
            data-testid={`checkpoint-node-${node.id}`}
          >
            <circle r={node.id === head ? 9 : 7} />
            <text y={-12} text-anchor="middle">
              {node.external ? `from ${node.tag}` : node.tag || node.id.slice(0, 6)}
            </text>
            {!node.external ? (
              <text y={21} text-anchor="middle" class="sub">
                {num(node.step)}
              </text>
            ) : null}
          </g>
        ))}
      </svg>
    </div>
  );
}

export function Checkpoints({
  instanceId,
  modelName,
  checkpoints,
  head,
  controls,
  onChanged,
}: {
  instanceId: string;
  modelName: string;
  checkpoints: Checkpoint[];
  head: string | null;
  controls: Controls;
  onChanged: () => void;
}) {
  const { api, notify } = useApp();
  const [tag, setTag] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const save = useAction(async () => {
    const data = await api.request(SAVE_CHECKPOINT, { id: instanceId, tag: tag.trim() || null });
    notify(`Saved checkpoint ${data.saveCheckpoint.tag || data.saveCheckpoint.id.slice(0, 8)} at step ${num(data.saveCheckpoint.step)}`);
    setTag("");
    onChanged();
  });
  const restore = useAction(async (id: string) => {
    await api.request(RESTORE_CHECKPOINT, { id: instanceId, checkpoint: id });
    notify("Restored");
    onChanged();
  });
  const chosen = checkpoints.find((c) => c.id === selected) ?? null;
  return (
    <div class="checkpoints">
      {controls.checkpoint ? (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
        >
          <input aria-label="Checkpoint tag" placeholder="tag (optional)" value={tag} onInput={(e) => setTag((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary" disabled={save.busy}>
            {save.busy ? "Saving…" : "Save checkpoint"}
          </button>
        </form>
      ) : null}
      <ErrorNote error={save.error ?? restore.error} />
      {checkpoints.length === 0 ? (
        <p class="muted">No checkpoints yet.</p>
      ) : (
        <>
          <LineageGraph checkpoints={checkpoints} head={head} selected={selected} onSelect={setSelected} />
          {chosen ? (
            <div class="row selected-checkpoint">
              <span>
                <strong>{chosen.tag || chosen.id.slice(0, 8)}</strong> step {num(chosen.step)} · {when(chosen.createdAt)} · {bytes(chosen.sizeBytes)}
                {chosen.gitTag ? (
                  <>
                    {" "}
                    · git tag <code>{chosen.gitTag}</code> at <code>{chosen.gitCommit?.slice(0, 10)}</code>
                    {chosen.gitPushed ? " (pushed)" : " (kept in the server's clone)"}
                  </>
                ) : null}
              </span>
              {controls.restore ? (
                <button type="button" disabled={restore.busy} onClick={() => void restore.run(chosen.id)}>
                  Restore into this instance
                </button>
              ) : null}
              {controls.branch ? (
                <a class="button" href={href({ name: "launch", model: modelName, environment: null, checkpoint: chosen.id })}>
                  Branch a new run…
                </a>
              ) : null}
            </div>
          ) : (
            <p class="muted small">Select a checkpoint in the graph to restore it or branch from it.</p>
          )}
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Tag</th>
                  <th class="num">Step</th>
                  <th>Parent</th>
                  <th>Saved</th>
                  <th class="num">Size</th>
                  <th>Git</th>
                </tr>
              </thead>
              <tbody>
                {checkpoints.map((c) => (
                  <tr key={c.id} class={c.id === head ? "head" : ""} onClick={() => setSelected(c.id)}>
                    <td>
                      {c.tag || <span class="muted">{c.id.slice(0, 8)}</span>}
                      {c.id === head ? <span class="tag">head</span> : null}
                    </td>
                    <td class="num">{num(c.step)}</td>
                    <td>{c.parent ? (checkpoints.find((p) => p.id === c.parent!.id)?.tag ?? c.parent.id.slice(0, 8)) : "–"}</td>
                    <td>{when(c.createdAt)}</td>
                    <td class="num">{bytes(c.sizeBytes)}</td>
                    <td data-testid={`checkpoint-git-${c.id}`}>
                      <GitCell checkpoint={c} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

/** A checkpoint's place in its model's git graph: its tag (pushed or not), or why it has none. */
export function GitCell({ checkpoint }: { checkpoint: Checkpoint }) {
  if (checkpoint.gitTag) {
    return (
      <span title={checkpoint.gitCommit ?? undefined}>
        <code>{checkpoint.gitTag}</code>
        {checkpoint.gitPushed ? <span class="tag">pushed</span> : null}
      </span>
    );
  }
  if (checkpoint.gitError) {
    return (
      <span class="error small" title={checkpoint.gitError}>
        not tagged
      </span>
    );
  }
  return <span class="muted">–</span>;
}
