#!/usr/bin/python3
"""Makes the ONNX fixtures of tests/data/onnx: small PyTorch models exported to ONNX with an
input and PyTorch's output stored as ONNX TensorProto files.

Run with Debian's python3 (python3-torch, python3-torchvision, python3-onnx), from anywhere:

    /usr/bin/python3 tests/data/onnx/make_fixtures.py

Every torchvision architecture nncw supports is here as a tiny-width variant of the same
class, or as one of its characteristic blocks when the class has no width parameter, with
random weights (seed 0; nothing is downloaded). Each fixture is a folder <name>/ holding
model.onnx, input_0.pb and output_0.pb, under 2 MB. Batch norms are given non-trivial running
statistics so they matter. Models are exported with a symbolic batch dimension, as users
export them, so the import's shape folding is exercised.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper
from torchvision.models.googlenet import Inception
from torchvision.models.inception import InceptionA, InceptionC
from torchvision.models.resnet import BasicBlock, Bottleneck

HERE = os.path.dirname(os.path.abspath(__file__))


def randomize_bn(model, gen):
    """Running statistics and affine parameters away from the identity."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


def tiny_models():
    """name -> (model, input shape)"""
    return {
        # full architectures at a tiny width
        "mobilenet_v2": (torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10),
                         (2, 3, 64, 64)),
        "mobilenet_v3_small": (torchvision.models.mobilenet_v3_small(width_mult=0.25,
                                                                     num_classes=10),
                               (2, 3, 64, 64)),
        "mobilenet_v3_large": (torchvision.models.mobilenet_v3_large(width_mult=0.25,
                                                                     num_classes=10),
                               (2, 3, 64, 64)),
        "densenet": (torchvision.models.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2),
                                                 num_init_features=16, bn_size=2,
                                                 num_classes=10), (2, 3, 64, 64)),
        "shufflenet_v2": (torchvision.models.ShuffleNetV2(stages_repeats=[2, 2, 2],
                                                          stages_out_channels=[8, 16, 32, 64,
                                                                               128],
                                                          num_classes=10), (2, 3, 64, 64)),
        "squeezenet1_1": (torch.nn.Sequential(*list(
            torchvision.models.squeezenet1_1(num_classes=10).features.children())[:8],
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()), (2, 3, 64, 64)),
        "squeezenet1_0": (torch.nn.Sequential(*list(
            torchvision.models.squeezenet1_0(num_classes=10).features.children())[:6],
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()), (2, 3, 64, 64)),
        # characteristic blocks of the architectures without a width parameter
        "resnet18_layer1": (torch.nn.Sequential(
            torch.nn.Conv2d(3, 64, 7, 2, 3, bias=False), torch.nn.BatchNorm2d(64),
            torch.nn.ReLU(), torch.nn.MaxPool2d(3, 2, 1),
            BasicBlock(64, 64), BasicBlock(64, 64),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 10)),
            (2, 3, 64, 64)),
        "resnet50_bottleneck": (torch.nn.Sequential(
            Bottleneck(64, 32, stride=2, downsample=torch.nn.Sequential(
                torch.nn.Conv2d(64, 128, 1, 2, bias=False), torch.nn.BatchNorm2d(128))),
            Bottleneck(128, 32)), (2, 64, 16, 16)),
        "googlenet_inception": (Inception(64, 32, 48, 64, 8, 16, 16),
                                (2, 64, 14, 14)),
        "inception_v3_a": (InceptionA(64, pool_features=16), (2, 64, 17, 17)),
        "inception_v3_c": (InceptionC(96, channels_7x7=32), (1, 96, 9, 9)),
    }


def save_tensor(path, array):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array).SerializeToString())


def export(name, model, shape, gen):
    randomize_bn(model, gen)
    model.eval()
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    x = torch.randn(*shape, generator=gen)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(folder, "model.onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    save_tensor(os.path.join(folder, "input_0.pb"), x.numpy())
    save_tensor(os.path.join(folder, "output_0.pb"), y.numpy())
    size = os.path.getsize(path)
    assert size < 2 << 20, f"{name}: {size} bytes"
    print(f"{name:24s} {size / 1024:8.1f} KiB  input {list(shape)} output {list(y.shape)}")


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    only = set(sys.argv[1:])
    for name, (model, shape) in tiny_models().items():
        if not only or name in only:
            export(name, model, shape, gen)


if __name__ == "__main__":
    main()
