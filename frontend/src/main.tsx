import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router-dom";
import { ConnectionBanner } from "./app/ConnectionBanner";
import { Providers } from "./app/providers";
import { router } from "./app/router";
import { SessionGate } from "./features/auth/session";
import { LinkedApprovalPage } from "./features/approvals/ApprovalPage";
import { takeApprovalLink } from "./features/approvals/link";
import { consumeLoginLink } from "./lib/session";
import { applyTheme, resolveTheme, systemPrefersDark, themeStore } from "./lib/theme";
import "./styles.css";

// An emailed approval link (`/approvals/<id>#token=<jwt>`) opens that approval alone, with its
// token in memory only: it is taken out of the address bar and never becomes the session.
const approvalLink = takeApprovalLink();
// The login link (`/#token=<jwt>`) signs in: keep the token, strip it from the address bar.
if (!approvalLink) consumeLoginLink();
// Before the first paint, so a dark system never flashes a light page (the header's toggle then keeps it).
applyTheme(resolveTheme(themeStore.get(), systemPrefersDark()));

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Providers>
      <ConnectionBanner />
      {approvalLink ? (
        <LinkedApprovalPage approvalId={approvalLink.approvalId} token={approvalLink.token} />
      ) : (
        <SessionGate>
          <RouterProvider router={router} />
        </SessionGate>
      )}
    </Providers>
  </StrictMode>,
);
