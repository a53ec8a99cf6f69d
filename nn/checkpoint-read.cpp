// Checkpoint reader (format and loading rules in checkpoint.h): two passes over a bounded,
// checksummed stream through a 4 KiB buffer on the stack, the first checking everything and
// changing nothing, the second copying.
#include <cstring>

#include "io/crc32.h"
#include "nn/checkpoint-format.h"
#include "nn/checkpoint.h"
#include "io/file.h"

namespace ember::nn {

using namespace ckpt;

namespace {

constexpr uint32_t kExponentBits = 0x7f800000u;  // all ones: infinity or NaN

// A bounded, checksummed byte stream over a file or a memory block. `end_` is where the
// data stops and the stored CRC begins; no read may cross it, so every size in the file is
// checked against what is really there before a byte of it is used.
class Source {
 public:
  Source(ReadFile* file, const uint8_t* mem, uint64_t size, const char* where)
      : file_(file), mem_(mem), end_(size >= 4 ? size - 4 : 0), where_(where) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return end_ - pos_; }
  uint32_t crc() const { return crc_; }
  const char* where() const { return where_; }

  // The next n (<= kBufBytes) bytes; *out points into the buffer or the memory block.
  Status take(size_t n, const uint8_t** out, const char* what) {
    if (n > remaining())
      return fail(where_, Code::corrupt_data, "%s needs %zu bytes at offset %llu, only %llu remain (truncated?)", what,
                  n, static_cast<unsigned long long>(pos_), static_cast<unsigned long long>(remaining()));
    const uint8_t* p = nullptr;
    if (file_) {
      EMBER_TRY(file_->read_exact(buf_, n));
      p = buf_;
    } else {
      p = mem_ + pos_;
    }
    crc_ = crc32_update(crc_, p, n);
    pos_ += n;
    *out = p;
    return Status::ok();
  }
  // n floats into dst, or skipped when dst is null (the caller checked n fits). A NaN or an
  // infinity is refused (ember never saves one): `name` says whose.
  // With nonneg, a negative number is refused too (int8 scales).
  Status floats(float* dst, uint64_t n, const char* what, const char* name = "", bool nonneg = false) {
    for (uint64_t at = 0; n;) {
      const size_t chunk = n < kBufBytes / 4 ? static_cast<size_t>(n) : kBufBytes / 4;
      const uint8_t* p = nullptr;
      EMBER_TRY(take(4 * chunk, &p, what));
      for (size_t i = 0; i < chunk; ++i) {
        const uint32_t bits = get32(p + 4 * i);
        if ((bits & kExponentBits) == kExponentBits)
          return fail(where_, Code::corrupt_data, "%s of '%s' hold a non-finite number (NaN or infinity) at element %llu",
                      what, name, static_cast<unsigned long long>(at + i));
        if (nonneg && (bits >> 31) && (bits << 1))
          return fail(where_, Code::corrupt_data, "%s of '%s' hold a negative number at element %llu", what, name,
                      static_cast<unsigned long long>(at + i));
      }
      at += chunk;
      if (dst) {
        for (size_t i = 0; i < chunk; ++i) dst[i] = bits_float(get32(p + 4 * i));
        dst += chunk;
      }
      n -= chunk;
    }
    return Status::ok();
  }
  // n int8 values into dst, or skipped when dst is null; -128 is refused (symmetric weights).
  Status int8s(int8_t* dst, uint64_t n, const char* name) {
    for (uint64_t at = 0; n;) {
      const size_t chunk = n < kBufBytes ? static_cast<size_t>(n) : kBufBytes;
      const uint8_t* p = nullptr;
      EMBER_TRY(take(chunk, &p, "the int8 values"));
      for (size_t i = 0; i < chunk; ++i)
        if (p[i] == 0x80)
          return fail(where_, Code::corrupt_data, "the int8 values of '%s' hold -128 at element %llu (symmetric: "
                      "-127..127)", name, static_cast<unsigned long long>(at + i));
      if (dst) std::memcpy(dst, p, chunk), dst += chunk;
      at += chunk, n -= chunk;
    }
    return Status::ok();
  }
  // Where the next byte is in a memory block (null for a file): int8 values read in place.
  const uint8_t* here() const { return file_ ? nullptr : mem_ + pos_; }
  // Reads through to the stored CRC (after an early error, so the CRC can still be judged).
  Status drain() {
    const uint8_t* p = nullptr;
    while (remaining()) {
      const size_t n = remaining() < kBufBytes ? static_cast<size_t>(remaining()) : kBufBytes;
      EMBER_TRY(take(n, &p, "data"));
    }
    return Status::ok();
  }
  // The 4 stored CRC bytes at end_, compared with what was read; not itself checksummed.
  Status check_crc() {
    uint8_t b[4];
    if (pos_ != end_)
      return fail(where_, Code::corrupt_data, "%llu unexpected bytes after the last record",
                  static_cast<unsigned long long>(remaining()));
    if (file_) {
      EMBER_TRY(file_->read_exact(b, 4));
    } else {
      std::memcpy(b, mem_ + pos_, 4);
    }
    if (get32(b) != crc())
      return fail(where_, Code::corrupt_data, "CRC mismatch: stored %x, computed %x (file is damaged)", unsigned(get32(b)), unsigned(crc()));
    return Status::ok();
  }
  Status restart() {
    if (file_) EMBER_TRY(file_->rewind());
    pos_ = 0;
    crc_ = kCrc32Init;
    return Status::ok();
  }

