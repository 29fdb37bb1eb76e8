"""`LitReinforce`: a Lightning module that learns CartPole-v1 with REINFORCE (type lightning).

The zookeeper acts with `forward` (one logit per action: sampled while training, the most likely
in INFER) and trains with `training_step` and `configure_optimizers`, one step per episode, no
Trainer (see docs/configuration.md, "Framework agents"). Needs the `lightning` extra.
"""

from __future__ import annotations

import lightning
import torch


class LitReinforce(lightning.LightningModule):
    """REINFORCE on CartPole: a 4-hidden-2 tanh MLP, Adam, normalised discounted returns."""

    def __init__(self, hidden: int = 32, lr: float = 0.01, gamma: float = 0.99) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.policy = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2))

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        return self.policy(observation)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        log_probs = torch.log_softmax(self(batch["observation"]), -1)
        taken = log_probs.gather(1, batch["action"][:, None]).squeeze(1)
        returns = batch["return"]
        if len(returns) > 1:
            returns = (returns - returns.mean()) / (returns.std() + 1e-8)
        self.log("episode_steps", float(len(returns)))
        return -(taken * returns).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
