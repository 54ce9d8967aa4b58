"""The only package that knows engines: settings, table catalog, DuckDB / BigQuery engines, seed data."""
