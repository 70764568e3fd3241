// One message: what the governor decided and why, where it went, the content as rendered for
// its person from the template version it recorded, and its delivery events.
import { Fragment, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { messages, type DeliveryEventRow, type MessageRow } from '../api/messages';
import { templates, type Channel } from '../api/templates';
import { Async, Empty } from '../components/States';
import { formatTime } from '../lib/format';
import { offlinePreview } from '../lib/offlinePreview';
import { useAsync } from '../lib/useAsync';

export default function MessagePage() {
  const { id = '' } = useParams();
  const [state, retry] = useAsync(() => messages.get(id), [id]);
  return (
    <section>
      <h1>Message</h1>
      <Async state={state} what="the message" retry={retry}>
        {(found) =>
          found ? (
            <>
              <Facts m={found.message} />
              <h2>Delivery events</h2>
              <Events events={found.events} />
              <h2>Content</h2>
              <Content m={found.message} />
            </>
          ) : (
            <Empty>No message has this id.</Empty>
          )
        }
      </Async>
    </section>
  );
}

function Facts({ m }: { m: MessageRow }) {
  const rows: [string, ReactNode][] = [
    ['Status', <span className="badge" data-testid="message-status">{m.status}</span>],
    ['Why', m.reason ?? '—'],
    ['To', m.address ?? '—'],
    ['Person', <Link to={`/profiles/${encodeURIComponent(`profile_id:${m.profileId}`)}`}>{m.profileId}</Link>],
    ['Template', <Link to={`/templates/${encodeURIComponent(m.templateId)}`}>{`${m.templateId} v${m.templateVersion}`}</Link>],
    ['Channel', `${m.channel}${m.transactional ? ' · transactional' : ` · ${m.category}`}${m.topic ? ` · topic ${m.topic}` : ''}`],
    ['Priority', m.priority ?? '—'],
    ['Source', m.source?.startsWith('broadcast:') ? <Link to={`/broadcasts/${m.source.slice(10)}`}>{m.source}</Link> : m.source],
    ['Queued', formatTime(m.createdAt)],
    ['Decided', m.decidedAt ? formatTime(m.decidedAt) : '—'],
    ['Provider', m.provider ? `${m.provider}${m.providerMessageId ? ` (${m.providerMessageId})` : ''}` : '—'],
    ['Attempts', String(m.attempts ?? 0)],
    ['Error', m.error ?? '—'],
  ];
  return (
    <dl className="facts" aria-label="Message">
      {rows.map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

function Events({ events }: { events: DeliveryEventRow[] }) {
  if (events.length === 0) return <Empty>No delivery event yet.</Empty>;
  return (
    <table className="table" aria-label="Delivery events">
      <thead>
        <tr>
          <th>When</th>
          <th>Event</th>
          <th>Details</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => {
          const p = e.properties ?? {};
          const detail = [p.link_url, p.bounce_type, p.bounce_reason].filter((x) => typeof x === 'string').join(' · ');
          return (
            <tr key={e.seq} data-testid="delivery-event">
              <td>{formatTime(e.timestamp ?? null)}</td>
              <td>{e.event}</td>
              <td>{detail}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Content({ m }: { m: MessageRow }) {
  const [state, retry] = useAsync(
    () => templates.preview(m.templateId, { channel: m.channel as Channel, version: m.templateVersion, profile: `profile_id:${m.profileId}` }),
    [m.id],
  );
  return (
    <Async state={state} what="the content" retry={retry}>
      {(p) => (
        <div className="message-content">
          {Object.entries(p.parts)
            .filter(([part]) => part !== 'body' || p.format === 'text')
            .map(([part, text]) => (
              <p key={part}>
                <strong>{part}</strong>: {text}
              </p>
            ))}
          {p.format !== 'text' && p.parts.body !== undefined && (
            <iframe title="Body" className="email-preview" sandbox="" srcDoc={offlinePreview(p.parts.body)} data-testid="message-body-frame" />
          )}
        </div>
      )}
    </Async>
  );
}
