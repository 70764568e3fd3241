import { lazy, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router';
import { Shell } from './components/Shell';
import { Loading } from './components/States';
import { SessionProvider, useSession } from './session';
import { SignIn } from './pages/SignIn';
import './app.css';

const Overview = lazy(() => import('./pages/Overview'));
const Live = lazy(() => import('./pages/Live'));
const Profiles = lazy(() => import('./pages/Profiles'));
const ProfilePage = lazy(() => import('./pages/Profile'));
const Audiences = lazy(() => import('./pages/Audiences'));
const AudiencePage = lazy(() => import('./pages/Audience'));
const AudienceEditor = lazy(() => import('./pages/AudienceEditor'));
const Insights = lazy(() => import('./pages/Insights'));
const Messages = lazy(() => import('./pages/Messages'));
const MessagingSettings = lazy(() => import('./pages/MessagingSettings'));
const MessagePage = lazy(() => import('./pages/Message'));
const Suppressions = lazy(() => import('./pages/Suppressions'));
const SavedInsights = lazy(() => import('./pages/SavedInsights'));
const Templates = lazy(() => import('./pages/Templates'));
const Broadcasts = lazy(() => import('./pages/Broadcasts'));
const BroadcastNew = lazy(() => import('./pages/BroadcastNew'));
const BroadcastPage = lazy(() => import('./pages/Broadcast'));
const TemplateEditor = lazy(() => import('./pages/TemplateEditor'));
const Settings = lazy(() => import('./pages/Settings'));

function App() {
  const { current, checked } = useSession();
  if (!checked) return <Loading what="your session" />;
  if (!current) return <SignIn />;
  return (
    <Routes>
      <Route element={<Shell />}>
        <Route index element={<Overview />} />
        <Route path="live" element={<Live />} />
        <Route path="profiles" element={<Profiles />} />
        <Route path="profiles/:id" element={<ProfilePage />} />
        <Route path="audiences" element={<Audiences />} />
        <Route path="audiences/new" element={<AudienceEditor />} />
        <Route path="audiences/:id" element={<AudiencePage />} />
        <Route path="audiences/:id/edit" element={<AudienceEditor />} />
        <Route path="insights" element={<Insights />} />
        <Route path="insights/saved" element={<SavedInsights />} />
        <Route path="templates" element={<Templates />} />
        <Route path="templates/new" element={<TemplateEditor />} />
        <Route path="templates/:id" element={<TemplateEditor />} />
        <Route path="broadcasts" element={<Broadcasts />} />
        <Route path="broadcasts/new" element={<BroadcastNew />} />
        <Route path="broadcasts/:id" element={<BroadcastPage />} />
        <Route path="messages" element={<Messages />} />
        <Route path="messages/:id" element={<MessagePage />} />
        <Route path="suppressions" element={<Suppressions />} />
        <Route path="messaging" element={<MessagingSettings />} />
        <Route path="settings" element={<Settings />} />
        <Route path="*" element={<p className="state empty">No such page.</p>} />
      </Route>
    </Routes>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter>
      <SessionProvider>
        <App />
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
