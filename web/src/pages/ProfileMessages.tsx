// A person's messages, newest first: status, why, the template version and the channel.
import { useState } from 'react';
import { Link } from 'react-router';
import { messages, type MessageRow } from '../api/messages';
import { Async, Empty } from '../components/States';
import { formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';

export function ProfileMessages({ id }: { id: string }) {
  const [more, setMore] = useState<MessageRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [state, retry] = useAsync(async () => {
    const page = await messages.ofProfile(id);
    setMore([]);
    setNext(page.next);
    return page.messages;
  }, [id]);
  const loadMore = async () => {
    if (!next) return;
    const page = await messages.ofProfile(id, next);
    setMore((m) => [...m, ...page.messages]);
    setNext(page.next);
  };
  return (
    <Async state={state} what="messages" retry={retry}>
      {(first) => {
        const rows = [...first, ...more];
        if (rows.length === 0) return <Empty>No message sent to this person.</Empty>;
        return (
          <>
            <table className="table" aria-label="Messages">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Template</th>
                  <th>Channel</th>
                  <th>Status</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((m) => (
                  <tr key={m.id} data-testid="message-row">
                    <td>
                      <Link to={`/messages/${m.id}`}>{formatTime(m.createdAt)}</Link>
                    </td>
                    <td>
                      <Link to={`/templates/${encodeURIComponent(m.templateId)}`}>{m.templateId}</Link> v{m.templateVersion}
                    </td>
                    <td>
                      {m.channel}
                      {m.transactional ? ' · transactional' : ` · ${m.category}`}
                    </td>
                    <td>
                      <span className={m.status === 'sent' ? 'badge live' : 'badge'}>{m.status}</span>
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
  );
}
