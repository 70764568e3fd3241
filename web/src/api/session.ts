// Signing in and out (REST, docs/dashboard.md).
import { request } from './client';
import type { Session } from './types';

export const session = {
  get: () => request<Session>('GET', '/api/v1/session'),
  signIn: (email: string, password: string) => request<Session>('POST', '/api/v1/session', { email, password }),
  signOut: () => request<void>('DELETE', '/api/v1/session'),
};
