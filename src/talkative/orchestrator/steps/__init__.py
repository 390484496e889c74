"""One executor per step kind, behind `StepExecutor` (base.py); the worker looks them up by kind."""
