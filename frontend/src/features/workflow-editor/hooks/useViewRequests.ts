import { useCallback, useRef, useState } from "react";
import type { CenterGetter, ViewRequest } from "../components/WorkflowCanvas";

/** What the editor asks of the canvas's viewport: "fit everything" requests, and where its centre is. */
export function useViewRequests() {
  const [view, setView] = useState<ViewRequest | null>(null);
  const seq = useRef(0);
  const fitView = useCallback((noZoomIn = false) => {
    seq.current += 1;
    setView({ seq: seq.current, noZoomIn });
  }, []);
  /** Set by the canvas: where a node added now would go (the middle of what is on screen). */
  const centerRef = useRef<CenterGetter | null>(null);
  return { view, fitView, centerRef };
}