 private:
  ReadFile* file_;
  const uint8_t* mem_;
  uint64_t end_;
  const char* where_;
  uint64_t pos_ = 0;
  uint32_t crc_ = kCrc32Init;
  uint8_t buf_[kBufBytes];
};

// Magic, version, flags and declared size: checked before anything else so that another
// kind of file gets a plain answer ("not a checkpoint"), not a CRC complaint.
Status read_header(Source& in, uint64_t actual, uint32_t counts[4], const CheckpointState& st, bool apply) {
  const char* w = in.where();
  const uint8_t* h = nullptr;
  EMBER_TRY(in.take(kHeaderBytes, &h, "header"));
  if (std::memcmp(h, kMagic, 8) != 0)
    return fail(w, Code::corrupt_data, "not an ember checkpoint (magic is not \"EMBRCKPT\")");
  const unsigned version = unsigned(get32(h + 8)), flags = unsigned(get32(h + 12));
  if (version < kOldestCheckpointVersion || version > kCheckpointVersion)
    return fail(w, Code::unsupported, "format version %u, this build reads versions %u..%u", version,
                unsigned(kOldestCheckpointVersion), unsigned(kCheckpointVersion));
  if (flags != 0) return fail(w, Code::unsupported, "unknown flags %x in the header", flags);
  const uint64_t declared = get64(h + 16);
  if (declared != actual)
    return fail(w, Code::corrupt_data, "header says %llu bytes, file has %llu (truncated or extended)",
                static_cast<unsigned long long>(declared), static_cast<unsigned long long>(actual));
  for (int i = 0; i < 3; ++i) counts[i] = get32(h + 24 + 4 * i);
  counts[3] = version;
  const uint32_t meta = get32(h + 36);
  if (version == 1 && meta != 0) return fail(w, Code::corrupt_data, "reserved header field is not 0");
  if (meta > kMaxCheckpointMeta)
    return fail(w, Code::corrupt_data, "meta text of %u bytes (at most %zu)", unsigned(meta), kMaxCheckpointMeta);
  const uint8_t* text = nullptr;
  EMBER_TRY(in.take(meta, &text, "meta text"));
  for (uint32_t i = 0; i < meta; ++i)
    if (!meta_char_ok(text[i])) return fail(w, Code::corrupt_data, "meta text byte %u is not printable ASCII", unsigned(i));
  if (st.meta_out && meta >= st.meta_cap)
    return fail(w, Code::invalid_argument, "meta text of %u bytes does not fit a buffer of %zu", unsigned(meta), st.meta_cap);
  if (apply && st.meta_out) std::memcpy(st.meta_out, text, meta), st.meta_out[meta] = 0;
  return Status::ok();
}

// One parameter record. With apply == false it only checks; with apply == true it copies.
// The record's own structure is checked first, then the model parameter it loads into (by
// its name, or by st.rename's answer; a record rename skips is read past, values unused).
Status read_param(Source& in, unsigned index, unsigned version, Params* params, const CheckpointState& st, bool apply) {
  const char* w = in.where();
  const uint8_t* p = nullptr;
  EMBER_TRY(in.take(2, &p, "parameter name length"));
  const uint16_t len = get16(p);
  if (len == 0 || len >= Param::kMaxName)
    return fail(w, Code::corrupt_data, "parameter record %u: name length %u is outside 1..%d", index, len,
                Param::kMaxName - 1);
  char name[Param::kMaxName];
  EMBER_TRY(in.take(len, &p, "parameter name"));
  std::memcpy(name, p, len);
  name[len] = '\0';
  if (std::strlen(name) != len) return fail(w, Code::corrupt_data, "parameter record %u: name holds a NUL byte", index);

  EMBER_TRY(in.take(4, &p, "parameter header"));
  const int rank = p[0], group = p[1], trainable = p[2], arrays = p[3];
  if (rank > Shape::kMaxRank)
    return fail(w, Code::corrupt_data, "parameter '%s': rank %d is above %d", name, rank, Shape::kMaxRank);
  Shape shape;
  shape.rank = rank;
  for (int d = 0; d < rank; ++d) {
    EMBER_TRY(in.take(8, &p, "parameter dims"));
    shape.dims[d] = static_cast<int64_t>(get64(p));
    if (shape.dims[d] < 0)
      return fail(w, Code::corrupt_data, "parameter '%s': dimension %d is %lld", name, d,
                  static_cast<long long>(shape.dims[d]));
  }
  const int64_t numel = shape.numel();
  if (numel < 0) return fail(w, Code::corrupt_data, "parameter '%s': element count overflows", name);
  if (trainable > 1) return fail(w, Code::corrupt_data, "parameter '%s': trainable flag is %d", name, trainable);
  const bool int8 = arrays == kInt8;
  const bool arrays_ok = arrays == kHasValue || (int8 && version >= 3) ||
                         (trainable && (arrays == (kHasValue | kHasM) || arrays == (kHasValue | kHasM | kHasV)));
  if (!arrays_ok) return fail(w, Code::corrupt_data, "parameter '%s': array set %x is not valid", name, arrays);
  int axis = 0;
  if (int8) {
    EMBER_TRY(in.take(1, &p, "int8 axis"));
    axis = p[0];
    if (rank < 2 || axis >= rank)
      return fail(w, Code::corrupt_data, "parameter '%s': int8 axis %d with rank %d", name, axis, rank);
  }
  const uint64_t n = static_cast<uint64_t>(numel);
  const uint64_t k = static_cast<uint64_t>(count_arrays(arrays));
  const uint64_t channels = int8 ? static_cast<uint64_t>(shape.dims[axis]) : 0;
  auto fits = [&]() {  // checked after the model's shape, whose mismatch is the better answer
    const bool ok = int8 ? channels <= in.remaining() / 4 && n <= in.remaining() - 4 * channels
                         : n <= in.remaining() / (4 * k);  // n * 4 * k <= remaining, without overflow
    if (ok) return Status::ok();
    return fail(w, Code::corrupt_data, "parameter '%s' needs %llu %s values, only %llu bytes remain", name,
                static_cast<unsigned long long>(int8 ? n : n * k), int8 ? "int8" : "float",
                static_cast<unsigned long long>(in.remaining()));
  };

  char target[Param::kMaxName];
  const char* model_name = name;
  if (st.rename) {
    if (!st.rename(st.rename_user, name, target, sizeof target)) {
      EMBER_TRY(fits());
      if (!int8) return in.floats(nullptr, n * k, "the values", name);
      EMBER_TRY(in.floats(nullptr, channels, "the scales", name, true));
      return in.int8s(nullptr, n, name);
    }
    target[sizeof target - 1] = '\0';
    model_name = target;
  }
  const bool renamed = std::strcmp(model_name, name) != 0;
  const int id = params->find(model_name);
  if (id < 0 && renamed)
    return fail(w, Code::shape_mismatch, "parameter '%s' (as '%s') is in the file but not in the model", name, model_name);
  if (id < 0) return fail(w, Code::shape_mismatch, "parameter '%s' is in the file but not in the model", name);
  Param& prm = (*params)[id];
  if (prm.loaded) return fail(w, Code::corrupt_data, "parameter '%s' appears twice", model_name);
  prm.loaded = true;
  if (shape != prm.shape) {
    char a[64], b[64];
    return fail(w, Code::shape_mismatch, "parameter '%s' has shape %s in the file, %s in the model", name,
                shape.str(a, sizeof a), prm.shape.str(b, sizeof b));
  }
  // A renamed record may fill a trainable parameter from a state buffer (or back) when the
  // model holds values only: e.g. a generator's averaged weights into the sampler's G.
  if ((trainable == 1) != prm.trainable && !(renamed && !prm.m && !prm.v))
    return fail(w, Code::shape_mismatch, "parameter '%s' is %s in the file, %s in the model", name,
                trainable ? "trainable" : "a state buffer", prm.trainable ? "trainable" : "a state buffer");
  if (group != prm.group)
    return fail(w, Code::shape_mismatch, "parameter '%s' is in group %d in the file, %d in the model", name, group,
                prm.group);
  if (int8 != (prm.storage == Storage::int8))
    return fail(w, Code::shape_mismatch, "parameter '%s' is %s in the file, %s in the model", name,
                int8 ? "int8" : "float32", int8 ? "float32" : "int8");
  EMBER_TRY(fits());
  if (int8) {
    if (axis != prm.out_axis)
      return fail(w, Code::shape_mismatch, "parameter '%s': int8 scales along axis %d in the file, %d in the model", name,
                  axis, prm.out_axis);
    const bool in_place = params->int8_in_place();
    if (in_place && !in.here())
      return fail(w, Code::invalid_argument, "the model reads int8 weights in place: load it from memory, not a file");
    EMBER_TRY(in.floats(apply ? prm.scale : nullptr, channels, "the scales", name, true));
    const uint8_t* at = in.here();
    EMBER_TRY(in.int8s(apply && !in_place ? const_cast<int8_t*>(prm.q) : nullptr, n, name));
    if (apply && in_place) prm.q = reinterpret_cast<const int8_t*>(at);
    return Status::ok();
  }
  // Moments the model has no room for are skipped; moments the file lacks are zeroed.
  EMBER_TRY(in.floats(apply ? prm.value : nullptr, n, "the values", name));
  if (arrays & kHasM) EMBER_TRY(in.floats(apply ? prm.m : nullptr, n, "the moments", name));
  else if (apply && prm.m) std::memset(prm.m, 0, n * sizeof(float));
  if (arrays & kHasV) EMBER_TRY(in.floats(apply ? prm.v : nullptr, n, "the moments", name));
  else if (apply && prm.v) std::memset(prm.v, 0, n * sizeof(float));
  return Status::ok();
}

// Everything after the header, up to the stored CRC.
Status read_body(Source& in, const uint32_t counts[4], Params* params, const CheckpointState& st, bool apply) {
  const char* w = in.where();
  const unsigned n_params = unsigned(counts[0]), n_opts = unsigned(counts[1]), n_rngs = unsigned(counts[2]);
  if (n_params > static_cast<unsigned>(kMaxCheckpointParams) || n_opts > kMaxCheckpointOptimizers ||
      n_rngs > kMaxCheckpointRngs)
    return fail(w, Code::corrupt_data, "counts %u parameters, %u optimizers, %u RNGs exceed %d, %d, %d", n_params,
                n_opts, n_rngs, kMaxCheckpointParams, kMaxCheckpointOptimizers, kMaxCheckpointRngs);
  // Which parameters the records filled: flags in the table, cleared again on every way out
  // so that a refused file leaves every byte of the model as it was.
  auto clear = [params]() {
    for (int i = 0; i < params->count(); ++i) (*params)[i].loaded = false;
  };
  clear();
  Status s;
  for (unsigned i = 0; i < n_params && s.is_ok(); ++i) s = read_param(in, i, counts[3], params, st, apply);
  for (int i = 0; i < params->count() && s.is_ok(); ++i)
    if (!(*params)[i].loaded)
      s = fail(w, Code::shape_mismatch, "parameter '%s' is in the model but not in the file", (*params)[i].name);
  clear();
  EMBER_TRY(s);

  if (st.n_opts > 0 && static_cast<unsigned>(st.n_opts) != n_opts)
    return fail(w, Code::invalid_argument, "file has %u optimizers, %d given", n_opts, st.n_opts);
  const uint8_t* p = nullptr;
  for (unsigned i = 0; i < n_opts; ++i) {
    EMBER_TRY(in.take(kOptBytes, &p, "optimizer record"));
    const int group = p[0], kind = p[1];
    const float lr = bits_float(get32(p + 4));
    const int64_t t = static_cast<int64_t>(get64(p + 8));
    if (kind > 1 || get16(p + 2) != 0 || get64(p + 16) != 0)
      return fail(w, Code::corrupt_data, "optimizer %u: kind %d or reserved fields invalid", i, kind);
    if ((float_bits(lr) & 0x7F800000u) == 0x7F800000u || t < 0)
      return fail(w, Code::corrupt_data, "optimizer %u: learning rate not finite or step count %lld < 0", i,
                  static_cast<long long>(t));
    if (st.n_opts == 0) continue;
    Optimizer& o = st.opts[i];
    const int want_kind = o.config().kind == OptimizerConfig::Kind::adam ? 1 : 0;
    if (group != o.group() || kind != want_kind)
      return fail(w, Code::invalid_argument, "optimizer %u is %s for group %d in the file, %s for group %d given", i,
                  kind ? "Adam" : "SGD", group, want_kind ? "Adam" : "SGD", o.group());
    if (apply) o.set_lr(lr), o.set_steps(t);
  }

  if (st.n_rngs > 0 && static_cast<unsigned>(st.n_rngs) != n_rngs)
    return fail(w, Code::invalid_argument, "file has %u RNG states, %d given", n_rngs, st.n_rngs);
  for (unsigned i = 0; i < n_rngs; ++i) {
    EMBER_TRY(in.take(kRngBytes, &p, "RNG record"));
    Rng::State s;
    s.state = get64(p), s.inc = get64(p + 8), s.spare = bits_float(get32(p + 16)), s.has_spare = get32(p + 20);
    if ((s.inc & 1u) == 0 || s.has_spare > 1)
      return fail(w, Code::corrupt_data, "RNG %u: increment is even or spare flag is %u", i, unsigned(s.has_spare));
    if (apply && st.n_rngs > 0) st.rngs[i].restore(s);
  }

  EMBER_TRY(in.take(8, &p, "step counter"));
  if (apply && st.step) *st.step = get64(p);
  return Status::ok();
}

// The two passes over one source (see "Loading rules" in checkpoint.h).
Status load(Source& in, uint64_t size, Params* params, const CheckpointState& st) {
  const char* w = in.where();
  EMBER_TRY(check_state(w, params, st));
  if (size == 0) return fail(w, Code::corrupt_data, "file is empty");
  if (size < kHeaderBytes + kTrailerBytes)
    return fail(w, Code::corrupt_data, "%llu bytes is shorter than the smallest checkpoint (%zu)",
                static_cast<unsigned long long>(size), kHeaderBytes + kTrailerBytes);
  uint32_t counts[4];
  EMBER_TRY(read_header(in, size, counts, st, false));
  // Pass 1: check only. On an error, finish the checksum: a damaged file is reported as
  // damaged (CRC mismatch) rather than by whatever odd value the damage produced.
  Status s = read_body(in, counts, params, st, false);
  if (!s.is_ok()) {
    Status crc = in.drain();
    if (crc.is_ok()) crc = in.check_crc();
    return crc.is_ok() ? s : crc;
  }
  EMBER_TRY(in.check_crc());
  const uint32_t crc1 = in.crc();

  // Pass 2: the same parse, now copying. It can fail only if the input changed since pass 1.
  EMBER_TRY(in.restart());
  uint32_t counts2[4];
  s = read_header(in, size, counts2, st, true);
  if (s.is_ok()) s = read_body(in, counts2, params, st, true);
  if (s.is_ok()) s = in.check_crc();
  if (s.is_ok() && in.crc() != crc1) s = fail(w, Code::corrupt_data, "CRC differs from pass 1");
  if (!s.is_ok())
    return fail(w, Code::corrupt_data, "changed during the load; the model may be partly overwritten (%s)",
                s.message());
  return Status::ok();
}

}  // namespace


