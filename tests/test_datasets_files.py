"""Finding and downloading IDX datasets: search order, file-name variants, the partial
(test-files-only) fallback, downloads from file:// mirrors and fake openers, checksums,
and the real MNIST / Fashion-MNIST files when this machine has them."""
import gzip
import hashlib
import io
from pathlib import Path

import numpy as np
import pytest

from npae.datasets import (DownloadError, PartialDatasetWarning, files, load, read_idx,
                           write_idx)

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")


def make_idx_set(directory, n_train=12, n_test=6, side=4, fill=0, gz=True, test_only=False):
    """Write a tiny MNIST-style set; every pixel of it equals ``fill`` so tests can tell
    which folder a load came from. Returns the folder."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    sets = [("t10k", n_test)] + ([] if test_only else [("train", n_train)])
    for prefix, n in sets:
        write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}",
                  np.full((n, side, side), fill, np.uint8))
        write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}",
                  np.arange(n, dtype=np.uint8) % 10)
    return directory


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No NPAE_DATA, a private cache and system folder, and no network."""
    monkeypatch.delenv("NPAE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(files, "SYSTEM_DIR", tmp_path / "system")

    def offline(url):
        raise OSError("network is unreachable (test)")
    monkeypatch.setattr(files, "_urlopen", offline)
    return tmp_path


def source_fill(dataset):
    return round(float(dataset.x_train[0, 0]) * 255)


def test_search_order_is_npae_data_then_cache_then_system(isolated, monkeypatch):
    make_idx_set(isolated / "system" / "mnist", fill=30)
    assert source_fill(load("mnist")) == 30
    make_idx_set(isolated / "cache" / "npae" / "mnist", fill=20)
    assert source_fill(load("mnist")) == 20
    make_idx_set(isolated / "root" / "mnist", fill=10)
    monkeypatch.setenv("NPAE_DATA", str(isolated / "root"))
    assert source_fill(load("mnist")) == 10
    assert load("mnist").source == str(isolated / "root" / "mnist")


def test_explicit_path_is_the_only_place_looked(isolated):
    make_idx_set(isolated / "cache" / "npae" / "mnist", fill=20)
    mine = make_idx_set(isolated / "mine", fill=40)
    assert source_fill(load("mnist", path=mine)) == 40
    with pytest.raises(FileNotFoundError) as error:
        load("mnist", path=isolated / "empty")
    assert str(isolated / "empty") in str(error.value)
    assert "cache" not in str(error.value).split("Put these")[0]


def test_fashion_and_mnist_do_not_share_a_folder(isolated, monkeypatch):
    make_idx_set(isolated / "root" / "mnist", fill=10)
    monkeypatch.setenv("NPAE_DATA", str(isolated / "root"))
    with pytest.raises(FileNotFoundError, match="fashion-mnist"):
        load("fashion-mnist")


@pytest.mark.parametrize("gz", [True, False])
def test_raw_and_dotted_file_names_are_found(tmp_path, gz):
    folder = make_idx_set(tmp_path / "d", gz=gz)
    assert files.find_files(folder)["train_images"].name.endswith(".gz") == gz
    for path in list(folder.iterdir()):  # rename to the "train-images.idx3-ubyte" spelling
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    found = files.find_files(folder)
    assert found is not None and ".idx3" in found["train_images"].name


def test_loaded_idx_dataset_has_the_documented_layout(tmp_path):
    folder = make_idx_set(tmp_path / "d", n_train=12, n_test=6, side=4, fill=255)
    data = load("mnist", path=folder, dtype=np.float64, flat=False)
    assert data.x_train.shape == (12, 1, 4, 4) and data.x_test.shape == (6, 1, 4, 4)
    assert data.x_train.dtype == np.float64 and np.all(data.x_train == 1.0)
    assert data.image_shape == (1, 4, 4) and data.note == ""
    np.testing.assert_array_equal(data.y_test, np.arange(6))
    assert data.y_train.dtype == np.int64


def test_mismatched_image_and_label_counts_are_reported(tmp_path):
    folder = make_idx_set(tmp_path / "d", n_train=12)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(11, np.uint8))
    with pytest.raises(ValueError, match="12 images but .* 11 labels"):
        load("mnist", path=folder)


