"""UI: serves the built web app at `/` (a minimal sign-in page until the frontend is built)."""
