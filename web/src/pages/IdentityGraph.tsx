// The identity graph drawn (cytoscape): identifiers as nodes, the links events made between
// them as edges (merges highlighted, refused links dashed red), with merge undo.
import { useEffect, useRef } from 'react';
import cytoscape from 'cytoscape';
import { profiles } from '../api/herald';
import type { IdentityGraph as Graph } from '../api/types';
import { ConfirmButton } from '../components/Confirm';
import { Async, Empty } from '../components/States';
import { formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';

/** Nodes and edges of a graph: identifiers, links (with the merges among them), refusals. */
export function graphElements(g: Graph): cytoscape.ElementDefinition[] {
  const nodes = new Map<string, cytoscape.ElementDefinition>();
  const node = (id: string, cls: string) => {
    if (!nodes.has(id)) nodes.set(id, { data: { id, label: id }, classes: cls });
  };
  const edges: cytoscape.ElementDefinition[] = [];
  for (const i of g.identities) node(`${i.kind}:${i.value}`, 'identifier');
  for (const i of g.identities) {
    if (i.linked_via) {
      node(i.linked_via, 'identifier');
      edges.push({ data: { id: `link-${i.id}`, source: i.linked_via, target: `${i.kind}:${i.value}`, label: `seq ${i.seq}` }, classes: 'link' });
    }
  }
  for (const m of g.merges) {
    const [a, b] = m.link;
    node(a, 'identifier');
    node(b, 'identifier');
    edges.push({ data: { id: `merge-${m.merge_id}`, source: a, target: b, label: m.undone ? 'merge (undone)' : 'merge' }, classes: m.undone ? 'merge undone' : 'merge' });
  }
  g.refused_links.forEach((r, n) => {
    const id = `refused:${r.identifier}`;
    nodes.set(id, { data: { id, label: r.identifier }, classes: 'refused' });
    const anchor = g.identities[0];
    if (anchor) edges.push({ data: { id: `refusal-${n}`, source: `${anchor.kind}:${anchor.value}`, target: id, label: r.reason }, classes: 'refusal' });
  });
  return [...nodes.values(), ...edges];
}

const style: cytoscape.StylesheetStyle[] = [
  { selector: 'node', style: { label: 'data(label)', 'font-size': 11, color: '#888', 'background-color': '#4f6df5', width: 14, height: 14 } },
  { selector: 'node.refused', style: { 'background-color': '#e5484d', shape: 'diamond' } },
  { selector: 'edge', style: { width: 1.5, 'line-color': '#999', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 9, color: '#888' } },
  { selector: 'edge.merge', style: { width: 3, 'line-color': '#f5a524' } },
  { selector: 'edge.undone', style: { 'line-style': 'dotted' } },
  { selector: 'edge.refusal', style: { 'line-color': '#e5484d', 'line-style': 'dashed' } },
];

export default function IdentityGraph({ id, canWrite, onChange }: { id: string; canWrite: boolean; onChange: () => void }) {
  const [state, retry] = useAsync(() => profiles.identity(id), [id]);
  return (
    <Async state={state} what="the identity graph" retry={retry}>
      {(g) => (
        <>
          <Drawing graph={g} />
          <p className="help">
            <span className="legend merge" /> merge <span className="legend refused" /> refused link · {g.identities.length} identifiers, {g.merges.length} merges,{' '}
            {g.refused_links.length} refused links
          </p>
          {g.merges.length === 0 ? (
            <Empty>No merges.</Empty>
          ) : (
            <ul className="merges">
              {g.merges.map((m) => (
                <li key={m.merge_id}>
                  {formatTime(m.merged_at)} · {m.link.join(' ↔ ')} ({m.event_type}) {m.undone && <span className="badge">undone</span>}
                  {!m.undone && (
                    <ConfirmButton
                      label="Undo merge…"
                      title="Undo this merge?"
                      confirmLabel="Undo merge"
                      disabled={!canWrite}
                      onConfirm={async () => {
                        await profiles.undoMerge(m.merge_id);
                        retry();
                        onChange();
                      }}
                    >
                      The two profiles are split again and rebuilt from their events: {m.loser_identifiers.join(', ')} leave {m.winner_identifiers.join(', ')}.
                    </ConfirmButton>
                  )}
                </li>
              ))}
            </ul>
          )}
          {g.refused_links.length > 0 && (
            <ul className="refusals">
              {g.refused_links.map((r) => (
                <li key={`${r.seq}-${r.identifier}`}>
                  Refused {r.identifier}: {r.reason} (seq {r.seq})
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Async>
  );
}

function Drawing({ graph }: { graph: Graph }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    const cy = cytoscape({ container: host.current, elements: graphElements(graph), style, layout: { name: 'cose', animate: false }, wheelSensitivity: 0.3 });
    return () => cy.destroy();
  }, [graph]);
  return <div className="graph" ref={host} role="img" aria-label="Identity graph" />;
}
