"""rewardkit: reward modeling from preference data. Importing it loads no torch."""

__version__ = "0.1.0"
