"""The public names load lazily: `import rewardkit` stays free of torch until a model is used."""

from __future__ import annotations

import subprocess
import sys


def test_reward_model_imports_from_the_top_level_lazily() -> None:
    code = (
        "import sys, rewardkit, rewardkit.training\n"
        "assert 'torch' not in sys.modules\n"
        "from rewardkit import RewardModel\n"
        "from rewardkit.training import TrainConfig, train\n"
        "from rewardkit.models.reward_model import RewardModel as Direct\n"
        "assert RewardModel is Direct and callable(train) and 'torch' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
