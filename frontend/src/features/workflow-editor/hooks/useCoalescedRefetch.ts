import { useCallback, useRef } from "react";

/**
 * A refetch that never loses a change: asked while one is in flight, it runs once more after it
 * (the in-flight answer may predate the change), however many times it was asked meanwhile.
 */
export function useCoalescedRefetch(refetch: () => Promise<unknown>) {
  const latest = useRef(refetch);
  latest.current = refetch;
  const inFlight = useRef(false);
  const again = useRef(false);
  const run = useCallback(() => {
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    void latest.current().finally(() => {
      inFlight.current = false;
      if (again.current) {
        again.current = false;
        run();
      }
    });
  }, []);
  return run;
}
