// The page: a sampler file (a VAE's decoder or a GAN's generator, `ember export`) drawn live
// through ember's C API (capi/ember-c.h) compiled to WebAssembly. Everything ember uses lives
// in one buffer the page allocates once per model; samples are drawn one call per grid.
//
// The model comes from ?model=FILE (default model.ember beside the page) or the file picker.
// When the first grid is drawn, <body data-status="ok" data-samples-per-sec=...> says so
// (tests/web.sh reads it); any failure sets data-status="error: ..." and logs it.
'use strict';

const kCols = 8, kRows = 4, kGrid = kCols * kRows;  // samples in the grid
const kScale = 2, kFocusScale = 7;                   // screen pixels per image pixel
const kSliders = 6, kRange = 3;                      // latent dimensions with a slider, z in [-3, 3]
const kSteps = 10;                                   // interpolation points, ends included
const kErrorBytes = 164;                             // ember_error: int code + char message[160]

let ember = null;  // the WebAssembly module
let api = null;    // its C functions
let model = null;  // the open sampler and its buffers

function setStatus(text, error) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.className = error ? 'error' : '';
  if (error) {
    document.body.dataset.status = 'error: ' + text;
    console.error('ember page: ' + text);
  }
}

function bindApi(m) {
  const n = 'number';
  return {
    version: m.cwrap('ember_version', 'string', []),
    codeName: m.cwrap('ember_code_name', 'string', [n]),
    open: m.cwrap('ember_sampler_open', n, [n, n, n, n, n, n, n, n]),
    info: m.cwrap('ember_sampler_info', n, [n, n, n]),
    decode: m.cwrap('ember_sampler_decode', n, [n, n, n, n, n, n]),
    draw: m.cwrap('ember_sampler_draw', n, [n, n, n, n, n, n, n]),
    close: m.cwrap('ember_sampler_close', null, [n]),
  };
}

// Throws with ember's message when a call did not return EMBER_OK.
function check(code, err, what) {
  if (code === 0) return;
  throw new Error(what + ': ' + ember.UTF8ToString(err + 4) + ' (' + api.codeName(code) + ')');
}

function closeModel() {
  if (!model) return;
  api.close(model.sampler);
  for (const p of model.blocks) ember._free(p);
  model = null;
}

// Opens the sampler in `bytes` (Uint8Array): a first call in a small buffer asks the size.
function openModel(bytes) {
  closeModel();
  const blocks = [];
  const alloc = (n) => { const p = ember._malloc(n); blocks.push(p); return p; };
  const file = alloc(bytes.length);
  ember.HEAPU8.set(bytes, file);
  const err = alloc(kErrorBytes), out = alloc(4), need = alloc(4);
  const probeBytes = 1 << 20, probe = ember._malloc(probeBytes);
  let code = api.open(file, bytes.length, 1, probe, probeBytes, out, need, err);
  let sampler = ember.HEAP32[out >> 2];
  let buffer = probe;
  if (code === 0) {
    blocks.push(probe);
  } else {
    ember._free(probe);
    const size = ember.HEAPU32[need >> 2];
    if (size === 0) { for (const p of blocks) ember._free(p); check(code, err, 'open'); }
    buffer = alloc(size);
    code = api.open(file, bytes.length, 1, buffer, size, out, 0, err);
    if (code !== 0) { const message = ember.UTF8ToString(err + 4); for (const p of blocks) ember._free(p); check(code, err, message); }
    sampler = ember.HEAP32[out >> 2];
  }
  const infoPtr = alloc(24);
  check(api.info(sampler, infoPtr, err), err, 'info');
  const i = ember.HEAP32.subarray(infoPtr >> 2, (infoPtr >> 2) + 6);
  const info = { kind: i[0] === 2 ? 'GAN' : 'VAE', latent: i[1], channels: i[2], rows: i[3], cols: i[4], classes: i[5] };
  const most = Math.max(kGrid, 2 * info.latent);
  model = {
    sampler, info, blocks, err, bytes: bytes.length,
    zPtr: alloc(4 * most * info.latent), imgPtr: alloc(4 * most * info.rows * info.cols), labelPtr: alloc(4 * most),
    grid: null, gridZ: null, picks: [], focusZ: null, dims: [],
  };
}

