"""safetensors, .npy and IDX files for ember, with PyTorch and the Python standard library only.

    tensors, meta = load_safetensors("vae.safetensors")   # F32, F16, BF16 -> float32 tensors
    save_safetensors("out.safetensors", tensors, {"ember.config": "..."})
    z = load_npy("z.npy")          # float32, C order, any rank
    save_npy("x.npy", x)
    images = load_idx("mnist/train-images-idx3-ubyte.gz")   # uint8 [60000, 28, 28]; save_idx too

The readers treat the file as hostile: every length, offset and shape is checked against the
file before any tensor is made, and a bad file raises ValueError naming the file and the cause.
Little-endian hosts only (torch.frombuffer reads native order); a big-endian host is refused.
"""
import ast
import ctypes
import json
import os
import struct
import sys

import torch

# safetensors: the header length is a u64; a real header is kilobytes (names and shapes), so
# anything near the format's 100 MB guard is a hostile or broken file, not a model.
MAX_HEADER = 100 * 1024 * 1024
DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}
NPY_MAGIC = b"\x93NUMPY"
NPY_MAX_HEADER = 65536
NPY_ALIGN = 64


def _require_little_endian():
    if sys.byteorder != "little":
        raise ValueError("ember_formats: only little-endian hosts are supported")


def _raw_bytes(t):
    """The bytes of a contiguous CPU tensor (ctypes: no numpy needed)."""
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()) if t.numel() else b""


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError("duplicate key %r" % k)
        out[k] = v
    return out


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _check_entry(path, name, entry, data_len):
    """Validates one tensor entry of a safetensors header; returns (dtype, shape, begin, end)."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise ValueError("%s: tensor %r: want exactly dtype, shape and data_offsets" % (path, name))
    dtype, shape, offs = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES:
        raise ValueError("%s: tensor %r: dtype %r not supported (F32, F16, BF16)" % (path, name, dtype))
    # bool is an int in Python: refuse it explicitly, as JSON true is no dimension.
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise ValueError("%s: tensor %r: shape must be a list of non-negative integers" % (path, name))
    if (not isinstance(offs, list) or len(offs) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)):
        raise ValueError("%s: tensor %r: data_offsets must be two integers" % (path, name))
    begin, end = offs
    if not 0 <= begin <= end <= data_len:
        raise ValueError("%s: tensor %r: offsets [%d, %d] outside the %d data bytes" % (path, name, begin, end, data_len))
    if end - begin != _numel(shape) * DTYPES[dtype][1]:
        raise ValueError("%s: tensor %r: %d bytes for %s %s" % (path, name, end - begin, dtype, shape))
    return dtype, shape, begin, end


def load_safetensors(path):
    """Reads a safetensors file: ({name: float32 tensor}, {metadata key: value})."""
    _require_little_endian()
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: %d bytes, shorter than the 8-byte header length" % (path, len(blob)))
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        raise ValueError("%s: header length %d does not fit the %d-byte file" % (path, n, len(blob)))
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ValueError("%s: header is not valid JSON: %s" % (path, e)) from None
    if not isinstance(header, dict):
        raise ValueError("%s: header is not a JSON object" % path)
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise ValueError("%s: __metadata__ must map strings to strings" % path)
    data = blob[8 + n:]
    entries = {name: _check_entry(path, name, e, len(data)) for name, e in header.items()}
    spans = sorted((b, e, name) for name, (_, _, b, e) in entries.items())
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise ValueError("%s: tensors %r and %r overlap" % (path, n0, n1))
    tensors = {}
    for name, (dtype, shape, begin, end) in entries.items():
        torch_dtype, _ = DTYPES[dtype]
        if end == begin:
            tensors[name] = torch.zeros(shape, dtype=torch.float32)
            continue
        # bytearray: a writable copy, so the tensor owns its memory (frombuffer shares it).
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch_dtype)
        tensors[name] = t.to(torch.float32).reshape(shape)
    return tensors, dict(meta)


def save_safetensors(path, tensors, metadata=None, dtype="F32"):
    """Writes tensors (name -> tensor) and a string map as a safetensors file, every tensor
    stored as dtype (F32, or F16 / BF16 to halve the file at a loss of precision)."""
    _require_little_endian()
    if dtype not in DTYPES:
        raise ValueError("dtype %r not supported (F32, F16, BF16)" % dtype)
    header, chunks, at = {}, [], 0
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("safetensors metadata must map strings to strings")
        header["__metadata__"] = dict(metadata)
    for name, t in tensors.items():
        t = t.detach().to("cpu", torch.float32).to(DTYPES[dtype][0]).contiguous()
        raw = _raw_bytes(t)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        chunks.append(raw)
        at += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as other writers do
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)  # never a half-written file under the final name


def load_npy(path):
    """Reads a float32 C-order .npy file (version 1, 2 or 3) into a tensor."""
    _require_little_endian()
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 10 or blob[:6] != NPY_MAGIC:
        raise ValueError("%s: not a .npy file" % path)
    major = blob[6]
    if major == 1:
        (hlen,), start = struct.unpack("<H", blob[8:10]), 10
    elif major in (2, 3) and len(blob) >= 12:
        (hlen,), start = struct.unpack("<I", blob[8:12]), 12
    else:
        raise ValueError("%s: .npy version %d not supported" % (path, major))
    if hlen > NPY_MAX_HEADER or start + hlen > len(blob):
        raise ValueError("%s: header length %d does not fit the file" % (path, hlen))
    try:
        # literal_eval evaluates literals only: no calls, no names, so a hostile header is inert.
        head = ast.literal_eval(blob[start:start + hlen].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, SyntaxError, MemoryError, RecursionError):
        raise ValueError("%s: header is not a Python dict literal" % path) from None
    if not isinstance(head, dict) or set(head) != {"descr", "fortran_order", "shape"}:
        raise ValueError("%s: header must hold exactly descr, fortran_order and shape" % path)
    if head["descr"] != "<f4":
        raise ValueError("%s: dtype %r, want '<f4' (little-endian float32)" % (path, head["descr"]))
    if head["fortran_order"] is not False:
        raise ValueError("%s: Fortran order is not supported" % path)
    shape = head["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise ValueError("%s: shape must be a tuple of non-negative integers" % path)
    data = blob[start + hlen:]
    if len(data) != 4 * _numel(shape):
        raise ValueError("%s: %d data bytes for shape %s" % (path, len(data), shape))
    if not data:
        return torch.zeros(shape, dtype=torch.float32)
    return torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(shape)


def save_npy(path, x):
    """Writes a tensor as float32 C order, .npy version 1.0 with numpy's header layout."""
    _require_little_endian()
    t = torch.as_tensor(x).detach().to("cpu", torch.float32).contiguous()
    # repr of a tuple is numpy's spelling of a shape: (), (5,), (64, 20).
    head = "{'descr': '<f4', 'fortran_order': False, 'shape': %r, }" % (tuple(t.shape),)
    pad = -(len(NPY_MAGIC) + 4 + len(head) + 1) % NPY_ALIGN
    head = (head + " " * pad + "\n").encode("latin1")
    with open(path, "wb") as f:
        f.write(NPY_MAGIC + b"\x01\x00" + struct.pack("<H", len(head)) + head)
        f.write(_raw_bytes(t))


