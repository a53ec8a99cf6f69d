#!/usr/bin/env bash
# The WebAssembly build (Debian's emscripten): the library with its SIMD128 kernels, and the
# whole unit test suite under node, which sweeps every kernel table this build has (scalar
# and simd128) against the scalar reference.
#
#   tests/wasm.sh        (from the checkout; needs em++ and node)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
make wasm
# Emscripten 3.1.6 loads the .wasm with fetch() when fetch exists, which node 18+ has but which
# cannot read a file path: node without it falls back to reading the file.
node --no-experimental-fetch build-wasm/ember-tests.js
