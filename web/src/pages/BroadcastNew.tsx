// A new broadcast: a template to an audience, now, at an instant or at each person's local
// time, with a holdout.
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { broadcasts } from '../api/broadcasts';
import { audiences } from '../api/herald';
import { templates } from '../api/templates';
import { Async } from '../components/States';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

type When = 'now' | 'at' | 'local';

export default function BroadcastNew() {
  const canWrite = useCanWrite();
  const navigate = useNavigate();
  const [choices, retry] = useAsync(async () => {
    const [t, a] = await Promise.all([templates.list(), audiences.list()]);
    return { templates: t.filter((x) => x.channel !== 'snippet'), audiences: a };
  }, []);
  const [name, setName] = useState('');
  const [template, setTemplate] = useState('');
  const [audience, setAudience] = useState('');
  const [topic, setTopic] = useState('');
  const [holdout, setHoldout] = useState('0');
  const [when, setWhen] = useState<When>('now');
  const [time, setTime] = useState('');
  const [zone, setZone] = useState('UTC');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const create = async () => {
    setSaving(true);
    setError(null);
    try {
      const created = await broadcasts.create({
        name,
        template,
        audience,
        topic: topic || undefined,
        holdoutPercent: Number(holdout) || 0,
        sendAt: when === 'at' && time ? new Date(time).toISOString() : undefined,
        localTime: when === 'local' ? time : undefined,
        timeZone: when === 'local' ? zone : undefined,
      });
      navigate(`/broadcasts/${created.id}`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSaving(false);
    }
  };

  return (
    <section>
      <h1>New broadcast</h1>
      <Async state={choices} what="the templates and audiences" retry={retry}>
        {({ templates: ts, audiences: as }) => (
          <form
            className="card stack"
            onSubmit={(e) => {
              e.preventDefault();
              void create();
            }}
          >
            <label>
              Name
              <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} placeholder="December news" />
            </label>
            <div className="filters">
              <label className="grow">
                Template
                <select value={template} onChange={(e) => setTemplate(e.target.value)} required>
                  <option value="">Choose…</option>
                  {ts.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name} ({t.channel}, v{t.version})
                    </option>
                  ))}
                </select>
              </label>
              <label className="grow">
                Audience
                <select value={audience} onChange={(e) => setAudience(e.target.value)} required>
                  <option value="">Choose…</option>
                  {as.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.name || a.id}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <div className="filters">
              <label>
                Topic (optional)
                <input value={topic} onChange={(e) => setTopic(e.target.value)} placeholder="newsletter" />
              </label>
              <label>
                Holdout %
                <input type="number" min={0} max={100} step="any" value={holdout} onChange={(e) => setHoldout(e.target.value)} />
              </label>
            </div>
            <fieldset className="filters">
              <legend>When</legend>
              {(
                [
                  ['now', 'Now'],
                  ['at', 'At a time'],
                  ['local', "At each person's local time"],
                ] as const
              ).map(([value, label]) => (
                <label key={value} className="inline">
                  <input type="radio" name="when" value={value} checked={when === value} onChange={() => setWhen(value)} /> {label}
                </label>
              ))}
              {when !== 'now' && (
                <label>
                  {when === 'at' ? 'Time (yours)' : 'Local time'}
                  <input type="datetime-local" value={time} onChange={(e) => setTime(e.target.value)} required />
                </label>
              )}
              {when === 'local' && (
                <label>
                  Time zone when unknown
                  <input value={zone} onChange={(e) => setZone(e.target.value)} />
                </label>
              )}
            </fieldset>
            {error && (
              <p className="state error" role="alert">
                {error}
              </p>
            )}
            <div className="actions">
              <Link className="button" to="/broadcasts">
                Back
              </Link>
              <button type="submit" className="primary" disabled={!canWrite || saving}>
                {saving ? 'Starting…' : 'Create broadcast'}
              </button>
            </div>
          </form>
        )}
      </Async>
    </section>
  );
}
