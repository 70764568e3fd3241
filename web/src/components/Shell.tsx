import { Suspense } from 'react';
import { NavLink, Outlet } from 'react-router';
import { useSession } from '../session';
import { Loading } from './States';

const nav = [
  ['/', 'Overview'],
  ['/live', 'Live events'],
  ['/profiles', 'Profiles'],
  ['/audiences', 'Audiences'],
  ['/insights', 'Insights'],
  ['/insights/saved', 'Saved charts'],
  ['/templates', 'Templates'],
  ['/broadcasts', 'Broadcasts'],
  ['/messages', 'Messages'],
  ['/suppressions', 'Suppressions'],
  ['/messaging', 'Messaging'],
  ['/settings', 'Settings'],
] as const;

export function Shell() {
  const { current, signOut } = useSession();
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <div className="brand">Herald</div>
        <ul>
          {nav.map(([to, label]) => (
            <li key={to}>
              <NavLink to={to} end={to === '/' || to === '/insights'}>
                {label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <header className="topbar">
        <span className="user" data-testid="signed-in-user">
          {current?.user.email} <span className="role">{current?.user.role}</span>
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading what="the page" />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