Status load_checkpoint(const char* path, Params* params, const CheckpointState& st) {
  char where[64];
  short_path(path, where, sizeof where);
  ReadFile file;
  Status s = file.open(path);
  if (!s.is_ok()) return Status::error(s.code(), "checkpoint: %s", s.message());  // names the path
  uint64_t size;
  EMBER_TRY(file.size(&size));
  Source in(&file, nullptr, size, where);
  return load(in, size, params, st);
}

bool is_checkpoint_file(const char* path) {
  if (file_kind(path) != FileKind::regular) return false;
  ReadFile file;
  uint8_t magic[8];
  return file.open(path).is_ok() && file.read_exact(magic, sizeof magic).is_ok() &&
         std::memcmp(magic, kMagic, sizeof magic) == 0;
}

namespace {
// The header's meta text, then the rest read for the CRC.
Status read_meta(Source& in, uint64_t size, char* buf, size_t cap) {
  if (size < kHeaderBytes + kTrailerBytes)
    return fail(in.where(), Code::corrupt_data, "%llu bytes is shorter than the smallest checkpoint (%zu)",
                static_cast<unsigned long long>(size), kHeaderBytes + kTrailerBytes);
  CheckpointState st;
  st.meta_out = buf, st.meta_cap = cap;
  uint32_t counts[4];
  EMBER_TRY(read_header(in, size, counts, st, true));
  EMBER_TRY(in.drain());
  return in.check_crc();
}
}  // namespace

