"""The IDX reader and writer: the byte layout of the spec, round trips, and every way a
file can be broken."""
import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from npae.datasets import DataFileError, read_idx, write_idx

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def test_reads_hand_built_bytes_as_the_spec_describes(tmp_path):
    # magic 0x00000803: unsigned bytes, 3 dims; then sizes 2, 2, 3 big-endian; then data
    payload = bytes(range(12))
    path = tmp_path / "tiny-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 2, 3) + payload)
    x = read_idx(path)
    assert x.dtype == np.uint8 and x.shape == (2, 2, 3)
    np.testing.assert_array_equal(x.ravel(), np.arange(12))
    assert x[1, 0, 2] == 8  # C order: last index fastest


def test_multibyte_values_are_big_endian(tmp_path):
    path = tmp_path / "ints-idx1-int"
    path.write_bytes(b"\x00\x00\x0c\x01" + struct.pack(">I", 2) + struct.pack(">2i", 258, -7))
    x = read_idx(path)
    np.testing.assert_array_equal(x, [258, -7])
    assert x.dtype == np.int32 and x.dtype.isnative


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    raw_bytes = write_idx(tmp_path / "a", array).read_bytes()
    odd_name = tmp_path / "no-gz-suffix"
    odd_name.write_bytes(gzip.compress(raw_bytes))
    np.testing.assert_array_equal(read_idx(odd_name), array)
    assert (write_idx(tmp_path / "b.gz", array).read_bytes()[:2]) == b"\x1f\x8b"


@settings(max_examples=40)
@given(st.sampled_from(IDX_DTYPES).flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
                             elements=hnp.from_dtype(np.dtype(dtype), allow_nan=False))),
       st.booleans())
def test_write_then_read_round_trips(array, compress):
    with tempfile.TemporaryDirectory() as directory:
        path = write_idx(Path(directory) / ("x.gz" if compress else "x"), array)
        back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


@settings(max_examples=30)
@given(st.integers(0, 4 + 8 + 24 - 1))
def test_every_truncation_is_reported(cut):
    array = np.arange(24, dtype=np.uint8).reshape(4, 6)
    with tempfile.TemporaryDirectory() as directory:
        good = write_idx(Path(directory) / "x", array).read_bytes()
        bad = Path(directory) / "cut"
        bad.write_bytes(good[:cut])
        with pytest.raises(DataFileError, match="cut"):
            read_idx(bad)


def test_truncated_file_message_gives_expected_and_actual_sizes(tmp_path):
    good = write_idx(tmp_path / "x", np.zeros((3, 4, 4), np.uint8)).read_bytes()
    (tmp_path / "short").write_bytes(good[:-5])
    with pytest.raises(DataFileError, match=r"truncated.*\(3, 4, 4\).*64 bytes.*59 bytes"):
        read_idx(tmp_path / "short")


def test_trailing_bytes_are_rejected(tmp_path):
    good = write_idx(tmp_path / "x", np.zeros(5, np.uint8)).read_bytes()
    (tmp_path / "long").write_bytes(good + b"\x00")
    with pytest.raises(DataFileError, match="trailing"):
        read_idx(tmp_path / "long")


@pytest.mark.parametrize("header", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_wrong_magic_number_is_rejected(tmp_path, header):
    (tmp_path / "bad").write_bytes(header + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(DataFileError, match="not an IDX file: magic number"):
        read_idx(tmp_path / "bad")


def test_zero_dimensions_are_rejected(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x00\x00\x08\x00")
    with pytest.raises(DataFileError, match="0 dimensions"):
        read_idx(tmp_path / "bad")


def test_corrupt_and_truncated_gzip_are_reported(tmp_path):
    compressed = write_idx(tmp_path / "x.gz", np.arange(1000, dtype=np.int32)).read_bytes()
    (tmp_path / "cut.gz").write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DataFileError, match="corrupt or truncated gzip"):
        read_idx(tmp_path / "cut.gz")
    garbled = bytearray(compressed)
    garbled[20:40] = b"\xff" * 20
    (tmp_path / "garbled.gz").write_bytes(bytes(garbled))
    with pytest.raises(DataFileError, match="corrupt or truncated gzip"):
        read_idx(tmp_path / "garbled.gz")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


def test_write_rejects_types_without_an_idx_code(tmp_path):
    with pytest.raises(TypeError, match="no IDX type code"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))
