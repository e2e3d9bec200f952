"""Stride-1 'valid' convolutions whose training gradients run on TensorFlow's fast CPU kernels.

Profiling a ResNet-9 CycleGAN iteration on a 2-core CPU found the stock gradient kernels to be
where the time went:

* With few output channels (the generator's 64 -> 3 head, the discriminator's 512 -> 1 head),
  ``Conv2DBackpropFilter`` and ``Conv2DBackpropInput`` are 10-20x slower than the mirror-image
  convolution with few *input* channels; the generator head alone took a fifth of the step.
* For the residual blocks' 256 -> 256 convolutions, ``Conv2DBackpropInput`` and
  ``Conv2DBackpropFilter`` reach 65-75% and 50-75% of the forward convolution's rate.

That profile came from an AVX2 CPU, where this module made the whole step about 1.5x faster;
on an AVX-512 CPU with newer oneDNN kernels the same rewrite was 1.5x slower. So nothing here
is assumed: ``conv_paths`` times both per shape on the machine at hand and picks, and
``benchmarks/conv_gradients.py`` prints the per-convolution figures.

Both gradients of ``y = conv(x, w)`` (stride 1, 'valid') are other convolutions: ``dx`` is the
forward convolution of ``dy``, zero-padded by ``k - 1``, with the kernel flipped in space and
its channel axes swapped; ``dw`` is that convolution's filter gradient with image and gradient
exchanged (fast when the output channels are few), or a forward convolution of ``x`` by ``dy``
with the batch axis read as the channel axis (fast when both channel counts are large). The
values are those of ``tf.nn.conv2d``'s own gradients, up to float summation order.
"""

import keras
import tensorflow as tf

from tf_cyclegan.networks import conv_paths

# Output channels up to this take the mirrored filter gradient.
_NARROW_OUTPUT = 4
# Input and output channels from this take the two forward-convolution gradients.
_WIDE_CHANNELS = 32


def _mirrored(kernel):
    """[k_h, k_w, in, out] -> [k_h, k_w, out, in], flipped in space."""
    return tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])


def _full_padding(d_outputs, kernel):
    k_h, k_w = kernel.shape[0], kernel.shape[1]
    return tf.pad(d_outputs, [[0, 0], [k_h - 1, k_h - 1], [k_w - 1, k_w - 1], [0, 0]])


def _kernel_gradient_by_batch_channel_swap(x, d_outputs):
    """``dw[i, j, c, o] = sum over b, h, w of x[b, h + i, w + j, c] * dy[b, h, w, o]``.

    Read with the batch as the channel axis, that sum is a forward convolution: of x as
    [in_channels, height, width, batch] images by dy as a [height', width', batch, out_channels]
    kernel, which runs at the forward convolution's rate; on some CPUs that beats
    ``Conv2DBackpropFilter`` (``benchmarks/conv_gradients.py`` prints both rates).
    """
    images = tf.transpose(x, [3, 1, 2, 0])
    kernel = tf.transpose(d_outputs, [1, 2, 0, 3])
    return tf.transpose(tf.nn.conv2d(images, kernel, 1, "VALID"), [1, 2, 0, 3])


def uses_fast_gradients(kernel_shape):
    """Whether ``conv2d_with_fast_gradients`` replaces the stock gradients for this kernel."""
    _, _, c_in, c_out = kernel_shape
    return c_out <= _NARROW_OUTPUT or min(c_in, c_out) >= _WIDE_CHANNELS


def conv2d_with_fast_gradients(inputs, kernel):
    """``tf.nn.conv2d(inputs, kernel, 1, "VALID")`` with the gradients described above.

    Kernels for which ``uses_fast_gradients`` is False keep the stock gradients.

    Args:
        inputs: float [batch, height, width, in_channels].
        kernel: float [kernel_h, kernel_w, in_channels, out_channels], same dtype, static shape.

    Returns:
        float [batch, height - kernel_h + 1, width - kernel_w + 1, out_channels].
    """
    kernel_shape = kernel.shape.as_list()
    if not uses_fast_gradients(kernel_shape):
        return tf.nn.conv2d(inputs, kernel, 1, "VALID")

    @tf.custom_gradient
    def conv(x, w):
        def grad(d_outputs):
            full = _full_padding(d_outputs, w)
            d_x = tf.nn.conv2d(full, _mirrored(w), 1, "VALID")
            if kernel_shape[3] <= _NARROW_OUTPUT:
                d_mirrored = tf.raw_ops.Conv2DBackpropFilter(
                    input=full,
                    filter_sizes=tf.shape(_mirrored(w)),
                    out_backprop=x,
                    strides=[1, 1, 1, 1],
                    padding="VALID",
                )
                return d_x, _mirrored(d_mirrored)
            return d_x, _kernel_gradient_by_batch_channel_swap(x, d_outputs)

        return tf.nn.conv2d(x, w, 1, "VALID"), grad

    return conv(inputs, kernel)


class FastGradientConv2D(keras.layers.Conv2D):
    """A stride-1 'valid' ``Conv2D`` that trains with ``conv2d_with_fast_gradients`` where
    ``conv_paths.choose`` finds it faster on this machine (stock gradients elsewhere).

    Same weights, checkpoint keys and outputs as ``keras.layers.Conv2D``. Inference runs the
    stock layer, so exported graphs hold nothing unusual.
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        if self.strides != (1, 1) or self.padding != "valid" or self.dilation_rate != (1, 1):
            raise ValueError(
                f"FastGradientConv2D needs strides 1, padding 'valid' and no dilation; got "
                f"strides={self.strides}, padding={self.padding!r}, dilation={self.dilation_rate}"
            )
        if self.activation is not keras.activations.linear or self.groups != 1:
            raise ValueError("FastGradientConv2D takes no activation or groups; add them after it")

    def call(self, inputs, training=None):
        shape = self.kernel.shape
        rewritten = conv2d_with_fast_gradients if uses_fast_gradients(shape) else None
        if (
            not training
            or conv_paths.choose(inputs.shape, shape, inputs.dtype, rewritten) == "stock"
        ):
            return super().call(inputs)
        outputs = conv2d_with_fast_gradients(inputs, tf.cast(self.kernel, inputs.dtype))
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, outputs.dtype))
        return outputs
