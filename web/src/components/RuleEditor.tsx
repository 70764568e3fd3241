// CodeMirror 6 for the rule text: highlighting, keyword and name completion, and the server's
// error shown at the location it reports.
import { useEffect, useRef } from 'react';
import {
  autocompletion,
  type Completion,
  type CompletionContext,
  type CompletionResult,
} from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';
import type { RuleLocation } from '../api/types';
import { KEYWORDS, ruleLanguage } from '../lib/ruleSyntax';
import { errorRange } from '../lib/rule';

export function RuleEditor(props: {
  value: string;
  onChange: (text: string) => void;
  error: { message: string; location?: RuleLocation } | null;
  names: string[];
  readOnly?: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;
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

  useEffect(() => {
    view.current = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          lineNumbers(),
          history(),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          ruleLanguage,
          syntaxHighlighting(defaultHighlightStyle),
          autocompletion({ override: [complete] }),
          lintGutter(),
          EditorView.lineWrapping,
          EditorState.readOnly.of(props.readOnly ?? false),
          EditorView.contentAttributes.of({ 'aria-label': 'Rule text', 'data-testid': 'rule-editor' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    return () => view.current?.destroy();
    // The editor is made once; the text is pushed in below when it changes from outside.
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== props.value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
    }
  }, [props.value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const diagnostics = props.error
      ? [{ ...errorRange(v.state.doc.toString(), props.error.location), severity: 'error' as const, message: props.error.message }]
      : [];
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }, [props.error, props.value]);

  return <div className="editor" ref={host} />;
}
