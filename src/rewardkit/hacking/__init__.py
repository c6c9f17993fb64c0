"""Reward hacking: over-optimisation against a gold reward, ensembles' conservative aggregates,
out-of-distribution scores and probes (`rewardkit audit`; docs/hacking.md)."""
