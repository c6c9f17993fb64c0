"""Evaluate any scorer on suites of pairs and best-of-K prompts: metrics, reports and plots."""
