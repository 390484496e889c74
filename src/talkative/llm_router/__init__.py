"""LLM router: model selection rules, budgets, the usage ledger and provider plugins."""
