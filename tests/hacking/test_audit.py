"""`rewardkit audit` end to end on a tiny model: probes, the OOD detector saved beside the model,
audit.json, and report.html opened in a real headless Chromium (skipped without one, except in
CI where REWARDKIT_REQUIRE_BROWSER=1)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import tiny

from rewardkit.cli import main
from rewardkit.data.writers import write_records
from rewardkit.models.ood import OOD_FILE
from rewardkit.synthetic import generate_pairs, generate_step_traces

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("audit")
    model = tiny.reward_model("bert", head="ensemble", objectives=["m0", "m1"], max_length=512)
    model.save(tmp / "model")
    write_records(generate_pairs(60, seed=2), tmp / "pairs.jsonl")
    write_records(generate_step_traces(40, seed=2), tmp / "traces.jsonl")
    code = main(
        ["audit", "--model", str(tmp / "model"), "--items", "16", "--ood_train",
         str(tmp / "pairs.jsonl"), "--ood_other", str(tmp / "traces.jsonl"),
         "--ood_items", "90", "--output_dir", str(tmp / "out")]
    )  # fmt: skip
    assert code == 0
    return tmp


def test_audit_writes_probes_ood_and_the_detector(audited: Path) -> None:
    doc = json.loads((audited / "out" / "audit.json").read_text())
    names = [row["probe"] for row in doc["probes"]]
    assert names[:4] == ["pad 1 sentence", "pad 2 sentences", "pad 4 sentences", "pad 8 sentences"]
    assert all(row["items"] == 16 for row in doc["probes"])
    # synthetic prompts: the gold change is known; padding adds no world filler, markdown
    # breaks the world's 'formatted' check (capitalised first character)
    gold = {row["probe"]: row["mean gold change"] for row in doc["probes"]}
    assert gold["pad 1 sentence"] == 0.0 and gold["format only (markdown list)"] < 0
    ood = doc["ood"]
    assert ood["held-out items"] == 90 - 67 and ood["other items"] == 40  # the last quarter
    assert 0.0 <= ood["AUROC"] <= 1.0
    assert ood["detector saved to"] == str(audited / "model" / OOD_FILE)
    assert (audited / "model" / OOD_FILE).exists()


def test_audit_needs_its_in_distribution_data() -> None:
    with pytest.raises(ValueError, match="--ood_other needs --ood_train"):
        from rewardkit.commands.audit import AuditConfig, run

        run(AuditConfig(model="m", ood_other=["x.jsonl"]))


def test_report_renders_offline_with_every_plot(audited: Path, tmp_path: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("REWARDKIT_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required here (REWARDKIT_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        page: Any = browser.new_page(viewport={"width": 1300, "height": 1000})
        requests: list[str] = []
        problems: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        url = (audited / "out" / "report.html").resolve().as_uri()
        page.goto(url)
        assert page.title() == "rewardkit audit"
        assert requests == [url], f"the report fetched more than itself: {requests}"
        assert problems == []
        assert page.locator("table.probes tr").count() == 1 + 6
        for name in ("padding", "probes", "ood"):
            figure = page.locator(f'figure[data-plot="{name}"] svg')
            assert figure.count() == 1, name
            box = figure.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 150, (name, box)
            assert figure.locator("path").count() > 10, name  # drawn, not an empty frame
        page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
        browser.close()
    assert (tmp_path / "audit.png").stat().st_size > 20_000
