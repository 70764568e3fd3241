// Build or edit an audience: the rule as text (CodeMirror) or visually (for rules the builder
// can show), a live preview (size estimate, sample members) while editing, and save.
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/client';
import { audiences, catalog } from '../api/herald';
import type { Preview, RuleLocation } from '../api/types';
import { RuleEditor } from '../components/RuleEditor';
import { ErrorBox, Loading } from '../components/States';
import { VisualBuilder } from '../components/VisualBuilder';
import { completionNames } from '../lib/catalog';
import { formatCount } from '../lib/format';
import { parseVisual, toText } from '../lib/rule';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

const PREVIEW_DELAY_MS = 400;
const STARTER = 'performed "Order Completed" >= 1 in last 30 days';

export default function AudienceEditor() {
  const editing = useParams().id;
  const [existing] = useAsync(() => (editing ? audiences.get(editing) : Promise.resolve(null)), [editing]);
  // Completion offers the names seen in the data; without them (index still loading), keywords only.
  const [seen] = useAsync(() => catalog.get().then(completionNames), []);
  const names = seen.status === 'done' ? seen.data : [];
  if (existing.status === 'loading') return <Loading what="the audience" />;
  if (existing.status === 'error') return <ErrorBox error={existing.error} />;
  return <Editor initial={existing.data} names={names} />;
}

function Editor({
  initial,
  names,
}: {
  initial: { id: string; name: string; description?: string | null; rule_text: string } | null;
  names: string[];
}) {
  const navigate = useNavigate();
  const canWrite = useCanWrite();
  const [id, setId] = useState(initial?.id ?? '');
  const [name, setName] = useState(initial?.name ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [text, setText] = useState(initial?.rule_text ?? STARTER);
  const [mode, setMode] = useState<'text' | 'visual'>('text');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [ruleError, setRuleError] = useState<{ message: string; location?: RuleLocation } | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [saveError, setSaveError] = useState<Error | null>(null);
  const [saving, setSaving] = useState(false);
  const visual = useMemo(() => parseVisual(text), [text]);

  useEffect(() => {
    let live = true;
    setPreviewing(true);
    const timer = setTimeout(() => {
      audiences.preview(text).then(
        (p) => {
          if (!live) return;
          setPreview(p);
          setRuleError(null);
          setPreviewing(false);
        },
        (e: Error) => {
          if (!live) return;
          setRuleError({ message: e.message, location: e instanceof ApiError ? e.location : undefined });
          setPreviewing(false);
        },
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [text]);

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    try {
      const draft = { id, name: name || id, description: description || undefined, rule: text };
      const saved = initial ? await audiences.update(draft) : await audiences.create(draft);
      navigate(`/audiences/${encodeURIComponent(saved.id)}`);
    } catch (e) {
      setSaveError(e as Error);
      if (e instanceof ApiError && e.code === 'invalid_rule') setRuleError({ message: e.message, location: e.location });
    } finally {
      setSaving(false);
    }
  };

  return (
    <section>
      <h1>{initial ? `Edit ${initial.name}` : 'New audience'}</h1>
      <div className="form-row">
        <label>
          Id
          <input value={id} onChange={(e) => setId(e.target.value)} disabled={!!initial} placeholder="trial_users" required />
        </label>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Trial users" />
        </label>
        <label className="grow">
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
      </div>
      <div className="tabs" role="tablist" aria-label="Rule form">
        <button type="button" role="tab" aria-selected={mode === 'text'} onClick={() => setMode('text')}>
          Text
        </button>
        <button type="button" role="tab" aria-selected={mode === 'visual'} onClick={() => setMode('visual')}>
          Visual
        </button>
      </div>
      <div className="grid2 editor-grid">
        <div>
          {mode === 'text' ? (
            <RuleEditor value={text} onChange={setText} error={ruleError} names={names} />
          ) : visual ? (
            <VisualBuilder rule={visual} onChange={(r) => setText(toText(r))} />
          ) : (
            <p className="state empty">
              This rule uses more than the visual builder shows (property filters, sequences, audiences, first/last times…): edit it as text.
            </p>
          )}
          {ruleError && (
            <p className="state error" role="alert" data-testid="rule-error">
              {ruleError.message}
            </p>
          )}
          <p className="help">
            Rule language: <code>trait plan = "trial" and performed "Checkout Started" &gt;= 1 in last 7 days</code> — see docs/audiences.md.
          </p>
        </div>
        <aside className="card" aria-live="polite" aria-label="Preview">
          <h2>Preview {previewing && <span className="help">(updating…)</span>}</h2>
          {preview ? (
            <>
              <div className="tile-value" data-testid="preview-size">
                {formatCount(preview.estimated_size)}
              </div>
              <p className="help">
                estimated members ({formatCount(preview.estimated_size_low)}–{formatCount(preview.estimated_size_high)} at {Math.round(preview.confidence * 100)}%), {preview.matched} of{' '}
                {preview.sampled} sampled profiles match, {formatCount(preview.total_profiles)} profiles in all
              </p>
              <h3>Sample members</h3>
              {preview.sample_members.length === 0 ? (
                <p className="state empty">No sampled profile matches.</p>
              ) : (
                <ul data-testid="preview-members">
                  {preview.sample_members.map((p) => (
                    <li key={p}>
                      <Link to={`/profiles/${encodeURIComponent(`profile_id:${p}`)}`}>{p}</Link>
                    </li>
                  ))}
                </ul>
              )}
            </>
          ) : (
            !ruleError && <Loading what="the preview" />
          )}
        </aside>
      </div>
      {saveError && <ErrorBox error={saveError} />}
      <div className="actions">
        <Link className="button" to={initial ? `/audiences/${encodeURIComponent(initial.id)}` : '/audiences'}>
          Cancel
        </Link>
        <button type="button" className="primary" disabled={!canWrite || saving || !id} onClick={() => void save()}>
          {saving ? 'Saving…' : 'Save audience'}
        </button>
      </div>
    </section>
  );
}
