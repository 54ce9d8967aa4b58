"""Entry points: the CLI (and later an HTTP handler for phase-complete events)."""
