#!/usr/bin/env python3
r"""Translates one image with an exported tf_cyclegan model, without tf_cyclegan installed.

Needs TensorFlow (for a SavedModel) or ai-edge-litert (for a .tflite), plus Pillow.

  python export/translate_image.py --model=exported/saved_model --direction=a2b \
      --input=horse.jpg --output=zebra.png
  python export/translate_image.py --model=exported/a2b_float32_dynamic.tflite \
      --input=horse.jpg --output=zebra.png
"""

import argparse

import numpy as np
from PIL import Image


def translate_saved_model(path, direction, image):
    import tensorflow as tf

    signature = tf.saved_model.load(path).signatures[direction]  # uint8 in, uint8 out.
    return signature(images=tf.constant(image[np.newaxis]))["images"][0].numpy()


def translate_tflite(path, image):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    detail = interpreter.get_input_details()[0]
    height, width = image.shape[:2]
    x = image
    if detail["shape_signature"][1] > 0:  # Fixed size: resize in, and back out below.
        x = np.asarray(Image.fromarray(image).resize(tuple(detail["shape"][2:0:-1]), Image.BICUBIC))
    interpreter.resize_tensor_input(detail["index"], [1, *x.shape])  # Before allocating.
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], (x[np.newaxis] / 127.5 - 1.0).astype(np.float32))
    interpreter.invoke()
    y = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
    y = np.clip(np.round((y + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(y).resize((width, height), Image.BICUBIC))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="SavedModel folder or .tflite file")
    parser.add_argument("--direction", default="a2b", choices=["a2b", "b2a"],
                        help="SavedModel only; a .tflite file holds one direction")  # fmt: skip
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    with Image.open(args.input) as f:
        image = np.asarray(f.convert("RGB"))
    if args.model.endswith(".tflite"):
        out = translate_tflite(args.model, image)
    else:
        out = translate_saved_model(args.model, args.direction, image)
    Image.fromarray(out).save(args.output)
    print(f"{args.input} ({image.shape[1]}x{image.shape[0]}) -> {args.output}")


if __name__ == "__main__":
    main()
