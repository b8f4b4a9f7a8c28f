"""npae's documented errors and warnings.

Every error npae raises for bad input is one of these. Each subclasses the
built-in a caller would naturally catch (``ValueError``, ``TypeError``), so
``except ValueError`` keeps working.
"""


class ShapeError(ValueError):
    """An array has the wrong number of dimensions or the wrong size."""


class DTypeError(TypeError, ValueError):
    """An array has a dtype npae does not accept (integers, a float64 input to
    a float32 layer, ...). Both a ``TypeError`` and a ``ValueError``."""


class NonFiniteError(ValueError):
    """An array holds NaN or inf."""


class DomainError(ValueError):
    """A value lies outside a function's domain (BCE targets outside [0, 1])."""


class DataFileError(ValueError):
    """A data or model file is corrupt, truncated, of the wrong kind, or fails its checksum."""


class ModelFileError(DataFileError):
    """A model file is truncated, corrupted, edited, or names an unknown class."""


class DomainWarning(RuntimeWarning):
    """A value lies outside the domain a function expects; it was clipped."""


class KinkWarning(RuntimeWarning):
    """A gradient check perturbed an input across a kink (ReLU at 0): the
    numerical gradient there is meaningless."""
