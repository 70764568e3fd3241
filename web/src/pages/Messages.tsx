// The message log: every message, newest first, filtered by status, channel, source and
// template (the filters are in the URL, so a filtered log can be shared).
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { messages, type LogFilter, type MessageRow } from '../api/messages';
import { Async, Empty } from '../components/States';
import { formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';

const STATUSES = ['queued', 'deferred', 'paused', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'failed', 'skipped'];
const CHANNELS = ['email', 'sms', 'push', 'webhook', 'in_app'];
const FIELDS = ['status', 'channel', 'source', 'template'] as const;

export default function Messages() {
  const [params, setParams] = useSearchParams();
  const filter: LogFilter = {};
  for (const f of FIELDS) {
    const v = params.get(f);
    if (v) filter[f] = v;
  }
  const key = FIELDS.map((f) => filter[f] ?? '').join('|');
  const [more, setMore] = useState<MessageRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [state, retry] = useAsync(async () => {
    const page = await messages.list(filter);
    setMore([]);
    setNext(page.next);
    return page.messages;
  }, [key]);
  const set = (field: (typeof FIELDS)[number], value: string) => {
    const nextParams = new URLSearchParams(params);
    if (value) nextParams.set(field, value);
    else nextParams.delete(field);
    setParams(nextParams);
  };
  const loadMore = async () => {
    if (!next) return;
    const page = await messages.list(filter, next);
    setMore((m) => [...m, ...page.messages]);
    setNext(page.next);
  };
  return (
    <section>
      <h1>Messages</h1>
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={filter.status ?? ''} onChange={(e) => set('status', e.target.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Channel
          <select value={filter.channel ?? ''} onChange={(e) => set('channel', e.target.value)}>
            <option value="">any</option>
            {CHANNELS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          Source
          <input
            defaultValue={filter.source ?? ''}
            placeholder="api or broadcast:<id>"
            onBlur={(e) => set('source', e.target.value.trim())}
          />
        </label>
        <label>
          Template
          <input defaultValue={filter.template ?? ''} placeholder="template id" onBlur={(e) => set('template', e.target.value.trim())} />
        </label>
      </form>
      <Async state={state} what="the messages" retry={retry}>
        {(first) => {
          const rows = [...first, ...more];
          if (rows.length === 0) return <Empty>No message matches.</Empty>;
          return (
            <>
              <table className="table" aria-label="Messages">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>To</th>
                    <th>Template</th>
                    <th>Channel</th>
                    <th>Source</th>
                    <th>Status</th>
                    <th>Why</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((m) => (
                    <tr key={m.id} data-testid="log-row">
                      <td>
                        <Link to={`/messages/${m.id}`}>{formatTime(m.createdAt)}</Link>
                      </td>
                      <td>
                        <Link to={`/profiles/${encodeURIComponent(`profile_id:${m.profileId}`)}`}>{m.address ?? 'the profile'}</Link>
                      </td>
                      <td>
                        {m.templateId} <span className="help">v{m.templateVersion}</span>
                      </td>
                      <td>{m.channel}</td>
                      <td>{m.source}</td>
                      <td>
                        <span className="badge">{m.status}</span>
                      </td>
                      <td title={m.error ?? undefined}>{m.reason ?? (m.provider ? `via ${m.provider}` : '')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {next && (
                <button type="button" onClick={() => void loadMore()}>
                  More messages
                </button>
              )}
            </>
          );
        }}
      </Async>
    </section>
  );
}
