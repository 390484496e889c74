import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, setUnauthorizedHandler } from "../../api";
import { errorMessage, type Schemas } from "../../api/client";
import { consumeLoginLink, tokenStore } from "../../lib/session";
import { allows, type Permission } from "../../lib/permissions";
import { StatusScreen } from "../../components/ui/StatusScreen";
import { SignInPage } from "./SignInPage";

type Principal = Schemas["PrincipalRead"];

interface Session {
  token: string;
  principal: Principal;
  can: (permission: Permission) => boolean;
  signOut: (notice?: string) => void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside <SessionGate>");
  return session;
}

/** Shorthand for components that only need to know whether to show a write button. */
export function useCan(permission: Permission): boolean {
  return useSession().can(permission);
}

/** Shows sign-in until there is a token whose principal the server confirms, then the app. */
export function SessionGate({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState<string | null>(() => tokenStore.get());
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback(
    (message?: string) => {
      tokenStore.clear();
      setToken(null);
      setNotice(message ?? null);
      queryClient.clear();
    },
    [queryClient],
  );

  const signIn = useCallback(
    (value: string) => {
      tokenStore.set(value);
      queryClient.clear();
      setNotice(null);
      setToken(value);
    },
    [queryClient],
  );

  // A login link pasted into a tab that is already open (on the sign-in page or not) changes only
  // the fragment: no page load reads it, so listen for it.
  useEffect(() => {
    const onHashChange = () => {
      const linked = consumeLoginLink();
      if (linked) signIn(linked);
    };
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, [signIn]);

  useEffect(() => {
    setUnauthorizedHandler((message) => signOut(message));
    return () => setUnauthorizedHandler(() => undefined);
  }, [signOut]);

  const principal = useQuery({
    queryKey: ["principal", token],
    queryFn: ({ signal }) => api.call("getCurrentPrincipal", { signal }),
    enabled: token !== null,
    staleTime: 5 * 60_000,
    retry: false,
  });

  const role = principal.data?.role;
  const session = useMemo<Session | null>(() => {
    if (!token || !principal.data) return null;
    return {
      token,
      principal: principal.data,
      can: (permission) => allows(role, permission),
      signOut,
    };
  }, [token, principal.data, role, signOut]);

  if (!token) return <SignInPage notice={notice} onSignIn={signIn} />;
  if (principal.isPending) return <StatusScreen title="Signing in…" />;
  if (principal.isError || !session) {
    return (
      <StatusScreen title="Could not check your sign-in" detail={errorMessage(principal.error)}>
        <button type="button" onClick={() => void principal.refetch()}>
          Try again
        </button>
        <button type="button" className="secondary" onClick={() => signOut()}>
          Use another token
        </button>
      </StatusScreen>
    );
  }
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
