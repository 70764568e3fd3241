import { describe, expect, it } from 'vitest';
import { completionNames } from './catalog';

describe('completionNames', () => {
  it('quotes event names, keeps trait and property names bare, each once', () => {
    expect(
      completionNames({
        eventNames: ['Order Completed', 'Checkout "Started"'],
        propertyNames: ['total', 'plan'],
        traitNames: ['plan', 'email'],
      }),
    ).toEqual(['"Checkout \\"Started\\""', '"Order Completed"', 'email', 'plan', 'total']);
  });

  it('offers nothing for an empty catalog', () => {
    expect(completionNames({ eventNames: [], propertyNames: [], traitNames: [] })).toEqual([]);
  });
});