// Decodes rows of z (Float32Array, n * latent) with one class for all; returns the images.
function decode(z, n, label) {
  const m = model, pixels = m.info.rows * m.info.cols;
  ember.HEAPF32.set(z, m.zPtr >> 2);
  ember.HEAP32.fill(label, m.labelPtr >> 2, (m.labelPtr >> 2) + n);
  check(api.decode(m.sampler, m.zPtr, m.info.classes ? m.labelPtr : 0, n, m.imgPtr, m.err), m.err, 'decode');
  return ember.HEAPF32.slice(m.imgPtr >> 2, (m.imgPtr >> 2) + n * pixels);
}

// n samples drawn from `seed` by ember (z ~ N(0, I)); returns {z, images}.
function draw(seed, n, label) {
  const m = model, pixels = m.info.rows * m.info.cols;
  ember.HEAP32.fill(label, m.labelPtr >> 2, (m.labelPtr >> 2) + n);
  check(api.draw(m.sampler, BigInt(seed), m.info.classes ? m.labelPtr : 0, n, m.zPtr, m.imgPtr, m.err), m.err, 'draw');
  return {
    z: ember.HEAPF32.slice(m.zPtr >> 2, (m.zPtr >> 2) + n * m.info.latent),
    images: ember.HEAPF32.slice(m.imgPtr >> 2, (m.imgPtr >> 2) + n * pixels),
  };
}

// Draws images (values in [0, 1]) into a canvas: `cols` per row, `scale` screen pixels each.
function paint(canvas, images, n, cols, scale, marks) {
  const { rows: h, cols: w } = model.info, gap = 2;
  const gridRows = Math.ceil(n / cols);
  canvas.width = cols * (w * scale + gap) + gap;
  canvas.height = gridRows * (h * scale + gap) + gap;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ddd';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const tile = ctx.createImageData(w, h);
  const off = document.createElement('canvas');
  off.width = w; off.height = h;
  ctx.imageSmoothingEnabled = false;
  for (let s = 0; s < n; ++s) {
    for (let p = 0; p < w * h; ++p) {
      const v = Math.max(0, Math.min(255, Math.round(255 * images[s * w * h + p])));
      tile.data.set([v, v, v, 255], 4 * p);
    }
    off.getContext('2d').putImageData(tile, 0, 0);
    const x = gap + (s % cols) * (w * scale + gap), y = gap + Math.floor(s / cols) * (h * scale + gap);
    ctx.drawImage(off, x, y, w * scale, h * scale);
    if (marks && marks.includes(s)) {
      ctx.strokeStyle = marks[0] === s ? '#e33' : '#36e';
      ctx.lineWidth = 2;
      ctx.strokeRect(x - 1, y - 1, w * scale + 2, h * scale + 2);
    }
  }
}

function currentLabel() {
  return model.info.classes ? Number(document.getElementById('class').value) : 0;
}

// The dimensions whose change moves the picture most: |decode(+2 e_d) - decode(-2 e_d)| from
// z = 0. (`ember traverse` ranks by the encoder's use on data; a sampler file has no encoder.)
function rankDimensions() {
  const l = model.info.latent, pixels = model.info.rows * model.info.cols;
  const z = new Float32Array(2 * l * l);
  for (let d = 0; d < l; ++d) { z[2 * d * l + d] = 2; z[(2 * d + 1) * l + d] = -2; }
  const img = decode(z, 2 * l, currentLabel());
  const score = [];
  for (let d = 0; d < l; ++d) {
    let s = 0;
    for (let p = 0; p < pixels; ++p) s += Math.abs(img[2 * d * pixels + p] - img[(2 * d + 1) * pixels + p]);
    score.push([s, d]);
  }
  score.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return score.slice(0, Math.min(kSliders, l)).map((x) => x[1]);
}

function drawFocus() {
  const img = decode(model.focusZ, 1, currentLabel());
  paint(document.getElementById('focus'), img, 1, 1, kFocusScale);
}

function buildSliders() {
  const box = document.getElementById('sliders');
  box.replaceChildren();
  for (const d of model.dims) {
    const row = document.createElement('div');
    row.className = 'slider';
    const label = document.createElement('label');
    label.textContent = 'z[' + d + ']';
    const input = document.createElement('input');
    Object.assign(input, { type: 'range', min: -kRange, max: kRange, step: 0.05, value: model.focusZ[d] });
    const out = document.createElement('output');
    out.value = Number(input.value).toFixed(2);
    input.addEventListener('input', () => {
      model.focusZ[d] = Number(input.value);
      out.value = Number(input.value).toFixed(2);
      drawFocus();
    });
    row.append(label, input, out);
    box.append(row);
  }
}

