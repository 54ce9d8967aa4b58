"""GX wiring: the context, one checkpoint per phase, result summaries."""
