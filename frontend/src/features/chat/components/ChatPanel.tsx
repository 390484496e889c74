import { useMemo, useRef, useState, type FormEvent } from "react";
import { Panel } from "../../../components/ui/Panel";
import { useAgents } from "../../agents/queries";
import { useCan } from "../../auth/session";
import { OlderControl } from "../../events/components/OlderControl";
import { useKeepScroll } from "../../events/hooks/useKeepScroll";
import { chatAvailability, sendErrorText } from "../errors";
import { useChatHistory } from "../hooks";
import { useSendMessage } from "../queries";
import { chatTurns, type LocalSend } from "../turns";
import { ReplyView } from "./ReplyView";
import { StoppedNotice } from "./StoppedNotice";

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
  const history = useChatHistory(agentId);
  const [sends, setSends] = useState<LocalSend[]>([]);
  const [text, setText] = useState("");
  const nextId = useRef(0);
  const turns = useMemo(() => chatTurns(history.events, sends), [history.events, sends]);
  const box = useRef<HTMLDivElement>(null);
  const onScroll = useKeepScroll(box, turns, turns[0]?.key ?? null, history.paging.loadOlder);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const message = text.trim();
    if (!message || availability !== "ready") return;
    const localId = nextId.current++;
    const update = (change: Partial<LocalSend>) =>
      setSends((all) => all.map((s) => (s.localId === localId ? { ...s, ...change } : s)));
    setSends((all) => [...all, { localId, message }]);
    setText("");
    send.mutate(message, {
      onSuccess: (reply) => update({ reply }),
      onError: (err) => update({ error: sendErrorText(err) }),
    });
  };

  return (
    <div className="chat">
      <OlderControl paging={history.paging} what="messages" />
      <div className="transcript" aria-live="polite" ref={box} onScroll={(e) => onScroll(e.currentTarget)}>
        {turns.length === 0 && (
          <p className="muted">{history.loaded ? "No messages to this agent yet." : "Loading the conversation…"}</p>
        )}
        {turns.map((turn) => (
          <div key={turn.key} className="turn" data-testid="chat-turn">
            <p className="bubble mine">
              {turn.kind !== "message" && <span className="muted small">{turn.kind}: </span>}
              {turn.message}
            </p>
            {turn.runId && <ReplyView agentId={agentId} runId={turn.runId} reply={turn.reply} />}
            {turn.error && (
              <p className="error" role="alert">
                {turn.error}
              </p>
            )}
            {!turn.runId && !turn.error && <p className="muted">Waiting for the reply…</p>}
          </div>
        ))}
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
