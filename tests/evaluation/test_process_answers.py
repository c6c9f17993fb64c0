"""Final answers: GSM8K's '####' (and the example solutions' 'A:' lines), MATH's \\boxed{}
with the MATH checker's normalisation."""

from __future__ import annotations

import pytest

from rewardkit.evaluation.answers import answer, boxed_content, gold_answer, is_correct


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She sells 9 eggs.\nShe makes 9 * 2 = $18.\n#### 18", "18"),
        ("... #### 1,234", "1234"),
        ("Total: <<3+4=7>>7\nA: 7", "7"),
        ("so the answer is $12.50.", "12.5"),
        ("The answer is 18.00", "18"),
        ("no final answer here", None),
    ],
)
def test_gsm8k_answers(text: str, expected: str | None) -> None:
    assert answer(text, "gsm8k") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so $\\boxed{\\dfrac{1}{2}}$.", "\\frac{1}{2}"),
        ("\\boxed{\\frac12}", "\\frac{1}{2}"),
        ("\\boxed{0.5}", "\\frac{1}{2}"),
        ("\\boxed{1/2}", "\\frac{1}{2}"),
        ("\\boxed{x = 3}", "3"),
        ("\\boxed{90^\\circ}", "90"),
        ("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "(3,\\frac{\\pi}{2})"),
        ("\\boxed{10\\text{ cm}}", "10"),
        ("\\boxed{\\$1,\\!000}", "1000"),
        ("\\boxed{2\\sqrt3}", "2\\sqrt{3}"),
        ("first \\boxed{1} then \\fbox{2}", "2"),
        ("nothing boxed", None),
    ],
)
def test_math_answers(text: str, expected: str | None) -> None:
    assert answer(text, "math") == expected


def test_boxed_content_matches_nested_braces() -> None:
    assert boxed_content("\\boxed{\\frac{a}{b^{2}}} and more") == "\\frac{a}{b^{2}}"
    assert boxed_content("\\boxed{unclosed") is None


def test_correctness_against_a_gold_answer_or_a_gold_solution() -> None:
    assert is_correct("A: 18", "Janet makes 9 * 2 = 18.\n#### 18", "gsm8k")
    assert is_correct("A: 18", "18", "gsm8k")
    assert not is_correct("A: 26", "18", "gsm8k")
    assert not is_correct("I do not know", "18", "gsm8k")  # no answer is never right
    assert is_correct("Thus $\\boxed{\\tfrac{1}{2}}$", "\\frac12", "math")
    assert gold_answer("\\dfrac{3}{4}", "math") == "\\frac{3}{4}"
    with pytest.raises(ValueError, match="unknown answer style 'mmlu'"):
        answer("x", "mmlu")  # type: ignore[arg-type]
