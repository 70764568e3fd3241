// The visual builder's model of a rule and its text form (docs/audiences.md). The model holds
// what the builder can show: a group of items joined by one `and` or `or`, each item (maybe
// negated) a condition — a trait test or an event count in a window — or a nested group.
// `parseVisual` reads text of that shape with the language's precedence (`not` over `and` over
// `or`, parentheses for groups; anything else is null: edit it as text) and `toText` writes it
// back, so the two forms round-trip.
import type { RuleLocation } from '../api/types';
import { KEYWORDS, nextToken } from './ruleSyntax';

export const TRAIT_OPS = ['=', '!=', '>', '>=', '<', '<=', 'contains', 'exists', 'not exists'] as const;
export const COUNT_OPS = ['>=', '>', '=', '!=', '<', '<='] as const;
export const UNITS = ['minutes', 'hours', 'days', 'weeks'] as const;

export type TraitOp = (typeof TRAIT_OPS)[number];
export type CountOp = (typeof COUNT_OPS)[number];
export type Unit = (typeof UNITS)[number];
export type Value = string | number | boolean;

export type Condition =
  | { kind: 'trait'; name: string; op: TraitOp; value: Value | null }
  | { kind: 'performed'; event: string; countOp: CountOp; count: number; window: { last: number; unit: Unit } | null };

export type Join = 'and' | 'or';

/** One item of a group: a condition or a nested group, maybe negated. */
export type Item = { negate: boolean } & ({ kind: 'condition'; condition: Condition } | { kind: 'group'; group: Group });

export interface Group {
  join: Join;
  items: Item[];
}

/** A rule as the builder shows it: its outermost group. */
export type VisualRule = Group;

export const conditionItem = (condition: Condition, negate = false): Item => ({ kind: 'condition', negate, condition });
export const groupItem = (group: Group, negate = false): Item => ({ kind: 'group', negate, group });

const keywords = new Set<string>(KEYWORDS);

function nameText(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) && !keywords.has(name) ? name : `\`${name}\``;
}

function valueText(v: Value): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

export function conditionText(c: Condition): string {
  if (c.kind === 'trait') {
    const head = `trait ${nameText(c.name)} ${c.op}`;
    return c.op === 'exists' || c.op === 'not exists' ? head : `${head} ${valueText(c.value ?? '')}`;
  }
  let text = `performed ${JSON.stringify(c.event)}`;
  if (!(c.countOp === '>=' && c.count === 1)) text += ` ${c.countOp} ${c.count}`;
  if (c.window) text += ` in last ${c.window.last} ${c.window.unit}`;
  return text;
}

function itemText(item: Item): string {
  const not = item.negate ? 'not ' : '';
  if (item.kind === 'condition') return `${not}${conditionText(item.condition)}`;
  return `${not}(${item.group.items.map(itemText).join(` ${item.group.join} `)})`;
}

/** The rule's text: the outer group's items one per line, nested groups in parentheses. */
export function toText(rule: VisualRule): string {
  return rule.items.map(itemText).join(`\n  ${rule.join} `);
}

interface Token {
  kind: string;
  text: string;
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  let rest = text;
  while (rest.length > 0) {
    const { kind, length } = nextToken(rest);
    if (kind !== 'space') out.push({ kind, text: rest.slice(0, length) });
    rest = rest.slice(length);
  }
  return out;
}

const SINGULAR: Record<string, Unit> = { minute: 'minutes', hour: 'hours', day: 'days', week: 'weeks' };

