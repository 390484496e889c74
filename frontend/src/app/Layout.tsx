import { NavLink, Outlet } from "react-router-dom";
import { useSession } from "../features/auth/session";
import { EventStreamProvider } from "../features/events/hooks/useEventStream";

export function Layout() {
  return (
    <EventStreamProvider>
      <div className="app">
        <AppHeader />
        <main className="app-main">
          <Outlet />
        </main>
      </div>
    </EventStreamProvider>
  );
}

function AppHeader() {
  const { principal, signOut, can } = useSession();
  return (
    <header className="app-header">
      <span className="brand">Talkative</span>
      <nav aria-label="Main">
        <NavLink to="/" end>
          Mission Control
        </NavLink>
        <NavLink to="/workflow">Workflow Editor</NavLink>
        <NavLink to="/router-admin">Router Admin</NavLink>
        {can("fleet") && <NavLink to="/fleet">Fleet</NavLink>}
      </nav>
      <div className="who" aria-label="Signed in as">
        <span>{principal.sub}</span>
        <span className={`badge badge-role-${principal.role}`}>{principal.role}</span>
        <span className="muted">{principal.tenant_id ?? (principal.platform_admin ? "all tenants" : "no tenant")}</span>
        <button type="button" className="secondary small-btn" onClick={() => signOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}
