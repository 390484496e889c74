import { render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConnectionBanner } from "./ConnectionBanner";
import { Providers } from "./providers";

describe("connection banner", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("shows while /health cannot be reached and goes when it answers", async () => {
    let up = false;
    const fetchMock = vi.fn(async () => {
      if (!up) throw new TypeError("Failed to fetch");
      return new Response(JSON.stringify({ status: "ok" }), { status: 200 });
    });
    vi.stubGlobal("fetch", fetchMock);
    render(
      <Providers>
        <ConnectionBanner />
      </Providers>,
    );
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot reach the server");
    expect(fetchMock).toHaveBeenCalledWith("/health", expect.anything());
    up = true;
    // Probed every 2 s while the server is away.
    await waitFor(() => expect(screen.queryByRole("alert")).not.toBeInTheDocument(), { timeout: 6_000 });
  });
});