Status read_checkpoint_meta(const char* path, char* buf, size_t cap) {
  if (!buf || cap == 0) return Status::error(Code::invalid_argument, "checkpoint: no buffer for the meta text");
  char where[64];
  short_path(path, where, sizeof where);
  ReadFile file;
  Status s = file.open(path);
  if (!s.is_ok()) return Status::error(s.code(), "checkpoint: %s", s.message());
  uint64_t size;
  EMBER_TRY(file.size(&size));
  Source in(&file, nullptr, size, where);
  return read_meta(in, size, buf, cap);
}

namespace {
Status read_file_meta(const CheckpointRef& ref, char* buf, size_t cap) { return read_checkpoint_meta(ref.path, buf, cap); }
Status load_file(const CheckpointRef& ref, Params* params, const CheckpointState& st) {
  return load_checkpoint(ref.path, params, st);
}
Status read_memory_meta(const CheckpointRef& ref, char* buf, size_t cap) {
  if (!buf || cap == 0) return Status::error(Code::invalid_argument, "checkpoint: no buffer for the meta text");
  if (!ref.data && ref.size) return Status::error(Code::invalid_argument, "checkpoint <memory>: null data");
  Source in(nullptr, ref.data, ref.size, "<memory>");
  return read_meta(in, ref.size, buf, cap);
}
Status load_memory(const CheckpointRef& ref, Params* params, const CheckpointState& st) {
  return load_checkpoint_from_memory(ref.data, ref.size, params, st);
}
}  // namespace

