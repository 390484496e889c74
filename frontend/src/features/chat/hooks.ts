import { useMemo, useRef } from "react";
import type { StreamEvent } from "../../api/sse";
import { useEventStream } from "../events/hooks/useEventStream";
import { useOlderEvents } from "../events/hooks/useOlderEvents";
import { mergeById } from "../events/history";
import { messageEvents } from "./turns";

/** Messages per page of the chat's history. */
export const CHAT_PAGE = 20;

/**
 * The agent's messages from the store (newest page on open, older ones on demand), then those
 * the live stream brings; merged by event id, oldest first. Live messages are kept here even
 * after the app's event log drops them (it keeps only its newest events).
 */
export function useChatHistory(agentId: string) {
  const { log } = useEventStream();
  const paging = useOlderEvents({ agentId, type: "MESSAGE_RECEIVED", limit: CHAT_PAGE }, undefined);
  const heard = useRef<StreamEvent[]>([]);
  const live = useMemo(() => {
    heard.current = mergeById(heard.current, messageEvents(log.events, agentId));
    return heard.current;
  }, [log.events, agentId]);
  const events = useMemo(() => mergeById(paging.events, live), [paging.events, live]);
  return { events, paging, loaded: paging.pages > 0 || paging.error !== null };
}
