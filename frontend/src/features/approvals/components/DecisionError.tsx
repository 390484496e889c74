import { decisionErrorText } from "../inbox";
import { useDecisionError } from "../queries";

/** The reason the latest decision on a request was refused (409 already decided, ...), in words. */
export function DecisionError({ approvalId }: { approvalId: string }) {
  const error = useDecisionError(approvalId);
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {decisionErrorText(error)}
    </p>
  );
}
