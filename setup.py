"""tf_cyclegan: CycleGAN for TensorFlow 2 (Keras 3), TFDS and LiteRT."""

import setuptools

setuptools.setup(
    name="tf_cyclegan",
    version="0.1.0",
    description="Unpaired image-to-image translation (CycleGAN) for TensorFlow 2.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["tf_cyclegan", "tf_cyclegan.*"]),
    # export --formats=web copies this page next to the models.
    package_data={"tf_cyclegan.exporting": ["web_page/*"]},
    install_requires=[
        # CPU build; on GPU machines install tensorflow[and-cuda]==2.21.0 first.
        "tensorflow-cpu==2.21.0; platform_machine=='x86_64'",
        "tensorflow==2.21.0; platform_machine!='x86_64'",
        "tensorflow-datasets>=4.9.4",
        # TFDS imports it while preparing data but does not declare it.
        "importlib_resources",
        # tf.summary needs it; TensorFlow 2.21 no longer depends on it.
        "tensorboard>=2.21",
        "absl-py",
        "numpy",
        "pillow",
        # The runtime that phones run; export checks every .tflite in it.
        "ai-edge-litert>=2.0",
        # translate --input=clip.mp4: reads and writes video with the ffmpeg binary it ships.
        "imageio-ffmpeg>=0.5",
    ],
    extras_require={"test": ["pytest", "pytest-xdist>=3.6", "ruff"]},
)
