"""Every kind of scorer behind the one protocol, on real files, models and a loopback server."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import tiny

from rewardkit.evaluation.scorers import resolve_scorer
from rewardkit.models.remote import RemoteScorer

PROMPTS = ["What is 2 plus 3?", "Say hi."]
RESPONSES = ["It is 5.", "Hello there, nice to meet you! How are you doing today?"]
LENGTHS = [float(len(r)) for r in RESPONSES]
QUERY_LENGTHS = [float(len(p + r)) for p, r in zip(PROMPTS, RESPONSES, strict=True)]


class RewardServer:
    """A real HTTP server on loopback speaking OpenRLHF's /get_reward, with scripted failures."""

    def __init__(self, failures: list[int]) -> None:
        self.failures = failures
        self.bodies: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.bodies.append(body)
                if owner.failures:
                    self.send_response(owner.failures.pop(0))
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                reply = json.dumps({"rewards": [float(len(q)) for q in body["query"]]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/get_reward"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[RewardServer]:
    running = RewardServer(list(getattr(request, "param", [])))
    yield running
    running.close()


def test_baselines() -> None:
    longer = resolve_scorer("baseline:longer")
    assert longer.baseline
    assert longer.score(PROMPTS, RESPONSES) == LENGTHS
    assert resolve_scorer("baseline:shorter").score(PROMPTS, RESPONSES) == [-x for x in LENGTHS]
    random = resolve_scorer("baseline:random").score
    assert random(PROMPTS, RESPONSES) == random(PROMPTS, RESPONSES)
    assert all(0 <= s < 1 for s in random(PROMPTS, RESPONSES))
    with pytest.raises(ValueError, match="unknown baseline 'best'"):
        resolve_scorer("baseline:best")


def test_remote_scorer_speaks_openrlhf_protocol(server: RewardServer) -> None:
    scorer = RemoteScorer(server.url, "openrlhf", batch_size=1)
    assert scorer(PROMPTS, RESPONSES) == QUERY_LENGTHS
    assert server.bodies[0] == {"query": [PROMPTS[0] + RESPONSES[0]], "prompts": [PROMPTS[0]]}
    assert resolve_scorer(server.url).score(PROMPTS[:1], RESPONSES[:1]) == QUERY_LENGTHS[:1]


@pytest.mark.parametrize("server", [[503, 429]], indirect=True)
def test_remote_scorer_retries_busy_answers(server: RewardServer) -> None:
    assert (
        RemoteScorer(server.url, "openrlhf", retries=2, backoff_s=0)(PROMPTS, RESPONSES)
        == QUERY_LENGTHS
    )
    assert len(server.bodies) == 3


@pytest.mark.parametrize("server", [[503, 503, 503]], indirect=True)
def test_remote_scorer_raises_instead_of_inventing_rewards(server: RewardServer) -> None:
    with pytest.raises(httpx.HTTPStatusError, match="503"):
        RemoteScorer(server.url, "openrlhf", retries=2, backoff_s=0)(PROMPTS, RESPONSES)
    assert len(server.bodies) == 3


def test_remote_scorer_raises_when_nothing_listens() -> None:
    with pytest.raises(httpx.TransportError):
        RemoteScorer("http://127.0.0.1:9/get_reward", "openrlhf", retries=1, backoff_s=0)(
            PROMPTS, RESPONSES
        )


def test_python_function_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "my_scorer.py").write_text(
        "def by_words(prompts, responses):\n    return [float(len(r.split())) for r in responses]\n"
        "NOT_CALLABLE = 3\n"
    )
    scorer = resolve_scorer(f"{tmp_path / 'my_scorer.py'}:by_words")
    assert scorer.score(PROMPTS, RESPONSES) == [3.0, 11.0]
    with pytest.raises(ValueError, match="'NOT_CALLABLE' is not a callable"):
        resolve_scorer(f"{tmp_path / 'my_scorer.py'}:NOT_CALLABLE")


def test_python_function_from_a_module() -> None:
    scorer = resolve_scorer("rewardkit.evaluation.scorers:longer_baseline")
    assert scorer.score(PROMPTS, RESPONSES) == LENGTHS


def test_rewardkit_model_directory_gives_raw_scores(tmp_path: Path) -> None:
    model = tiny.reward_model("bert")
    model.info.mean, model.info.std = 5.0, 2.0  # normalisation must not reach the evaluation
    model.save(tmp_path / "model")
    scores = resolve_scorer(str(tmp_path / "model"), progress=False).score(PROMPTS, RESPONSES)
    expected = model.score(PROMPTS, RESPONSES).raw
    assert scores == pytest.approx(expected, abs=1e-5)


def test_plain_transformers_directory(tiny_llama_dir: Path) -> None:
    scorer = resolve_scorer(str(tiny_llama_dir), max_length=14, progress=False)
    scores = scorer.score(PROMPTS, RESPONSES)
    assert math.isfinite(scores[0])
    assert math.isnan(scores[1])  # over the 14-token limit: no score, never a cut one


def test_unreadable_specs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="neither a rewardkit model nor a transformers"):
        resolve_scorer(str(tmp_path))
    with pytest.raises(ValueError, match="cannot read 'nothing' as a scorer"):
        resolve_scorer("nothing")
