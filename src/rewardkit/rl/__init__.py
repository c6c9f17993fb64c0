"""RL against a reward model, watched by the synthetic world's gold reward (Gao et al. 2022).

A tiny causal LM is first fitted on the world's responses (``policy``), then optimised with TRL's
``GRPOTrainer`` against a proxy reward model (``rewards``, ``loop``); every few steps the proxy
reward, the gold reward, the KL to the starting policy, the response length and, where the proxy
has them, its ensemble spread and OOD score are logged and drawn (``report``).

This unit sits above training and hacking (it trains proxies and reads their ensembles and OOD
detectors) and below the commands; TRL is imported only when a run starts.
"""
