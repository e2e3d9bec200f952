"""translate on a video: every frame, same rate, size and count, audio carried over."""

import os
import signal
import subprocess
import tempfile

import imageio_ffmpeg
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.common import errors, interrupts
from tf_cyclegan.serving import translate_lib, translators, video


def _clip(path, width=64, height=48, fps=12, seconds=1, audio=True):
    """A test pattern clip (and a 440 Hz tone) made by the bundled ffmpeg."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-f", "lavfi", "-i", f"testsrc=size={width}x{height}:rate={fps}"]
    if audio:
        command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000"]
    command += ["-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv444p"]
    command += ["-c:a", "aac", "-shortest"] if audio else []
    subprocess.run([*command, path], check=True)
    return path


def _read(path):
    reader = imageio_ffmpeg.read_frames(path)
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]
    return meta, np.stack(frames)


def _psnr(a, b):
    return 10 * np.log10(255.0**2 / np.mean((a.astype(float) - b.astype(float)) ** 2))


class VideoTest(tf.test.TestCase, parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.folder = tempfile.mkdtemp()

    @parameterized.parameters((64, 48, True), (63, 47, False))  # Odd sides: 4:4:4 chroma.
    def test_keeps_rate_size_frame_count_and_audio(self, width, height, audio):
        source = _clip(os.path.join(self.folder, "in.mp4"), width, height, audio=audio)
        target = os.path.join(self.folder, "out.mp4")
        summary = translate_lib.translate_paths(
            helpers.trained_run(), "a2b", source, target, batch_size=5
        )
        self.assertEqual(summary["translated"], 12)
        meta, frames = _read(target)
        self.assertEqual(meta["size"], (width, height))
        self.assertAlmostEqual(meta["fps"], 12.0)
        self.assertLen(frames, 12)
        self.assertEqual(video.has_audio(target), audio)

    def test_sigterm_mid_clip_leaves_no_partial_file_and_no_output(self):
        source = _clip(os.path.join(self.folder, "in.mp4"), audio=False)
        out_dir = os.path.join(self.folder, "out")
        batches = []

        def translate(batch):  # The signal arrives while frames are being written.
            batches.append(batch)
            if len(batches) == 2:
                os.kill(os.getpid(), signal.SIGTERM)
            return batch

        previous = signal.getsignal(signal.SIGTERM)
        interrupts.raise_on_sigterm()  # What every command does at start.
        try:
            with self.assertRaises(interrupts.Terminated):
                video.translate_video(translate, source, os.path.join(out_dir, "r.mp4"), 4)
        finally:
            signal.signal(signal.SIGTERM, previous)
        self.assertEqual(os.listdir(out_dir), [])

    def test_frames_are_the_models_translations(self):
        source = _clip(os.path.join(self.folder, "in.mp4"), audio=False)
        target = os.path.join(self.folder, "out.mp4")
        translate_lib.translate_paths(helpers.trained_run(), "b2a", source, target)
        _, inputs = _read(source)
        _, outputs = _read(target)
        expected = translators.load(helpers.trained_run(), "b2a")(inputs)
        # H.264 with 4:2:0 chroma loses detail on a 64x48 frame (about 24 dB against the
        # exact translation here); an untranslated or misplaced frame is near 6 dB.
        self.assertGreater(_psnr(outputs, expected), 20.0)
        self.assertGreater(_psnr(outputs, expected), _psnr(outputs, inputs) + 10.0)

    def test_existing_output_is_kept_without_overwrite(self):
        source = _clip(os.path.join(self.folder, "in.mp4"), audio=False)
        target = os.path.join(self.folder, "out.mp4")
        with open(target, "w") as f:
            f.write("mine")
        with self.assertRaisesRegex(errors.ConfigError, "--overwrite"):
            translate_lib.translate_paths(helpers.trained_run(), "a2b", source, target)
        with open(target) as f:
            self.assertEqual(f.read(), "mine")
        self.assertEqual(sorted(os.listdir(self.folder)), ["in.mp4", "out.mp4"])

    def test_an_unreadable_video_is_one_line(self):
        source = os.path.join(self.folder, "junk.mp4")
        with open(source, "w") as f:
            f.write("not a video")
        with self.assertRaisesRegex(errors.ConfigError, r"not a readable video \([^\n]*\)$"):
            translate_lib.translate_paths(
                helpers.trained_run(), "a2b", source, os.path.join(self.folder, "o.mp4")
            )
        self.assertEqual(os.listdir(self.folder), ["junk.mp4"])

    def test_the_input_is_never_the_output(self):
        source = _clip(os.path.join(self.folder, "in.mp4"), audio=False)
        with self.assertRaisesRegex(errors.ConfigError, "is the input video"):
            translate_lib.translate_paths(
                helpers.trained_run(), "a2b", source, source, overwrite=True
            )

    def test_a_folder_output_gets_the_inputs_name(self):
        source = _clip(os.path.join(self.folder, "clip.mp4"), audio=False)
        out_dir = os.path.join(self.folder, "translated")
        summary = translate_lib.translate_paths(helpers.trained_run(), "a2b", source, out_dir)
        self.assertEqual(summary["video"]["output"], os.path.join(out_dir, "clip.mp4"))
        self.assertTrue(os.path.isfile(os.path.join(out_dir, "clip.mp4")))


if __name__ == "__main__":
    tf.test.main()
