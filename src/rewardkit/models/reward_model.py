"""A reward model: a Hugging Face backbone with a head, its tokenizer, and how to read it.

    model = RewardModel.from_backbone("minilm")            # or a hub name / local directory
    model.save("out/model")                                 # transformers-loadable + rewardkit.json
    model = RewardModel.load("out/model")
    result = model.score(["What is 2+2?"], ["4"])           # raw and normalised scores

The network is ``AutoModelForSequenceClassification`` with one label per output (token
classification for per-step heads: see ``heads``), so the saved directory is what plain
``transformers`` loads: its head is ``score`` for decoders (TRL's and vLLM's name) and the
architecture's own classifier for encoders. For decoders rewardkit reads the last real token
from the attention mask rather than searching for the pad token (see ``pooling``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rewardkit import __version__
from rewardkit.losses import Outputs
from rewardkit.models.attention import SPAN_ATTENTION, use_span_attention
from rewardkit.models.backbones import resolve_backbone
from rewardkit.models.gate import GATE_FILE, Gate, load_gate, prompt_weights, save_gate
from rewardkit.models.heads import (
    HeadKind,
    StepAggregate,
    aggregate_steps,
    default_objectives,
    head_kind,
)
from rewardkit.models.inputs import (
    ENCODER_LAYOUT,
    INPUT_STYLES,
    PLAIN_LAYOUT,
    Encoded,
    Fitted,
    InputStyle,
    Layout,
    TooLong,
    UnscorableText,
    encode,
    encode_plain,
    encode_steps,
    fit_prompt,
    split_steps,
)
from rewardkit.models.packing import PackStats, Unit, pack, pack_end_to_end, segment_ids
from rewardkit.models.pooling import ENCODER_POOLING, POOLINGS, Pooling, last_token, mean_tokens
from rewardkit.models.precision import autocast, cast_for_inference
from rewardkit.models.workers import cpu_workers, run_spread
from rewardkit.records import Text
from rewardkit.scoring import BATCH_TOKENS, Overflow, OverflowCounts, Precision

INFO_FILE = "rewardkit.json"


@dataclass
class ModelInfo:
    """What ``rewardkit.json`` holds beside the weights."""

    backbone: str
    pooling: str
    input_style: InputStyle
    max_length: int
    head: str = "scalar"
    """The head kind (``heads.HEADS``)."""
    objectives: list[str] = field(default_factory=lambda: ["reward"])
    """One name per output: objectives, ensemble members, or ["reward"] / ["step"]."""
    weights: list[float] | None = None
    """How an ``objectives`` head mixes its outputs into the score; None: their mean."""
    gate: str | None = None
    """A prompt-conditioned gate's file beside the weights (``models.gate``), which mixes an
    ``objectives`` head's outputs per prompt in place of ``weights``; None: no gate."""
    step_marker: str = "\n"
    """Per-step heads: the text that ends each step of a response."""
    step_aggregate: StepAggregate = "min"
    """Per-step heads: how a response's score comes from its steps (min, last, mean, prod)."""
    mean: float = 0.0
    std: float = 1.0
    chat_template: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    rewardkit_version: str = __version__


