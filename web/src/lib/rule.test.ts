import { describe, expect, it } from 'vitest';
import { errorRange, parseVisual, toText, type VisualRule } from './rule';

describe('visual rule ↔ text', () => {
  const rules: VisualRule[] = [
    {
      join: 'and',
      conditions: [
        { negate: false, condition: { kind: 'trait', name: 'plan', op: '=', value: 'trial' } },
        {
          negate: false,
          condition: { kind: 'performed', event: 'Checkout Started', countOp: '>=', count: 2, window: { last: 7, unit: 'days' } },
        },
        {
          negate: true,
          condition: { kind: 'performed', event: 'Order Completed', countOp: '>=', count: 1, window: { last: 30, unit: 'days' } },
        },
      ],
    },
    {
      join: 'or',
      conditions: [
        { negate: false, condition: { kind: 'trait', name: 'first name', op: 'contains', value: 'An"a' } },
        { negate: true, condition: { kind: 'trait', name: 'vip', op: '=', value: true } },
        { negate: false, condition: { kind: 'trait', name: 'age', op: '>=', value: 18.5 } },
        { negate: false, condition: { kind: 'trait', name: 'last', op: 'not exists', value: null } },
        { negate: false, condition: { kind: 'trait', name: 'email', op: 'exists', value: null } },
        { negate: false, condition: { kind: 'performed', event: 'Signed Up', countOp: '>=', count: 1, window: null } },
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
  });

  it('reads hand-written text of the same shape, singular units included', () => {
    const rule = parseVisual('performed "Viewed" > 3 in last 1 week and trait plan != "free"');
    expect(rule?.conditions.map((c) => c.condition)).toEqual([
      { kind: 'performed', event: 'Viewed', countOp: '>', count: 3, window: { last: 1, unit: 'weeks' } },
      { kind: 'trait', name: 'plan', op: '!=', value: 'free' },
    ]);
    expect(toText(rule!)).toBe('performed "Viewed" > 3 in last 1 weeks\n  and trait plan != "free"');
  });

  it('leaves to the text editor what it cannot show', () => {
    for (const text of [
      'trait a = 1 and trait b = 2 or trait c = 3',
      '(trait a = 1)',
      'performed "A" where x > 1',
      'in audience "x"',
      'trait plan in ["a", "b"]',
      'performed "A" >= 1.5',
      'trait a =',
      '',
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
