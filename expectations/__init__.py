"""Expectation suites, one module per phase. Suites only declare expectations."""