CheckpointRef CheckpointRef::file(const char* path) {
  CheckpointRef r;
  r.path = path, r.read_meta = read_file_meta, r.load = load_file;
  return r;
}

CheckpointRef CheckpointRef::memory(const uint8_t* data, size_t size) {
  CheckpointRef r;
  r.data = data, r.size = size, r.read_meta = read_memory_meta, r.load = load_memory;
  return r;
}

Status read_checkpoint_meta(const CheckpointRef& ref, char* buf, size_t cap) {
  if (!ref.read_meta) return Status::error(Code::invalid_argument, "checkpoint: neither a file nor memory");
  return ref.read_meta(ref, buf, cap);
}

Status load_checkpoint(const CheckpointRef& ref, Params* params, const CheckpointState& st) {
  if (!ref.load) return Status::error(Code::invalid_argument, "checkpoint: neither a file nor memory");
  return ref.load(ref, params, st);
}

Status load_checkpoint_from_memory(const uint8_t* data, size_t size, Params* params, const CheckpointState& st) {
  if (!data && size) return Status::error(Code::invalid_argument, "checkpoint <memory>: null data");
  Source in(nullptr, data, size, "<memory>");
  return load(in, size, params, st);
}

Status load_checkpoint(const char* path, Params* params, Optimizer* opts, int n_opts, Rng* rngs, int n_rngs,
                       uint64_t* step) {
  CheckpointState st;
  st.opts = opts, st.n_opts = n_opts, st.rngs = rngs, st.n_rngs = n_rngs, st.step = step;
  return load_checkpoint(path, params, st);
}

}  // namespace ember::nn
