// The visual form of a rule: a list of conditions joined by "all"/"any", each negatable.
import {
  COUNT_OPS,
  TRAIT_OPS,
  UNITS,
  type Condition,
  type CountOp,
  type TraitOp,
  type Unit,
  type Value,
  type VisualRule,
} from '../lib/rule';

function readValue(text: string): Value {
  if (text === 'true' || text === 'false') return text === 'true';
  return text.trim() !== '' && !Number.isNaN(Number(text)) ? Number(text) : text;
}

export function VisualBuilder({ rule, onChange }: { rule: VisualRule; onChange: (r: VisualRule) => void }) {
  const set = (i: number, patch: Partial<VisualRule['conditions'][number]>) =>
    onChange({ ...rule, conditions: rule.conditions.map((c, n) => (n === i ? { ...c, ...patch } : c)) });
  const setCondition = (i: number, c: Condition) => set(i, { condition: c });
  return (
    <div className="visual" aria-label="Visual rule builder">
      <label>
        Profiles matching{' '}
        <select value={rule.join} onChange={(e) => onChange({ ...rule, join: e.target.value as 'and' | 'or' })}>
          <option value="and">all</option>
          <option value="or">any</option>
        </select>{' '}
        of these conditions
      </label>
      <ol>
        {rule.conditions.map(({ negate, condition: c }, i) => (
          <li key={i} className="condition">
            <label>
              <input type="checkbox" checked={negate} onChange={(e) => set(i, { negate: e.target.checked })} /> not
            </label>
            {c.kind === 'trait' ? (
              <>
                <span>trait</span>
                <input aria-label="Trait name" value={c.name} onChange={(e) => setCondition(i, { ...c, name: e.target.value })} />
                <select aria-label="Test" value={c.op} onChange={(e) => setCondition(i, { ...c, op: e.target.value as TraitOp })}>
                  {TRAIT_OPS.map((o) => (
                    <option key={o}>{o}</option>
                  ))}
                </select>
                {c.op !== 'exists' && c.op !== 'not exists' && (
                  <input aria-label="Value" value={String(c.value ?? '')} onChange={(e) => setCondition(i, { ...c, value: readValue(e.target.value) })} />
                )}
              </>
            ) : (
              <>
                <span>performed</span>
                <input aria-label="Event name" value={c.event} onChange={(e) => setCondition(i, { ...c, event: e.target.value })} />
                <select aria-label="Count test" value={c.countOp} onChange={(e) => setCondition(i, { ...c, countOp: e.target.value as CountOp })}>
                  {COUNT_OPS.map((o) => (
                    <option key={o}>{o}</option>
                  ))}
                </select>
                <input aria-label="Count" type="number" min={0} className="narrow" value={c.count} onChange={(e) => setCondition(i, { ...c, count: Math.max(0, Math.round(Number(e.target.value))) })} />
                <span>times in last</span>
                <input
                  aria-label="Window length (empty: ever)"
                  type="number"
                  min={1}
                  className="narrow"
                  value={c.window?.last ?? ''}
                  onChange={(e) => setCondition(i, { ...c, window: e.target.value ? { last: Math.max(1, Math.round(Number(e.target.value))), unit: c.window?.unit ?? 'days' } : null })}
                />
                <select aria-label="Window unit" value={c.window?.unit ?? 'days'} disabled={!c.window} onChange={(e) => c.window && setCondition(i, { ...c, window: { ...c.window, unit: e.target.value as Unit } })}>
                  {UNITS.map((u) => (
                    <option key={u}>{u}</option>
                  ))}
                </select>
              </>
            )}
            <button type="button" aria-label="Remove condition" disabled={rule.conditions.length === 1} onClick={() => onChange({ ...rule, conditions: rule.conditions.filter((_, n) => n !== i) })}>
              ✕
            </button>
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => onChange({ ...rule, conditions: [...rule.conditions, { negate: false, condition: { kind: 'trait', name: 'plan', op: '=', value: 'trial' } }] })}>
        + Trait condition
      </button>{' '}
      <button
        type="button"
        onClick={() =>
          onChange({ ...rule, conditions: [...rule.conditions, { negate: false, condition: { kind: 'performed', event: 'Order Completed', countOp: '>=', count: 1, window: { last: 30, unit: 'days' } } }] })
        }
      >
        + Event condition
      </button>
    </div>
  );
}
