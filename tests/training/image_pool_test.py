import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.training import image_pool


def _images(start, count):
    """count distinct 2x2 images whose pixels all equal start, start+1, ..."""
    values = tf.range(start, start + count, dtype=tf.float32)
    return tf.tile(values[:, None, None, None], [1, 2, 2, 1])


def _ids(images):
    return [int(v) for v in images[:, 0, 0, 0].numpy()]


class ImagePoolTest(tf.test.TestCase, parameterized.TestCase):
    def test_size_zero_returns_the_query(self):
        pool = image_pool.ImagePool(0, (2, 2, 1))
        self.assertAllEqual(pool.query(_images(0, 3), step=0), _images(0, 3))

    def test_returns_the_query_while_filling(self):
        pool = image_pool.ImagePool(4, (2, 2, 1))
        self.assertAllEqual(pool.query(_images(0, 2), 0), _images(0, 2))
        self.assertAllEqual(pool.query(_images(2, 2), 1), _images(2, 2))
        self.assertEqual(int(pool.count[0]), 4)
        self.assertCountEqual(_ids(pool.images[0]), [0, 1, 2, 3])

    def test_full_pool_returns_new_or_swapped_images(self):
        pool = image_pool.ImagePool(4, (2, 2, 1), seed=5)
        pool.query(_images(0, 4), 0)
        swapped = 0
        for step in range(1, 80):
            before = set(_ids(pool.images[0]))
            new = _images(100 * step, 1)
            out = _ids(pool.query(new, step))
            after = set(_ids(pool.images[0]))
            for image_id, new_id in zip(out, _ids(new)):
                if image_id != new_id:  # Swapped: an old image comes back, the new one stays.
                    self.assertIn(image_id, before)
                    self.assertIn(new_id, after)
                    swapped += 1
        self.assertBetween(swapped, 20, 60)  # About half of 79 draws.

    def test_same_step_makes_the_same_choices(self):
        outputs = []
        for _ in range(2):
            pool = image_pool.ImagePool(3, (2, 2, 1), seed=1)
            pool.query(_images(0, 3), 0)
            outputs.append([_ids(pool.query(_images(10 * s, 2), s)) for s in range(1, 8)])
        self.assertEqual(outputs[0], outputs[1])

    def test_works_inside_tf_function(self):
        pool = image_pool.ImagePool(2, (2, 2, 1))
        query = tf.function(pool.query)
        self.assertAllEqual(query(_images(0, 2), tf.constant(0, tf.int64)), _images(0, 2))
        self.assertEqual(int(pool.count[0]), 2)

    def test_contents_round_trip_through_a_checkpoint(self):
        pool = image_pool.ImagePool(3, (2, 2, 1))
        pool.query(_images(7, 3), 0)
        path = tf.train.Checkpoint(pool=pool).save(self.get_temp_dir() + "/ckpt")
        restored = image_pool.ImagePool(3, (2, 2, 1))
        tf.train.Checkpoint(pool=restored).restore(path).assert_consumed()
        self.assertAllEqual(restored.images, pool.images)
        self.assertEqual(int(restored.count[0]), 3)

    def test_negative_size_is_refused(self):
        with self.assertRaisesRegex(ValueError, "pool_size=-1"):
            image_pool.ImagePool(-1, (2, 2, 1))


if __name__ == "__main__":
    tf.test.main()
