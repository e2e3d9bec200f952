"""Which LiteRT delegates can run an exported .tflite, judged by the operators it uses.

The LiteRT GPU delegate (float32 and float16 models) accepts the builtin operators below
(``tensorflow/lite/tools/versioning/gpu_compatibility.cc``, TensorFlow 2.21; some with
conditions on their arguments, e.g. STRIDED_SLICE without shrink_axis_mask). The Python
``Analyzer(gpu_compatibility=True)`` accepts any operator in 2.21 (TOPK_V2 passes), so the
list is spelled out here. NPU and DSP delegates (NNAPI, Qualcomm QNN/Hexagon, Edge TPU) run
full-int8 models: whether the int8 file stays close to float32 is ``parity``'s figure.
"""

GPU_DELEGATE_OPS = frozenset(
    {
        "ADD",
        "AVERAGE_POOL_2D",
        "CONCATENATION",
        "CONV_2D",
        "CUMSUM",
        "DEPTH_TO_SPACE",
        "DEPTHWISE_CONV_2D",
        "DEQUANTIZE",
        "DIV",
        "EXP",
        "FLOOR",
        "FLOOR_DIV",
        "FULLY_CONNECTED",
        "HARD_SWISH",
        "LEAKY_RELU",
        "LOGISTIC",
        "MAX_POOL_2D",
        "MAXIMUM",
        "MEAN",
        "MINIMUM",
        "MIRROR_PAD",
        "MUL",
        "PACK",
        "PAD",
        "PADV2",
        "PRELU",
        "QUANTIZE",
        "RELU",
        "RELU6",
        "RESHAPE",
        "RESIZE_BILINEAR",
        "RESIZE_NEAREST_NEIGHBOR",
        "RSQRT",
        "SLICE",
        "SOFTMAX",
        "SPACE_TO_DEPTH",
        "SPLIT",
        "SQRT",
        "SQUARE",
        "SQUARED_DIFFERENCE",
        "STRIDED_SLICE",
        "SUB",
        "SUM",
        "TANH",
        "TILE",
        "TRANSPOSE",
        "TRANSPOSE_CONV",
    }
)


def gpu_unsupported(op_names):
    """The operators of ``op_names`` (e.g. ``litert.TfliteModel.op_names()``) that the GPU
    delegate does not run, sorted; empty when the whole graph can run on it."""
    return sorted(set(op_names) - GPU_DELEGATE_OPS)
