#!/usr/bin/env bash
# Builds the web page's WebAssembly module from the library (make wasm's build-wasm/libember.a,
# SIMD128 kernels, the C API of capi/ember-c.h) and puts the page beside it:
#
#   examples/web/build.sh [OUT_DIR]          default build-wasm/web
#   cp SAMPLER.ember build-wasm/web/model.ember     (any `ember export` sampler file, or a VAE/GAN checkpoint)
#   python3 -m http.server -d build-wasm/web 8000   then open http://localhost:8000/
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${1:-build-wasm/web}
make wasm >/dev/null
mkdir -p "$OUT"
FUNCS=_ember_version,_ember_code_name,_ember_sampler_open,_ember_sampler_info,_ember_sampler_decode,_ember_sampler_draw,_ember_sampler_close,_malloc,_free
# No main: the page calls the C API. MODULARIZE: the page creates the module when it wants it.
# Debian installs the JavaScript optimizer's parser (node-acorn) where its own nodejs looks, not every node.
export NODE_PATH=${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs
em++ -O2 -msimd128 --no-entry build-wasm/libember.a -o "$OUT/ember.js" \
  -sEXPORTED_FUNCTIONS="$FUNCS" -sEXPORTED_RUNTIME_METHODS=cwrap,UTF8ToString \
  -sMODULARIZE=1 -sEXPORT_NAME=createEmber -sENVIRONMENT=web,node -sWASM_BIGINT=1 -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=32MB
cp examples/web/index.html examples/web/app.js "$OUT/"
echo "wrote $OUT: ember.js, ember.wasm ($(stat -c %s "$OUT/ember.wasm") bytes), index.html, app.js"
