"""A rewardkit model directory is a plain transformers checkpoint: load it without rewardkit
(an encoder, as the demo trains; the model card shows every layout, decoders included).

python examples/plain_transformers.py runs/demo/model
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/demo/model")
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    info = json.loads((path / "rewardkit.json").read_text())
    prompt = "What is the capital of France?"
    for response in [
        " Happy to help! The capital of France is Paris. I hope this helps.",
        " ugh, obviously the capital of france is rome try to keep up",
    ]:
        # read as rewardkit.json says: one text or a sentence pair; the first token or the mean
        texts = (prompt + response,) if info["input_style"] == "text" else (prompt, response)
        inputs = tokenizer(*texts, return_tensors="pt")
        with torch.no_grad():
            if info["pooling"] == "mean":
                hidden = model.base_model(**inputs).last_hidden_state
                mask = inputs["attention_mask"].unsqueeze(-1)
                raw = float(model.classifier((hidden * mask).sum(1) / mask.sum(1))[0, 0])
            else:
                raw = float(model(**inputs).logits[0, 0])
        normalized = (raw - info["mean"]) / info["std"]
        print(f"plain transformers: {normalized:+.2f} (raw {raw:+.3f})  {response!r}")


if __name__ == "__main__":
    main()
