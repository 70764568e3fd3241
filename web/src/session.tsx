// Who is signed in: read once at start (GET /api/v1/session), set by sign-in, cleared by
// sign-out or by any 401.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { onUnauthorized, setCsrfToken } from './api/client';
import { session as api } from './api/session';
import type { Session } from './api/types';

interface SessionState {
  current: Session | null;
  checked: boolean;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const Ctx = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [current, setCurrent] = useState<Session | null>(null);
  const [checked, setChecked] = useState(false);
  const use = useCallback((s: Session | null) => {
    setCsrfToken(s?.csrfToken ?? null);
    setCurrent(s);
  }, []);
  useEffect(() => {
    onUnauthorized(() => use(null));
    api.get().then(use, () => use(null)).finally(() => setChecked(true));
  }, [use]);
  const signIn = useCallback(async (email: string, password: string) => use(await api.signIn(email, password)), [use]);
  const signOut = useCallback(async () => {
    try {
      await api.signOut();
    } finally {
      use(null);
    }
  }, [use]);
  return <Ctx.Provider value={{ current, checked, signIn, signOut }}>{children}</Ctx.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** May the signed-in user change things? (`viewer`s only read.) */
export function useCanWrite(): boolean {
  return useSession().current?.user.role === 'admin';
}
