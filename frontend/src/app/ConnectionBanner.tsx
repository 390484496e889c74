import { useServerReachable } from "./useConnection";

/** On every page while the API cannot be reached; gone as soon as it answers again. */
export function ConnectionBanner() {
  const reachable = useServerReachable();
  if (reachable) return null;
  return (
    <div className="connection-banner" role="alert" data-testid="connection-banner">
      Cannot reach the server. Retrying… What you see may be out of date; changes cannot be saved until it is back.
    </div>
  );
}