@dataclass
class ScoreResult:
    """Scores in input order, with the fields every head kind fills (None where it has none)."""

    raw: list[float | None]
    normalized: list[float | None]
    too_long: list[bool]
    lengths: list[int]
    objectives: list[dict[str, float] | None] | None = None
    """Per item, each named output (objectives heads and ensemble members)."""
    steps: list[list[float] | None] | None = None
    """Per item, each step's score (per-step heads)."""
    spread: list[float | None] | None = None
    """Per item, the members' standard deviation (ensembles)."""
    unscorable: dict[int, str] = field(default_factory=dict)
    """Items the head cannot read (e.g. a response with no step for a per-step head): no
    score, and why."""
    truncated: list[int] = field(default_factory=list)
    """Per item, the prompt tokens left out to fit the length limit (overflow=truncate_prompt)."""

    def head_fields(self, index: int) -> dict[str, Any]:
        """The head kind's own fields of one item (objectives, steps, spread), where it has them:
        what ``rewardkit score`` and the server add beside the score."""
        fields = {"objectives": self.objectives, "steps": self.steps, "spread": self.spread}
        return {name: values[index] for name, values in fields.items() if values is not None}

    def item(self, index: int) -> dict[str, Any]:
        """One item as JSON: its scores, length, flags, why it has no score (if so) and its head
        fields."""
        error = {"error": self.unscorable[index]} if index in self.unscorable else {}
        return {
            "raw": self.raw[index],
            "normalized": self.normalized[index],
            "tokens": self.lengths[index],
            "too_long": self.too_long[index],
            "truncated_tokens": self.truncated[index] if self.truncated else 0,
            **error,
            **self.head_fields(index),
        }


