import { useCallback, useEffect, useRef, useState } from "react";

/** How long nodes that arrived live stay highlighted. */
export const HIGHLIGHT_MS = 8000;

/** The ids of nodes that just arrived live; each batch is forgotten after HIGHLIGHT_MS. */
export function useFreshNodes(duration = HIGHLIGHT_MS) {
  const [fresh, setFresh] = useState<ReadonlySet<string>>(() => new Set());
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());

  const mark = useCallback(
    (ids: readonly string[]) => {
      if (ids.length === 0) return;
      setFresh((prev) => new Set([...prev, ...ids]));
      const timer = setTimeout(() => {
        timers.current.delete(timer);
        setFresh((prev) => {
          const next = new Set(prev);
          for (const id of ids) next.delete(id);
          return next;
        });
      }, duration);
      timers.current.add(timer);
    },
    [duration],
  );

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
    };
  }, []);

  return { fresh, mark };
}
