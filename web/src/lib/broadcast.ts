// What the broadcast page decides from a broadcast's state.

/** The little of a broadcast that says whether it still moves. */
export interface Motion {
  status: string;
  progress?: { statuses: { name: string; count: number }[] } | null;
}

/** Whether a broadcast's page should keep watching it: it enqueues, or messages wait or are in flight. */
export function inMotion(b: Motion): boolean {
  if (b.status === 'scheduled' || b.status === 'running') return true;
  if (b.status !== 'finished') return false;
  const waiting = new Set(['queued', 'deferred', 'sending']);
  return (b.progress?.statuses ?? []).some((s) => waiting.has(s.name) && s.count > 0);
}
