"""Bad command lines end in one line and a non-zero status, never a traceback;
`npae gradcheck` and `npae demo`; --help everywhere."""
import subprocess
import sys

import pytest

from npae.__main__ import main

BAD_USAGE = [   # exit status 2: the command line itself is wrong
    ["train", "resnet"],
    ["train", "--epochs", "-3"],
    ["train", "--epochs", "ten"],
    ["train", "vae", "--latent", "0"],
    ["train", "ae", "--beta", "2"],                  # an option the model does not take
    ["train", "ksparse", "--latent", "4", "--k", "9"],
    ["train", "contractive", "--hidden", "16"],
    ["train", "--dataset", "cifar"],
    ["train", "--rho", "1.5"],
    ["train", "--dataset", "digits", "--data-dir", "x"],
    ["sample", "somewhere", "-n", "0"],
    ["evaluate"],
    ["fly"],
    ["--epochs", "1"],                               # options before the command
    [],
]
BAD_RUN = [     # exit status 1: the command line is fine, what it names is not
    ["train", "--dataset", "mnist", "--data-dir", "{tmp}/no-such-folder"],
    ["evaluate", "{tmp}/no-such-run"],
    ["evaluate", "{tmp}"],                           # a folder without model.npz
    ["sample", "{tmp}"],
    ["gradcheck", "--only", "no-such-layer"],
]


def one_line_error(err):
    lines = [line for line in err.splitlines() if line.startswith("npae: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("argv", BAD_USAGE, ids=" ".join)
def test_a_wrong_command_line_is_one_line_and_status_2(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    one_line_error(captured.err)


@pytest.mark.parametrize("argv", BAD_RUN, ids=" ".join)
def test_a_failure_while_running_is_one_line_and_status_1(argv, tmp_path, capsys):
    assert main([a.format(tmp=tmp_path) for a in argv]) == 1
    one_line_error(capsys.readouterr().err)


def test_the_messages_name_the_problem(tmp_path, capsys):
    main(["train", "resnet"])
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
    main(["train", "--epochs", "-3"])
    assert "--epochs: must be an integer >= 1, got '-3'" in capsys.readouterr().err
    main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "none")])
    error = capsys.readouterr().err
    assert "not found" in error and "--data-dir" in error and "t10k-images" in error


@pytest.mark.parametrize("argv, status", [(["train", "resnet"], 2),
                                          (["evaluate", "no-such-run"], 1)])
def test_a_real_process_exits_with_the_status_and_no_traceback(argv, status, tmp_path):
    process = subprocess.run([sys.executable, "-m", "npae", *argv], capture_output=True,
                             text=True, cwd=tmp_path, timeout=60)
    assert process.returncode == status
    one_line_error(process.stderr)
    assert process.stdout == ""


@pytest.mark.parametrize("command", ["train", "evaluate", "sample", "gradcheck", "demo", None])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as exit:
        main(([command] if command else []) + ["--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: npae") and "--help" in out


def test_gradcheck_prints_every_check_and_passes(capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out.splitlines()
    names = " ".join(out)
    for name in ("Dense", "Conv2D", "MaxPool2D", "BCEWithLogits", "SparsityKL", "Contractive",
                 "KSparseAutoencoder", "ConvAutoencoder", "VAE (capacity)", "ConvVAE"):
        assert name in names
    rows = out[1:-1]
    errors = [float(line.split()[-3]) for line in rows]
    assert len(rows) >= 30 and max(errors) <= 1e-7 and all(line.endswith("ok") for line in rows)
    assert out[-1].startswith(f"all {len(rows)} checks passed")


def test_gradcheck_fails_on_a_wrong_backward(monkeypatch, capsys):
    """Teeth: a sigmoid whose backward forgets the factor (1 − s) must fail, exit 1."""
    from npae.layers.activations import Sigmoid
    original = Sigmoid.backward
    monkeypatch.setattr(Sigmoid, "backward", lambda self, dy: 1.5 * original(self, dy))
    assert main(["gradcheck", "--only", "Sigmoid"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "1 of 1 checks FAILED" in out


def test_demo_is_still_reachable(capsys):
    assert main(["demo", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out and "epoch   1" in out


def test_threads_and_backend_are_restored(capsys):
    import npae
    before = npae.get_backend()
    assert main(["gradcheck", "--only", "Upsample2D", "--backend", "numpy", "--threads", "1"]) == 0
    assert npae.get_backend() == before
