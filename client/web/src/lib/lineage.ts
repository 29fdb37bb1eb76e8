/** Checkpoint lineage laid out as a graph: time runs left to right, each branch gets a lane. */

export interface LineageInput {
  id: string;
  tag: string;
  step: number;
  createdAt: string;
  parent: { id: string } | null;
}

export interface LineageNode {
  id: string;
  tag: string;
  step: number;
  column: number;
  lane: number;
  /** A parent from elsewhere (another instance): drawn as a stub. */
  external: boolean;
}

export interface LineageEdge {
  from: string;
  to: string;
}

export function layoutLineage(checkpoints: LineageInput[]): { nodes: LineageNode[]; edges: LineageEdge[]; lanes: number } {
  const sorted = [...checkpoints].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.step - b.step);
  const known = new Set(sorted.map((c) => c.id));
  const nodes = new Map<string, LineageNode>();
  const laneTaken = new Set<string>(); // parents whose lane a child has continued
  const edges: LineageEdge[] = [];
  let lanes = 0;
  const externals = sorted.filter((c) => c.parent && !known.has(c.parent.id)).map((c) => c.parent!.id);
  const offset = externals.length ? 1 : 0;
  sorted.forEach((c, i) => {
    let lane: number;
    const parentId = c.parent?.id ?? null;
    if (parentId && !known.has(parentId) && !nodes.has(parentId)) {
      lane = lanes++;
      nodes.set(parentId, { id: parentId, tag: parentId.slice(0, 6), step: 0, column: 0, lane, external: true });
      laneTaken.add(parentId);
    } else if (parentId && nodes.has(parentId) && !laneTaken.has(parentId)) {
      lane = nodes.get(parentId)!.lane;
      laneTaken.add(parentId);
    } else {
      lane = lanes++;
    }
    nodes.set(c.id, { id: c.id, tag: c.tag, step: c.step, column: i + offset, lane, external: false });
    if (parentId) edges.push({ from: parentId, to: c.id });
  });
  return { nodes: [...nodes.values()], edges, lanes: Math.max(lanes, 1) };
}
