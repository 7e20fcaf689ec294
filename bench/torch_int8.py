"""torch.ao int8 inference of ResNet-18 (CIFAR stem: 3x3 stride-1 conv, no max-pool), 3x32x32,
batch 32: the figure nncw's integer executor is compared with. Static post-training
quantization through FX graph mode (torch.ao.quantization.quantize_fx) with the default qconfig
of the x86 backend (fbgemm, else onednn), calibrated on four random batches; then the median
time of the converted model's forward after warm-up, as shared/bench/torch_baseline.py times.

  /usr/bin/python3 bench/torch_int8.py [--threads 2] [--quick]

prints `torch_int8_resnet18_infer_images_per_s VALUE img/s` (bench/compare.sh pairs it with
nncw's resnet18_int8_infer_images_per_s) and `torch_int8_backend NAME -` for the record.
Needs the Debian packages python3-torch and python3-torchvision.
"""
import argparse, statistics, time

import torch
import torch.nn as nn
import torchvision
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx


def resnet18_cifar(classes=10):
    m = torchvision.models.resnet18(num_classes=classes)
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    return m


def median_s(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    reps = 5 if a.quick else 15
    engines = torch.backends.quantized.supported_engines
    backend = "x86" if "x86" in engines else "fbgemm" if "fbgemm" in engines else "onednn"
    torch.backends.quantized.engine = backend
    x = torch.randn(32, 3, 32, 32)
    prepared = prepare_fx(resnet18_cifar().eval(), get_default_qconfig_mapping(backend), (x,))
    with torch.no_grad():
        for _ in range(4):
            prepared(torch.randn(32, 3, 32, 32))
        q = convert_fx(prepared)
        t = median_s(lambda: q(x), 2, reps)
    print(f"torch_int8_resnet18_infer_images_per_s {32 / t:.4g} img/s", flush=True)
    print(f"torch_int8_backend {backend} -", flush=True)


if __name__ == "__main__":
    main()
