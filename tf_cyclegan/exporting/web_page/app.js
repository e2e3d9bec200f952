// The translator page: picks or takes a photo, runs the exported .tflite with LiteRT.js
// (WebAssembly, on the CPU of any browser), shows input and translation side by side.
// model.json (written by the export) names each direction's file, its size and channels.
// ?selftest=<image url>: translates that image and POSTs the output pixels to /result
// (the export's browser test compares them with LiteRT in Python).
import {loadAndCompile, loadLiteRt, Tensor} from './litert/core/index.js';

const status = (text) => { document.getElementById('status').textContent = text; };
const manifest = await (await fetch('model.json')).json();
await loadLiteRt(new URL('litert/wasm/', location.href).href);
const models = {};

async function model(direction) {
  models[direction] ??= await loadAndCompile(
      new URL(manifest.models[direction].file, location.href).href, {accelerator: 'wasm'});
  return models[direction];
}

// The image drawn at the model's size; uint8 RGBA pixels of [size, size].
function pixels(image, size) {
  const canvas = document.getElementById('input');
  canvas.width = canvas.height = size;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0, size, size);
  return context.getImageData(0, 0, size, size).data;
}

// uint8 RGBA -> float32 [1, size, size, channels] in [-1, 1] (luminance for 1 channel).
function toInput(rgba, size, channels) {
  const out = new Float32Array(size * size * channels);
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
    if (channels === 1) {
      out[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 127.5 - 1;
    } else {
      out[3 * i] = r / 127.5 - 1;
      out[3 * i + 1] = g / 127.5 - 1;
      out[3 * i + 2] = b / 127.5 - 1;
    }
  }
  return out;
}

// float32 in [-1, 1] -> uint8, rounded as the Python side (conventions.to_uint8).
const toUint8 = (values) => Uint8Array.from(
    values, (v) => Math.min(255, Math.max(0, Math.round((v + 1) * 127.5))));

function show(bytes, size, channels) {
  const canvas = document.getElementById('output');
  canvas.width = canvas.height = size;
  const image = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) image.data[4 * i + c] = bytes[channels * i + (channels === 1 ? 0 : c)];
    image.data[4 * i + 3] = 255;
  }
  canvas.getContext('2d').putImageData(image, 0, 0);
}

async function translate(image, direction) {
  const {size, channels} = manifest.models[direction];
  const compiled = await model(direction);
  const input = new Tensor(toInput(pixels(image, size), size, channels[0]), [1, size, size, channels[0]]);
  const start = performance.now();
  const outputs = await compiled.run(input);
  const values = await outputs[0].data();
  const milliseconds = performance.now() - start;
  input.delete();
  outputs.forEach((t) => t.delete());
  const bytes = toUint8(values);
  show(bytes, size, channels[1]);
  status(`${direction}: ${milliseconds.toFixed(0)} ms per image (${size}x${size}, LiteRT.js on WebAssembly)`);
  return {bytes, milliseconds};
}

const select = document.getElementById('direction');
for (const direction of Object.keys(manifest.models)) select.add(new Option(direction, direction));
document.getElementById('photo').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  status('Translating…');
  try {
    await translate(await createImageBitmap(file), select.value);
  } catch (error) {
    status(`error: ${error}`);
  }
});
status('Pick or take a photo.');

const selftest = new URLSearchParams(location.search).get('selftest');
if (selftest) {
  const direction = new URLSearchParams(location.search).get('direction') || select.value;
  let report;
  try {
    const image = await createImageBitmap(await (await fetch(selftest)).blob());
    const {bytes, milliseconds} = await translate(image, direction);
    report = {direction, milliseconds, pixels: Array.from(bytes)};
  } catch (error) {
    report = {error: String(error)};
  }
  await fetch('/result', {method: 'POST', body: JSON.stringify(report)});
}
