"""Layer exercises: the student's backward function runs inside an npae layer, and npae's
``check_layer`` (central differences + the layer protocol) judges it on drawn cases.

    dense_backward(x, W, dy)                        -> (dx, dW, db)
    sigmoid_backward(y, dy)                         -> dx       (y = s(x), the cached output)
    relu_backward(x, dy)                            -> dx
    conv2d_backward(x, W, dy, stride, padding)      -> (dx, dW, db)
    maxpool_backward(x, dy, kernel_size, stride)    -> dx
"""
import numpy as np
from hypothesis import strategies as st

from ..gradcheck import check_layer
from ..layers import Conv2D, Dense, MaxPool2D, ReLU, Sigmoid
from ..testing import arrays, batch_sizes, feature_shapes
from . import solutions as reference
from .runner import CaseReport, ExerciseError, compare_hint, expect, unpack

PROTOCOL = {
    "modified its argument dy": "{who} modified dy in place; dy belongs to the layer above — "
                                "return a new array (e.g. dx = dy * mask), never write into dy",
    "changed the value": "{who} changed the weights; a backward pass only computes gradients",
}


class _Student:
    """Mixin: ``backward`` calls the student's function and adds what it returns."""

    def __init__(self, function, *args, **kwargs):
        self.function = function
        super().__init__(*args, **kwargs)

    def _call(self, names, *args):
        return unpack(self.function(*args), names, self.exercise)


class StudentDense(_Student, Dense):
    exercise = "dense_backward"

    def backward(self, dy):
        x = self._saved(dy)["x"]
        dx, dW, db = self._call(("dx", "dW", "db"), x, self.W.value, dy)
        expect(dx, x.shape, x.dtype, "dx", self.exercise, "x")
        expect(dW, self.W.shape, x.dtype, "dW", self.exercise, "W")
        expect(db, self.b.shape, x.dtype, "db", self.exercise, "b")
        self.W.grad += dW
        self.b.grad += db
        return dx


class StudentSigmoid(_Student, Sigmoid):
    exercise = "sigmoid_backward"

    def backward(self, dy):
        y = self._saved(dy)["y"]
        (dx,) = self._call(("dx",), y, dy)
        expect(dx, y.shape, y.dtype, "dx", self.exercise, "y")
        return dx


class StudentReLU(_Student, ReLU):
    exercise = "relu_backward"

    def backward(self, dy):
        x = self._saved(dy)["x"]
        (dx,) = self._call(("dx",), x, dy)
        expect(dx, x.shape, x.dtype, "dx", self.exercise, "x")
        return dx


class StudentConv2D(_Student, Conv2D):
    exercise = "conv2d_backward"

    def forward(self, x):
        y = super().forward(x)
        self._cache["x"] = np.ascontiguousarray(x)   # the student's backward gets x itself
        return y

    def backward(self, dy):
        x = self._saved(dy)["x"]
        dx, dW, db = self._call(("dx", "dW", "db"), x, self.W.value, dy, self.stride[0],
                                self.padding[0])
        expect(dx, x.shape, x.dtype, "dx", self.exercise, "x")
        expect(dW, self.W.shape, x.dtype, "dW", self.exercise, "W")
        expect(db, self.b.shape, x.dtype, "db", self.exercise, "b")
        self.W.grad += dW
        self.b.grad += db
        return dx


class StudentMaxPool2D(_Student, MaxPool2D):
    exercise = "maxpool_backward"

    def backward(self, dy):
        x = self._saved(dy)["x"]
        (dx,) = self._call(("dx",), x, dy, self.kernel_size[0], self.stride[0])
        expect(dx, x.shape, x.dtype, "dx", self.exercise, "x")
        return dx


# --- drawing cases -------------------------------------------------------------------------

