"""Convolutions on NCHW images: Conv2D and its adjoint, ConvTranspose2D.

Both are one matrix product around im2col / col2im (npae.kernels.conv): the
kernels move pixels, BLAS does the arithmetic. Kernel sizes, strides and
paddings are an int or a (height, width) pair.
"""
import numpy as np

from .. import kernels as K
from ..errors import ShapeError
from ..parameter import Parameter
from .base import Layer
from .dense import INITS, _check_dtype


def pair(value, what, minimum):
    """3 -> (3, 3); (3, 2) stays; every entry an int >= minimum."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) and v >= minimum for v in values):
        raise ValueError(f"{what} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(values[0]), int(values[1])


def check_images(layer, x, channels=None, dtype=None):
    """Validate an (N, C, H, W) batch: 4-D, finite floats, C == channels (if given)."""
    layer._check_input(x, dtype=dtype)
    if x.ndim != 4:
        raise ShapeError(f"{layer.name}: expected a 4-D batch of images (N, C, H, W), got "
                         f"shape {x.shape} ({x.ndim}-D); add a channel axis with x[:, None] "
                         "or reshape flat rows with Reshape((C, H, W))")
    if channels is not None and x.shape[1] != channels:
        raise ShapeError(f"{layer.name}: expected {channels} input channel(s), got {x.shape[1]} "
                         f"(input shape {x.shape}, layout (N, C, H, W))")
    if getattr(layer, "input_shape", None) is not None and x.shape[1:] != layer.input_shape:
        raise ShapeError(f"{layer.name}: expected input of shape (N, *{layer.input_shape}), "
                         f"got {x.shape}")
    return np.ascontiguousarray(x)   # the kernels index C-contiguous memory


def output_grid(layer, x_shape, kernel, stride, padding=(0, 0)):
    """(H_out, W_out) of a strided window over an (N, C, H, W) input; ShapeError with the
    formula's numbers when the window does not fit the (padded) input."""
    sizes = []
    for axis, size, k, s, p in zip(("height", "width"), x_shape[2:], kernel, stride, padding):
        out = K.conv.conv_output_size(size, k, s, p)
        if out < 1:
            raise ShapeError(
                f"{layer.name}: the {kernel[0]}x{kernel[1]} kernel does not fit the padded input "
                f"{axis}: output {axis} = ⌊({axis} + 2·padding − kernel) / stride⌋ + 1 = "
                f"⌊({size} + 2·{p} − {k}) / {s}⌋ + 1 = {out}, must be >= 1 (input shape {x_shape})")
        sizes.append(out)
    return tuple(sizes)


def init_kernel(shape, fan_in, fan_out, init, rng, dtype):
    """Glorot uniform U(±sqrt(6 / (fan_in + fan_out))) (Glorot & Bengio 2010) or
    He normal N(0, 2 / fan_in) (He et al. 2015), as for Dense, with convolutional fans."""
    if init == "glorot":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape).astype(dtype)
    if init == "he":
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape).astype(dtype)
    raise ValueError(f"init must be one of {INITS}, got {init!r}")


class _Convolution(Layer):
    """Shared set-up: hyper-parameters, W / b Parameters, and the patch geometry."""

    def _setup(self, weight_shape, fan_in, fan_out, kernel_size, stride, padding, bias, init,
               rng, dtype, input_shape):
        """W of ``weight_shape``; b has one entry per output channel."""
        self.kernel_size = pair(kernel_size, f"{self.name}: kernel_size", 1)
        self.stride = pair(stride, f"{self.name}: stride", 1)
        self.padding = pair(padding, f"{self.name}: padding", 0)
        dtype = _check_dtype(dtype)
        rng = np.random.default_rng(rng)
        self.W = Parameter(init_kernel(weight_shape, fan_in, fan_out, init, rng, dtype), "W")
        self.b = Parameter(np.zeros(self.out_channels, dtype), "b") if bias else None
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)

    def named_parameters(self):
        return [("W", self.W)] + ([("b", self.b)] if self.b is not None else [])

    def _geometry(self):
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return kh, kw, sh, sw, ph, pw

    def _add_bias(self, y):
        """y[n, f] += b[f] in place, over a (N, F, H·W) view (y is C-contiguous): NumPy's
        broadcast over two trailing axes of the 4-D array is ~1.7x slower."""
        if self.b is not None:
            n, f = y.shape[:2]
            y.reshape(n, f, -1)[...] += self.b.value[:, None]

    def _add_bias_grad(self, dy):
        """b.grad += Σ_{n,i,j} dy[n, :, i, j] as two matrix-vector products, 1_Nᵀ (dy 1_HW):
        BLAS's dot products are ~4x faster than a sum over axes (0, 2, 3)."""
        if self.b is not None:
            n, f = dy.shape[:2]
            rows = np.ascontiguousarray(dy).reshape(n * f, -1)       # one row per (n, f)
            per_image = rows @ np.ones(rows.shape[1], dy.dtype)       # (N·F,): Σ_{i,j}
            self.b.grad += np.ones(n, dy.dtype) @ per_image.reshape(n, f)


