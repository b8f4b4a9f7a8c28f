"""Schedules for the VAE's KL term, read at the trainer's counters (``model.training_step``,
the global batch counter; ``model.training_epoch`` for epoch-based warm-up).

- KL warm-up (Bowman et al. 2016; Sønderby et al. 2016): the KL weight ramps linearly
  from 0 to β over ``steps`` batches (or epochs),   β_t = β · min(1, t / steps).
- Capacity annealing (Burgess et al. 2018, "Understanding disentangling in β-VAE"):
  the objective's KL part is γ |KL − C_t|, with the target capacity
  C_t = C_max · min(1, t / steps) in nats (their settings: γ = 1000, C_max = 25).

Both schedules depend only on the step, never on the weights, so the gradient of the
objective at a fixed step is the gradient at a fixed weight (β_t or ±γ).
"""


def linear_ramp(step, steps, end):
    """end · min(1, step / steps); ``steps`` = 0 means no ramp (``end`` from the start)."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if steps == 0:
        return float(end)
    return float(end) * min(1.0, step / steps)


def steps_for(steps):
    """A ramp length: None or 0 (no ramp) or a positive whole number of steps (or epochs)."""
    if steps is None:
        return 0
    if int(steps) != steps or steps < 0:
        raise ValueError(f"a ramp length must be a whole number >= 0, got {steps!r}")
    return int(steps)
