"""`rewardkit push`: upload a trained model directory to the Hugging Face Hub with its card.

    rewardkit push --model runs/rm/model --repo me/my-reward-model --private --eval runs/rm/eval

One commit holds the weights, tokenizer, ``rewardkit.json`` and the card (``models.card``: the
trainer's card, held-out accuracy with its interval, the ``rewardkit eval`` results beside the
length baselines, and how to load it in transformers, TRL and vLLM). The token is the one
``huggingface_hub`` finds (``HF_TOKEN``, or what `hf auth login` saved); ``HF_ENDPOINT`` names
another Hub. Load it back anywhere a model is taken: ``--model me/my-reward-model``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PushConfig:
    model: str = ""
    """A model directory written by `rewardkit train` (with rewardkit.json)."""
    repo: str = ""
    """The Hub repo to push to, OWNER/NAME; created if it does not exist."""
    private: bool = False
    """Create the repo private (an existing repo keeps its visibility)."""
    revision: str | None = None
    """The branch to push to; None: the default branch."""
    eval: str | None = None
    """A `rewardkit eval --output` directory whose results (with intervals and the length
    baselines) go into the card."""
    commit_message: str = "Upload a reward model trained with rewardkit"
    """The commit's message."""
    dry_run: str | None = None
    """Write the repo's files (the card included) to this directory instead of uploading: what
    the Hub would hold, loadable by path."""


def run(cfg: PushConfig) -> int:
    where = push_model(cfg)
    if cfg.dry_run is not None:
        print(f"wrote what {cfg.repo} would hold to {where}  (rewardkit score --model {where})")
    else:
        print(f"pushed {cfg.model} to {where}  (rewardkit score --model {cfg.repo} --data FILE)")
    return 0


def push_model(cfg: PushConfig) -> str:
    """Creates the repo if needed and commits the directory and its card; returns the commit URL."""
    from rewardkit.data.hub import HubUnavailable
    from rewardkit.models.card import hub_card

    model_dir = Path(cfg.model)
    if not (model_dir / "rewardkit.json").is_file():
        raise ValueError(f"--model {cfg.model!r}: not a model directory (no rewardkit.json)")
    check_repo(cfg.repo, cfg.dry_run is None)
    card = hub_card(model_dir, cfg.repo, Path(cfg.eval) if cfg.eval else None)
    if cfg.dry_run is not None:
        return _stage(model_dir, card, Path(cfg.dry_run))
    try:
        return _commit(cfg, model_dir, card)
    except Exception as exc:  # huggingface_hub and httpx raise many kinds: one line each
        raise HubUnavailable(f"cannot push to {cfg.repo}: {_reason(exc)}") from None


def check_repo(repo: str, upload: bool = True) -> None:
    """Before any work: a repo id, and (to upload) a Hub to reach."""
    from rewardkit.data.hub import HubUnavailable, hub_offline
    from rewardkit.models.backbones import is_hub_model

    if "@" in repo or not is_hub_model(repo):
        raise ValueError(f"repo {repo!r}: give a Hub repo id, OWNER/NAME")
    if upload and hub_offline():
        raise HubUnavailable(
            f"cannot push to {repo}: HF_HUB_OFFLINE is set; unset it (pushing needs the "
            "network) and log in with `hf auth login` or HF_TOKEN"
        )


def _files(model_dir: Path) -> list[Path]:
    """Everything in the directory but the trainer's card, which the Hub card replaces."""
    return sorted(p for p in model_dir.rglob("*") if p.is_file() and p.name != "README.md")


def _stage(model_dir: Path, card: str, target: Path) -> str:
    import shutil

    for path in _files(model_dir):
        (target / path.relative_to(model_dir)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / path.relative_to(model_dir))
    (target / "README.md").write_text(card)
    return str(target)


def _commit(cfg: PushConfig, model_dir: Path, card: str) -> str:
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT"))  # read now: a mirror set after import
    # None, not False: an organisation whose repos are private by default keeps its default
    api.create_repo(cfg.repo, private=cfg.private or None, exist_ok=True)
    operations = [
        CommitOperationAdd(path_in_repo=p.relative_to(model_dir).as_posix(), path_or_fileobj=p)
        for p in _files(model_dir)
    ]
    operations.append(CommitOperationAdd("README.md", card.encode("utf-8")))
    info = api.create_commit(
        cfg.repo, operations, commit_message=cfg.commit_message, revision=cfg.revision
    )
    return str(info.commit_url)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300] or type(exc).__name__
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403):
        return f"{text} (log in with `hf auth login` or set HF_TOKEN, with write access)"
    return text
