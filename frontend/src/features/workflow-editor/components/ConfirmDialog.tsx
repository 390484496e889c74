import { useEffect, useId, useRef } from "react";

export interface Confirmation {
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel?: () => void;
}

/** An in-page question before something is thrown away (no browser `confirm()`: it blocks tests and screen readers). */
export function ConfirmDialog({ confirmation, onClose }: { confirmation: Confirmation; onClose: () => void }) {
  const id = useId();
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  return (
    <div className="notice wf-confirm" role="alertdialog" aria-labelledby={id}>
      <p id={id}>{confirmation.message}</p>
      <div className="row">
        <button
          type="button"
          className="danger"
          onClick={() => {
            onClose();
            confirmation.onConfirm();
          }}
        >
          {confirmation.confirmLabel}
        </button>
        <button
          type="button"
          className="secondary"
          ref={cancel}
          onClick={() => {
            onClose();
            confirmation.onCancel?.();
          }}
        >
          Cancel
        </button>
      </div>
    </div>
  );
}
