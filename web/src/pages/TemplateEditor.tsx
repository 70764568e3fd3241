// Write or edit a template: its parts per channel (Liquid; an email body in HTML or MJML), a
// live preview for a chosen profile and event while editing, errors marked where the server
// finds them, save (a new version each time), and earlier versions to load back.
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { ApiError } from '../api/client';
import { CHANNELS, PARTS, templates, type Channel, type Part, type Template, type TemplateContent, type TemplatePreview } from '../api/templates';
import type { Json } from '../api/types';
import { CodeEditor } from '../components/CodeEditor';
import { ConfirmButton } from '../components/Confirm';
import { ErrorBox, Loading } from '../components/States';
import { withFilters } from '../lib/filters';
import { formatTime } from '../lib/format';
import { offlinePreview } from '../lib/offlinePreview';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

const PREVIEW_DELAY_MS = 400;
const LABELS: Record<Part, string> = { subject: 'Subject', preheader: 'Preheader', title: 'Title', body: 'Body', text: 'Plain text' };
const STARTER: TemplateContent = { subject: 'Hello {{ traits.first_name | default: "there" }}', body: '<p>Hi {{ traits.first_name }}!</p>' };

/** A template error as the API reports it. */
interface PartError {
  message: string;
  part?: string;
  line?: number | null;
  column?: number | null;
}

const partError = (e: unknown): PartError => {
  const location = e instanceof ApiError ? (e.location as { part?: string; line?: number; column?: number } | undefined) : undefined;
  return { message: (e as Error).message, part: location?.part, line: location?.line, column: location?.column };
};

export default function TemplateEditor() {
  const id = useParams().id;
  const [existing, retry] = useAsync(() => (id ? templates.get(id) : Promise.resolve(null)), [id]);
  if (existing.status === 'loading') return <Loading what="the template" />;
  if (existing.status === 'error') return <ErrorBox error={existing.error} retry={retry} />;
  if (id && !existing.data) return <p className="state empty">No template has the id {id}.</p>;
  return <Editor key={id ?? 'new'} initial={existing.data} />;
}

