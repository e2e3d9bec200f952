"""Translating a video, frame by frame, with any model form; audio carried over.

Frames stream through ffmpeg (the binary inside the ``imageio-ffmpeg`` package: nothing is
downloaded): memory holds one batch of frames whatever the clip's length. The output keeps
the input's frame rate, size and frame count, and its audio track when it has one. It is
written to a temporary file beside the output and renamed into place, so an interrupted run
leaves no half-written video; the input is never overwritten.
"""

import os
import re
import subprocess
import sys

import numpy as np
import tqdm

from tf_cyclegan.common import atomic_file, errors

VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm")


def is_video(path):
    return path.lower().endswith(VIDEO_EXTENSIONS)


def _ffmpeg():
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def has_audio(path):
    """Whether ``path`` holds an audio stream (ffmpeg's stream listing)."""
    probe = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-i", path], capture_output=True, text=True, check=False
    )
    return re.search(r"Stream #\S+.*: Audio:", probe.stderr) is not None


def output_path(input_path, output):
    """The video file to write: ``output`` itself when it names a video, else a file of the
    input's name in the folder ``output``."""
    if is_video(output):
        return output
    return os.path.join(output, os.path.basename(input_path))


def _frames(reader, count, shape):
    """Up to ``count`` frames from an imageio-ffmpeg reader: uint8 [n, h, w, 3]."""
    frames = []
    for raw in reader:
        frames.append(np.frombuffer(raw, np.uint8).reshape(shape))
        if len(frames) == count:
            break
    return np.stack(frames) if frames else None


def translate_video(translate, input_path, output, batch_size=8, overwrite=False):
    """Translates every frame of ``input_path`` into a video at ``output``.

    Args:
        translate: uint8 [n, h, w, 3] -> uint8 [n, h, w, 3] (``translators.Translator``).
        input_path: a video file any ffmpeg reads.
        output: a video file path, or a folder for one of the input's name.
        batch_size: frames per model call.
        overwrite: replace an existing output (never the input).

    Returns:
        {"output", "frames", "fps", "size": (width, height), "audio": bool}.
    """
    import imageio_ffmpeg

    target = output_path(input_path, output)
    if os.path.realpath(target) == os.path.realpath(input_path):
        raise errors.ConfigError(f"--output={target} is the input video; choose another path")
    if os.path.lexists(target) and not overwrite:
        raise errors.ConfigError(f"{target} exists; pass --overwrite to replace it")
    reader = imageio_ffmpeg.read_frames(input_path)
    try:
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration) as e:
        lines = [line for line in str(e).splitlines() if line.strip()]  # ffmpeg's last word.
        reason = lines[-1].strip(" )") if lines else type(e).__name__
        message = f"--input={input_path} is not a readable video ({reason})"
        raise errors.ConfigError(message) from None
    width, height = meta["size"]
    fps = meta["fps"]
    audio = has_audio(input_path)
    suffix = os.path.splitext(target)[1]
    with atomic_file.replacing(target) as partial:
        writer = imageio_ffmpeg.write_frames(
            partial,
            (width, height),
            fps=fps,
            quality=8,
            macro_block_size=1,
            # 4:2:0 chroma needs even sides; odd ones keep full chroma.
            pix_fmt_out="yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p",
            audio_path=input_path if audio else None,
            audio_codec=("libvorbis" if suffix == ".webm" else "aac") if audio else None,
        )
        frames, expected = 0, round(meta["duration"] * fps)
        # The frame count is the container's estimate; on a terminal only (disable=None).
        bar = tqdm.tqdm(total=expected, unit="frame", file=sys.stdout, disable=None)
        try:
            writer.send(None)
            while (batch := _frames(reader, batch_size, (height, width, 3))) is not None:
                for frame in translate(batch):
                    writer.send(np.ascontiguousarray(frame, np.uint8))
                frames += len(batch)
                bar.update(len(batch))
        finally:
            bar.close()
            writer.close()  # Waits for ffmpeg: the file is complete after this.
            reader.close()
    return {"output": target, "frames": frames, "fps": fps, "size": (width, height), "audio": audio}
