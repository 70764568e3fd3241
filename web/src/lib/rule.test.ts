import { describe, expect, it } from 'vitest';
import {
  conditionItem,
  errorRange,
  groupItem,
  parseVisual,
  toText,
  type CountOp,
  type TraitOp,
  type Unit,
  type Value,
  type VisualRule,
} from './rule';

const trait = (name: string, op: TraitOp, value: Value | null) => ({ kind: 'trait', name, op, value }) as const;
const performed = (event: string, countOp: CountOp, count: number, window: { last: number; unit: Unit } | null) =>
  ({ kind: 'performed', event, countOp, count, window }) as const;
const c = conditionItem;

describe('visual rule ↔ text', () => {
  const rules: VisualRule[] = [
    {
      join: 'and',
      items: [
        c(trait('plan', '=', 'trial')),
        c(performed('Checkout Started', '>=', 2, { last: 7, unit: 'days' })),
        c(performed('Order Completed', '>=', 1, { last: 30, unit: 'days' }), true),
      ],
    },
    {
      join: 'or',
      items: [
        c(trait('first name', 'contains', 'An"a')),
        c(trait('vip', '=', true), true),
        c(trait('age', '>=', 18.5)),
        c(trait('last', 'not exists', null)),
        c(trait('email', 'exists', null)),
        c(performed('Signed Up', '>=', 1, null)),
      ],
    },
    {
      join: 'and',
      items: [
        c(trait('plan', '=', 'pro')),
        groupItem({ join: 'or', items: [c(trait('country', '=', 'FR')), c(trait('country', '=', 'DE'))] }),
        groupItem(
          {
            join: 'and',
            items: [
              c(performed('Churned', '>=', 1, null)),
              groupItem({ join: 'or', items: [c(trait('a', '=', 1)), c(trait('b', '=', 2), true)] }),
            ],
          },
          true,
        ),
      ],
    },
  ];

  it('reads back what it writes', () => {
    for (const rule of rules) expect(parseVisual(toText(rule))).toEqual(rule);
  });

  it('writes the text form of docs/audiences.md', () => {
    expect(toText(rules[0]!)).toBe(
      'trait plan = "trial"\n  and performed "Checkout Started" >= 2 in last 7 days\n  and not performed "Order Completed" in last 30 days',
    );
    expect(toText(rules[1]!)).toContain('trait `first name` contains "An\\"a"');
    expect(toText(rules[1]!)).toContain('trait `last` not exists');
    expect(toText(rules[2]!)).toBe(
      'trait plan = "pro"\n  and (trait country = "FR" or trait country = "DE")\n  and not (performed "Churned" and (trait a = 1 or not trait b = 2))',
    );
  });

  it('reads hand-written text of the same shape, singular units included', () => {
    const rule = parseVisual('performed "Viewed" > 3 in last 1 week and trait plan != "free"');
    expect(rule?.items).toEqual([c(performed('Viewed', '>', 3, { last: 1, unit: 'weeks' })), c(trait('plan', '!=', 'free'))]);
    expect(toText(rule!)).toBe('performed "Viewed" > 3 in last 1 weeks\n  and trait plan != "free"');
  });

  it('groups by precedence: not, then and, then or', () => {
    const [a, b, d] = [c(trait('a', '=', 1)), c(trait('b', '=', 2)), c(trait('d', '=', 3))];
    expect(parseVisual('trait a = 1 and trait b = 2 or trait d = 3')).toEqual({
      join: 'or',
      items: [groupItem({ join: 'and', items: [a, b] }), d],
    });
    expect(parseVisual('trait a = 1 or trait b = 2 and not trait d = 3')).toEqual({
      join: 'or',
      items: [a, groupItem({ join: 'and', items: [b, { ...d, negate: true }] })],
    });
    expect(parseVisual('(trait a = 1)')).toEqual({ join: 'and', items: [a] });
    expect(parseVisual('not (trait a = 1 or trait b = 2)')).toEqual({
      join: 'and',
      items: [groupItem({ join: 'or', items: [a, b] }, true)],
    });
    expect(parseVisual('((trait a = 1 or trait b = 2)) and trait d = 3')).toEqual({
      join: 'and',
      items: [groupItem({ join: 'or', items: [a, b] }), d],
    });
  });

  it('leaves to the text editor what it cannot show', () => {
    for (const text of [
      '(trait a = 1',
      'trait a = 1)',
      'performed "A" where x > 1',
      'in audience "x"',
      'trait plan in ["a", "b"]',
      'performed "A" >= 1.5',
      'trait a =',
      '',
      `${'('.repeat(30)}trait a = 1${')'.repeat(30)}`,
    ]) {
      expect(parseVisual(text), text).toBeNull();
    }
  });
});

describe('errorRange', () => {
  const doc = 'trait plan = "trial"\n  and performed 3';
  it('marks the word at a reported line and column', () => {
    expect(errorRange(doc, { line: 2, column: 17 })).toEqual({ from: 37, to: 38 });
    expect(doc.slice(37, 38)).toBe('3');
  });
  it('prefers the offset, and clamps to the document', () => {
    expect(errorRange(doc, { offset: 6, line: 9, column: 9 })).toEqual({ from: 6, to: 10 });
    expect(errorRange(doc, { offset: 999 })).toEqual({ from: doc.length - 1, to: doc.length });
  });
  it('marks the last word when the error is at the end', () => {
    expect(errorRange('performed "A" >= ', { line: 1, column: 18 })).toEqual({ from: 15, to: 16 });
    expect(errorRange('', { offset: 0 })).toEqual({ from: 0, to: 0 });
  });
  it('marks everything when the error has no text location', () => {
    expect(errorRange(doc, { path: '/and/0' })).toEqual({ from: 0, to: doc.length });
  });
});
