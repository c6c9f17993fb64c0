from rewardkit.data.names import distinct_names, without_suffixes


def test_names_that_repeat_take_their_directory_then_their_path() -> None:
    paths = ["runs/hh/eval.jsonl.gz", "runs/oasst/eval.jsonl", "a/x/pairs.jsonl", "b/x/pairs.jsonl"]
    stems = [without_suffixes(p.rsplit("/", 1)[-1]) for p in paths]
    assert stems == ["eval", "eval", "pairs", "pairs"]
    assert distinct_names(stems, paths) == ["hh/eval", "oasst/eval", *paths[2:]]
    assert distinct_names(["hh", "oasst"], ["1.jsonl", "2.jsonl"]) == ["hh", "oasst"]
