#!/usr/bin/python3
"""Writes the seed corpus of the importer's fuzzer (tests/onnx/fuzz_corpus/*.onnx): small
valid models that between them reach every part of the importer (initializers, Constant
nodes, a symbolic batch with a Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain, old
opsets and their rewrites, multi-output ops, optional inputs) so mutations start from
meaningful structure. The regress-*.bin files beside them are inputs the fuzzer once found
crashes with (fixed since); test_onnx imports every file of the folder.

    /usr/bin/python3 tests/onnx/make_fuzz_corpus.py      (needs python3-onnx)
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_corpus")
F, I64 = TensorProto.FLOAT, TensorProto.INT64


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def save(name, nodes, inputs, outputs, inits=(), opset=13):
    inputs = list(inputs)
    if opset < 7:  # IR version 3: initializers are graph inputs too
        inputs += [vi(t.name, t.data_type, list(t.dims)) for t in inits]
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="nncw-fuzz-corpus")
    model.ir_version = 7 if opset >= 7 else 3
    onnx.checker.check_model(model)
    with open(os.path.join(HERE, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())


def rnd(*shape):
    return np.random.RandomState(len(shape)).randn(*shape).astype(np.float32) * 0.1


def main():
    os.makedirs(HERE, exist_ok=True)
    x4 = vi("x", F, ["N", 2, 4, 4])
    save("conv_relu_pool", [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["y"]),
    ], [x4], [vi("y", F, ["N", 3, 1, 1])], [init("w", rnd(3, 2, 3, 3)), init("b", rnd(3))])
    save("shape_chain_reshape", [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(
            np.array(0, np.int64))),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
    ], [x4], [vi("y", F, ["N", 32])],
        [init("ax", np.array([0], np.int64)), init("minus1", np.array([-1], np.int64))])
    save("gemm_softmax", [
        helper.make_node("Flatten", ["x"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "w", "b"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"], axis=1),
    ], [x4], [vi("y", F, ["N", 5])], [init("w", rnd(5, 32)), init("b", rnd(5))], opset=11)
    save("bn_clip_add", [
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["n"], epsilon=1e-3),
        helper.make_node("Clip", ["n", "lo", "hi"], ["c"]),
        helper.make_node("Add", ["c", "x"], ["y"]),
    ], [x4], [vi("y", F, ["N", 2, 4, 4])],
        [init("s", rnd(2) + 1), init("b", rnd(2)), init("m", rnd(2)), init("v", rnd(2) ** 2 + 1),
         init("lo", np.array(0, np.float32)), init("hi", np.array(6, np.float32))])
    save("split_concat_slice", [
        helper.make_node("Split", ["x", "sp"], ["a", "b"], axis=1),
        helper.make_node("Concat", ["b", "a"], ["c"], axis=1),
        helper.make_node("Slice", ["c", "st", "en", "axs", "stp"], ["y"]),
    ], [x4], [vi("y", F, ["N", 2, 2, 4])],
        [init("sp", np.array([1, 1], np.int64)), init("st", np.array([0], np.int64)),
         init("en", np.array([4], np.int64)), init("axs", np.array([2], np.int64)),
         init("stp", np.array([2], np.int64))])
    save("resize_convtranspose", [
        helper.make_node("Resize", ["x", "", "sc"], ["r"], mode="linear",
                         coordinate_transformation_mode="pytorch_half_pixel"),
        helper.make_node("ConvTranspose", ["r", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1],
                         output_padding=[1, 1]),
    ], [vi("x", F, [1, 2, 3, 3])], [vi("y", F, [1, 1, 12, 12])],
        [init("sc", np.array([1, 1, 2, 2], np.float32)), init("w", rnd(2, 1, 3, 3))])
    save("old_opset_broadcast", [
        helper.make_node("Add", ["x", "b"], ["a"], broadcast=1, axis=1),
        helper.make_node("PRelu", ["a", "slope"], ["p"]),
        helper.make_node("Softmax", ["p"], ["y"], axis=1),
    ], [vi("x", F, [2, 3, 4])], [vi("y", F, [2, 3, 4])],
        [init("b", rnd(3)), init("slope", rnd(3))], opset=6)
    save("upsample_7", [
        helper.make_node("Upsample", ["x"], ["y"], mode="nearest", scales=[1.0, 1.0, 2.0, 2.0]),
    ], [vi("x", F, [1, 1, 2, 2])], [vi("y", F, [1, 1, 4, 4])], opset=7)
    save("constant_of_shape_range_cast", [
        helper.make_node("ConstantOfShape", ["shape"], ["z"], value=numpy_helper.from_array(
            np.array([2.0], np.float32))),
        helper.make_node("Range", ["s", "l", "d"], ["r"]),
        helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["z", "rf"], ["m"]),
        helper.make_node("Add", ["x", "m"], ["y"]),
    ], [vi("x", F, [2, 3])], [vi("y", F, [2, 3])],
        [init("shape", np.array([2, 3], np.int64)), init("s", np.array(0, np.int64)),
         init("l", np.array(3, np.int64)), init("d", np.array(1, np.int64))])
    save("reduce_where_compare", [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Greater", ["x", "m"], ["g"]),
        helper.make_node("Where", ["g", "x", "m"], ["w"]),
        helper.make_node("ReduceSum", ["w", "ax"], ["y"], keepdims=0),
    ], [vi("x", F, ["N", 4])], [vi("y", F, ["N"])], [init("ax", np.array([1], np.int64))])
    save("gather_squeeze_transpose", [
        helper.make_node("Gather", ["x", "idx"], ["g"], axis=1),
        helper.make_node("Transpose", ["g"], ["t"], perm=[1, 0, 2]),
        helper.make_node("Unsqueeze", ["t", "ax"], ["u"]),
        helper.make_node("Squeeze", ["u", "ax"], ["y"]),
    ], [vi("x", F, [2, 5, 3])], [vi("y", F, [2, 2, 3])],
        [init("idx", np.array([4, -1], np.int64)), init("ax", np.array([0], np.int64))])
    save("layernorm_instancenorm_lrn", [
        helper.make_node("InstanceNormalization", ["x", "s", "b"], ["i"]),
        helper.make_node("LRN", ["i"], ["l"], size=3),
        helper.make_node("LayerNormalization", ["l", "ls"], ["y"], axis=-1),
    ], [x4], [vi("y", F, ["N", 2, 4, 4])],
        [init("s", rnd(2) + 1), init("b", rnd(2)), init("ls", rnd(4) + 1)], opset=17)
    save("unary_math", [
        helper.make_node("Abs", ["x"], ["a"]),
        helper.make_node("Sqrt", ["a"], ["b"]),
        helper.make_node("Exp", ["b"], ["c"]),
        helper.make_node("Log", ["c"], ["d"]),
        helper.make_node("Div", ["d", "x"], ["e"]),
        helper.make_node("Pow", ["e", "two"], ["f"]),
        helper.make_node("Max", ["f", "x", "a"], ["y"]),
    ], [vi("x", F, [3, 4])], [vi("y", F, [3, 4])], [init("two", np.array(2, np.float32))])
    save("dropout_identity_outputs", [
        helper.make_node("Dropout", ["x", "ratio"], ["d", "mask"]),
        helper.make_node("Identity", ["d"], ["y"]),
    ], [vi("x", F, [2, 2])], [vi("y", F, [2, 2]), vi("mask", TensorProto.BOOL, [2, 2]),
                              vi("ratio", F, [])],
        [init("ratio", np.array(0.5, np.float32))])
    save("expand_tile_argmax", [
        helper.make_node("Expand", ["x", "shape"], ["e"]),
        helper.make_node("Tile", ["e", "rep"], ["t"]),
        helper.make_node("ArgMax", ["t"], ["y"], axis=1, keepdims=0),
    ], [vi("x", F, [1, 3])], [vi("y", I64, [4])],
        [init("shape", np.array([2, 3], np.int64)), init("rep", np.array([2, 1], np.int64))])


if __name__ == "__main__":
    main()