// Spherical interpolation as `ember interpolate` does for GANs (straight line when parallel).
function slerp(a, b, t) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; ++i) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  const cos = dot / Math.sqrt(na * nb || 1), w = Math.acos(Math.max(-1, Math.min(1, cos)));
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; ++i)
    out[i] = Math.abs(Math.sin(w)) < 1e-6 ? (1 - t) * a[i] + t * b[i]
                                          : (Math.sin((1 - t) * w) * a[i] + Math.sin(t * w) * b[i]) / Math.sin(w);
  return out;
}

function drawPath() {
  const l = model.info.latent;
  const [a, b] = model.picks.length === 2 ? model.picks : [0, kGrid - 1];
  const za = model.gridZ.subarray(a * l, (a + 1) * l), zb = model.gridZ.subarray(b * l, (b + 1) * l);
  const z = new Float32Array(kSteps * l);
  for (let s = 0; s < kSteps; ++s) z.set(slerp(za, zb, s / (kSteps - 1)), s * l);
  paint(document.getElementById('path'), decode(z, kSteps, currentLabel()), kSteps, kSteps, kScale);
}

function select(index) {
  const l = model.info.latent;
  model.picks = [index, ...model.picks.filter((p) => p !== index)].slice(0, 2);
  model.focusZ = Float32Array.from(model.gridZ.subarray(index * l, (index + 1) * l));
  paint(document.getElementById('grid'), model.grid, kGrid, kCols, kScale, model.picks);
  buildSliders();
  drawFocus();
  drawPath();
}

function newSamples(seed) {
  const { z, images } = draw(seed, kGrid, currentLabel());
  model.grid = images;
  model.gridZ = z;
  model.picks = [];
  select(0);
  model.picks = [0, kGrid - 1];
  paint(document.getElementById('grid'), model.grid, kGrid, kCols, kScale, model.picks);
  drawPath();
}

// Samples per second, drawing grids for half a second (the browser's clock is coarse), after a
// quarter of a second of the same (the engine compiles hot WebAssembly again, optimised).
function measure() {
  let rate = 0;
  for (const ms of [250, 500]) {
    const t0 = performance.now();
    let n = 0, t = t0;
    for (let r = 0; t - t0 < ms && r < 100000; ++r) {
      draw(1000 + r, kGrid, currentLabel());
      n += kGrid;
      t = performance.now();
    }
    rate = n / ((t - t0) / 1000);
  }
  return rate;
}

function showModel(name) {
  const i = model.info, classBox = document.getElementById('class-box'), picker = document.getElementById('class');
  classBox.hidden = !i.classes;
  picker.replaceChildren(...Array.from({ length: i.classes }, (_, c) => new Option(String(c), String(c))));
  model.dims = rankDimensions();
  let seed = 1;
  newSamples(seed);
  // Under a headless browser's virtual time the clock stands still: no rate then.
  const rate = measure();
  const speed = Number.isFinite(rate) ? `, ${rate.toFixed(0)} samples/s` : '';
  if (speed) document.body.dataset.samplesPerSec = rate.toFixed(0);
  setStatus(`${name}: ${i.kind}, latent ${i.latent}, ${i.rows}x${i.cols}${i.classes ? ', ' + i.classes + ' classes' : ''}` +
            ` - ember ${api.version()}${speed}`);
  document.getElementById('resample').onclick = () => newSamples(++seed);
  picker.onchange = () => { model.dims = rankDimensions(); newSamples(seed); };
  document.body.dataset.status = 'ok';
}

async function loadUrl(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  openModel(new Uint8Array(await response.arrayBuffer()));
  showModel(url);
}

async function main() {
  try {
    ember = await createEmber();
    api = bindApi(ember);
    document.getElementById('grid').addEventListener('click', (e) => {
      if (!model) return;
      const r = e.target.getBoundingClientRect(), w = model.info.cols * kScale + 2, h = model.info.rows * kScale + 2;
      const c = Math.floor((e.clientX - r.left) / w), row = Math.floor((e.clientY - r.top) / h);
      if (c >= 0 && c < kCols && row >= 0 && row < kRows) select(row * kCols + c);
    });
    document.getElementById('file').addEventListener('change', async (e) => {
      const f = e.target.files[0];
      if (!f) return;
      try {
        openModel(new Uint8Array(await f.arrayBuffer()));
        showModel(f.name);
      } catch (err) {
        setStatus(String(err.message || err), true);
      }
    });
    const params = new URLSearchParams(location.search);
    await loadUrl(params.get('model') || 'model.ember');
  } catch (err) {
    setStatus(String(err.message || err), true);
  }
}

main();
