"""The IDX file format of MNIST and Fashion-MNIST: read and write, with validation.

Layout (LeCun et al., "THE MNIST DATABASE of handwritten digits"), all big-endian:

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4 * d       the size of each dimension (uint32)
    the rest    the values, in C order; exactly prod(sizes) of them

A file may be gzip-compressed (recognised by its first two bytes 1f 8b, whatever its name).
"""
import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataFileError

# type code -> big-endian dtype
IDX_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path):
    """Read an IDX file (gzip or raw) into a NumPy array of its own dtype and shape.

    MNIST images come back as uint8 of shape (N, 28, 28), labels as uint8 of shape (N,).
    Raises ``DataFileError`` naming the file and what is wrong with it: bad gzip data,
    a magic number that is not IDX, or a length that disagrees with the header.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataFileError(f"{path}: {len(data)} bytes is too short for an IDX header (4 bytes)")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code not in IDX_DTYPES:
        raise DataFileError(
            f"{path}: not an IDX file: magic number 0x{data[:4].hex()} should be 0x0000TTDD "
            f"with type TT in {{{', '.join(f'{c:02x}' for c in IDX_DTYPES)}}}")
    if ndim == 0:
        raise DataFileError(f"{path}: IDX header declares 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataFileError(f"{path}: truncated header: {ndim} dimensions need {header_size} "
                            f"bytes, the file has {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = IDX_DTYPES[type_code]
    expected = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataFileError(f"{path}: file {kind}: header says shape {shape} of {dtype.name}, "
                            f"i.e. {expected} bytes, but the file has {len(data)} bytes")
    values = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # native byte order, and writable


def write_idx(path, array):
    """Write ``array`` as an IDX file; gzip-compressed when ``path`` ends in ``.gz``.

    Supported dtypes: uint8, int8, int16, int32, float32, float64 (see the module docstring).
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type code; "
                        f"use one of {sorted(d.name for d in codes)}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path


def _read_bytes(path):
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataFileError(f"{path}: corrupt or truncated gzip data ({error}); "
                            "delete the file and download it again") from error
