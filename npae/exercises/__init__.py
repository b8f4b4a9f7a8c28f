"""Coursework exercises: write a backward pass, and let npae's gradient checks judge it.

Each exercise is a template file with the function body removed and a TODO
(``npae/exercises/templates/<name>.py``; ``copy_template(name)`` copies it to your folder),
and a checker that runs npae's property-based gradient checks against your function:

    >>> from npae.exercises import check
    >>> check("dense_backward", my_dense_backward)        # prints what passed or what failed

On a failure the message names the gradient, its shape, the relative error, and a hint
(a constant factor, a transpose, a missing sum over the batch). Hypothesis shrinks the case
first, so the case shown is the smallest one that fails. From a shell:

    python -m npae.exercises list
    python -m npae.exercises copy dense_backward .
    python -m npae.exercises check dense_backward dense_backward.py

The reference solutions are npae's own layers (``reference(name)`` calls them with the
exercise's signature). The bug zoo, ``npae.exercises.bugs``, is the other half: broken
npae components, each a classic mistake, to find and fix.
"""
import shutil
from pathlib import Path

from . import solutions as _solutions

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_EXAMPLES = 40


def _registry():
    # imported here: the specs import Hypothesis, which `import npae` never needs
    from .layer_exercises import EXERCISES as layer_exercises
    from .math_exercises import EXERCISES as math_exercises
    return {**layer_exercises, **math_exercises}


def names():
    """The exercises, in teaching order."""
    return ["dense_backward", "sigmoid_backward", "relu_backward", "sparse_kl_backward",
            "contractive_backward", "reparameterize_backward", "conv2d_backward",
            "maxpool_backward"]


def describe(name):
    """One line: the signature and what it computes."""
    spec = _spec(name)
    return f"{spec['signature']}: {spec['title']}"


def check(name, function, max_examples=MAX_EXAMPLES, shrink=True, verbose=True):
    """Judge ``function`` (your implementation of exercise ``name``) on drawn cases with npae's
    gradient checks. Prints the verdict (``verbose``) and returns a ``CheckResult``: truthy
    when it passed, ``str(result)`` is the message. ``shrink=False`` skips Hypothesis's search
    for the smallest failing case (faster, less readable)."""
    from .runner import run_property
    spec = _spec(name)
    if not callable(function):
        raise TypeError(f"check({name!r}, ...): expected your function, got {type(function).__name__}")
    result = run_property(name, spec["strategy"](), lambda case: spec["run_case"](function, case),
                          spec["description"], max_examples=max_examples, shrink=shrink)
    if verbose:
        print(result)
    return result


def reference(name):
    """npae's own implementation with the exercise's signature (the reference solution)."""
    _spec(name)
    return getattr(_solutions, name)


def template_path(name):
    """The template file of exercise ``name``."""
    _spec(name)
    return TEMPLATES / f"{name}.py"


def copy_template(name, directory="."):
    """Copy the template of ``name`` into ``directory`` (never over an existing file);
    returns the new path."""
    target = Path(directory) / f"{name}.py"
    if target.exists():
        raise FileExistsError(f"{target} exists already; remove it or choose another directory")
    return Path(shutil.copyfile(template_path(name), target))


def _spec(name):
    registry = _registry()
    if name not in registry:
        raise ValueError(f"unknown exercise {name!r}; the exercises are {names()}")
    return registry[name]


__all__ = ["check", "names", "describe", "reference", "template_path", "copy_template"]