def test_labels_file_in_place_of_images_is_reported(tmp_path):
    folder = make_idx_set(tmp_path / "d")
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros(12, np.uint8))
    with pytest.raises(ValueError, match=r"expected uint8 images of shape \(N, H, W\)"):
        load("mnist", path=folder)


def test_test_files_only_give_a_split_with_a_warning(isolated):
    folder = make_idx_set(isolated / "partial", n_test=20, test_only=True)
    with pytest.warns(PartialDatasetWarning, match="only the test files"):
        data = load("mnist", path=folder)
    assert len(data.x_train) == 16 and len(data.x_test) == 4  # every 5th image is test
    np.testing.assert_array_equal(data.y_test, [4, 9, 4, 9])  # labels are index % 10
    assert "train-images-idx3-ubyte.gz" in data.note and str(folder) in data.note


def test_partial_fallback_happens_only_after_the_download_fails(isolated, monkeypatch):
    make_idx_set(isolated / "root" / "mnist", n_test=10, test_only=True)
    monkeypatch.setenv("NPAE_DATA", str(isolated / "root"))
    with pytest.warns(PartialDatasetWarning, match="download failed: could not download"):
        data = load("mnist", progress=False)
    assert len(data.x_train) + len(data.x_test) == 10


def test_offline_error_says_where_to_put_which_files(isolated):
    with pytest.raises(FileNotFoundError) as error:
        load("fashion-mnist", progress=False)
    message = str(error.value)
    for stem in files.IDX_FILES.values():
        assert stem + ".gz" in message
    assert str(isolated / "cache" / "npae" / "fashion-mnist") in message
    assert "network is unreachable" in message and "NPAE_DATA" in message


def test_download_false_never_calls_the_network(isolated, monkeypatch):
    monkeypatch.setattr(files, "download", lambda *a, **k: pytest.fail("download called"))
    with pytest.raises(FileNotFoundError):
        load("mnist", download=False)


# --- downloads ---------------------------------------------------------------------------
def published(folder):
    """A mirror folder with gzipped files and their MD5s, as an upstream site has them."""
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in Path(folder).iterdir()}


def test_download_from_a_file_url_mirror_verifies_and_loads(isolated, monkeypatch):
    import urllib.request
    mirror = make_idx_set(isolated / "mirror", fill=77)
    monkeypatch.setattr(files, "_urlopen", lambda url: urllib.request.urlopen(url, timeout=5))
    monkeypatch.setitem(files.MIRRORS, "mnist", (mirror.as_uri() + "/",))
    monkeypatch.setitem(files.MD5, "mnist", published(mirror))
    data = load("mnist", progress=False)
    assert source_fill(data) == 77
    cached = isolated / "cache" / "npae" / "mnist"
    assert data.source == str(cached)
    assert sorted(p.name for p in cached.iterdir()) == sorted(published(mirror))


def test_bad_checksum_tries_the_next_mirror_and_leaves_no_partial_file(tmp_path):
    good = make_idx_set(tmp_path / "good")
    bad = make_idx_set(tmp_path / "bad", fill=1)  # same names, different bytes
    for prefix, n in (("train", 12), ("t10k", 6)):
        write_idx(bad / f"{prefix}-labels-idx1-ubyte.gz", np.ones(n, np.uint8))
    served = []

    def opener(url):
        served.append(url)
        return open(url.replace("file://", ""), "rb")
    target = tmp_path / "out"
    paths = files.download("mnist", target, mirrors=[f"file://{bad}", f"file://{good}"],
                           checksums=published(good), opener=opener, progress=False)
    assert len(served) == 8  # each of 4 files: the bad mirror, then the good one
    assert all(read_idx(p).size > 0 for p in paths.values())
    assert not list(target.glob("*.part"))
    with pytest.raises(DownloadError, match="MD5 .* does not match the published"):
        files.download("mnist", tmp_path / "out2", mirrors=[f"file://{bad}"],
                       checksums=published(good), opener=opener, progress=False)
    assert not list((tmp_path / "out2").iterdir())


