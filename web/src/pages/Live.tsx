// The live event stream (/api/v1/tail): pausable, filtered by type / event name (server side)
// and identifier (here), filters in the URL; each event's JSON on demand.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { tail } from '../api/herald';
import type { HeraldEvent } from '../api/types';
import { Empty } from '../components/States';
import { eventMatchesIdentifier, readFilters, withFilters } from '../lib/filters';
import { formatTime } from '../lib/format';

const KEEP = 200;
const KEYS = ['type', 'event', 'id'] as const;

export default function Live() {
  const [search, setSearch] = useSearchParams();
  const filters = readFilters(search, KEYS);
  const [events, setEvents] = useState<HeraldEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const [state, setState] = useState<'connecting' | 'live' | 'error'>('connecting');
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  useEffect(() => {
    setEvents([]);
    setState('connecting');
    return tail(
      { type: filters.type, event: filters.event },
      {
        ready: () => setState('live'),
        error: () => setState('error'),
        event: (e) => {
          if (!pausedRef.current) setEvents((list) => [e, ...list].slice(0, KEEP));
        },
      },
    );
  }, [filters.type, filters.event]);

  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setSearch(withFilters(search, Object.fromEntries(KEYS.map((k) => [k, String(form.get(k) ?? '')]))));
  };
  const shown = events.filter((e) => eventMatchesIdentifier(e, filters.id));

  return (
    <section>
      <h1>Live events</h1>
      <form className="filters" onSubmit={apply} key={search.toString()}>
        <label>
          Type
          <select name="type" defaultValue={filters.type}>
            <option value="">any</option>
            {['track', 'identify', 'page', 'screen', 'group', 'alias'].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Event name
          <input name="event" defaultValue={filters.event} placeholder="Order Completed" />
        </label>
        <label>
          Identifier
          <input name="id" defaultValue={filters.id} placeholder="user id, email, anonymous id" />
        </label>
        <button type="submit">Apply</button>
        <button type="button" onClick={() => setPaused((p) => !p)} aria-pressed={paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span className={`badge ${state}`} role="status">
          {paused ? 'paused' : state === 'live' ? 'live' : state === 'error' ? 'reconnecting…' : 'connecting…'}
        </span>
      </form>
      {shown.length === 0 ? (
        <Empty>{state === 'live' ? 'Waiting for events… send one with a Segment SDK and it appears here.' : 'Connecting to the stream…'}</Empty>
      ) : (
        <ol className="events" aria-label="Events, newest first">
          {shown.map((e) => (
            <EventRow key={String(e.seq ?? e.messageId)} e={e} />
          ))}
        </ol>
      )}
    </section>
  );
}

function EventRow({ e }: { e: HeraldEvent }) {
  const who = typeof e.userId === 'string' ? `user_id:${e.userId}` : typeof e.anonymousId === 'string' ? `anonymous_id:${e.anonymousId}` : null;
  return (
    <li className="event">
      <details>
        <summary>
          <span className="etype">{e.type}</span>
          <span className="ename">{e.event ?? (typeof e.name === 'string' ? e.name : '')}</span>
          {who && (
            <Link to={`/profiles/${encodeURIComponent(who)}`} onClick={(ev) => ev.stopPropagation()}>
              {who}
            </Link>
          )}
          <time>{formatTime(typeof e.timestamp === 'string' ? e.timestamp : null)}</time>
        </summary>
        <pre>{JSON.stringify(e, null, 2)}</pre>
      </details>
    </li>
  );
}
