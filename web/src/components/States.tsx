import type { ReactNode } from 'react';
import type { AsyncState } from '../lib/useAsync';

export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

export function ErrorBox({ error, retry }: { error: Error; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <strong>Something went wrong.</strong> {error.message}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** The loading / error / loaded views of one async value. */
export function Async<T>(props: {
  state: AsyncState<T>;
  what: string;
  retry?: () => void;
  children: (data: T) => ReactNode;
}) {
  const { state } = props;
  if (state.status === 'loading') return <Loading what={props.what} />;
  if (state.status === 'error') return <ErrorBox error={state.error} retry={props.retry} />;
  return <>{props.children(state.data)}</>;
}