function Editor({ initial }: { initial: Template | null }) {
  const navigate = useNavigate();
  const canWrite = useCanWrite();
  const [saved, setSaved] = useState<Template | null>(initial);
  const [id, setId] = useState(initial?.id ?? '');
  const [name, setName] = useState(initial?.name ?? '');
  const [channel, setChannel] = useState<Channel>(initial?.channel ?? 'email');
  const [content, setContent] = useState<TemplateContent>(initial?.content ?? STARTER);
  // The preview's profile is in the URL, so a preview can be shared and survives the first save.
  const [search, setSearch] = useSearchParams();
  const profile = search.get('profile') ?? '';
  const setProfile = (v: string) => setSearch(withFilters(search, { profile: v }), { replace: true });
  const [eventText, setEventText] = useState('{}');
  const [preview, setPreview] = useState<TemplatePreview | null>(null);
  const [error, setError] = useState<PartError | null>(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<PartError | null>(null);
  const spec = PARTS[channel];

  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      let event: Json | undefined;
      try {
        event = JSON.parse(eventText || '{}') as Json;
      } catch {
        setError({ message: 'The event is not JSON.' });
        return;
      }
      const ask = saved
        ? templates.preview(saved.id, { profile, event, content, channel })
        : templates.previewDraft(channel, content, { profile, event });
      ask.then(
        (p) => {
          if (!live) return;
          setPreview(p);
          setError(null);
        },
        (e) => live && setError(partError(e)),
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [channel, JSON.stringify(content), profile, eventText, saved?.id]);

  const set = (part: Part, value: string) => setContent((c) => ({ ...c, [part]: value }));
  const save = async () => {
    setSaving(true);
    setSaveError(null);
    try {
      const t = saved ? await templates.update(saved.id, name, channel, content, saved.version) : await templates.create(id, name, channel, content);
      setSaved(t);
      navigate(`/templates/${encodeURIComponent(t.id)}?${search.toString()}`, { replace: true });
    } catch (e) {
      setSaveError(partError(e));
    } finally {
      setSaving(false);
    }
  };
  const errorOf = (part: string) => (error?.part === part ? error : saveError?.part === part ? saveError : null);

  return (
    <section>
      <div className="title-row">
        <h1>{saved ? saved.name : 'New template'}</h1>
        {saved && (
          <span className="help" data-testid="template-version">
            {saved.channel} · version {saved.version}
          </span>
        )}
      </div>
      <div className="filters">
        <label>
          Id
          <input value={id} onChange={(e) => setId(e.target.value)} disabled={!!saved} placeholder="welcome_email" />
        </label>
        <label className="grow">
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder={id || 'Welcome email'} />
        </label>
        <label>
          Channel
          <select value={channel} disabled={!!saved} onChange={(e) => setChannel(e.target.value as Channel)}>
            {CHANNELS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        {spec.formats.length > 1 && (
          <label>
            Format
            <select value={content.format ?? spec.formats[0]} onChange={(e) => setContent((c) => ({ ...c, format: e.target.value as TemplateContent['format'] }))}>
              {spec.formats.map((f) => (
                <option key={f}>{f}</option>
              ))}
            </select>
          </label>
        )}
        <label className="inline">
          <input type="checkbox" checked={content.strict ?? false} onChange={(e) => setContent((c) => ({ ...c, strict: e.target.checked }))} /> Strict
          variables
        </label>
      </div>
      <div className="grid2 editor-grid">
        <div>
          {spec.parts
            .filter((p) => p !== 'body')
            .map((part) => (
              <label key={part} className="part">
                {LABELS[part]}
                {spec.required.includes(part) ? '' : ' (optional)'}
                <input value={content[part] ?? ''} onChange={(e) => set(part, e.target.value)} aria-invalid={!!errorOf(part)} />
                {errorOf(part) && <span className="field-error">{describe(errorOf(part)!)}</span>}
              </label>
            ))}
          <div className="part">
            <span>Body</span>
            <CodeEditor label="Body" testId="template-body" value={content.body} onChange={(v) => set('body', v)} error={errorOf('body')} readOnly={!canWrite} />
          </div>
          {(error || saveError) && (
            <p className="state error" role="alert" data-testid="template-error">
              {describe((saveError ?? error)!)}
            </p>
          )}
          <div className="actions">
            <Link className="button" to="/templates">
              Back
            </Link>
            <button type="button" className="primary" disabled={!canWrite || saving || (!saved && !id)} onClick={() => void save()}>
              {saving ? 'Saving…' : saved ? 'Save new version' : 'Save template'}
            </button>
            {saved && canWrite && (
              <ConfirmButton
                label="Delete…"
                title={`Delete ${saved.name}?`}
                confirmLabel="Delete template"
                danger
                onConfirm={async () => {
                  await templates.remove(saved.id);
                  navigate('/templates');
                }}
              >
                It will no longer be listed or sent; its versions stay readable for the messages sent from them.
              </ConfirmButton>
            )}
          </div>
        </div>
        <div>
          <div className="card">
            <h2>Preview</h2>
            <div className="filters">
              <label className="grow">
                For profile
                <input value={profile} onChange={(e) => setProfile(e.target.value)} placeholder="email:ana@example.com" />
              </label>
            </div>
            <label className="part">
              Event (JSON)
              <textarea rows={3} value={eventText} onChange={(e) => setEventText(e.target.value)} />
            </label>
            {preview ? <PreviewParts preview={preview} /> : <p className="state loading">Rendering…</p>}
          </div>
          {saved && canWrite && saved.channel !== 'in_app' && saved.channel !== 'snippet' && (
            <TestSend id={saved.id} version={saved.version} channel={saved.channel} profile={profile} eventText={eventText} />
          )}
          {saved && <Versions id={saved.id} current={saved.version} onLoad={(t) => setContent(t.content)} />}
        </div>
      </div>
    </section>
  );
}

function describe(e: PartError): string {
  const where = e.part ? `${e.part}${e.line ? `, line ${e.line}${e.column ? `, column ${e.column}` : ''}` : ''}: ` : '';
  return `${where}${e.message}`;
}

function PreviewParts({ preview }: { preview: TemplatePreview }) {
  const body = preview.parts.body;
  const others = (Object.keys(preview.parts) as Part[]).filter((p) => p !== 'body');
  return (
    <div data-testid="template-preview">
      <dl className="parts">
        {others.map((p) => (
          <div key={p}>
            <dt>{LABELS[p]}</dt>
            <dd data-testid={`preview-${p}`}>{preview.parts[p]}</dd>
          </div>
        ))}
      </dl>
      {preview.format === 'html' || preview.format === 'mjml' ? (
        // A sandbox without scripts: the email's HTML cannot run code or reach the dashboard.
        <iframe title="Body preview" className="email-preview" sandbox="" srcDoc={offlinePreview(body ?? '')} data-testid="preview-body-frame" />
      ) : (
        <pre className="rule" data-testid="preview-body">
          {body}
        </pre>
      )}
    </div>
  );
}

/** Send the saved version, rendered for the preview's profile and event, to one address. */
function TestSend(props: { id: string; version: number; channel: Channel; profile: string; eventText: string }) {
  const [to, setTo] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [sending, setSending] = useState(false);
  const send = async () => {
    setSending(true);
    setResult(null);
    try {
      const event = props.eventText.trim() ? (JSON.parse(props.eventText) as Json) : undefined;
      const sent = await templates.testSend(props.id, { to: to || undefined, profile: props.profile || undefined, event, version: props.version });
      setResult({ ok: true, text: `Sent v${sent.version} to ${sent.to || 'the webhook'} via ${sent.provider}` });
    } catch (e) {
      setResult({ ok: false, text: (e as Error).message });
    } finally {
      setSending(false);
    }
  };
  const placeholder = props.channel === 'email' ? 'you@example.com' : props.channel === 'sms' ? '+33612345678' : props.channel === 'push' ? 'device token' : '';
  return (
    <div className="card">
      <h2>Send a test</h2>
      <p className="help">The saved version, for the preview's profile and event; not a message to a person (no governor, not in the log).</p>
      <div className="filters">
        {props.channel !== 'webhook' && (
          <label className="grow">
            To
            <input value={to} onChange={(e) => setTo(e.target.value)} placeholder={placeholder} />
          </label>
        )}
        <button type="button" disabled={sending} onClick={() => void send()}>
          {sending ? 'Sending…' : 'Send test'}
        </button>
      </div>
      {result && (
        <p className={result.ok ? 'state' : 'state error'} role={result.ok ? 'status' : 'alert'} data-testid="test-send-result">
          {result.text}
        </p>
      )}
    </div>
  );
}

function Versions({ id, current, onLoad }: { id: string; current: number; onLoad: (t: Template) => void }) {
  const [state] = useAsync(() => templates.versions(id), [id, current]);
  if (state.status !== 'done') return null;
  return (
    <div className="card">
      <h2>Versions</h2>
      <ol className="versions" aria-label="Versions">
        {state.data.map((v) => (
          <li key={v.version}>
            v{v.version} · {formatTime(v.createdAt)}{' '}
            {v.version !== current && (
              <button type="button" onClick={() => onLoad(v)}>
                Load into editor
              </button>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}
