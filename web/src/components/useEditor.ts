// One CodeMirror 6 editor, the way the dashboard's editors share it: line numbers, history,
// wrapping, a lint gutter; the text kept in step with `value` both ways; the diagnostics
// recomputed when the text or `diagnosticsKey` change.
import { useEffect, useRef } from 'react';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState, type Extension } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';

export function useEditor(props: {
  value: string;
  onChange: (text: string) => void;
  /// The editor's own extensions (language, completion, attributes); read once.
  extensions: Extension[];
  diagnostics: (doc: string) => Diagnostic[];
  diagnosticsKey: unknown;
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
          ...props.extensions,
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    return () => view.current?.destroy();
    // Made once (remaking it would lose the cursor and focus); the text is pushed in below.
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== props.value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
    }
  }, [props.value]);

  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, props.diagnostics(v.state.doc.toString())));
  }, [props.diagnosticsKey, props.value]);

  return host;
}
