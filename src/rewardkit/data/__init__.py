"""Preference data: readers, format converters, validation, statistics, splits and writers."""

from rewardkit.data.formats import FORMATS, detect_format, split_hh, split_shared_prompt
from rewardkit.data.issues import REASONS, DataError, Issue, Location, Report
from rewardkit.data.load import ReadOptions, RecordStream, read_pairs, read_records
from rewardkit.data.split import is_eval, prompt_bucket
from rewardkit.data.stats import DataStats, compute_stats
from rewardkit.data.validation import TokenCounter, Validator
from rewardkit.data.writers import atomic_path, write_records

__all__ = [
    "FORMATS",
    "REASONS",
    "DataError",
    "DataStats",
    "Issue",
    "Location",
    "ReadOptions",
    "RecordStream",
    "Report",
    "TokenCounter",
    "Validator",
    "atomic_path",
    "compute_stats",
    "detect_format",
    "is_eval",
    "prompt_bucket",
    "read_pairs",
    "read_records",
    "split_hh",
    "split_shared_prompt",
    "write_records",
]