IDX_TYPES = {0x08: (torch.uint8, 1)}  # MNIST-style files: unsigned bytes only


def load_idx(path):
    """Reads an IDX file (MNIST's format; gzip-compressed when the name ends in .gz) into a uint8
    tensor of its shape. Only the unsigned-byte type is supported; lengths are checked."""
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            blob = f.read()
    except (OSError, EOFError) as e:  # gzip raises these on a corrupt stream
        raise ValueError("%s: %s" % (path, e)) from None
    if len(blob) < 4 or blob[0] != 0 or blob[1] != 0 or blob[2] not in IDX_TYPES or not 1 <= blob[3] <= 4:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    rank = blob[3]
    if len(blob) < 4 + 4 * rank:
        raise ValueError("%s: truncated IDX header" % path)
    shape = struct.unpack(">%dI" % rank, blob[4:4 + 4 * rank])
    data = blob[4 + 4 * rank:]
    if len(data) != _numel(shape):
        raise ValueError("%s: %d data bytes for shape %s" % (path, len(data), list(shape)))
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(shape)


def save_idx(path, x):
    """Writes a uint8 tensor (e.g. images [n, rows, cols]) as an uncompressed IDX file."""
    t = torch.as_tensor(x).detach().to("cpu", torch.uint8).contiguous()
    if not 1 <= t.dim() <= 4:
        raise ValueError("IDX holds 1 to 4 dimensions, got %d" % t.dim())
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, t.dim()]) + struct.pack(">%dI" % t.dim(), *t.shape))
        f.write(_raw_bytes(t))
