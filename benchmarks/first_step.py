"""W3: time from a fresh interpreter to the first finished training step.

Cold: an empty Numba cache (every kernel compiles). Warm: the same cache, second run.
Also `import npae`, and the first step on the NumPy twins (no Numba at all) for
comparison. Each phase runs in its own subprocess; prints one JSON line.

Where the warm time goes (profiled): importing numba (which also imports SciPy's BLAS
for its own linear algebra check) and numba's one-off target initialisation when the
first cached kernel loads; npae's own share is the import plus ~0.1 s of cache loads.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = """
import time
t0 = time.perf_counter()
import numpy as np
import npae
t_import = time.perf_counter() - t0
rng = np.random.default_rng(0)
x = rng.random((128, 784)).astype(np.float32)
model = npae.{model}
optimizer = npae.Adam(model.parameters(), lr=1e-3)
optimizer.zero_grad()
model.loss(x, rng=rng)
model.backward()
optimizer.step()
print(t_import, time.perf_counter() - t0)
"""

MODELS = {
    "vae": "VAE(layer_sizes=[784, 512, 256, 32], activation='relu', seed=0)",
    "ae": "Autoencoder(layer_sizes=[784, 512, 256, 32], activation='relu', seed=0)",
}


def run(model, cache_dir, backend="numba"):
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "NPAE_BACKEND": backend}
    out = subprocess.run([sys.executable, "-c", CHILD.format(model=MODELS[model])], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=sorted(MODELS), default="vae")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        import_cold, cold = run(args.model, cache)
        import_warm, warm = run(args.model, cache)
        _, numpy_backend = run(args.model, cache, backend="numpy")
    print(json.dumps({"benchmark": "first_step", "model": args.model,
                      "import_s": round(import_warm, 4), "first_step_cold_cache_s": round(cold, 3),
                      "first_step_warm_cache_s": round(warm, 3), "target_warm_s": 1.0,
                      "first_step_numpy_backend_s": round(numpy_backend, 3)}))


if __name__ == "__main__":
    main()
