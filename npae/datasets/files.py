"""Where MNIST-style IDX files live, how to find them, and how to download them.

Search order for ``load("mnist")`` / ``load("fashion-mnist")`` (first complete set wins):

1. ``path=``: a folder holding the four files; when given, it is the only place looked.
2. ``$NPAE_DATA/<name>/``: a data root you choose (e.g. ``NPAE_DATA=~/data`` -> ``~/data/mnist``).
3. the user cache, ``$XDG_CACHE_HOME/npae/<name>`` (default ``~/.cache/npae/<name>``), where
   downloads go.
4. the system location ``/usr/share/datasets/<name>`` (Debian's package
   ``dataset-fashion-mnist`` installs Fashion-MNIST there).

Each file may be gzipped (``train-images-idx3-ubyte.gz``) or not (``train-images-idx3-ubyte``,
or ``train-images.idx3-ubyte`` as some unpackers name it).

Downloads are checked against the MD5 sums the datasets' authors publish for the ``.gz``
files. Files found locally are not checksummed (repackagers recompress them: Debian's
Fashion-MNIST ``.gz`` files differ from the published ones byte for byte but hold the same
IDX data); the IDX reader still validates their header and length.
"""
import hashlib
import os
from pathlib import Path

# role -> file name without ".gz"
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/",
              "http://yann.lecun.com/exdb/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/"
                      "data/fashion/"),
}

# MD5 of the published .gz files. MNIST: LeCun et al.'s files (the t10k sums were also
# recomputed from the copies in this project's shared data); Fashion-MNIST: the sums in
# Xiao, Rasul & Vollgraf's README (zalandoresearch/fashion-mnist).
MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

SYSTEM_DIR = Path("/usr/share/datasets")
TIMEOUT_SECONDS = 30
CHUNK_BYTES = 1 << 16


class DownloadError(OSError):
    """Every mirror failed for some file (offline, HTTP error, checksum mismatch)."""


def cache_dir():
    """The user cache root for npae data: ``$XDG_CACHE_HOME/npae`` or ``~/.cache/npae``."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root).expanduser() / "npae"


def search_dirs(name, path=None):
    """The folders ``load(name)`` looks in, in order (see the module docstring)."""
    if path is not None:
        return [Path(path).expanduser()]
    dirs = []
    if os.environ.get("NPAE_DATA"):
        dirs.append(Path(os.environ["NPAE_DATA"]).expanduser() / name)
    return dirs + [cache_dir() / name, SYSTEM_DIR / name]


def find_file(directory, stem):
    """The file for ``stem`` in ``directory`` (gzipped or raw), or None."""
    dotted = stem.replace("-idx", ".idx")
    for candidate in (stem + ".gz", stem, dotted + ".gz", dotted):
        if (Path(directory) / candidate).is_file():
            return Path(directory) / candidate
    return None


def find_files(directory, roles=tuple(IDX_FILES)):
    """{role: Path} if every role's file is in ``directory``, else None."""
    found = {role: find_file(directory, IDX_FILES[role]) for role in roles}
    return None if any(p is None for p in found.values()) else found


def missing_files_message(name, dirs, reason=""):
    """What a student needs to read when the files are nowhere: where to put which files."""
    files = "\n".join(f"    {stem}.gz" for stem in IDX_FILES.values())
    looked = "\n".join(f"    {d}" for d in dirs)
    target = cache_dir() / name
    return (f"{name}: the IDX files were not found. Looked in:\n{looked}\n"
            + (f"Download failed: {reason}\n" if reason else "")
            + f"Put these four files (gzipped or not) into {target}\n{files}\n"
            + f"(from {MIRRORS[name][0]}), or set NPAE_DATA to a folder that has a "
            + f"'{name}' subfolder holding them, or pass path='folder/with/the/files'.")


def md5sum(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _urlopen(url):
    import urllib.request
    return urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS)


def download(name, directory=None, *, mirrors=None, checksums=None, opener=None, progress=True):
    """Download the four IDX files of ``name`` into ``directory`` (default: the cache).

    Each file is fetched from the first mirror that works, streamed to ``<file>.part``
    with a progress bar, and renamed only once its MD5 matches ``checksums`` (default: the
    published sums). Files already present with the right checksum are kept.
    ``opener(url)`` returns a readable response (default: ``urllib.request.urlopen`` with
    a timeout); tests pass file:// mirrors or a fake opener. Returns {role: Path}.
    Raises ``DownloadError`` listing, per mirror, why the file could not be fetched.
    """
    if name not in MIRRORS:
        raise ValueError(f"download: unknown dataset {name!r}; choose from {sorted(MIRRORS)}")
    directory = Path(directory) if directory is not None else cache_dir() / name
    mirrors = MIRRORS[name] if mirrors is None else tuple(mirrors)
    checksums = MD5[name] if checksums is None else checksums
    opener = opener or _urlopen
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for role, stem in IDX_FILES.items():
        file_name = stem + ".gz"
        target = directory / file_name
        if not (target.is_file() and md5sum(target) == checksums[file_name]):
            _fetch(file_name, target, mirrors, checksums[file_name], opener, progress)
        paths[role] = target
    return paths


def _fetch(file_name, target, mirrors, md5, opener, progress):
    import http.client  # imported here: it pulls in the email package, slow for `import npae`
    part = target.with_name(target.name + ".part")
    reasons = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file_name
        try:
            digest = _stream(opener, url, part, progress)
        except (OSError, ValueError, http.client.HTTPException) as error:
            part.unlink(missing_ok=True)
            reasons.append(f"{url}: {error}")
            continue
        if digest != md5:
            part.unlink(missing_ok=True)
            reasons.append(f"{url}: MD5 {digest} does not match the published {md5}")
            continue
        os.replace(part, target)
        return
    raise DownloadError(f"could not download {file_name}:\n  " + "\n  ".join(reasons))


def _stream(opener, url, part, progress):
    """Copy ``url`` into ``part`` chunk by chunk; return the MD5 of what was written."""
    digest = hashlib.md5(usedforsecurity=False)
    with opener(url) as response, open(part, "wb") as out:
        headers = getattr(response, "headers", None) or {}
        total = int(headers.get("Content-Length") or 0) or None
        bar = _progress_bar(progress, total, url.rsplit("/", 1)[-1])
        try:
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                out.write(chunk)
                digest.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    return digest.hexdigest()


def _progress_bar(progress, total, description):
    if not progress:
        return None
    from tqdm.auto import tqdm  # imported here: `import npae` must stay light
    return tqdm(total=total, desc=description, unit="B", unit_scale=True, leave=False)

