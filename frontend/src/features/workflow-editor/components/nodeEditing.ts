import { createContext, useContext } from "react";

/** What the graph's node components need from the editor: in-place renaming. */
export interface NodeEditing {
  editable: boolean;
  editingId: string | null;
  /** `name` null = cancelled. */
  finishRename: (id: string, name: string | null) => void;
}

export const NodeEditingContext = createContext<NodeEditing>({
  editable: false,
  editingId: null,
  finishRename: () => undefined,
});

export function useNodeEditing(): NodeEditing {
  return useContext(NodeEditingContext);
}
