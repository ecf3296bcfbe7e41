"""EP-selection agents: linear Thompson sampling (CMAB), uniform sampling, stable-baselines3 policies."""
