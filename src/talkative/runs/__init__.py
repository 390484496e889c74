"""Runs: the data of agent work (runs, steps, commands) and the rules that change it."""
