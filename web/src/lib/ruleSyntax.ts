// The audience rule language's tokens (docs/audiences.md), for highlighting and completion.
import { StreamLanguage, type StreamParser } from '@codemirror/language';

export const KEYWORDS = [
  'trait', 'group', 'computed', 'performed', 'first', 'last', 'sequence', 'then', 'within', 'in',
  'audience', 'and', 'or', 'not', 'where', 'ever', 'between', 'contains', 'starts', 'with',
  'exists', 'before', 'after', 'more', 'less', 'than', 'ago', 'days', 'day', 'hours', 'hour',
  'minutes', 'minute', 'weeks', 'week', 'true', 'false', 'null',
] as const;
const keywords = new Set<string>(KEYWORDS);

/** The token at the start of `text` and its kind (exported for tests). */
export function nextToken(text: string): { kind: string; length: number } {
  const rules: [string, RegExp][] = [
    ['space', /^\s+/],
    ['string', /^"(?:[^"\\]|\\.)*"?/],
    ['quoted', /^`[^`]*`?/],
    ['number', /^-?\d+(?:\.\d+)?/],
    ['operator', /^(?:!=|>=|<=|=|>|<)/],
    ['bracket', /^[()[\],]/],
    ['word', /^[A-Za-z_][A-Za-z0-9_.]*/],
  ];
  for (const [kind, re] of rules) {
    const m = re.exec(text);
    if (m) {
      if (kind === 'word') return { kind: keywords.has(m[0]) ? 'keyword' : 'name', length: m[0].length };
      return { kind, length: m[0].length };
    }
  }
  return { kind: 'invalid', length: 1 };
}

const styles: Record<string, string | null> = {
  space: null,
  string: 'string',
  quoted: 'variableName',
  number: 'number',
  operator: 'operator',
  bracket: 'bracket',
  keyword: 'keyword',
  name: 'propertyName',
  invalid: 'invalid',
};

const parser: StreamParser<null> = {
  name: 'herald-rule',
  startState: () => null,
  token(stream) {
    const { kind, length } = nextToken(stream.string.slice(stream.pos));
    stream.pos += length;
    return styles[kind] ?? null;
  },
};

export const ruleLanguage = StreamLanguage.define(parser);
