import type { Notice } from "../bubble";

/** What the operator should know about how a message was handled (tasks unmatched, dropped, ...). */
export function NoticeList({ notices }: { notices: Notice[] }) {
  if (notices.length === 0) return null;
  return (
    <ul className="reply-notices small" aria-label="Notices">
      {notices.map((n, i) => (
        <li key={`${n.code}-${i}`} className="notice reply-notice" data-code={n.code}>
          {n.message}
          {n.items && n.items.length > 0 && (
            <span className="muted">
              {" "}
              ({n.items.join(", ")}
              {n.count && n.count > n.items.length ? `, ${n.count - n.items.length} more` : ""})
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