@st.composite
def dense_cases(draw):
    n, d_in, d_out = draw(batch_sizes(4)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return {"x": draw(arrays((n, d_in))), "seed": draw(st.integers(0, 2**16)), "d_out": d_out}


@st.composite
def elementwise_cases(draw, kinks=()):
    shape = (draw(batch_sizes(4)),) + draw(feature_shapes(max_dims=2))
    return {"x": draw(arrays(shape, kinks=kinks, kink_margin=0.05))}


@st.composite
def conv_cases(draw):
    k, stride, padding = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
    h = draw(st.integers(max(1, k - 2 * padding), 5))
    w = draw(st.integers(max(1, k - 2 * padding), 5))
    shape = (draw(batch_sizes(2)), draw(st.integers(1, 2)), h, w)
    return {"x": draw(arrays(shape)), "c_out": draw(st.integers(1, 2)), "k": k,
            "stride": stride, "padding": padding, "seed": draw(st.integers(0, 2**16))}


@st.composite
def pool_cases(draw):
    """Windows often overlap (stride < kernel); values are a scaled permutation, so no two
    tie (the max has no derivative at a tie) and every gap dwarfs the finite-difference step."""
    k, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (draw(batch_sizes(2)), draw(st.integers(1, 2)), draw(st.integers(k, 6)),
             draw(st.integers(k, 6)))
    order = np.random.default_rng(draw(st.integers(0, 2**16))).permutation(int(np.prod(shape)))
    return {"x": ((order - order.size / 2) * 0.01).reshape(shape), "k": k, "stride": stride}


# --- building each case's layer, and the reference's answer for the hints -------------------

def _dense(function, case, dtype=np.float64):
    layer = StudentDense(function, case["x"].shape[1], case["d_out"], rng=case["seed"], dtype=dtype)
    describe = f"x {case['x'].shape}, W {layer.W.shape}, dy {(len(case['x']), case['d_out'])}"
    return layer, describe, lambda dy: reference.dense_backward(case["x"], layer.W.value, dy)


def _sigmoid(function, case, dtype=None):
    y = 1 / (1 + np.exp(-case["x"]))
    return (StudentSigmoid(function), f"y {y.shape} (y = s(x)), dy {y.shape}",
            lambda dy: (reference.sigmoid_backward(y, dy),))


def _relu(function, case, dtype=None):
    return (StudentReLU(function), f"x {case['x'].shape}, dy {case['x'].shape}",
            lambda dy: (reference.relu_backward(case["x"], dy),))


def _conv(function, case, dtype=np.float64):
    x = case["x"]
    layer = StudentConv2D(function, x.shape[1], case["c_out"], case["k"], stride=case["stride"],
                          padding=case["padding"], rng=case["seed"], dtype=dtype)
    layer.b.value[:] = np.random.default_rng(case["seed"]).normal(size=case["c_out"])   # b ≠ 0
    describe = (f"x {x.shape}, W {layer.W.shape}, stride {case['stride']}, "
                f"padding {case['padding']}, dy {layer.output_shape(x.shape)}")
    return layer, describe, lambda dy: reference.conv2d_backward(x, layer.W.value, dy, case["stride"],
                                                                 case["padding"])


def _maxpool(function, case, dtype=None):
    x, k, s = case["x"], case["k"], case["stride"]
    layer = StudentMaxPool2D(function, k, s)
    overlap = " (overlapping windows)" if s < k else ""
    describe = f"x {x.shape}, kernel_size {k}, stride {s}{overlap}, dy {layer.output_shape(x.shape)}"
    return layer, describe, lambda dy: (reference.maxpool_backward(x, dy, k, s),)


def _first_example(case):
    if len(case["x"]) == 1:
        return None
    return {**case, "x": np.ascontiguousarray(case["x"][:1])}


def layer_case_runner(build, grad_names, probe):
    """run_case(function, case) for a layer exercise built by ``build``; ``probe``: a
    generic case for the hints."""

    def run_case(function, case, hints=True):
        layer, describe, reference_grads = build(function, case)
        who = layer.exercise
        report = CaseReport(describe)
        shapes = {"x": case["x"].shape, **{n: p.shape for n, p in layer.named_parameters()}}
        try:
            result = check_layer(layer, case["x"])
        except NotImplementedError:
            report.problems.append(f"{who} is not implemented yet: fill in the TODO")
            return report
        except ExerciseError as error:
            report.problems.append(str(error))
            return report
        except Exception as error:          # the student's code crashed: say where and how
            report.problems.append(f"{who} raised {type(error).__name__}: {error}")
            return report
        report.errors = {f"d{n}": (shapes[n], err) for n, err in result.errors.items()}
        for problem in result.problems:
            report.problems.append(next((text.format(who=who) for key, text in PROTOCOL.items()
                                         if key in problem), problem))
        if report.passed:
            _check_float32(build, function, case, report)
        elif hints:
            _add_hints(function, case, build, probe, grad_names, run_case, report)
        return report

    return run_case


def _check_float32(build, function, case, report):
    """The same case in float32: the student's backward must return float32 (no silent upcast)."""
    layer, _, _ = build(function, case, np.float32)
    try:
        layer.backward(np.ones_like(layer.forward(case["x"].astype(np.float32))))
    except Exception as error:
        report.problems.append(f"in float32: {error}")


def _add_hints(function, case, build, probe, grad_names, run_case, report):
    """Compare with the reference on a generic probe case (a shrunk case of zeros and ones
    makes every ratio look like a constant factor), then try the failing case's first example."""
    layer, _, reference_grads = build(function, probe)
    dy = np.random.default_rng(0).standard_normal(layer.forward(probe["x"]).shape)
    try:
        for _, p in layer.named_parameters():
            p.zero_grad()
        student = [layer.backward(dy.copy())] + [p.grad.copy() for _, p in layer.named_parameters()]
        for name, s, r in zip(grad_names, student, reference_grads(dy)):
            hint = compare_hint(name, s, r, batch_size=len(probe["x"]))
            if hint:
                report.hints.append(hint)
    except Exception:     # hints are best effort; the failure itself is reported already
        pass
    single = _first_example(case)
    if single is not None and run_case(function, single, hints=False).passed:
        report.hints.append(f"it passes for a batch of one example but not for {len(case['x'])}: "
                            "look at the sums over the batch axis")


def _probe(shape, distinct=False, **extra):
    rng = np.random.default_rng(2024)
    if distinct:      # no ties, for max-pooling
        x = (rng.permutation(int(np.prod(shape))) - np.prod(shape) / 2).reshape(shape) * 0.01
    else:
        x = rng.choice([-1, 1], size=shape) * rng.uniform(0.2, 2.0, size=shape)   # away from 0
    return {"x": x, "seed": 7, **extra}


EXERCISES = {
    "dense_backward": dict(
        signature="dense_backward(x, W, dy) -> (dx, dW, db)",
        title="the backward pass of a dense layer  y = x W + b",
        strategy=dense_cases, run_case=layer_case_runner(_dense, ("dx", "dW", "db"), _probe((3, 4), d_out=2)),
        reference=reference.dense_backward,
        description="batch sizes 1–4, square and non-square W"),
    "sigmoid_backward": dict(
        signature="sigmoid_backward(y, dy) -> dx",
        title="the backward pass of the sigmoid  y = 1 / (1 + e^−x), from its output y",
        strategy=elementwise_cases, run_case=layer_case_runner(_sigmoid, ("dx",), _probe((3, 4))),
        reference=reference.sigmoid_backward, description="inputs of 2 and 3 dimensions"),
    "relu_backward": dict(
        signature="relu_backward(x, dy) -> dx",
        title="the backward pass of the ReLU  y = max(x, 0)",
        strategy=lambda: elementwise_cases(kinks=(0.0,)),
        run_case=layer_case_runner(_relu, ("dx",), _probe((3, 4))),
        reference=reference.relu_backward, description="inputs kept 0.05 away from the kink at 0"),
    "conv2d_backward": dict(
        signature="conv2d_backward(x, W, dy, stride, padding) -> (dx, dW, db)",
        title="the backward pass of a 2-D convolution (NCHW, cross-correlation)",
        strategy=conv_cases, run_case=layer_case_runner(_conv, ("dx", "dW", "db"),
                                    _probe((2, 2, 5, 5), c_out=2, k=3, stride=1, padding=1)),
        reference=reference.conv2d_backward,
        description="kernels 1–3, strides 1–2, paddings 0–1, overlapping patches"),
    "maxpool_backward": dict(
        signature="maxpool_backward(x, dy, kernel_size, stride) -> dx",
        title="the backward pass of 2-D max pooling",
        strategy=pool_cases, run_case=layer_case_runner(_maxpool, ("dx",), _probe((2, 2, 5, 5), True, k=3, stride=1)),
        reference=reference.maxpool_backward,
        description="kernels 1–3, strides 1–3, overlapping windows, no ties"),
}
