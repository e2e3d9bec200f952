"""The history of generated images that the discriminators learn from (Shrivastava et al.).

The pool lives in the graph: its contents are variables, so it works inside ``tf.function``,
is saved in checkpoints and resumes exactly. Its random choices are stateless, keyed by the
seed, the train step and the replica, so a resumed run makes the same choices.

Under a ``tf.distribute`` strategy each replica has its own pool (one slice of a mirrored
variable per replica). Replicas exchange their new images with ``all_gather`` and apply
every replica's update, so the mirrored copies stay identical without sending the pool.
"""

import tensorflow as tf


class ImagePool(tf.Module):
    """A per-replica buffer of up to ``pool_size`` images of shape ``image_shape``.

    Each query image is, as in the official code: stored and returned while the pool fills;
    afterwards, with probability 1/2, swapped with a random stored image that is returned
    instead, else returned as is. ``pool_size=0`` returns the query unchanged.

    Args:
        pool_size: images per replica; 0 disables the pool.
        image_shape: (height, width, channels) of the images.
        num_replicas: replicas in sync under the current strategy.
        seed: int, base of the stateless random choices.
    """

    def __init__(self, pool_size, image_shape, num_replicas=1, seed=0, name=None):
        super().__init__(name=name)
        if pool_size < 0:
            raise ValueError(f"pool_size={pool_size} must be >= 0 (0 disables the pool)")
        self.pool_size = pool_size
        self.num_replicas = num_replicas
        self.seed = seed
        shape = [num_replicas, max(pool_size, 1), *image_shape]
        # ONLY_FIRST_REPLICA: every replica computes the same update, so take one copy.
        sync = dict(
            trainable=False,
            synchronization=tf.VariableSynchronization.ON_WRITE,
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
        )
        self.images = tf.Variable(tf.zeros(shape, tf.float32), name="images", **sync)
        self.count = tf.Variable(tf.zeros([num_replicas], tf.int32), name="count", **sync)

    def query(self, images, step):
        """Returns the images the discriminator should see; call in replica context.

        Args:
            images: float32 [batch, height, width, channels], this replica's new fakes.
            step: int64 scalar, the train step (keys the random choices).

        Returns:
            float32 [batch, height, width, channels], with no gradient.
        """
        images = tf.stop_gradient(tf.cast(images, tf.float32))
        if self.pool_size == 0:
            return images
        ctx = tf.distribute.get_replica_context()
        replica_id = tf.cast(ctx.replica_id_in_sync_group, tf.int32)
        if self.num_replicas > 1:
            everyone = ctx.all_gather(images, axis=0)
            batch = tf.shape(images)[0]
            per_replica = tf.reshape(everyone, [self.num_replicas, batch, *images.shape[1:]])
        else:
            per_replica = images[tf.newaxis]
        new_images, new_count, outputs = [], [], []
        for r in range(self.num_replicas):
            pool, count, out = self._update(self.images[r], self.count[r], per_replica[r], r, step)
            new_images.append(pool)
            new_count.append(count)
            outputs.append(out)
        self.images.assign(tf.stack(new_images))
        self.count.assign(tf.stack(new_count))
        return tf.gather(tf.stack(outputs), replica_id)

    def _update(self, pool, count, images, replica, step):
        """One replica's pool update. Returns (pool, count, returned images)."""
        batch = tf.shape(images)[0]
        seed = tf.stack([tf.cast(self.seed, tf.int64) * 7919 + replica, tf.cast(step, tf.int64)])
        draws = tf.random.stateless_uniform([batch, 2], seed=seed)
        swap = draws[:, 0] > 0.5
        slot = tf.cast(draws[:, 1] * self.pool_size, tf.int32)
        slot = tf.minimum(slot, self.pool_size - 1)

        def body(i, pool, count, out):
            image = images[i]
            filling = count < self.pool_size
            index = tf.where(filling, count, slot[i])
            replace = tf.logical_or(filling, swap[i])
            returned = tf.where(filling | ~swap[i], image, pool[index])
            stored = tf.where(replace, image, pool[index])
            pool = tf.tensor_scatter_nd_update(pool, [[index]], stored[tf.newaxis])
            out = out.write(i, returned)
            return i + 1, pool, count + tf.cast(filling, tf.int32), out

        out = tf.TensorArray(tf.float32, size=batch, element_shape=images.shape[1:])
        _, pool, count, out = tf.while_loop(
            lambda i, *_: i < batch, body, [tf.constant(0), pool, count, out]
        )
        return pool, count, out.stack()
