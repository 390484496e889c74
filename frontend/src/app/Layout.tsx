import { useEffect, useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router-dom";
import { useSession } from "../features/auth/session";
import { EventStreamProvider } from "../features/events/hooks/useEventStream";
import { ThemeToggle } from "./ThemeToggle";

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

/** On a phone the pages and the account sit behind a Menu button, so the header is one short row. */
function AppHeader() {
  const { principal, signOut, can } = useSession();
  const [open, setOpen] = useState(false);
  const { pathname } = useLocation();
  useEffect(() => setOpen(false), [pathname]);
  return (
    <header className={`app-header${open ? " menu-open" : ""}`}>
      <span className="brand">Talkative</span>
      <button
        type="button"
        className="secondary small-btn menu-button"
        aria-expanded={open}
        aria-controls="app-menu"
        onClick={() => setOpen((o) => !o)}
      >
        {open ? "Close" : "Menu"}
      </button>
      <div className="app-menu" id="app-menu">
        <nav aria-label="Main">
          <NavLink to="/" end>
            Mission Control
          </NavLink>
          <NavLink to="/runs">Runs</NavLink>
          <NavLink to="/workflow">Workflow Editor</NavLink>
          <NavLink to="/router-admin">Router Admin</NavLink>
          {can("fleet") && <NavLink to="/fleet">Fleet</NavLink>}
        </nav>
        <div className="who" aria-label="Signed in as">
          <span>{principal.sub}</span>
          <span className={`badge badge-role-${principal.role}`}>{principal.role}</span>
          <span className="muted">
            {principal.tenant_id ?? (principal.platform_admin ? "all tenants" : "no tenant")}
          </span>
          <ThemeToggle />
          <button type="button" className="secondary small-btn" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </div>
    </header>
  );
}
