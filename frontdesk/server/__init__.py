"""The clinic server: a FastAPI hub that reconciles every desk (ARCHITECTURE.md, Sync)."""
