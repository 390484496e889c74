import { useCallback, useEffect } from "react";
import { useBlocker, type BlockerFunction } from "react-router-dom";
import { ConfirmDialog } from "./ConfirmDialog";

/** Warns before unsaved changes are lost: leaving the page, picking another workflow, or closing the tab. */
export function UnsavedChangesGuard({ dirty }: { dirty: boolean }) {
  const shouldBlock = useCallback<BlockerFunction>(
    ({ currentLocation, nextLocation }) =>
      dirty && (currentLocation.pathname !== nextLocation.pathname || currentLocation.search !== nextLocation.search),
    [dirty],
  );
  const blocker = useBlocker(shouldBlock);
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  if (blocker.state !== "blocked") return null;
  return (
    <ConfirmDialog
      confirmation={{
        message: "This workflow has unsaved changes. Leave it and throw them away?",
        confirmLabel: "Leave without saving",
        onConfirm: () => blocker.proceed(),
        onCancel: () => blocker.reset(),
      }}
      onClose={() => undefined}
    />
  );
}
