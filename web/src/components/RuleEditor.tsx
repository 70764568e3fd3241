// CodeMirror 6 for the rule text: highlighting, keyword and name completion, and the server's
// error shown at the location it reports.
import { useRef } from 'react';
import {
  autocompletion,
  type Completion,
  type CompletionContext,
  type CompletionResult,
} from '@codemirror/autocomplete';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import type { RuleLocation } from '../api/types';
import { KEYWORDS, ruleLanguage } from '../lib/ruleSyntax';
import { errorRange } from '../lib/rule';
import { useEditor } from './useEditor';

export function RuleEditor(props: {
  value: string;
  onChange: (text: string) => void;
  error: { message: string; location?: RuleLocation } | null;
  names: string[];
  readOnly?: boolean;
}) {
  // The completion source reads the names of the latest render: names that arrive later (the
  // catalog loads after the editor) are offered without making the editor anew (which would
  // lose the cursor and focus). After an opening quote it offers the quoted names (event
  // names), else keywords and bare names (traits, properties).
  const words = useRef<Completion[]>([]);
  const quoted = useRef<Completion[]>([]);
  words.current = [
    ...KEYWORDS.map((k) => ({ label: k, type: 'keyword' })),
    ...props.names.filter((n) => !n.startsWith('"')).map((n) => ({ label: n, type: 'property' })),
  ];
  quoted.current = props.names.filter((n) => n.startsWith('"')).map((n) => ({ label: n, type: 'text' }));
  const complete = (context: CompletionContext): CompletionResult | null => {
    const token = context.matchBefore(/(?:"[^"]*|[\w.]+)$/);
    if (!token && !context.explicit) return null;
    const inString = token?.text.startsWith('"') ?? false;
    return {
      from: token ? token.from : context.pos,
      options: inString ? quoted.current : words.current,
      validFor: inString ? /^"[^"]*$/ : /^[\w.]*$/,
    };
  };

  const host = useEditor({
    value: props.value,
    onChange: props.onChange,
    extensions: [
      ruleLanguage,
      syntaxHighlighting(defaultHighlightStyle),
      autocompletion({ override: [complete] }),
      EditorState.readOnly.of(props.readOnly ?? false),
      EditorView.contentAttributes.of({ 'aria-label': 'Rule text', 'data-testid': 'rule-editor' }),
    ],
    diagnosticsKey: props.error,
    diagnostics: (doc) =>
      props.error ? [{ ...errorRange(doc, props.error.location), severity: 'error', message: props.error.message }] : [],
  });

  return <div className="editor" ref={host} />;
}