/** The visual model of `text`, or null when the text uses more than the builder shows. */
export function parseVisual(text: string): VisualRule | null {
  const ts = tokens(text);
  let i = 0;
  const peek = (n = 0) => ts[i + n];
  const take = () => ts[i++];
  const is = (word: string, n = 0) => peek(n)?.text === word;

  function name(): string | null {
    const t = take();
    if (!t) return null;
    if (t.kind === 'name') return t.text;
    if (t.kind === 'quoted' && t.text.length >= 2 && t.text.endsWith('`')) return t.text.slice(1, -1);
    return null;
  }
  function value(): Value | null {
    const t = take();
    if (!t) return null;
    if (t.kind === 'number') return Number(t.text);
    if (t.text === 'true' || t.text === 'false') return t.text === 'true';
    if (t.kind === 'string') {
      try {
        return JSON.parse(t.text) as string;
      } catch {
        return null;
      }
    }
    return null;
  }
  function trait(): Condition | null {
    const n = name();
    if (n === null) return null;
    if (is('exists') || (is('not') && is('exists', 1))) {
      const op: TraitOp = take()!.text === 'not' && take() ? 'not exists' : 'exists';
      return { kind: 'trait', name: n, op, value: null };
    }
    const op = take()?.text as TraitOp | undefined;
    if (!op || !TRAIT_OPS.includes(op)) return null;
    const v = value();
    return v === null ? null : { kind: 'trait', name: n, op, value: v };
  }
  function performed(): Condition | null {
    const e = value();
    if (typeof e !== 'string') return null;
    let countOp: CountOp = '>=';
    let count = 1;
    if (peek()?.kind === 'operator') {
      countOp = take()!.text as CountOp;
      const n = value();
      if (typeof n !== 'number' || !Number.isInteger(n) || !COUNT_OPS.includes(countOp)) return null;
      count = n;
    }
    let window: { last: number; unit: Unit } | null = null;
    if (is('in') && is('last', 1)) {
      take();
      take();
      const n = value();
      const u = take()?.text ?? '';
      const unit = (UNITS as readonly string[]).includes(u) ? (u as Unit) : SINGULAR[u];
      if (typeof n !== 'number' || !Number.isInteger(n) || !unit) return null;
      window = { last: n, unit };
    }
    return { kind: 'performed', event: e, countOp, count, window };
  }

  // Items joined by `join` at one level: one item alone, or a group of them.
  function joined(join: Join, part: () => Item | null): Item | null {
    const items: Item[] = [];
    for (;;) {
      const item = part();
      if (!item) return null;
      items.push(item);
      if (!is(join)) break;
      take();
    }
    return items.length === 1 ? items[0]! : groupItem({ join, items });
  }
  function unary(depth: number): Item | null {
    if (depth > 20) return null;
    if (is('not')) {
      take();
      const inner = unary(depth + 1);
      return inner && { ...inner, negate: !inner.negate };
    }
    if (is('(')) {
      take();
      const inner = joined('or', () => joined('and', () => unary(depth + 1)));
      if (!inner || !is(')')) return null;
      take();
      return inner;
    }
    const head = take()?.text;
    const condition = head === 'trait' ? trait() : head === 'performed' ? performed() : null;
    return condition && conditionItem(condition);
  }

  const root = joined('or', () => joined('and', () => unary(0)));
  if (!root || i !== ts.length) return null;
  return root.kind === 'group' && !root.negate ? root.group : { join: 'and', items: [root] };
}

/** Where in `doc` a reported error goes: the offset (or line and column) to the word's end. */
export function errorRange(doc: string, location: RuleLocation | undefined): { from: number; to: number } {
  let from: number | undefined = location?.offset;
  if (from === undefined && location?.line !== undefined) {
    const lines = doc.split('\n');
    from = lines.slice(0, location.line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, (location.column ?? 1) - 1);
  }
  if (from === undefined) return { from: 0, to: doc.length };
  from = Math.min(Math.max(0, from), doc.length);
  if (from === doc.length) {
    // "Found the end of the rule": mark the last word, so the mark can be seen.
    const last = doc.trimEnd().length;
    return { from: Math.max(0, last - 1), to: last };
  }
  const word = /^[^\s()[\],]*/.exec(doc.slice(from))?.[0].length ?? 0;
  return { from, to: Math.min(doc.length, from + Math.max(1, word)) };
}