class Conv2D(_Convolution):
    """2-D convolution (cross-correlation, as in every deep-learning library), NCHW layout:

        y[n, f, i, j] = b[f] + Σ_c Σ_p Σ_q W[f, c, p, q] · x[n, c, i·s_h + p − p_h, j·s_w + q − p_w]

    (x read as 0 in the padding). Shapes: x (N, C, H, W), W (F, C, k_h, k_w), b (F,),
    y (N, F, H_out, W_out) with H_out = ⌊(H + 2 p_h − k_h) / s_h⌋ + 1 (W_out likewise).

    As matrices: cols = im2col(x) is (C·k_h·k_w, N·H_out·W_out), one column per output
    pixel; with W_mat = W reshaped (F, C·k_h·k_w) and Y = y as (F, N·H_out·W_out),

        Y = W_mat cols + b,
        dL/dW_mat = dY colsᵀ,   dL/db = Σ_{n,i,j} dy[n, :, i, j],   dL/dx = col2im(W_matᵀ dY).

    ``init``: "glorot" (default) or "he" (for ReLU), with fan_in = C k_h k_w and
    fan_out = F k_h k_w. ``input_shape``: optional per-example (C, H, W); when given,
    forward insists on it (and ``npae.testing.arrays_for`` draws inputs of that shape).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 init="glorot", rng=None, dtype=np.float32, input_shape=None):
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"Conv2D: channel counts must be positive, got ({in_channels}, {out_channels})")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        kh, kw = pair(kernel_size, "Conv2D: kernel_size", 1)
        self._setup((out_channels, in_channels, kh, kw), in_channels * kh * kw, out_channels * kh * kw,
                    kernel_size, stride, padding, bias, init, rng, dtype, input_shape)

    def output_shape(self, x_shape):
        """(N, F, H_out, W_out) for an input of shape (N, C, H, W)."""
        grid = output_grid(self, tuple(x_shape), self.kernel_size, self.stride, self.padding)
        return (x_shape[0], self.out_channels) + grid

    def forward(self, x):
        x = check_images(self, x, self.in_channels, self.W.dtype)
        ho, wo = output_grid(self, x.shape, self.kernel_size, self.stride, self.padding)
        n, kh, kw = len(x), *self.kernel_size
        cols = np.empty((self.in_channels * kh * kw, n * ho * wo), x.dtype)
        K.conv.im2col_threaded(x, *self._geometry(), cols)
        out = self.W.value.reshape(self.out_channels, -1) @ cols          # (F, N·H_out·W_out)
        y = np.empty((n, self.out_channels, ho, wo), x.dtype)
        y[...] = out.reshape(self.out_channels, n, ho, wo).transpose(1, 0, 2, 3)   # -> NCHW
        self._add_bias(y)
        self._save(y, cols=cols, x_shape=x.shape)
        return y

    def backward(self, dy):
        cache = self._saved(dy)
        dy_mat = dy.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)   # (F, N·H_out·W_out)
        self.W.add_matmul(dy_mat, cache["cols"].T)    # W.grad += dy_mat colsᵀ, reshaped to W's shape
        self._add_bias_grad(dy)
        if not self.input_grad:            # the model's data: dL/dx is not needed
            return None
        dcols = self.W.value.reshape(self.out_channels, -1).T @ dy_mat
        dx = np.empty(cache["x_shape"], dy.dtype)
        K.conv.col2im_threaded(dcols, *self._geometry(), dx)
        return dx

    def __repr__(self):
        return (f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class ConvTranspose2D(_Convolution):
    """Transposed convolution: the adjoint of Conv2D, used by decoders to upsample.

    With W of shape (C_in, C_out, k_h, k_w) (the shape of a Conv2D from C_out to C_in
    channels), ConvTranspose2D is that Conv2D's input-gradient map: every input pixel
    spreads W-weighted copies of itself over a k_h × k_w patch of the output, patches
    s apart, overlaps summed:

        cols = W_matᵀ X,   y = col2im(cols) + b,     W_mat = W reshaped (C_in, C_out·k_h·k_w),
                                                     X = x as (C_in, N·H·W).

    Shapes: x (N, C_in, H, W), b (C_out,), y (N, C_out, H_out, W_out) with
        H_out = (H − 1)·s_h − 2 p_h + k_h + output_padding_h   (W_out likewise);
    ``output_padding`` (< stride) picks among the output sizes that a stride-s
    Conv2D maps back onto H.

    Backward is the forward Conv2D's *forward* with the same W (no bias):
        dL/dx = Conv2D(dy) = W_mat im2col(dy),   dL/dW_mat = X im2col(dy)ᵀ,
        dL/db = Σ_{n,i,j} dy[n, :, i, j].
    Hence <Conv2D(x), y> = <x, ConvTranspose2D(y)> for shared W and no bias (tested).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True, init="glorot", rng=None, dtype=np.float32,
                 input_shape=None):
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"ConvTranspose2D: channel counts must be positive, "
                             f"got ({in_channels}, {out_channels})")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        kh, kw = pair(kernel_size, "ConvTranspose2D: kernel_size", 1)
        sh, sw = pair(stride, "ConvTranspose2D: stride", 1)
        self.output_padding = pair(output_padding, "ConvTranspose2D: output_padding", 0)
        if self.output_padding[0] >= sh or self.output_padding[1] >= sw:
            raise ValueError(f"ConvTranspose2D: output_padding {self.output_padding} must be "
                             f"smaller than the stride {(sh, sw)}")
        # each output pixel sums about k_h k_w / (s_h s_w) input pixels per input channel
        fan_in = max(1, in_channels * kh * kw // (sh * sw))
        fan_out = max(1, out_channels * kh * kw // (sh * sw))
        self._setup((in_channels, out_channels, kh, kw), fan_in, fan_out, kernel_size, stride,
                    padding, bias, init, rng, dtype, input_shape)

    def output_shape(self, x_shape):
        """(N, C_out, H_out, W_out) for an input of shape (N, C_in, H, W)."""
        sizes = []
        for axis, size, k, s, p, extra in zip(("height", "width"), x_shape[2:], self.kernel_size,
                                              self.stride, self.padding, self.output_padding):
            out = (size - 1) * s - 2 * p + k + extra
            if out < 1:
                raise ShapeError(
                    f"{self.name}: output {axis} = ({axis} − 1)·stride − 2·padding + kernel + "
                    f"output_padding = ({size} − 1)·{s} − 2·{p} + {k} + {extra} = {out}, must be "
                    f">= 1 (input shape {tuple(x_shape)}); reduce the padding")
            sizes.append(out)
        return (x_shape[0], self.out_channels) + tuple(sizes)

    def forward(self, x):
        x = check_images(self, x, self.in_channels, self.W.dtype)
        ho, wo = self.output_shape(x.shape)[2:]
        x_mat = x.transpose(1, 0, 2, 3).reshape(self.in_channels, -1)       # (C_in, N·H·W)
        cols = self.W.value.reshape(self.in_channels, -1).T @ x_mat          # (C_out·k_h·k_w, N·H·W)
        y = np.empty((len(x), self.out_channels, ho, wo), x.dtype)
        K.conv.col2im_threaded(np.ascontiguousarray(cols), *self._geometry(), y)
        self._add_bias(y)
        self._save(y, x_mat=x_mat, x_shape=x.shape)
        return y

    def backward(self, dy):
        cache = self._saved(dy)
        dy = np.ascontiguousarray(dy)      # im2col indexes C-contiguous memory
        n, _, h, w = cache["x_shape"]
        kh, kw = self.kernel_size
        dcols = np.empty((self.out_channels * kh * kw, n * h * w), dy.dtype)
        K.conv.im2col_threaded(dy, *self._geometry(), dcols)   # Conv2D's forward
        self.W.add_matmul(cache["x_mat"], dcols.T)    # W.grad += x_mat dcolsᵀ, reshaped to W's shape
        self._add_bias_grad(dy)
        dx_mat = self.W.value.reshape(self.in_channels, -1) @ dcols          # (C_in, N·H·W)
        return np.ascontiguousarray(dx_mat.reshape(self.in_channels, n, h, w).transpose(1, 0, 2, 3))

    def __repr__(self):
        return (f"ConvTranspose2D({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"output_padding={self.output_padding})")
