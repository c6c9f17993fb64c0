"""A reward model: a Hugging Face backbone with a scalar head, its tokenizer, and how to read it.

    model = RewardModel.from_backbone("minilm")            # or a hub name / local directory
    model.save("out/model")                                 # transformers-loadable + rewardkit.json
    model = RewardModel.load("out/model")
    result = model.score(["What is 2+2?"], ["4"])           # raw and normalised scores

The network is ``AutoModelForSequenceClassification`` with one label, so the saved directory is
what plain ``transformers`` loads: its head is ``score`` for decoders (TRL's and vLLM's name)
and the architecture's own classifier for encoders. For decoders rewardkit reads the last real
token from the attention mask rather than searching for the pad token (see ``pooling``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rewardkit import __version__
from rewardkit.models.backbones import resolve_backbone
from rewardkit.models.inputs import Encoded, InputStyle, encode
from rewardkit.models.packing import segment_ids
from rewardkit.models.pooling import POOLINGS, Pooling, last_token, mean_tokens
from rewardkit.records import Text
from rewardkit.scoring import Scorer

INFO_FILE = "rewardkit.json"


@dataclass
class ModelInfo:
    """What ``rewardkit.json`` holds beside the weights."""

    backbone: str
    pooling: str
    input_style: str
    max_length: int
    head: str = "scalar"
    objectives: list[str] = field(default_factory=lambda: ["reward"])
    mean: float = 0.0
    std: float = 1.0
    chat_template: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    rewardkit_version: str = __version__


@dataclass
class ScoreResult:
    raw: list[float | None]
    normalized: list[float | None]
    too_long: list[bool]
    lengths: list[int]


class RewardModel(nn.Module):
    def __init__(self, network: Any, tokenizer: Any, info: ModelInfo) -> None:
        super().__init__()
        self.network = network
        self.tokenizer = tokenizer
        self.info = info

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def from_backbone(
        cls,
        name_or_path: str,
        pooling: Pooling = "auto",
        max_length: int = 512,
        trust_remote_code: bool = False,
    ) -> RewardModel:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        path = resolve_backbone(name_or_path)
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        network = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=1, trust_remote_code=trust_remote_code
        )
        return cls.from_network(network, tokenizer, pooling, max_length, backbone=name_or_path)

    @classmethod
    def from_network(
        cls,
        network: Any,
        tokenizer: Any,
        pooling: Pooling = "auto",
        max_length: int = 512,
        backbone: str = "custom",
    ) -> RewardModel:
        """Wraps a ``*ForSequenceClassification`` with one label (e.g. a tiny one built in code)."""
        decoder = hasattr(network, "score")
        if pooling == "auto":
            pooling = "last" if decoder else "cls"
        if pooling == "cls" and decoder:
            raise ValueError("'cls' pooling is for encoders; decoders read the last token")
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token  # safe: pooling reads the attention mask
        network.config.pad_token_id = tokenizer.pad_token_id
        style: InputStyle = "concat" if decoder else "pair"
        info = ModelInfo(
            backbone=backbone,
            pooling=pooling,
            input_style=style,
            max_length=max_length,
            chat_template=getattr(tokenizer, "chat_template", None),
        )
        return cls(network, tokenizer, info)

    @classmethod
    def load(cls, path: str | Path, trust_remote_code: bool = False) -> RewardModel:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = Path(path)
        info_path = path / INFO_FILE
        if not info_path.exists():
            raise FileNotFoundError(f"{path} is not a rewardkit model: no {INFO_FILE}")
        info = ModelInfo(**json.loads(info_path.read_text()))
        network = AutoModelForSequenceClassification.from_pretrained(
            path, trust_remote_code=trust_remote_code, use_safetensors=True
        )
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        network.eval()
        return cls(network, tokenizer, info)

    @classmethod
    def from_directory(cls, path: str | Path, max_length: int = 512) -> RewardModel:
        """A directory written by rewardkit (``rewardkit.json`` says how to read it), or a plain
        transformers ``*ForSequenceClassification`` directory with one label, read with
        ``max_length`` and the default pooling."""
        path = Path(path)
        if (path / INFO_FILE).exists():
            return cls.load(path)
        if (path / "config.json").exists():
            return cls.from_backbone(str(path), max_length=max_length)
        raise ValueError(f"{path}: neither a rewardkit model nor a transformers directory")

    def save(self, path: str | Path, card: str | None = None) -> None:
        """Safetensors weights, config and tokenizer (plain transformers loads them), plus
        ``rewardkit.json`` and a model card. LoRA adapters are merged into the weights first."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        network = self.network
        if hasattr(network, "merge_and_unload"):
            network = network.merge_and_unload()
        network.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
        (path / INFO_FILE).write_text(json.dumps(asdict(self.info), indent=1))
        if card is not None:
            (path / "README.md").write_text(card)

    # ---- the forward pass -------------------------------------------------------------------

    @property
    def is_decoder(self) -> bool:
        return self.info.input_style == "concat"

    def _transformers_model(self) -> Any:
        """The ``*ForSequenceClassification`` itself, under a peft wrapper if there is one."""
        network = self.network
        return network.get_base_model() if hasattr(network, "get_base_model") else network

    def head(self) -> nn.Module:
        for name in ("score", "classifier"):
            module = getattr(self._transformers_model(), name, None)
            if isinstance(module, nn.Module):
                return module
        raise ValueError("cannot find the scalar head (score or classifier)")

    def body(self) -> nn.Module:
        return self._transformers_model().base_model  # type: ignore[no-any-return]

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        read_rows: torch.Tensor | None = None,
        read_starts: torch.Tensor | None = None,
        read_ends: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Rewards, shape (B,): one per row of a padded batch, or one per read span of a packed
        batch (``packing.pack``: a 4D attention mask and ``read_*`` spans)."""
        optional = {"position_ids": position_ids, "token_type_ids": token_type_ids}
        kwargs = {k: v for k, v in optional.items() if v is not None}
        if read_rows is not None and read_starts is not None and read_ends is not None:
            device = input_ids.device.type
            if torch.is_autocast_enabled(device):  # a float32 mask would pull attention to fp32
                attention_mask = attention_mask.to(torch.get_autocast_dtype(device))
            hidden = self.body()(
                input_ids=input_ids, attention_mask=attention_mask, **kwargs
            ).last_hidden_state
            return self._read_spans(hidden, read_rows, read_starts, read_ends)
        if self.info.pooling == "cls":
            out = self.network(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
            return out.logits.squeeze(-1)  # type: ignore[no-any-return]
        hidden = self.body()(
            input_ids=input_ids, attention_mask=attention_mask, **kwargs
        ).last_hidden_state
        pool = last_token if self.info.pooling == "last" else mean_tokens
        return self.head()(pool(hidden, attention_mask)).squeeze(-1)  # type: ignore[no-any-return]

    @property
    def supports_packing(self) -> bool:
        """Packed rows need the reward read from spans: last token, mean, or a BERT-style
        first-token pooler and linear classifier; other encoder heads use padded batches."""
        if self.info.pooling in ("last", "mean"):
            return True
        return hasattr(self.body(), "pooler") and isinstance(self.head(), nn.Linear)

    def _read_spans(
        self, hidden: torch.Tensor, rows: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor
    ) -> torch.Tensor:
        if self.info.pooling == "last":
            vectors = hidden[rows, ends - 1]
        elif self.info.pooling == "mean":
            vectors = torch.stack(
                [
                    hidden[r, s:e].mean(dim=0)
                    for r, s, e in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True)
                ]
            )
        else:  # the encoder's own pooler on each sequence's first token, as its head does
            pooler: nn.Module = self.body().pooler  # type: ignore[assignment]
            vectors = pooler(hidden[rows, starts].unsqueeze(1))
            dropout = getattr(self._transformers_model(), "dropout", None)
            if isinstance(dropout, nn.Module):
                vectors = dropout(vectors)
        return self.head()(vectors).squeeze(-1)  # type: ignore[no-any-return]

    # ---- inputs and scoring -----------------------------------------------------------------

    def encode_parts(self, prompt: Text, response: Text) -> Encoded:
        """The shared prompt prefix (decoders) and the rest, as token ids."""
        return encode(self.tokenizer, self.info.input_style, prompt, response)  # type: ignore[arg-type]

    def encode(self, prompt: Text, response: Text) -> list[int]:
        return self.encode_parts(prompt, response).ids

    @property
    def uses_token_types(self) -> bool:
        """Sentence-pair encoders that embed segments (BERT) get the response marked as segment 1,
        exactly as ``tokenizer(prompt, response)`` does for a plain transformers user."""
        config = self._transformers_model().config
        return self.info.input_style == "pair" and getattr(config, "type_vocab_size", 0) > 1

    def collate(self, sequences: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
        """Right-padded ids and the attention mask (and segment ids) for token id lists."""
        width = max(len(s) for s in sequences)
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.full((len(sequences), width), pad, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, seq in enumerate(sequences):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        batch = {"input_ids": ids, "attention_mask": mask}
        if self.uses_token_types:
            batch["token_type_ids"] = segment_ids(ids, self.tokenizer.sep_token_id) * mask
        return batch

    def normalize(self, raw: float) -> float:
        return (raw - self.info.mean) / self.info.std

    @torch.no_grad()
    def score(
        self,
        prompts: Sequence[Text],
        responses: Sequence[Text],
        batch_tokens: int = 16384,
        progress: bool = False,
    ) -> ScoreResult:
        """Scores in input order. Batches hold up to ``batch_tokens`` (padded) tokens, formed in
        length order so little goes to padding. Inputs over ``max_length`` get no score and are
        flagged in ``too_long``: never cut silently."""
        if len(prompts) != len(responses):
            raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
        encoded = [self.encode(p, r) for p, r in zip(prompts, responses, strict=True)]
        too_long = [len(ids) > self.info.max_length for ids in encoded]
        kept = [i for i in range(len(encoded)) if not too_long[i]]
        rewards = self.rewards([encoded[i] for i in kept], batch_tokens, progress).tolist()
        raw: list[float | None] = [None] * len(encoded)
        for i, value in zip(kept, rewards, strict=True):
            raw[i] = value if math.isfinite(value) else None
        normalized = [None if r is None else self.normalize(r) for r in raw]
        return ScoreResult(raw, normalized, too_long, [len(ids) for ids in encoded])

    @torch.no_grad()
    def rewards(
        self, sequences: Sequence[Sequence[int]], batch_tokens: int = 16384, progress: bool = False
    ) -> torch.Tensor:
        """Raw rewards of token id sequences, in input order, in eval mode; batches hold up to
        ``batch_tokens`` padded tokens, formed in length order so little goes to padding."""
        from tqdm import tqdm

        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        out = torch.empty(len(sequences))
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        bar = tqdm(total=len(order), desc="scoring", unit=" items", disable=not progress)
        for batch in token_budget_batches(order, [len(s) for s in sequences], batch_tokens):
            inputs = self.collate([sequences[i] for i in batch])
            out[torch.tensor(batch)] = (
                self(**{k: v.to(device) for k, v in inputs.items()}).float().cpu()
            )
            bar.update(len(batch))
        bar.close()
        self.train(was_training)
        return out

    def as_scorer(
        self, batch_tokens: int = 16384, normalized: bool = True, progress: bool = False
    ) -> Scorer:
        """A plain ``Scorer``: normalised (or raw) scores, NaN for inputs over the length limit."""

        def scorer(prompts: Sequence[Text], responses: Sequence[Text]) -> list[float]:
            result = self.score(prompts, responses, batch_tokens, progress=progress)
            values = result.normalized if normalized else result.raw
            return [math.nan if s is None else s for s in values]

        return scorer


def token_budget_batches(
    order: Sequence[int], lengths: Sequence[int], budget: int
) -> list[list[int]]:
    """Consecutive runs of ``order`` whose padded size (count x longest) stays within budget;
    a single item longer than the budget still gets a batch of its own."""
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for index in order:
        width = max(longest, lengths[index])
        if current and width * (len(current) + 1) > budget:
            batches.append(current)
            current, width = [], lengths[index]
        current.append(index)
        longest = width
    if current:
        batches.append(current)
    return batches
