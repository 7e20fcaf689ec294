#!/usr/bin/python3
"""Checks nncw against PyTorch on the full torchvision classification models.

    /usr/bin/python3 tests/data/onnx/check_torchvision.py path/to/nncw [--bench] [MODEL ...]

Each model is built with random weights (seed 0; nothing is downloaded), its batch norms given
non-trivial running statistics, exported to ONNX (opset 13, symbolic batch) in a temporary
folder, run by `nncw eval` on one image and compared with PyTorch's output. The relative
error is max |nncw - torch| / max |torch| over the output; the check is that it stays below
1e-4. With --bench, ResNet-18 at 224x224 is also timed: nncw's import time and inference
images/s at batch 1 and 8 against PyTorch's on the same threads.

Needs Debian's python3-torch, python3-torchvision and python3-onnx. Not part of the meson
suite (it takes minutes and needs PyTorch); the small fixtures made by make_fixtures.py are.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

MODELS = {
    "resnet18": (lambda: torchvision.models.resnet18(), 224),
    "resnet50": (lambda: torchvision.models.resnet50(), 224),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(), 224),
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(), 224),
    "mobilenet_v3_large": (lambda: torchvision.models.mobilenet_v3_large(), 224),
    "squeezenet1_0": (lambda: torchvision.models.squeezenet1_0(), 224),
    "squeezenet1_1": (lambda: torchvision.models.squeezenet1_1(), 224),
    "googlenet": (lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True), 224),
    "inception_v3": (lambda: torchvision.models.inception_v3(aux_logits=False,
                                                             init_weights=True), 299),
    "densenet121": (lambda: torchvision.models.densenet121(), 224),
    "shufflenet_v2_x1_0": (lambda: torchvision.models.shufflenet_v2_x1_0(), 224),
}


def randomize_bn(model, gen):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)


def save_tensor(path, array):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array).SerializeToString())


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def export(name, tmp, batch=1):
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    build, size = MODELS[name]
    model = build().eval()
    randomize_bn(model, gen)
    x = torch.randn(batch, 3, size, size, generator=gen)
    path = os.path.join(tmp, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    return model, x, path


def run_nncw(nncw, model_path, x, tmp, repeat=1):
    inp, out = os.path.join(tmp, "input_0.pb"), os.path.join(tmp, "output_0.pb")
    save_tensor(inp, x.numpy())
    cmd = [nncw, "eval", model_path, "--input", inp, "--output", out]
    if repeat > 1:
        cmd += ["--repeat", str(repeat)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return load_tensor(out), r.stdout


def check(nncw, name, tmp):
    model, x, path = export(name, tmp)
    with torch.no_grad():
        ref = model(x).numpy()
    t0 = time.time()
    got, _ = run_nncw(nncw, path, x, tmp)
    wall = time.time() - t0
    err = np.abs(got.astype(np.float64) - ref).max()
    rel = err / np.abs(ref).max()
    ok = got.shape == ref.shape and rel < 1e-4
    print(f"{name:20s} {'ok  ' if ok else 'FAIL'} max abs err {err:9.3g}  max rel err {rel:9.3g}"
          f"  (nncw eval {wall:5.2f} s)", flush=True)
    return ok


def bench(nncw, tmp, threads, rounds=5):
    """nncw and PyTorch alternate for several rounds; the best round of each is reported, so
    other work on a shared machine disturbs the comparison as little as possible."""
    torch.set_num_threads(threads)
    print(f"\nResNet-18 224x224, {threads} threads, best of {rounds} alternating rounds")
    for batch in (1, 8):
        model, x, path = export("resnet18", tmp, batch)
        reps = 10 if batch == 1 else 3
        best_nncw, best_torch, best_import = 0.0, 0.0, 1e9
        with torch.no_grad():
            for _ in range(3):
                model(x)
            for _ in range(rounds):
                t0 = time.perf_counter()
                for _ in range(reps):
                    model(x)
                best_torch = max(best_torch, batch * reps / (time.perf_counter() - t0))
                _, stdout = run_nncw(nncw, path, x, tmp, repeat=reps + 1)
                m = re.search(r"import ([0-9.]+) s; .*: ([0-9.]+) images/s", stdout)
                best_import = min(best_import, float(m.group(1)))
                best_nncw = max(best_nncw, float(m.group(2)))
        print(f"  batch {batch}: nncw import {best_import:.3f} s, {best_nncw:7.1f} images/s; "
              f"PyTorch {best_torch:7.1f} images/s; nncw/PyTorch {best_nncw / best_torch:.2f}",
              flush=True)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        sys.exit(__doc__)
    nncw, names = os.path.abspath(args[0]), args[1:] or list(MODELS)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            try:
                failed += not check(nncw, name, tmp)
            except Exception as e:  # report and go on with the next model
                print(f"{name:20s} FAIL {e}", flush=True)
                failed += 1
        if "--bench" in sys.argv:
            bench(nncw, tmp, int(os.environ.get("THREADS", os.cpu_count())))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
