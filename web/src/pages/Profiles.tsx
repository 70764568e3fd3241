// Profile search: `kind:prefix` (email:ana), a bare email or user id, or `trait=value`.
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { profiles } from '../api/herald';
import type { ProfilesPage } from '../api/types';
import { Async, Empty } from '../components/States';
import { parseProfileSearch, withFilters } from '../lib/filters';
import { displayName, formatAgo, splitIdentifier } from '../lib/format';
import { useAsync } from '../lib/useAsync';

export default function Profiles() {
  const [search, setSearch] = useSearchParams();
  const q = search.get('q') ?? '';
  const [text, setText] = useState(q);
  const [more, setMore] = useState<ProfilesPage['profiles']>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, retry] = useAsync(async () => {
    const parsed = parseProfileSearch(q);
    const page = await profiles.search(parsed ?? {});
    setMore([]);
    setCursor(page.next_cursor ?? null);
    return page;
  }, [q]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSearch(withFilters(search, { q: text }));
  };
  const loadMore = async () => {
    if (!cursor) return;
    const page = await profiles.search({ ...(parseProfileSearch(q) ?? {}), cursor });
    setMore((m) => [...m, ...page.profiles]);
    setCursor(page.next_cursor ?? null);
  };
  const now = Date.now();
  return (
    <section>
      <h1>Profiles</h1>
      <form className="filters" onSubmit={submit} role="search">
        <label className="grow">
          Search
          <input
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="email:ana@  ·  user_id:42  ·  plan=trial"
            aria-describedby="search-help"
          />
        </label>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <p id="search-help" className="help">
        An identifier prefix (<code>email:ana</code>, <code>phone:+33</code>, or just an email), or a trait test (<code>plan=trial</code>).
      </p>
      <Async state={state} what="profiles" retry={retry}>
        {(page) => {
          const list = [...page.profiles, ...more];
          if (list.length === 0) return <Empty>No profile matches {q ? <code>{q}</code> : 'yet: send events to create some'}.</Empty>;
          return (
            <>
              <table className="table">
                <thead>
                  <tr>
                    <th>Profile</th>
                    <th>Identifiers</th>
                    <th>Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((p) => (
                    <tr key={p.profile_id}>
                      <td>
                        <Link to={`/profiles/${encodeURIComponent(`profile_id:${p.profile_id}`)}`}>{displayName(p.identifiers.map(splitIdentifier), p.profile_id)}</Link>
                      </td>
                      <td className="ids">{p.identifiers.join(' · ')}</td>
                      <td>{formatAgo(p.last_seen, now)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {cursor && (
                <button type="button" onClick={() => void loadMore()}>
                  Load more
                </button>
              )}
            </>
          );
        }}
      </Async>
    </section>
  );
}
