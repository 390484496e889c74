import { useEffect, useRef, useState, type FormEvent } from "react";
import { Panel } from "../../../components/ui/Panel";
import { useAgents } from "../../agents/queries";
import { useCan } from "../../auth/session";
import { chatAvailability, sendErrorText } from "../errors";
import { useSendMessage, type MessageReply } from "../queries";
import { ReplyView } from "./ReplyView";
import { StoppedNotice } from "./StoppedNotice";

interface Turn {
  id: number;
  message: string;
  reply?: MessageReply;
  error?: string;
}

export function ChatPanel({ agentId }: { agentId: string | null }) {
  return (
    <Panel title={agentId ? `Chat with ${agentId}` : "Chat"} id="chat" className="area-chat">
      {agentId ? (
        <Conversation key={agentId} agentId={agentId} />
      ) : (
        <p className="muted">Select an agent to talk to it.</p>
      )}
    </Panel>
  );
}

function Conversation({ agentId }: { agentId: string }) {
  const canOperate = useCan("operate");
  const agents = useAgents();
  const availability = chatAvailability(agents.data?.find((a) => a.id === agentId)?.status, canOperate);
  const send = useSendMessage(agentId);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [text, setText] = useState("");
  const nextId = useRef(0);
  const bottom = useRef<HTMLDivElement>(null);

  // A block body: newer browsers return a Promise from scrollIntoView, and an effect may only
  // return a cleanup function.
  useEffect(() => {
    void bottom.current?.scrollIntoView?.({ block: "nearest" });
  }, [turns]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const message = text.trim();
    if (!message || availability !== "ready") return;
    const id = nextId.current++;
    setTurns((t) => [...t, { id, message }]);
    setText("");
    send.mutate(message, {
      onSuccess: (reply) => setTurns((t) => t.map((x) => (x.id === id ? { ...x, reply } : x))),
      onError: (err) => setTurns((t) => t.map((x) => (x.id === id ? { ...x, error: sendErrorText(err) } : x))),
    });
  };

  return (
    <div className="chat">
      <div className="transcript" aria-live="polite">
        {turns.length === 0 && <p className="muted">No messages yet in this session.</p>}
        {turns.map((turn) => (
          <div key={turn.id} className="turn">
            <p className="bubble mine">{turn.message}</p>
            {turn.reply && <ReplyView reply={turn.reply} />}
            {turn.error && (
              <p className="error" role="alert">
                {turn.error}
              </p>
            )}
            {!turn.reply && !turn.error && <p className="muted">Waiting for the reply…</p>}
          </div>
        ))}
        <div ref={bottom} />
      </div>
      {availability === "stopped" && <StoppedNotice agentId={agentId} />}
      {availability !== "read-only" ? (
        <form className="row" onSubmit={submit}>
          <input
            aria-label="Message"
            placeholder={
              availability === "stopped"
                ? "Start the agent to send it messages"
                : "Tell the agent what to do, e.g. “triage inbox now”"
            }
            value={text}
            onChange={(e) => setText(e.target.value)}
            maxLength={4000}
            disabled={availability !== "ready"}
          />
          <button type="submit" disabled={availability !== "ready" || send.isPending || !text.trim()}>
            {send.isPending ? "Sending…" : "Send"}
          </button>
        </form>
      ) : (
        <p className="muted small">Your role can read conversations but not send messages.</p>
      )}
    </div>
  );
}
