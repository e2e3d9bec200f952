"""An output file's name only ever holds a complete file, whatever stops the writer."""

import os
import signal
import subprocess
import sys

import tensorflow as tf

from tf_cyclegan.common import atomic_file

# A writer that dies (kill -9) halfway through ``target``, leaving its partial file.
_KILLED_WRITER = (
    "import os, signal, sys\n"
    "from tf_cyclegan.common import atomic_file\n"
    "with atomic_file.replacing(sys.argv[1]) as partial:\n"
    "    open(partial, 'w').write('half')\n"
    "    os.kill(os.getpid(), signal.SIGKILL)\n"
)


class AtomicFileTest(tf.test.TestCase):
    def test_partial_files_are_named_after_their_target_and_process(self):
        partial = atomic_file.partial_path("/out/result.mp4")
        self.assertStartsWith(partial, "/out/.result.mp4.partial-")
        self.assertIn(f"-{os.getpid()}", partial)
        self.assertEndsWith(partial, ".mp4")  # ffmpeg and Pillow read the format from it.

    def test_a_failed_write_leaves_the_old_file_and_no_partial(self):
        target = os.path.join(self.get_temp_dir(), "a.png")
        with open(target, "w") as f:
            f.write("old")
        with self.assertRaises(KeyboardInterrupt):
            with atomic_file.replacing(target) as partial:
                with open(partial, "w") as f:
                    f.write("ha")
                raise KeyboardInterrupt
        self.assertEqual(os.listdir(self.get_temp_dir()), ["a.png"])
        with open(target) as f:
            self.assertEqual(f.read(), "old")

    def test_what_a_killed_writer_left_is_removed_by_the_next_write(self):
        folder = self.get_temp_dir()
        target = os.path.join(folder, "b.mp4")
        killed = subprocess.run([sys.executable, "-c", _KILLED_WRITER, target], check=False)
        self.assertEqual(killed.returncode, -signal.SIGKILL)
        [left] = os.listdir(folder)
        self.assertStartsWith(left, ".b.mp4.partial-")
        with atomic_file.replacing(target) as partial:
            with open(partial, "w") as f:
                f.write("whole")
        self.assertEqual(os.listdir(folder), ["b.mp4"])

    def test_a_live_writers_partial_file_is_kept(self):
        folder = self.get_temp_dir()
        target = os.path.join(folder, "c.png")
        mine = atomic_file.partial_path(target)  # This process is alive.
        with open(mine, "w") as f:
            f.write("in progress")
        self.assertEqual(atomic_file.remove_stale(target), [])
        self.assertTrue(os.path.exists(mine))


if __name__ == "__main__":
    tf.test.main()
