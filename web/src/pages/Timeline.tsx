// A profile's events, newest first, loaded page by page as the list scrolls into view;
// filters (event name, since, until) in the URL.
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { profiles } from '../api/herald';
import type { HeraldEvent } from '../api/types';
import { Empty, ErrorBox, Loading } from '../components/States';
import { readFilters, withFilters } from '../lib/filters';
import { formatTime } from '../lib/format';

const KEYS = ['event', 'since', 'until'] as const;

export function Timeline({ id }: { id: string }) {
  const [search, setSearch] = useSearchParams();
  const filters = readFilters(search, KEYS);
  const [events, setEvents] = useState<HeraldEvent[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const sentinel = useRef<HTMLDivElement>(null);
  const filterKey = `${id}|${filters.event}|${filters.since}|${filters.until}`;

  const load = useCallback(
    async (after: string | undefined, reset: boolean) => {
      setBusy(true);
      try {
        const page = await profiles.timeline(id, {
          event: filters.event || undefined,
          since: filters.since ? new Date(filters.since).toISOString() : undefined,
          until: filters.until ? new Date(filters.until).toISOString() : undefined,
          cursor: after,
        });
        setEvents((list) => (reset ? page.events : [...list, ...page.events]));
        setCursor(page.next_cursor ?? null);
        setError(null);
      } catch (e) {
        setError(e as Error);
      } finally {
        setBusy(false);
      }
    },
    [filterKey],
  );

  useEffect(() => {
    setEvents([]);
    setCursor(undefined);
    void load(undefined, true);
  }, [load]);

  useEffect(() => {
    const el = sentinel.current;
    if (!el || !cursor || busy) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void load(cursor, false);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [cursor, busy, load]);

  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setSearch(withFilters(search, Object.fromEntries(KEYS.map((k) => [k, String(form.get(k) ?? '')]))));
  };

  return (
    <>
      <form className="filters" onSubmit={apply} key={search.toString()}>
        <label>
          Event
          <input name="event" defaultValue={filters.event} placeholder="Order Completed, page, identify…" />
        </label>
        <label>
          Since
          <input name="since" type="date" defaultValue={filters.since} />
        </label>
        <label>
          Until
          <input name="until" type="date" defaultValue={filters.until} />
        </label>
        <button type="submit">Filter</button>
      </form>
      {error && <ErrorBox error={error} retry={() => void load(undefined, true)} />}
      {cursor === undefined && !error && <Loading what="the timeline" />}
      {cursor !== undefined && events.length === 0 && !error && <Empty>No events{filters.event ? ` named ${filters.event}` : ''}.</Empty>}
      <ol className="events" aria-label="Timeline, newest first">
        {events.map((e) => (
          <li className="event" key={`${e.seq}-${String(e.messageId)}`}>
            <details>
              <summary>
                <span className="etype">{e.type}</span>
                <span className="ename">{e.event ?? (typeof e.name === 'string' ? e.name : '')}</span>
                <time>{formatTime(typeof e.timestamp === 'string' ? e.timestamp : null)}</time>
              </summary>
              <pre>{JSON.stringify(e, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
      {cursor && <div ref={sentinel}>{busy ? <Loading what="more events" /> : <button type="button" onClick={() => void load(cursor, false)}>Load more</button>}</div>}
    </>
  );
}
