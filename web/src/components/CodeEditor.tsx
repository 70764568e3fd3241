// CodeMirror 6 for a template part: line numbers, history, and the server's error marked at
// the line and column it reports.
import { useEffect, useRef } from 'react';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';
import { errorRange } from '../lib/rule';

export function CodeEditor(props: {
  label: string;
  testId: string;
  value: string;
  onChange: (text: string) => void;
  error: { message: string; line?: number | null; column?: number | null } | null;
  readOnly?: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    view.current = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          lineNumbers(),
          history(),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          lintGutter(),
          EditorView.lineWrapping,
          EditorState.readOnly.of(props.readOnly ?? false),
          EditorView.contentAttributes.of({ 'aria-label': props.label, 'data-testid': props.testId }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    return () => view.current?.destroy();
    // Made once; outside changes of the text are pushed in below.
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
    const e = props.error;
    const location = e?.line ? { line: e.line, column: e.column ?? 1 } : undefined;
    const diagnostics = e
      ? [{ ...errorRange(v.state.doc.toString(), location), severity: 'error' as const, message: e.message }]
      : [];
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }, [props.error, props.value]);

  return <div className="editor" ref={host} />;
}