class RewardModel(nn.Module):
    def __init__(self, network: Any, tokenizer: Any, info: ModelInfo) -> None:
        super().__init__()
        self.network = network
        self.tokenizer = tokenizer
        self.info = info
        self.gate: Gate | None = None
        if info.input_style != "concat":  # encoders: packed rows without masks (``attention``)
            use_span_attention(network)

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def from_backbone(
        cls,
        name_or_path: str,
        pooling: Pooling = "auto",
        max_length: int = 512,
        trust_remote_code: bool = False,
        head: str = "scalar",
        objectives: Sequence[str] | None = None,
        layout: Layout = "auto",
    ) -> RewardModel:
        """A new model on a backbone, with a freshly initialised head of the given kind (one
        output per name in ``objectives``; default names from ``heads.default_objectives``)."""
        import transformers

        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        kind = head_kind(head)
        names = list(objectives) if objectives else default_objectives(head)
        path = resolve_backbone(name_or_path)
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            path, trust_remote_code=trust_remote_code
        )
        network = getattr(transformers, kind.auto_class).from_pretrained(
            path,
            num_labels=len(names),
            id2label=dict(enumerate(names)),
            label2id={n: i for i, n in enumerate(names)},
            # a backbone saved with another head (e.g. a scalar reward model) gets a fresh one
            ignore_mismatched_sizes=True,
            trust_remote_code=trust_remote_code,
            dtype=torch.float32,  # training keeps fp32 weights, whatever the checkpoint holds
        )
        return cls.from_network(
            network, tokenizer, pooling, max_length, name_or_path, head, names, layout
        )

    @classmethod
    def from_network(
        cls,
        network: Any,
        tokenizer: Any,
        pooling: Pooling = "auto",
        max_length: int = 512,
        backbone: str = "custom",
        head: str = "scalar",
        objectives: Sequence[str] | None = None,
        layout: Layout = "auto",
    ) -> RewardModel:
        """Wraps a ``*ForSequenceClassification`` (``*ForTokenClassification`` for per-step
        heads) with one label per objective, e.g. a tiny one built in code. ``layout`` is the
        encoders' input layout (``inputs``); decoders always read prompt then response."""
        head_kind(head)
        names = list(objectives) if objectives else default_objectives(head)
        if network.config.num_labels != len(names):
            raise ValueError(
                f"the network has {network.config.num_labels} outputs but the head names "
                f"{len(names)}: {names}"
            )
        decoder = hasattr(network, "score")
        if pooling == "auto":  # encoders: the mean, as sentence encoders are trained (measured)
            pooling = "last" if decoder else ENCODER_POOLING
        if pooling == "cls" and decoder:
            raise ValueError("'cls' pooling is for encoders; decoders read the last token")
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token  # safe: pooling reads the attention mask
        network.config.pad_token_id = tokenizer.pad_token_id
        if decoder and layout != "auto":
            raise ValueError(f"layout {layout!r} is for encoders; decoders read prompt + response")
        style: InputStyle = "concat" if decoder else ENCODER_LAYOUT if layout == "auto" else layout
        info = ModelInfo(
            backbone=backbone,
            pooling=pooling,
            input_style=style,
            max_length=max_length,
            head=head,
            objectives=names,
            chat_template=getattr(tokenizer, "chat_template", None),
        )
        return cls(network, tokenizer, info)

    @classmethod
    def load(
        cls, path: str | Path, trust_remote_code: bool = False, precision: Precision = "auto"
    ) -> RewardModel:
        """A saved model, for scoring: its weights in bf16 where ``precision`` asks for it
        (``auto``: where bf16 is fast, ``models.precision``); ``precision="fp32"`` to train it
        further or to score in fp32."""
        import transformers

        path = Path(resolve_backbone(str(path)))  # a Hub id: its files in the local cache
        info_path = path / INFO_FILE
        if not info_path.exists():
            raise FileNotFoundError(f"{path} is not a rewardkit model: no {INFO_FILE}")
        info = ModelInfo(**json.loads(info_path.read_text()))
        if info.input_style not in INPUT_STYLES:
            raise ValueError(
                f"{path}: input_style {info.input_style!r} is unknown to rewardkit "
                f"{__version__} (it knows {INPUT_STYLES}); the model may need a newer version"
            )
        network = getattr(transformers, head_kind(info.head).auto_class).from_pretrained(
            path, trust_remote_code=trust_remote_code, use_safetensors=True
        )
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            path, trust_remote_code=trust_remote_code
        )
        network.eval()
        model = cls(network, tokenizer, info)
        model.cast_for_scoring(precision)
        if info.gate is not None:
            model.gate = load_gate(path / info.gate)
        return model

    @classmethod
    def from_directory(
        cls, path: str | Path, max_length: int = 512, precision: Precision = "auto"
    ) -> RewardModel:
        """A directory written by rewardkit (``rewardkit.json`` says how to read it), or a plain
        transformers ``*ForSequenceClassification`` directory with one label, read with
        ``max_length`` as transformers' own head reads it (encoders: the first token, and the
        sentence-pair layout most published encoder reward models take); for scoring, in
        ``precision`` as ``load`` reads it."""
        path = Path(resolve_backbone(str(path)))  # or a Hub id
        if (path / INFO_FILE).exists():
            return cls.load(path, precision=precision)
        if (path / "config.json").exists():
            model = cls.from_backbone(str(path), max_length=max_length)
            if not model.is_decoder:  # read as transformers' own head reads it
                model.info.input_style, model.info.pooling = PLAIN_LAYOUT, "cls"
            model.network.eval()
            model.cast_for_scoring(precision)
            return model
        raise ValueError(f"{path}: neither a rewardkit model nor a transformers directory")

    def cast_for_scoring(self, precision: Precision) -> None:
        """The body in bf16 where ``precision`` asks for it (``cast_for_inference``), the head in
        fp32: it is a sliver of the compute, and bf16 outputs step by 1/128 of their size, which
        turns near-tied responses into exact ties (a tie counts wrong). First-token heads stay in
        the body's dtype: on padded batches transformers runs them inside the network."""
        cast_for_inference(self.network, precision)
        if self.info.pooling != "cls":
            self.head().float()

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
        if self.gate is not None:  # beside the weights, so plain transformers loads them still
            save_gate(self.gate, path / GATE_FILE)
        self.info.gate = None if self.gate is None else GATE_FILE
        (path / INFO_FILE).write_text(json.dumps(asdict(self.info), indent=1))
        if card is not None:
            (path / "README.md").write_text(card)

    # ---- the forward pass -------------------------------------------------------------------

    @property
    def kind(self) -> HeadKind:
        return head_kind(self.info.head)

    @property
    def is_decoder(self) -> bool:
        return self.info.input_style == "concat"

    def _transformers_model(self) -> Any:
        """The transformers model itself, under a peft wrapper if there is one."""
        network = self.network
        return network.get_base_model() if hasattr(network, "get_base_model") else network

    def head(self) -> nn.Module:
        for name in ("score", "classifier"):
            module = getattr(self._transformers_model(), name, None)
            if isinstance(module, nn.Module):
                return module
        raise ValueError("cannot find the head (score or classifier)")

    def body(self) -> nn.Module:
        return self._transformers_model().base_model  # type: ignore[no-any-return]

    @contextmanager
    def head_inputs(self, instead: bool = False) -> Iterator[list[torch.Tensor]]:
        """Collects the pooled vectors the head reads in each forward pass within it, (R, H)
        each: the representation out-of-distribution scores measure (``models.ood``). With
        ``instead`` the network returns them in place of the head's outputs, so ``unit_outputs``
        gives each item's features in input order."""
        seen: list[torch.Tensor] = []

        def hook(_: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> torch.Tensor:
            vectors = args[0] if args[0].dim() == 2 else args[0][:, 0]  # heads that pool inside
            seen.append(vectors)
            return vectors if instead else out

        handle = self.head().register_forward_hook(hook)
        try:
            yield seen
        finally:
            handle.remove()

    def scores(self, **inputs: torch.Tensor) -> torch.Tensor:
        """The score of each read, shape (R,): the head's outputs combined by its kind."""
        return self.kind.combine(self(**inputs), self.info.weights)

    def views(self, values: torch.Tensor) -> Outputs:
        """(R, K) outputs with the score and the ranked columns their head kind gives them."""
        kind, weights = self.kind, self.info.weights
        return Outputs(values, kind.combine(values, weights), kind.ranked(values, weights))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        read_rows: torch.Tensor | None = None,
        read_starts: torch.Tensor | None = None,
        read_ends: torch.Tensor | None = None,
        spans: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The head's outputs, shape (R, K): one row per row of a padded batch, or one per read
        span (``batch``: packed rows with a 4D attention mask, one row of sequences end to end
        bounded by ``spans`` with no mask, or marked positions). Called
        through the module (``model(**inputs)``) so that DDP and FSDP wrappers see it."""
        optional = {"position_ids": position_ids, "token_type_ids": token_type_ids}
        kwargs: dict[str, Any] = {k: v for k, v in optional.items() if v is not None}
        if spans is not None:  # sequences end to end in one row (``pack_end_to_end``)
            kwargs["spans"] = [tuple(span) for span in spans.tolist()]
        if read_rows is not None and read_starts is not None and read_ends is not None:
            device = input_ids.device.type
            if attention_mask is not None and attention_mask.dim() == 4:
                # a float32 mask would pull attention to fp32
                attention_mask = attention_mask.to(
                    torch.get_autocast_dtype(device)
                    if torch.is_autocast_enabled(device)
                    else self.weight_dtype
                )
            hidden = self.body()(
                input_ids=input_ids, attention_mask=attention_mask, **kwargs
            ).last_hidden_state
            return self._read_spans(hidden, read_rows, read_starts, read_ends)
        if attention_mask is None:  # a padded batch reads where its real tokens are
            raise ValueError("a padded batch needs its attention mask")
        if self.info.pooling == "cls":
            out = self.network(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
            return out.logits  # type: ignore[no-any-return]
        hidden = self.body()(
            input_ids=input_ids, attention_mask=attention_mask, **kwargs
        ).last_hidden_state
        pool = last_token if self.info.pooling == "last" else mean_tokens
        return self._head_on(pool(hidden, attention_mask))

    @property
    def supports_packing(self) -> bool:
        """Packed rows need the outputs read from spans: marked positions, last token, mean,
        or a BERT-style first-token pooler and linear classifier; other encoder heads use
        padded batches."""
        if self.kind.per_position or self.info.pooling in ("last", "mean"):
            return True
        return hasattr(self.body(), "pooler") and isinstance(self.head(), nn.Linear)

    def _read_spans(
        self, hidden: torch.Tensor, rows: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor
    ) -> torch.Tensor:
        if self.kind.per_position or self.info.pooling == "last":
            vectors = hidden[rows, ends - 1]
        elif self.info.pooling == "mean":
            # one averaging matmul over all reads: a slice per read would cost, in backward, a
            # zeroed gradient the size of the whole batch for each read
            width = hidden.shape[1]
            flat = torch.arange(hidden.shape[0] * width, device=hidden.device)
            first, end = rows * width + starts, rows * width + ends
            inside = (flat >= first[:, None]) & (flat < end[:, None])
            counts = (ends - starts).clamp(min=1)[:, None]
            vectors = (inside.to(hidden.dtype) / counts) @ hidden.reshape(-1, hidden.shape[-1])
        else:  # the encoder's own pooler on each sequence's first token, as its head does
            pooler: nn.Module = self.body().pooler  # type: ignore[assignment]
            vectors = pooler(hidden[rows, starts].unsqueeze(1))
        dropout = getattr(self._transformers_model(), "dropout", None)
        if isinstance(dropout, nn.Module) and (
            self.kind.per_position or self.info.pooling == "cls"
        ):
            vectors = dropout(vectors)  # as the transformers head does before its classifier
        return self._head_on(vectors)

    def _head_on(self, vectors: torch.Tensor) -> torch.Tensor:
        """The head's outputs (R, K) for pooled vectors (R, H). Heads that read a sequence's
        first token themselves (RoBERTa's, ELECTRA's) get each vector as a one-token sequence."""
        head = self.head()
        # the head's own dtype, outside autocast: fp32 scores step finely (``cast_for_scoring``)
        with torch.autocast(vectors.device.type, enabled=False):
            vectors = vectors.to(next(head.parameters()).dtype)
            if isinstance(head, nn.Linear):
                return head(vectors)  # type: ignore[no-any-return]
            out: torch.Tensor = head(vectors.unsqueeze(1))
        return out.squeeze(1) if out.dim() == 3 else out

    # ---- inputs and batches -----------------------------------------------------------------

    def encode_parts(self, prompt: Text, response: Text) -> Encoded:
        """The shared prefix (decoders), the rest, and for per-step heads each step's mark
        (the response cut into steps at the step marker)."""
        if self.kind.per_position:
            return self.encode_steps(prompt, split_steps(response, self.info.step_marker))
        return encode(self.tokenizer, self.info.input_style, prompt, response)

    def encode_steps(self, prompt: Text, steps: list[str]) -> Encoded:
        if not self.kind.per_position:
            raise ValueError(f"steps are read by a per-step head ('steps'), not {self.info.head!r}")
        marker = self.info.step_marker
        return encode_steps(self.tokenizer, self.info.input_style, prompt, steps, marker)

    def encode_within(
        self,
        prompt: Text,
        responses: Sequence[Text],
        overflow: Overflow = "flag",
        limit: int | None = None,
    ) -> Fitted:
        """The responses with the prompt within ``limit`` tokens (``max_length`` by default), by
        the overflow policy, each fitted on its own as ``score`` fits it; raises ``TooLong``."""
        return fit_prompt(
            self.tokenizer,
            self.info.input_style,
            self.encode_parts,
            prompt,
            responses,
            limit or self.info.max_length,
            overflow,
        )

    def encode_many(
        self, prompts: Sequence[Text], responses: Sequence[Text]
    ) -> list[Encoded | UnscorableText]:
        """``encode_parts`` of many items (what the head cannot read: its error), plain-text
        items in one batched tokenizer call."""
        texts = [*prompts, *responses]
        if not self.kind.per_position and all(isinstance(t, str) for t in texts):
            return list(encode_plain(self.tokenizer, self.info.input_style, prompts, responses))  # type: ignore[arg-type]
        out: list[Encoded | UnscorableText] = []
        for prompt, response in zip(prompts, responses, strict=True):
            try:
                out.append(self.encode_parts(prompt, response))
            except UnscorableText as exc:
                out.append(exc)
        return out

    def encode(self, prompt: Text, response: Text) -> list[int]:
        return self.encode_parts(prompt, response).ids

    def unit(self, encoded: Encoded) -> Unit:
        """One scored sequence as a batch unit."""
        marks = None if encoded.marks is None else [encoded.marks]
        return Unit(encoded.prefix, [encoded.rest], marks)

    @property
    def weight_dtype(self) -> torch.dtype:
        """fp32 for training; bf16 once ``load`` cast the weights for scoring."""
        dtype: torch.dtype = next(self.network.parameters()).dtype
        return dtype

    @property
    def spans_attention(self) -> bool:
        """Whether packed rows hold sequences end to end with no mask: span attention is (still)
        the network's attention, on a CPU (a GPU's fused kernels want padded batches)."""
        config = self._transformers_model().config
        on_cpu = next(self.parameters()).device.type == "cpu"
        return on_cpu and getattr(config, "_attn_implementation", None) == SPAN_ATTENTION

    @property
    def uses_token_types(self) -> bool:
        """Sentence-pair encoders that embed segments (BERT) get the response marked as segment 1,
        exactly as ``tokenizer(prompt, response)`` does for a plain transformers user."""
        config = self._transformers_model().config
        return self.info.input_style == "pair" and getattr(config, "type_vocab_size", 0) > 1

    @property
    def first_position(self) -> int:
        """The position id a sequence starts at: 0, or for RoBERTa-style embeddings (which
        count positions from after the pad id) ``padding_idx + 1``, as they do themselves."""
        table = getattr(getattr(self.body(), "embeddings", None), "position_embeddings", None)
        padding_idx = getattr(table, "padding_idx", None)
        return 0 if padding_idx is None else int(padding_idx) + 1

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

    def batch(
        self, units: Sequence[Unit], packed: bool = True
    ) -> tuple[dict[str, torch.Tensor], PackStats]:
        """The tensors ``outputs`` reads, in unit, branch and mark order: packed rows where the
        model supports them (decoders reading the last token share each prefix between its
        branches), padded rows otherwise; both give the same outputs."""
        if packed and self.supports_packing and self.spans_attention:
            config = self._transformers_model().config
            return pack_end_to_end(
                [u for unit in units for u in unit.unshared()],
                self.tokenizer.sep_token_id if self.uses_token_types else None,
                token_types=getattr(config, "type_vocab_size", 0) > 0,
                pad_id=self.tokenizer.pad_token_id or 0,
            )
        if packed and self.supports_packing:
            shares_prefix = self.is_decoder and (
                self.kind.per_position or self.info.pooling == "last"
            )
            flat = units if shares_prefix else [u for unit in units for u in unit.unshared()]
            sep_id = self.tokenizer.sep_token_id if self.uses_token_types else None
            pad_id = self.tokenizer.pad_token_id or 0
            return pack(flat, self.is_decoder, pad_id, sep_id, self.first_position)
        rows = [u for unit in units for u in unit.unshared()]
        inputs = self.collate([u.branches[0] for u in rows])
        if any(u.marks is not None for u in rows):
            spans = [(r, s, e) for r, u in enumerate(rows) for s, e in u.reads(0, 0)]
            inputs["read_rows"], inputs["read_starts"], inputs["read_ends"] = (
                torch.tensor(column) for column in zip(*spans, strict=True)
            )
        real = sum(len(u.branches[0]) for u in rows)
        return inputs, PackStats(real, real, inputs["input_ids"].numel())

    # ---- scoring ----------------------------------------------------------------------------

    def normalize(self, raw: float) -> float:
        return (raw - self.info.mean) / self.info.std

    @torch.no_grad()
    def score(
        self,
        prompts: Sequence[Text],
        responses: Sequence[Text],
        batch_tokens: int = BATCH_TOKENS,
        progress: bool = False,
        overflow: Overflow = "flag",
        precision: Precision = "auto",
    ) -> ScoreResult:
        """Scores in input order, with per-objective, per-step and spread fields as the head
        kind has them. An input over ``max_length`` is flagged in ``too_long`` with no score
        (``overflow="flag"``) or scored with its prompt shortened (``"truncate_prompt"``: the
        tokens left out in ``truncated``); never cut silently. ``precision="auto"`` runs bf16
        where it is fast (``models.precision``); a model ``load`` cast to bf16 scores in bf16."""
        if len(prompts) != len(responses):
            raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
        unscorable: dict[int, str] = {}
        encoded = self.encode_many(prompts, responses)
        too_long, truncated, lengths = [], [], []
        for i, item in enumerate(encoded):
            dropped = length = 0
            if isinstance(item, UnscorableText):
                unscorable[i] = str(item)
                encoded[i] = Encoded([], [])
            elif len(item.ids) <= self.info.max_length:
                length = len(item.ids)
            else:
                try:
                    fitted = self.encode_within(prompts[i], [responses[i]], overflow)
                    encoded[i], dropped = fitted.encoded[0], fitted.dropped
                except TooLong:
                    pass
                length = len(item.ids)
            too_long.append(length > self.info.max_length and not dropped)
            truncated.append(dropped)
            lengths.append(length)
        kept = [i for i in range(len(encoded)) if not too_long[i] and i not in unscorable]
        units = [self.unit(encoded[i]) for i in kept]  # type: ignore[arg-type]
        values = self.unit_outputs(units, batch_tokens, progress, precision)
        result = ScoreResult(
            [None] * len(encoded), [], too_long, lengths, unscorable=unscorable, truncated=truncated
        )
        for name in self.head_field_names:
            setattr(result, name, [None] * len(encoded))
        mixes = self.gate_weights([prompts[i] for i in kept])
        for i, out, mix in zip(kept, values, mixes, strict=True):
            value, fields = self.summarize(out, mix)
            result.raw[i] = value if math.isfinite(value) else None
            for name, field_value in fields.items():
                getattr(result, name)[i] = field_value
        result.normalized = [None if r is None else self.normalize(r) for r in result.raw]
        return result

    @property
    def head_field_names(self) -> tuple[str, ...]:
        """The ``ScoreResult`` fields this model's head fills besides the score."""
        if self.kind.per_position:
            return ("steps",)
        names = ("objectives",) if len(self.info.objectives) > 1 else ()
        return names + (("spread",) if self.kind.spread else ())

    def gate_weights(self, prompts: Sequence[Text]) -> list[list[float] | None]:
        """Each prompt's combination weights from the gate; None each without a gate."""
        if self.gate is None:
            return [None] * len(prompts)
        return prompt_weights(self, self.gate, prompts).tolist() if prompts else []

    def summarize(
        self, out: torch.Tensor, weights: Sequence[float] | None = None
    ) -> tuple[float, dict[str, Any]]:
        """One item's score from its (reads, K) outputs, and its ``head_field_names``: what
        scoring and the server return. ``weights`` (the gate's for this item's prompt) replace
        the model's fixed ones."""
        out = out.double()
        combined = self.kind.combine(out, self.info.weights if weights is None else weights)
        if self.kind.per_position:
            steps = combined.tolist()
            return aggregate_steps(steps, self.info.step_aggregate), {"steps": steps}
        fields = {
            "objectives": dict(zip(self.info.objectives, out[0].tolist(), strict=True)),
            "spread": float(out[0].std()) if out.shape[1] > 1 else 0.0,
        }
        return float(combined[0]), {name: fields[name] for name in self.head_field_names}

    def split_reads(self, values: torch.Tensor, units: Sequence[Unit]) -> list[torch.Tensor]:
        """A batch's (R, K) outputs cut into each unit's reads, in unit order."""
        return list(torch.split(values, [_reads(u) for u in units]))

    @torch.no_grad()
    def unit_outputs(
        self,
        units: Sequence[Unit],
        batch_tokens: int = BATCH_TOKENS,
        progress: bool = False,
        precision: Precision = "auto",
        workers: int | None = None,
    ) -> list[torch.Tensor]:
        """Each unit's head outputs, (reads, K), in input order, in eval mode; batches hold up
        to ``batch_tokens`` padded tokens, formed in length order so little goes to padding.
        ``precision``: as ``models.precision.autocast`` (a model ``load`` cast to bf16 runs in
        bf16; asking it for fp32 is an error). ``workers``: threads the batches are spread over
        (``models.workers``; None: two on a CPU)."""
        from tqdm import tqdm

        if precision == "fp32" and self.weight_dtype != torch.float32:
            raise ValueError(
                f"the weights are {self.weight_dtype} (loaded with precision 'auto' or 'bf16'): "
                "load the model with precision='fp32' for fp32 outputs"
            )

        widths = [u.longest for u in units]
        rows_per_unit = max((len(u.branches) for u in units), default=1)
        order = sorted(range(len(units)), key=lambda i: widths[i])
        out: list[torch.Tensor] = [torch.empty(0)] * len(units)
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        bar = tqdm(total=len(order), desc="scoring", unit=" items", disable=not progress)

        def run(batch: list[int]) -> None:
            # encoders: the sorted batch end to end, without padding or mask
            inputs, _ = self.batch([units[i] for i in batch], packed=self.spans_attention)
            with torch.no_grad(), autocast(device, precision, self.weight_dtype):
                values = self(**{k: v.to(device) for k, v in inputs.items()}).float().cpu()
            for i, chunk in zip(
                batch, values.split([_reads(units[i]) for i in batch]), strict=True
            ):
                out[i] = chunk
            bar.update(len(batch))

        batches = token_budget_batches(order, widths, batch_tokens // rows_per_unit)
        run_spread(run, batches, cpu_workers(device) if workers is None else workers)
        bar.close()
        self.train(was_training)
        return out

    def as_scorer(
        self,
        batch_tokens: int = BATCH_TOKENS,
        normalized: bool = True,
        progress: bool = False,
        overflow: Overflow = "flag",
    ) -> ModelScorer:
        """A plain ``Scorer``: normalised (or raw) scores, NaN for inputs over the length limit
        that the overflow policy leaves unscored (counted in its ``counts``)."""
        return ModelScorer(self, batch_tokens, normalized, progress, overflow)


@dataclass
class ModelScorer:
    """A reward model as a ``Scorer``, counting what its overflow policy did in the last call."""

    model: RewardModel
    batch_tokens: int = BATCH_TOKENS
    normalized: bool = True
    progress: bool = False
    overflow: Overflow = "flag"
    counts: OverflowCounts = field(default_factory=OverflowCounts)
    objectives: dict[str, list[float]] = field(default_factory=dict)
    """Heads with named outputs: each output's raw value per input of the last call (NaN where
    unscored), which evaluation reports per objective."""

    def __call__(self, prompts: Sequence[Text], responses: Sequence[Text]) -> list[float]:
        result = self.model.score(
            prompts, responses, self.batch_tokens, self.progress, self.overflow
        )
        self.counts = OverflowCounts(sum(result.too_long), sum(n > 0 for n in result.truncated))
        items = result.objectives or []
        self.objectives = {
            name: [math.nan if item is None else item[name] for item in items]
            for name in (self.model.info.objectives if items else [])
        }
        values = result.normalized if self.normalized else result.raw
        return [math.nan if s is None else s for s in values]


def _reads(unit: Unit) -> int:
    return sum(unit.read_counts())


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
