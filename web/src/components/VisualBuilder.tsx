// The visual form of a rule: a group of conditions joined by "all"/"any", each negatable, with
// groups nested in groups (the text form writes them in parentheses).
import {
  conditionItem,
  COUNT_OPS,
  groupItem,
  TRAIT_OPS,
  UNITS,
  type Condition,
  type CountOp,
  type Group,
  type Item,
  type TraitOp,
  type Unit,
  type Value,
  type VisualRule,
} from '../lib/rule';

/** How deep groups nest in the builder (the text form takes any depth). */
const MAX_DEPTH = 3;

function readValue(text: string): Value {
  if (text === 'true' || text === 'false') return text === 'true';
  return text.trim() !== '' && !Number.isNaN(Number(text)) ? Number(text) : text;
}

const newTrait = (): Condition => ({ kind: 'trait', name: 'plan', op: '=', value: 'trial' });
const newEvent = (): Condition => ({ kind: 'performed', event: 'Order Completed', countOp: '>=', count: 1, window: { last: 30, unit: 'days' } });

export function VisualBuilder({ rule, onChange }: { rule: VisualRule; onChange: (r: VisualRule) => void }) {
  return (
    <div className="visual" aria-label="Visual rule builder">
      <GroupEditor group={rule} onChange={onChange} depth={1} />
    </div>
  );
}

function GroupEditor({ group, onChange, depth }: { group: Group; onChange: (g: Group) => void; depth: number }) {
  const setItem = (i: number, item: Item) => onChange({ ...group, items: group.items.map((it, n) => (n === i ? item : it)) });
  const add = (item: Item) => onChange({ ...group, items: [...group.items, item] });
  return (
    <div className={depth > 1 ? 'group nested' : 'group'} role="group" aria-label={depth > 1 ? `Group at level ${depth}` : 'Conditions'}>
      <label>
        {depth > 1 ? 'Any profile matching' : 'Profiles matching'}{' '}
        <select aria-label="Match" value={group.join} onChange={(e) => onChange({ ...group, join: e.target.value as 'and' | 'or' })}>
          <option value="and">all</option>
          <option value="or">any</option>
        </select>{' '}
        of these
      </label>
      <ol>
        {group.items.map((item, i) => (
          <li key={i} className="condition">
            <label>
              <input type="checkbox" checked={item.negate} onChange={(e) => setItem(i, { ...item, negate: e.target.checked })} /> not
            </label>
            {item.kind === 'condition' ? (
              <ConditionEditor c={item.condition} onChange={(c) => setItem(i, { ...item, condition: c })} />
            ) : (
              <GroupEditor group={item.group} depth={depth + 1} onChange={(g) => setItem(i, { ...item, group: g })} />
            )}
            <button
              type="button"
              aria-label={item.kind === 'group' ? 'Remove group' : 'Remove condition'}
              disabled={group.items.length === 1}
              onClick={() => onChange({ ...group, items: group.items.filter((_, n) => n !== i) })}
            >
              ✕
            </button>
          </li>
        ))}
      </ol>
      <div className="actions">
        <button type="button" onClick={() => add(conditionItem(newTrait()))}>
          + Trait condition
        </button>
        <button type="button" onClick={() => add(conditionItem(newEvent()))}>
          + Event condition
        </button>
        {depth < MAX_DEPTH && (
          // A group of one would read back as its condition alone, so a new group has two.
          <button type="button" onClick={() => add(groupItem({ join: group.join === 'and' ? 'or' : 'and', items: [conditionItem(newTrait()), conditionItem(newEvent())] }))}>
            + Group
          </button>
        )}
      </div>
    </div>
  );
}

function ConditionEditor({ c, onChange }: { c: Condition; onChange: (c: Condition) => void }) {
  if (c.kind === 'trait')
    return (
      <>
        <span>trait</span>
        <input aria-label="Trait name" value={c.name} onChange={(e) => onChange({ ...c, name: e.target.value })} />
        <select aria-label="Trait test" value={c.op} onChange={(e) => onChange({ ...c, op: e.target.value as TraitOp })}>
          {TRAIT_OPS.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
        {c.op !== 'exists' && c.op !== 'not exists' && (
          <input aria-label="Value" value={String(c.value ?? '')} onChange={(e) => onChange({ ...c, value: readValue(e.target.value) })} />
        )}
      </>
    );
  return (
    <>
      <span>performed</span>
      <input aria-label="Event name" value={c.event} onChange={(e) => onChange({ ...c, event: e.target.value })} />
      <select aria-label="Count test" value={c.countOp} onChange={(e) => onChange({ ...c, countOp: e.target.value as CountOp })}>
        {COUNT_OPS.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
      <input aria-label="Count" type="number" min={0} className="narrow" value={c.count} onChange={(e) => onChange({ ...c, count: Math.max(0, Math.round(Number(e.target.value))) })} />
      <span>times in last</span>
      <input
        aria-label="Window length (empty: ever)"
        type="number"
        min={1}
        className="narrow"
        value={c.window?.last ?? ''}
        onChange={(e) => onChange({ ...c, window: e.target.value ? { last: Math.max(1, Math.round(Number(e.target.value))), unit: c.window?.unit ?? 'days' } : null })}
      />
      <select aria-label="Window unit" value={c.window?.unit ?? 'days'} disabled={!c.window} onChange={(e) => c.window && onChange({ ...c, window: { ...c.window, unit: e.target.value as Unit } })}>
        {UNITS.map((u) => (
          <option key={u}>{u}</option>
        ))}
      </select>
    </>
  );
}
