import { useEffect, useLayoutEffect, useRef, type RefObject } from "react";

/**
 * Newest at the bottom: follows new entries while the reader is at the bottom, and keeps the
 * view still when older entries are put above (paging back). Returns the scroll handler, which
 * also calls `onTop` when the reader reaches the top.
 */
export function useKeepScroll<T extends HTMLElement>(
  box: RefObject<T | null>,
  entries: readonly unknown[],
  firstKey: unknown,
  onTop: () => void,
) {
  const follow = useRef(true);
  const before = useRef<{ first: unknown; height: number; top: number } | null>(null);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const last = before.current;
    if (last && last.first !== firstKey && !follow.current) {
      el.scrollTop = last.top + (el.scrollHeight - last.height); // older entries came in above
    } else if (follow.current) {
      el.scrollTop = el.scrollHeight;
    }
    before.current = { first: firstKey, height: el.scrollHeight, top: el.scrollTop };
  }, [box, entries, firstKey]);

  // Entries that grow after they are shown (a reply that arrives) keep a following reader at the bottom.
  useEffect(() => {
    const el = box.current;
    if (!el || typeof MutationObserver === "undefined") return;
    const observer = new MutationObserver(() => {
      if (follow.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el, { childList: true, subtree: true, characterData: true });
    return () => observer.disconnect();
  }, [box, entries]);

  return (el: T) => {
    follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (before.current) before.current = { ...before.current, height: el.scrollHeight, top: el.scrollTop };
    if (el.scrollTop < 8 && el.scrollHeight > el.clientHeight) onTop();
  };
}
