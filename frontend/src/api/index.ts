import { tokenStore } from "../lib/session";
import { createApiClient } from "./client";

let unauthorizedHandler: (message: string) => void = () => undefined;

/** The session provider registers how to go back to sign-in; the client calls it once per 401. */
export function setUnauthorizedHandler(handler: (message: string) => void): void {
  unauthorizedHandler = handler;
}

export const api = createApiClient({
  getToken: () => tokenStore.get(),
  clearToken: () => tokenStore.clear(),
  onUnauthorized: (message) => unauthorizedHandler(message),
});
