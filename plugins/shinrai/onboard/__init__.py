"""Onboarding a real workspace: ``shinrai check`` (read-only probes of the live sites against the
configuration) and ``shinrai run`` (the nightly job once against the configured sources)."""
