"""The desk's sync engine: transport, keychain, push/pull, snapshot and checks (no Qt)."""
