// Page filters live in the URL's query string, so a filtered view can be shared.

export type Filters<K extends string> = Record<K, string>;

/** Read the named filters (missing ones are ""). */
export function readFilters<K extends string>(search: URLSearchParams, keys: readonly K[]): Filters<K> {
  const out = {} as Filters<K>;
  for (const k of keys) out[k] = search.get(k)?.trim() ?? '';
  return out;
}

/** The query string with `changes` applied: empty values are dropped, others kept as they were. */
export function withFilters(search: URLSearchParams, changes: Record<string, string>): URLSearchParams {
  const next = new URLSearchParams(search);
  for (const [k, v] of Object.entries(changes)) {
    if (v.trim() === '') next.delete(k);
    else next.set(k, v.trim());
  }
  next.sort();
  return next;
}

/** A profile search box's text as the API's query: `kind:prefix` or `trait=value`. */
export function parseProfileSearch(text: string):
  | { identifier: string }
  | { trait: string; value: string }
  | null {
  const t = text.trim();
  if (!t) return null;
  const eq = t.indexOf('=');
  if (eq > 0) return { trait: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim() };
  if (t.includes('@') && !t.includes(':')) return { identifier: `email:${t}` };
  if (t.includes(':')) return { identifier: t };
  return { identifier: `user_id:${t}` };
}

/** Does an event match the live view's identifier filter (any of its ids contains it)? */
export function eventMatchesIdentifier(e: Record<string, unknown>, needle: string): boolean {
  if (!needle) return true;
  const n = needle.toLowerCase();
  const traits = (e.traits ?? (e.context as Record<string, unknown> | undefined)?.traits) as
    | Record<string, unknown>
    | undefined;
  const ids = [e.userId, e.anonymousId, e.previousId, e.groupId, traits?.email, traits?.phone];
  return ids.some((v) => typeof v === 'string' && v.toLowerCase().includes(n));
}
