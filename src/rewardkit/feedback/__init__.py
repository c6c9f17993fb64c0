"""AI feedback: judges (OpenAI-compatible HTTP, local transformers) compare pairs against a
written constitution, in both orders, through a persistent call cache; the agreement report says
how far their labels match humans'. Torch loads only with a local judge."""

from rewardkit.feedback.agreement import AgreementReport, agreement_report, cohen_kappa
from rewardkit.feedback.base import Judge, JudgeReply, JudgeRequest
from rewardkit.feedback.cache import CallCache, call_key
from rewardkit.feedback.constitution import Constitution, Principle, load_constitution
from rewardkit.feedback.judges import JUDGES, JudgeOptions, build_judge
from rewardkit.feedback.labeling import Labeller, LabelSettings, PairLabel, ai_pair

__all__ = [
    "JUDGES",
    "AgreementReport",
    "CallCache",
    "Constitution",
    "Judge",
    "JudgeOptions",
    "JudgeReply",
    "JudgeRequest",
    "LabelSettings",
    "Labeller",
    "PairLabel",
    "Principle",
    "agreement_report",
    "ai_pair",
    "build_judge",
    "call_key",
    "cohen_kappa",
    "load_constitution",
]
