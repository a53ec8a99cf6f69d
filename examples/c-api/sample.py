"""Samples from a trained generator through ember's C interface, from Python with ctypes only
(the standard library): the shared library build, `make shared` -> build/libember.so.

    python3 examples/c-api/sample.py build/libember.so SAMPLER.ember [N] [SEED] [LABEL]

Prints the same digest as examples/c-api/sample.c and example-sample-on-device --digest: the
FNV-1a hash of the images' bytes and each image's pixel sum in millionths.
"""
import ctypes
import math
import sys


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 160)]


class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int) for name in ("kind", "latent", "channels", "rows", "cols", "classes")]


def load(path):
    lib = ctypes.CDLL(path)
    P, S = ctypes.c_void_p, ctypes.c_size_t
    lib.ember_version.restype = ctypes.c_char_p
    lib.ember_code_name.restype = ctypes.c_char_p
    lib.ember_sampler_open.argtypes = [P, S, ctypes.c_int, P, S, ctypes.POINTER(P), ctypes.POINTER(S), ctypes.POINTER(Error)]
    lib.ember_sampler_info.argtypes = [P, ctypes.POINTER(Info), ctypes.POINTER(Error)]
    lib.ember_sampler_draw.argtypes = [P, ctypes.c_uint64, P, ctypes.c_int, P, P, ctypes.POINTER(Error)]
    lib.ember_sampler_close.argtypes = [P]
    return lib


def check(lib, code, err, what):
    if code != 0:
        sys.exit("sample.py: %s: %s (%s)" % (what, err.message.decode(), lib.ember_code_name(code).decode()))


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: sample.py LIBEMBER.so SAMPLER.ember [N] [SEED] [LABEL]")
    lib = load(argv[1])
    data = open(argv[2], "rb").read()
    n = int(argv[3]) if len(argv) > 3 else 4
    seed = int(argv[4]) if len(argv) > 4 else 1
    label = int(argv[5]) if len(argv) > 5 else -1
    err, handle, need = Error(), ctypes.c_void_p(), ctypes.c_size_t()
    # The first call, with a small buffer, says how big the buffer must be.
    probe = ctypes.create_string_buffer(1 << 20)
    code = lib.ember_sampler_open(data, len(data), 1, probe, len(probe), ctypes.byref(handle), ctypes.byref(need), ctypes.byref(err))
    if code == 0:
        lib.ember_sampler_close(handle)
    elif need.value == 0:
        check(lib, code, err, "open")
    buffer = ctypes.create_string_buffer(max(need.value, len(probe)))
    check(lib, lib.ember_sampler_open(data, len(data), 1, buffer, len(buffer), ctypes.byref(handle), None, ctypes.byref(err)), err, "open")
    info = Info()
    check(lib, lib.ember_sampler_info(handle, ctypes.byref(info), ctypes.byref(err)), err, "info")
    pixels = info.channels * info.rows * info.cols
    z = (ctypes.c_float * (n * info.latent))()
    images = (ctypes.c_float * (n * pixels))()
    labels = (ctypes.c_int32 * n)(*[label if label >= 0 else (i % info.classes if info.classes else 0) for i in range(n)])
    check(lib, lib.ember_sampler_draw(handle, seed, labels if info.classes else None, n, z, images, ctypes.byref(err)), err, "draw")
    lib.ember_sampler_close(handle)
    h = 2166136261
    for b in bytes(images):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    print("ember %s, %s, latent %d, images %dx%dx%d" % (lib.ember_version().decode(), "GAN" if info.kind == 2 else "VAE",
                                                      info.latent, info.channels, info.rows, info.cols), file=sys.stderr)
    print("hash: %08x" % h)
    for i in range(n):
        s = 0.0
        for p in range(pixels):
            s += images[i * pixels + p]
        print("sum %d: %d" % (i, math.floor(s * 1e6 + 0.5)))


if __name__ == "__main__":
    main(sys.argv)
