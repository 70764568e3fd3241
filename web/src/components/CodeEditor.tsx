// CodeMirror 6 for a template part: the server's error marked at the line and column it
// reports.
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { errorRange } from '../lib/rule';
import { useEditor } from './useEditor';

export function CodeEditor(props: {
  label: string;
  testId: string;
  value: string;
  onChange: (text: string) => void;
  error: { message: string; line?: number | null; column?: number | null } | null;
  readOnly?: boolean;
}) {
  const host = useEditor({
    value: props.value,
    onChange: props.onChange,
    extensions: [
      EditorState.readOnly.of(props.readOnly ?? false),
      EditorView.contentAttributes.of({ 'aria-label': props.label, 'data-testid': props.testId }),
    ],
    diagnosticsKey: props.error,
    diagnostics: (doc) => {
      const e = props.error;
      if (!e) return [];
      const location = e.line ? { line: e.line, column: e.column ?? 1 } : undefined;
      return [{ ...errorRange(doc, location), severity: 'error', message: e.message }];
    },
  });
  return <div className="editor" ref={host} />;
}
