"""PatchNCE (Park et al., "Contrastive Learning for Unpaired Image-to-Image Translation",
ECCV 2020): the contrastive loss CUT uses instead of a second generator and a cycle.

A patch of the translated image, seen through the generator's encoder and a small MLP
(``ProjectionHead``), must match the patch at the same place of the source image (the
positive) rather than the other sampled patches of that image (the negatives). Pure
functions of features; ``cut.py`` owns the networks. Matches the official
``PatchSampleF`` and ``PatchNCELoss`` (tools/cut_reference.py checks it).
"""

import keras
import tensorflow as tf

from tf_cyclegan.networks import layers as cg_layers

# The official Normalize's epsilon: x / (||x|| + 1e-7).
_NORM_EPSILON = 1e-7
# The logit of a patch against itself among the negatives: exp(-10 / T) is ~0.
_SELF_LOGIT = -10.0


def encoder_layer_names(n_blocks, antialias):
    """Our ResNet generator's layer names at the official ``nn.Sequential`` indices.

    ``--nce_layers`` counts layers as the official code does: 0 is the reflection-padded
    input, then stem convolution, norm, ReLU, each downsampling's convolution, norm, ReLU
    (and blur when antialiased), then each residual block.
    """
    names = ["stem_pad", "stem_conv", "stem_norm", "stem_relu"]
    for i in range(2):
        names += [f"down{i}_conv", f"down{i}_norm", f"down{i}_relu"]
        names += [f"down{i}_blur"] if antialias else []
    return names + [f"res{i}_add" for i in range(n_blocks)]


def encoder(generator, names):
    """A model sharing ``generator``'s weights: images -> [features of each named layer]."""
    outputs = [generator.get_layer(name).output for name in names]
    return keras.Model(generator.input, outputs, name=f"{generator.name}_encoder")


class ProjectionHead(keras.layers.Layer):
    """One two-layer MLP per feature layer (Linear, ReLU, Linear), then L2 normalisation.

    Args:
        in_channels: the channels of each feature layer.
        width: the MLPs' width (the official ``--netF_nc``, 256).
        init_type, init_gain, seed: the weight init (``layers.kernel_initializer``).
    """

    def __init__(self, in_channels, width=256, init_type="xavier", init_gain=0.02, seed=None, **kw):
        super().__init__(**kw)
        self.mlps = []
        for i, channels in enumerate(in_channels):
            pair = []
            for j, inputs in enumerate((channels, width)):
                init = cg_layers.kernel_initializer(
                    init_type, init_gain, None if seed is None else seed * 100 + 2 * i + j
                )
                dense = keras.layers.Dense(width, kernel_initializer=init, name=f"mlp{i}_{j}")
                dense.build((None, inputs))
                # An attribute each: checkpoint keys projection_head/mlp<layer>_<0|1>/...
                # (checkpoints do not follow a list of lists).
                setattr(self, f"mlp{i}_{j}", dense)
                pair.append(dense)
            self.mlps.append(tuple(pair))

    def call(self, samples):
        """[float [n, c_l]] -> [float32 [n, width]], each row of unit length."""
        out = []
        for x, (first, second) in zip(samples, self.mlps):
            x = tf.cast(second(tf.nn.relu(first(x))), tf.float32)
            norm = tf.sqrt(tf.reduce_sum(tf.square(x), axis=-1, keepdims=True))
            out.append(x / (norm + _NORM_EPSILON))
        return out


def patch_ids(features, num_patches, seed):
    """For each feature layer, ``num_patches`` distinct positions (fewer if it has fewer),
    the same for every image of the batch, as the official code samples them.

    Args:
        features: [float [b, h, w, c]].
        num_patches: int.
        seed: int32 [2], a stateless seed (the step's), so that resuming repeats it.

    Returns:
        [int32 [p]] indices into the flattened h * w positions.
    """
    ids = []
    for i, feature in enumerate(features):
        positions = tf.shape(feature)[1] * tf.shape(feature)[2]
        keys = tf.random.stateless_uniform([positions], seed=seed + [0, i])
        ids.append(tf.argsort(keys)[: tf.minimum(num_patches, positions)])
    return ids


def sample(features, ids):
    """[float [b, h, w, c]] at ``ids`` -> [float [b * p, c]], image-major as the official."""
    out = []
    for feature, index in zip(features, ids):
        shape = tf.shape(feature)
        flat = tf.reshape(feature, [shape[0], shape[1] * shape[2], shape[3]])
        picked = tf.gather(flat, index, axis=1)
        out.append(tf.reshape(picked, [-1, shape[3]]))
    return out


def patch_nce(query, key, batch, temperature):
    """The PatchNCE loss of one feature layer, per example.

    Args:
        query: float32 [batch * p, d], unit rows: the translated image's patches.
        key: float32 [batch * p, d], unit rows: the source image's patches at the same
            places (held fixed: no gradient flows into them, as the official code detaches).
        batch: int, the images; negatives come from the same image only.
        temperature: float, the softmax temperature (0.07).

    Returns:
        float32 [batch]: the mean over each image's patches of the cross-entropy of its
        positive among its negatives.
    """
    key = tf.stop_gradient(key)
    positive = tf.reduce_sum(query * key, axis=-1, keepdims=True)  # [batch * p, 1]
    dim = tf.shape(query)[-1]
    q = tf.reshape(query, [batch, -1, dim])
    k = tf.reshape(key, [batch, -1, dim])
    negative = tf.matmul(q, k, transpose_b=True)  # [batch, p, p]
    patches = tf.shape(q)[1]
    eye = tf.eye(patches, batch_shape=[1], dtype=tf.bool)
    negative = tf.where(eye, tf.constant(_SELF_LOGIT, negative.dtype), negative)
    logits = tf.concat([positive, tf.reshape(negative, [-1, patches])], axis=1) / temperature
    per_patch = -tf.nn.log_softmax(logits, axis=-1)[:, 0]
    return tf.reduce_mean(tf.reshape(per_patch, [batch, -1]), axis=1)
