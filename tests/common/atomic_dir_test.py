"""A replaced directory is always a complete old or new tree, also after a crash."""

import os
import subprocess
import sys

import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.common import atomic_dir


def _tree(root, marker):
    os.makedirs(root)
    with open(os.path.join(root, "marker"), "w") as f:
        f.write(marker)


def _marker(root):
    with open(os.path.join(root, "marker")) as f:
        return f.read()


class ReplaceTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(True, False)
    def test_new_tree_replaces_old_and_nothing_is_left_beside_it(self, exchange):
        parent = self.get_temp_dir()
        target = os.path.join(parent, f"export_{exchange}")
        _tree(target, "old")
        staging = atomic_dir.make_staging(target)
        with open(os.path.join(staging, "marker"), "w") as f:
            f.write("new")
        atomic_dir.replace(staging, target, exchange=exchange)
        self.assertEqual(_marker(target), "new")
        self.assertEqual([n for n in os.listdir(parent) if f"export_{exchange}." in n], [])

    def test_crash_between_the_renames_is_recovered_by_the_next_run(self):
        parent = self.get_temp_dir()
        target = os.path.join(parent, "export")
        _tree(target, "old")
        # A process that renamed the old tree aside and died before the second rename.
        script = (
            "import os, sys\n"
            "from tf_cyclegan.common import atomic_dir\n"
            "t = sys.argv[1]\n"
            "p = os.path.join(os.path.dirname(t), atomic_dir._prefix(t, 'previous')"
            " + atomic_dir.owner_tag())\n"
            "os.rename(t, p)\n"
            "os._exit(9)\n"
        )
        subprocess.run([sys.executable, "-c", script, target], check=False)
        self.assertFalse(os.path.exists(target))
        done = atomic_dir.recover(target)
        self.assertLen(done, 1)
        self.assertEqual(_marker(target), "old")

    def test_stale_staging_of_a_dead_process_is_removed_a_live_one_kept(self):
        parent = self.get_temp_dir()
        target = os.path.join(parent, "export")
        script = (
            "import sys\n"
            "from tf_cyclegan.common import atomic_dir\n"
            "atomic_dir.make_staging(sys.argv[1])\n"
        )
        subprocess.run([sys.executable, "-c", script, target], check=True)
        mine = atomic_dir.make_staging(target)
        removed = atomic_dir.remove_stale(target)
        self.assertLen(removed, 1)
        self.assertTrue(os.path.isdir(mine))
        self.assertNotEqual(removed[0], mine)


if __name__ == "__main__":
    tf.test.main()
