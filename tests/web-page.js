// Drives examples/web/ in headless Chromium over the DevTools protocol (node's own fetch and
// WebSocket: no packages), in real time, and checks what a user would see:
//   - the page reports data-status="ok" within the time limit (any error fails);
//   - the console has no errors and no uncaught exceptions;
//   - a screenshot of the sample grid is not blank: its pixels spread over many grey levels;
//   - clicking a sample and moving a slider changes the selected sample's picture.
// Prints the samples/s the page measured, and writes the screenshot.
//
// With --classes (a conditional GAN): the class picker is shown and another class changes the
// grid; the grid need not be bright (a briefly trained GAN draws grey shapes).
//
//   node --experimental-websocket tests/web-page.js URL SCREENSHOT.png [--classes] [--browser CHROMIUM]
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const args = process.argv.slice(2);
const [url, shot] = args;
const classes = args.includes('--classes');
const browser = args.includes('--browser') ? args[args.indexOf('--browser') + 1] : '/usr/bin/chromium';
const kTimeoutMs = 60000;
const port = 9300 + (process.pid % 500);

function fail(message) {
  console.error('web page: FAILED: ' + message);
  process.exit(1);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The RGBA pixels of a PNG (8-bit RGB or RGBA, no interlace: what Chromium writes).
function decodePng(buf) {
  let at = 8, width = 0, height = 0, channels = 0;
  const idat = [];
  while (at < buf.length) {
    const len = buf.readUInt32BE(at), type = buf.toString('ascii', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0), height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('unexpected PNG depth or interlace');
      channels = { 2: 3, 6: 4 }[data[9]];
      if (!channels) throw new Error('unexpected PNG colour type ' + data[9]);
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    at += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat)), stride = width * channels;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; ++y) {
    const filter = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; ++x) {
      const a = x >= channels ? out[y * stride + x - channels] : 0, b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
      out[y * stride + x] = (line[x] + pred) & 255;
    }
  }
  return { width, height, channels, pixels: out };
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ember-chromium-'));
  const chrome = spawn(browser, ['--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=900,800',
                                 `--remote-debugging-port=${port}`, `--user-data-dir=${profile}`, 'about:blank'],
                       { stdio: 'ignore' });
  // On any exit: stop Chromium; its profile folder goes once it has stopped writing there.
  process.on('exit', () => {
    chrome.kill('SIGKILL');
    try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 }); } catch (e) { /* a temp folder */ }
  });
  let target = null;
  for (let i = 0; i < 100 && !target; ++i) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      target = list.find((t) => t.type === 'page');
    } catch (e) { await sleep(100); }
  }
  if (!target) fail('Chromium did not start (' + browser + ')');
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, bad) => { ws.onopen = ok; ws.onerror = bad; });
  let next = 1;
  const waiting = new Map(), problems = [];
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); }
    if (m.method === 'Runtime.exceptionThrown') problems.push('uncaught: ' + m.params.exceptionDetails.exception?.description);
    if (m.method === 'Runtime.consoleAPICalled' && (m.params.type === 'error' || m.params.type === 'assert'))
      problems.push('console.error: ' + m.params.args.map((a) => a.value ?? a.description).join(' '));
    if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error' && !/favicon/.test(m.params.entry.url || ''))
      problems.push('log: ' + m.params.entry.text + ' ' + (m.params.entry.url || ''));
  };
  const send = (method, params = {}) => new Promise((ok) => {
    const id = next++;
    waiting.set(id, ok);
    ws.send(JSON.stringify({ id, method, params }));
  });
  const evaluate = async (expression) => (await send('Runtime.evaluate', { expression, returnByValue: true })).result?.result?.value;

  await send('Runtime.enable');
  await send('Log.enable');
  await send('Page.enable');
  await send('Page.navigate', { url });
  let status = '';
  const t0 = Date.now();
  while (Date.now() - t0 < kTimeoutMs) {
    status = (await evaluate('document.body && document.body.dataset.status')) || '';
    if (status) break;
    await sleep(100);
  }
  if (status !== 'ok') fail(`page status '${status || '(none after ' + kTimeoutMs / 1000 + ' s)'}'`);
  const rate = await evaluate('document.body.dataset.samplesPerSec');
  const text = await evaluate("document.getElementById('status').textContent");

  // Interaction: select the third sample, move the first slider; the big picture must change.
  const focusPixels = "Array.from(document.getElementById('focus').getContext('2d').getImageData(0, 0, 40, 200).data).join()";
  await evaluate(`(() => { const g = document.getElementById('grid'), r = g.getBoundingClientRect();
    g.dispatchEvent(new MouseEvent('click', { clientX: r.left + 2 * 58 + 20, clientY: r.top + 20, bubbles: true })); })()`);
  const before = await evaluate(focusPixels);
  await evaluate(`(() => { const s = document.querySelector('#sliders input'); s.value = s.value > 0 ? -2.5 : 2.5;
    s.dispatchEvent(new Event('input')); })()`);
  const after = await evaluate(focusPixels);
  if (!before || before === after) fail('moving a latent slider did not change the selected sample');
  if (classes) {
    const gridPixels = "Array.from(document.getElementById('grid').getContext('2d').getImageData(0, 0, 200, 60).data).join()";
    const shown = await evaluate("!document.getElementById('class-box').hidden && document.getElementById('class').options.length");
    if (!shown) fail('a conditional GAN shows no class picker');
    const one = await evaluate(gridPixels);
    await evaluate(`(() => { const p = document.getElementById('class'); p.value = '1'; p.dispatchEvent(new Event('change')); })()`);
    if ((await evaluate(gridPixels)) === one) fail('another class did not change the grid');
  }

  // The screenshot, and the grid's part of it: samples, not a flat colour.
  const box = await evaluate(`(() => { const r = document.getElementById('grid').getBoundingClientRect();
    return [r.left, r.top, r.width, r.height].map(Math.round); })()`);
  const png = Buffer.from((await send('Page.captureScreenshot', { format: 'png' })).result.data, 'base64');
  fs.writeFileSync(shot, png);
  const img = decodePng(png), levels = new Set();
  let bright = 0, total = 0;
  for (let y = box[1]; y < box[1] + box[3]; ++y)
    for (let x = box[0]; x < box[0] + box[2]; ++x) {
      const v = img.pixels[(y * img.width + x) * img.channels];
      levels.add(v);
      bright += v > 128;
      ++total;
    }
  if (levels.size < 32 || (!classes && bright < total / 50)) fail(`the grid looks blank: ${levels.size} grey levels, ${bright} of ${total} pixels bright`);
  if (problems.length) fail('console: ' + problems.join(' | '));
  console.log(`web page: ok: "${text}"; grid ${box[2]}x${box[3]} px, ${levels.size} grey levels; ` +
              `slider moves the sample; no console errors; ${rate} samples/s; screenshot ${shot}`);
  ws.close();
  chrome.kill();
  await new Promise((done) => chrome.on('exit', done));
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
