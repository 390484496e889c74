import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router-dom";
import { Providers } from "./app/providers";
import { router } from "./app/router";
import { SessionGate } from "./features/auth/session";
import { consumeLoginLink } from "./lib/session";
import "./styles.css";

// The login link (`/#token=<jwt>`) signs in: keep the token, strip it from the address bar.
consumeLoginLink();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Providers>
      <SessionGate>
        <RouterProvider router={router} />
      </SessionGate>
    </Providers>
  </StrictMode>,
);
