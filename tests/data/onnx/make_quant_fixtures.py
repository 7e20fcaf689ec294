#!/usr/bin/python3
"""Makes the full-size torchvision models the quantizer-setup tests and docs use, as NNCF's ONNX
reference graphs were made: eval mode (batch norms folded into the convolutions), opset 13,
a static 1x3x224x224 input (299x299 for Inception V3). Every initializer is zeroed, which keeps
the graph (what quantizer placement reads) and lets gzip shrink a 45 MB model to a few tens of
kilobytes. Nothing is downloaded (random weights before zeroing).

    /usr/bin/python3 tests/data/onnx/make_quant_fixtures.py            # the committed fixture
    /usr/bin/python3 tests/data/onnx/make_quant_fixtures.py --all DIR  # every model, into DIR

The committed fixture is tests/data/onnx/full/resnet18.onnx.gz (read through zlib by
tests/engine/test_quantizer_setup.c). --all writes <model>.onnx.gz for the models of
check_torchvision.py, which tests/engine/quant_placement_report.c summarises for
docs/quantization-placement.md. Needs Debian's python3-torch, python3-torchvision, python3-onnx.
"""
import gzip
import io
import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))

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


def export_zeroed(name):
    """The model as ONNX bytes with every initializer set to zero."""
    torch.manual_seed(0)
    build, size = MODELS[name]
    model = build().eval()
    x = torch.zeros(1, 3, size, size)
    buf = io.BytesIO()
    torch.onnx.export(model, x, buf, opset_version=13, input_names=["input"],
                      output_names=["output"])
    m = onnx.load_from_string(buf.getvalue())
    for init in m.graph.initializer:
        a = numpy_helper.to_array(init)
        init.CopyFrom(numpy_helper.from_array(np.zeros_like(a), init.name))
    onnx.checker.check_model(m)
    return m.SerializeToString()


def write(name, folder):
    path = os.path.join(folder, name + ".onnx.gz")
    data = export_zeroed(name)
    with open(path, "wb") as f:  # mtime 0: the same bytes on every run
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
            gz.write(data)
    print(f"{path}: {len(data) / 1e6:.1f} MB -> {os.path.getsize(path) / 1024:.1f} KiB")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--all":
        os.makedirs(sys.argv[2], exist_ok=True)
        for name in MODELS:
            write(name, sys.argv[2])
    elif len(sys.argv) == 1:
        write("resnet18", os.path.join(HERE, "full"))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