def test_files_already_present_and_correct_are_not_fetched_again(tmp_path):
    mirror = make_idx_set(tmp_path / "mirror")
    checksums = published(mirror)
    target = make_idx_set(tmp_path / "target")  # byte-identical copy
    files.download("mnist", target, mirrors=["unused"], checksums=checksums,
                   opener=lambda url: pytest.fail(f"fetched {url}"), progress=False)


class FakeResponse(io.BytesIO):
    """What urlopen returns, as far as the downloader cares: read(n), headers, a context."""

    def __init__(self, payload):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}


def test_fake_opener_with_progress_bar(tmp_path, monkeypatch, capsys):
    payload = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02\x05\x06", mtime=0)
    md5 = hashlib.md5(payload).hexdigest()
    checksums = {stem + ".gz": md5 for stem in files.IDX_FILES.values()}
    bars = []   # the real tqdm bars, kept to read their byte counts afterwards

    def recording_bar(*args):
        bars.append(original_bar(*args))
        return bars[-1]
    original_bar = files._progress_bar
    monkeypatch.setattr(files, "_progress_bar", recording_bar)
    urls = []
    paths = files.download("fashion-mnist", tmp_path, mirrors=["https://example.invalid/x/"],
                           checksums=checksums, progress=True,
                           opener=lambda url: urls.append(url) or FakeResponse(payload))
    assert urls[0] == "https://example.invalid/x/train-images-idx3-ubyte.gz"
    np.testing.assert_array_equal(read_idx(paths["test_labels"]), [5, 6])
    # one bar per file, sized from Content-Length, that counted every byte written
    assert [(bar.desc, bar.total, bar.n) for bar in bars] == [
        (stem + ".gz", len(payload), len(payload)) for stem in files.IDX_FILES.values()]
    shown = capsys.readouterr().err
    assert all(f"{stem}.gz:" in shown for stem in files.IDX_FILES.values())
    assert f"/{len(payload)}.0" in shown


def test_published_checksums_are_well_formed():
    for name, table in files.MD5.items():
        assert sorted(table) == sorted(stem + ".gz" for stem in files.IDX_FILES.values()), name
        assert all(len(md5) == 32 and int(md5, 16) >= 0 for md5 in table.values())
    assert files.MD5["mnist"] != files.MD5["fashion-mnist"]


def test_fashion_mnist_is_found_in_the_system_folder(isolated):
    """Debian's layout (/usr/share/datasets/fashion-mnist), made here so it runs everywhere."""
    make_idx_set(isolated / "system" / "mnist", fill=30)           # the wrong dataset's folder
    folder = make_idx_set(isolated / "system" / "fashion-mnist", fill=50)
    assert files.search_dirs("fashion-mnist")[-1] == folder
    data = load("fashion-mnist", download=False)
    assert source_fill(data) == 50 and data.source == str(folder)
    assert data.x_train.shape == (12, 16) and data.x_test.shape == (6, 16)
    assert source_fill(load("mnist", download=False)) == 30


# --- the real files, where this machine has them -------------------------------------------
@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="shared MNIST test files not present")
def test_real_mnist_test_files_match_published_md5_and_load_partially():
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert files.md5sum(SHARED_MNIST / (stem + ".gz")) == files.MD5["mnist"][stem + ".gz"]
    with pytest.warns(PartialDatasetWarning):
        data = load("mnist", path=SHARED_MNIST)
    assert data.x_train.shape == (8000, 784) and data.x_test.shape == (2000, 784)
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert np.bincount(data.y_train, minlength=10).min() > 600  # all ten digits, balanced


@pytest.mark.skipif(not (SYSTEM_FASHION / "t10k-labels-idx1-ubyte.gz").is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist_layout_is_found():
    found = files.find_files(SYSTEM_FASHION)
    assert found is not None
    assert files.search_dirs("fashion-mnist")[-1] == SYSTEM_FASHION
    labels = read_idx(found["test_labels"])
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)
