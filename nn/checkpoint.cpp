// Checkpoint writer and two-pass validating reader (format and rules in checkpoint.h).
//
// Both directions stream through a 4 KiB buffer on the stack and encode every field byte
// by byte in little-endian order, so the file is the same on any host and no struct layout
// or alignment ever leaks into it.
#include "nn/checkpoint.h"

#include <cstdarg>
#include <cstring>

#include "core/crc32.h"
#include "platform/file.h"

namespace ember::nn {

namespace {

constexpr uint8_t kMagic[8] = {'E', 'M', 'B', 'R', 'C', 'K', 'P', 'T'};
constexpr size_t kHeaderBytes = 40;
constexpr size_t kOptBytes = 24;
constexpr size_t kRngBytes = 24;
constexpr size_t kTrailerBytes = 12;  // u64 step + u32 crc
constexpr size_t kBufBytes = 4096;
constexpr uint8_t kHasValue = 1, kHasM = 2, kHasV = 4;

void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v), p[1] = uint8_t(v >> 8); }
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint16_t get16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// "checkpoint <where>: <what>" — every error names the file (or "<memory>") first.
Status fail(const char* where, Code code, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
Status fail(const char* where, Code code, const char* fmt, ...) {
  char what[Status::kMaxMessage];
  va_list args;
  va_start(args, fmt);
  format_message(what, sizeof what, fmt, args);
  va_end(args);
  return Status::error(code, "checkpoint %s: %s", where, what);
}

int arrays_of(const Param& p) { return kHasValue | (p.m ? kHasM : 0) | (p.v ? kHasV : 0); }
int count_arrays(int arrays) { return 1 + ((arrays & kHasM) ? 1 : 0) + ((arrays & kHasV) ? 1 : 0); }

// Caller-side checks shared by save and load (programming errors, not file problems).
size_t meta_len(const CheckpointState& st) { return st.meta ? std::strlen(st.meta) : 0; }
bool meta_char_ok(uint8_t c) { return c >= 0x20 && c <= 0x7E; }

Status check_state(const char* where, const Params* params, const CheckpointState& st) {
  if (!params || !params->allocated())
    return fail(where, Code::invalid_argument, "parameters are not allocated");
  if (meta_len(st) > kMaxCheckpointMeta)
    return fail(where, Code::invalid_argument, "meta text of %zu bytes (at most %zu)", meta_len(st), kMaxCheckpointMeta);
  for (size_t i = 0; i < meta_len(st); ++i)
    if (!meta_char_ok(uint8_t(st.meta[i])))
      return fail(where, Code::invalid_argument, "meta text byte %zu is not printable ASCII", i);
  if (st.n_opts < 0 || st.n_opts > kMaxCheckpointOptimizers || (st.n_opts > 0 && !st.opts))
    return fail(where, Code::invalid_argument, "%d optimizers (at most %d, pointer needed)", st.n_opts,
                kMaxCheckpointOptimizers);
  if (st.n_rngs < 0 || st.n_rngs > kMaxCheckpointRngs || (st.n_rngs > 0 && !st.rngs))
    return fail(where, Code::invalid_argument, "%d RNGs (at most %d, pointer needed)", st.n_rngs, kMaxCheckpointRngs);
  return Status::ok();
}

// ---------------------------------------------------------------------------------------
// Writing

class Sink {
 public:
  Sink(AtomicWriter* file, uint8_t* mem, size_t cap) : file_(file), mem_(mem), cap_(cap) {}

  Status bytes(const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    while (n) {
      if (fill_ == kBufBytes) EMBER_TRY(flush());
      const size_t take = n < kBufBytes - fill_ ? n : kBufBytes - fill_;
      crc_ = crc32_update(crc_, p, take);
      std::memcpy(buf_ + fill_, p, take);
      fill_ += take, p += take, n -= take;
    }
    return Status::ok();
  }
  Status u8(uint8_t v) { return bytes(&v, 1); }
  Status u16(uint16_t v) {
    uint8_t b[2];
    put16(b, v);
    return bytes(b, 2);
  }
  Status u32(uint32_t v) {
    uint8_t b[4];
    put32(b, v);
    return bytes(b, 4);
  }
  Status u64(uint64_t v) {
    uint8_t b[8];
    put64(b, v);
    return bytes(b, 8);
  }
  Status floats(const float* x, size_t n) {
    uint8_t b[256];
    while (n) {
      const size_t take = n < sizeof b / 4 ? n : sizeof b / 4;
      for (size_t i = 0; i < take; ++i) put32(b + 4 * i, float_bits(x[i]));
      EMBER_TRY(bytes(b, 4 * take));
      x += take, n -= take;
    }
    return Status::ok();
  }
  // The CRC of everything so far, itself not part of the checksum.
  Status finish() {
    uint8_t b[4];
    put32(b, crc_);
    EMBER_TRY(bytes(b, 4));
    return flush();
  }
  uint64_t total() const { return total_; }

 private:
  Status flush() {
    if (file_) {
      EMBER_TRY(file_->write(buf_, fill_));
    } else {
      if (fill_ > cap_ - total_)  // cap_ >= total_ always
        return Status::error(Code::out_of_memory, "checkpoint <memory>: buffer of %zu bytes is too small", cap_);
      std::memcpy(mem_ + total_, buf_, fill_);
    }
    total_ += fill_;
    fill_ = 0;
    return Status::ok();
  }

  AtomicWriter* file_;
  uint8_t* mem_;
  size_t cap_;
  uint8_t buf_[kBufBytes];
  size_t fill_ = 0;
  uint64_t total_ = 0;
  uint32_t crc_ = kCrc32Init;
};

Status write_all(Sink& out, const Params& params, const CheckpointState& st, uint64_t size) {
  uint8_t h[kHeaderBytes] = {0};
  std::memcpy(h, kMagic, 8);
  put32(h + 8, kCheckpointVersion);
  put32(h + 12, 0);  // flags
  put64(h + 16, size);
  put32(h + 24, static_cast<uint32_t>(params.count()));
  put32(h + 28, static_cast<uint32_t>(st.n_opts));
  put32(h + 32, static_cast<uint32_t>(st.n_rngs));
  put32(h + 36, static_cast<uint32_t>(meta_len(st)));
  EMBER_TRY(out.bytes(h, sizeof h));
  EMBER_TRY(out.bytes(st.meta, meta_len(st)));
  for (int i = 0; i < params.count(); ++i) {
    const Param& p = params[i];
    const size_t len = std::strlen(p.name);
    const int arrays = arrays_of(p);
    EMBER_TRY(out.u16(static_cast<uint16_t>(len)));
    EMBER_TRY(out.bytes(p.name, len));
    const uint8_t meta[4] = {uint8_t(p.shape.rank), p.group, uint8_t(p.trainable ? 1 : 0), uint8_t(arrays)};
    EMBER_TRY(out.bytes(meta, 4));
    for (int d = 0; d < p.shape.rank; ++d) EMBER_TRY(out.u64(static_cast<uint64_t>(p.shape.dims[d])));
    EMBER_TRY(out.floats(p.value, p.numel()));
    if (arrays & kHasM) EMBER_TRY(out.floats(p.m, p.numel()));
    if (arrays & kHasV) EMBER_TRY(out.floats(p.v, p.numel()));
  }
  for (int i = 0; i < st.n_opts; ++i) {
    const Optimizer& o = st.opts[i];
    EMBER_TRY(out.u8(o.group()));
    EMBER_TRY(out.u8(o.config().kind == OptimizerConfig::Kind::adam ? 1 : 0));
    EMBER_TRY(out.u16(0));
    EMBER_TRY(out.u32(float_bits(o.config().lr)));
    EMBER_TRY(out.u64(static_cast<uint64_t>(o.steps())));
    EMBER_TRY(out.u64(0));
  }
  for (int i = 0; i < st.n_rngs; ++i) {
    const Rng::State s = st.rngs[i].save();
    EMBER_TRY(out.u64(s.state));
    EMBER_TRY(out.u64(s.inc));
    EMBER_TRY(out.u32(float_bits(s.spare)));
    EMBER_TRY(out.u32(s.has_spare));
  }
  EMBER_TRY(out.u64(st.step ? *st.step : 0));
  EMBER_TRY(out.finish());
  if (out.total() != size)  // the size computed up front and the bytes written must agree
    return Status::error(Code::corrupt_data, "checkpoint: wrote %llu bytes, expected %llu",
                         static_cast<unsigned long long>(out.total()), static_cast<unsigned long long>(size));
  return Status::ok();
}

// ---------------------------------------------------------------------------------------
// Reading

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
  // n floats into dst, or skipped when dst is null (the caller checked n fits).
  Status floats(float* dst, uint64_t n, const char* what) {
    while (n) {
      const size_t chunk = n < kBufBytes / 4 ? static_cast<size_t>(n) : kBufBytes / 4;
      const uint8_t* p = nullptr;
      EMBER_TRY(take(4 * chunk, &p, what));
      if (dst) {
        for (size_t i = 0; i < chunk; ++i) dst[i] = bits_float(get32(p + 4 * i));
        dst += chunk;
      }
      n -= chunk;
    }
    return Status::ok();
  }
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
Status read_header(Source& in, uint64_t actual, uint32_t counts[3], const CheckpointState& st, bool apply) {
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
Status read_param(Source& in, unsigned index, Params* params, bool* seen, bool apply) {
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
  const int id = params->find(name);
  if (id < 0) return fail(w, Code::shape_mismatch, "parameter '%s' is in the file but not in the model", name);
  if (seen[id]) return fail(w, Code::corrupt_data, "parameter '%s' appears twice", name);
  seen[id] = true;
  Param& prm = (*params)[id];

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
  if (shape != prm.shape) {
    char a[64], b[64];
    return fail(w, Code::shape_mismatch, "parameter '%s' has shape %s in the file, %s in the model", name,
                shape.str(a, sizeof a), prm.shape.str(b, sizeof b));
  }
  if (trainable > 1) return fail(w, Code::corrupt_data, "parameter '%s': trainable flag is %d", name, trainable);
  if ((trainable == 1) != prm.trainable)
    return fail(w, Code::shape_mismatch, "parameter '%s' is %s in the file, %s in the model", name,
                trainable ? "trainable" : "a state buffer", prm.trainable ? "trainable" : "a state buffer");
  if (group != prm.group)
    return fail(w, Code::shape_mismatch, "parameter '%s' is in group %d in the file, %d in the model", name, group,
                prm.group);
  const bool arrays_ok = arrays == kHasValue || (trainable && (arrays == (kHasValue | kHasM) ||
                                                               arrays == (kHasValue | kHasM | kHasV)));
  if (!arrays_ok) return fail(w, Code::corrupt_data, "parameter '%s': array set %x is not valid", name, arrays);
  const uint64_t n = static_cast<uint64_t>(numel);
  const uint64_t k = static_cast<uint64_t>(count_arrays(arrays));
  if (n > in.remaining() / (4 * k))  // n * 4 * k > remaining, without overflow
    return fail(w, Code::corrupt_data, "parameter '%s' needs %llu x %llu floats, only %llu bytes remain", name,
                static_cast<unsigned long long>(k), static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(in.remaining()));
  // Moments the model has no room for are skipped; moments the file lacks are zeroed.
  EMBER_TRY(in.floats(apply ? prm.value : nullptr, n, "parameter values"));
  if (arrays & kHasM) EMBER_TRY(in.floats(apply ? prm.m : nullptr, n, "parameter moments"));
  else if (apply && prm.m) std::memset(prm.m, 0, n * sizeof(float));
  if (arrays & kHasV) EMBER_TRY(in.floats(apply ? prm.v : nullptr, n, "parameter moments"));
  else if (apply && prm.v) std::memset(prm.v, 0, n * sizeof(float));
  return Status::ok();
}

// Everything after the header, up to the stored CRC.
Status read_body(Source& in, const uint32_t counts[3], Params* params, const CheckpointState& st, bool apply) {
  const char* w = in.where();
  const unsigned n_params = unsigned(counts[0]), n_opts = unsigned(counts[1]), n_rngs = unsigned(counts[2]);
  if (n_params > static_cast<unsigned>(Params::kMaxParams) || n_opts > kMaxCheckpointOptimizers ||
      n_rngs > kMaxCheckpointRngs)
    return fail(w, Code::corrupt_data, "counts %u parameters, %u optimizers, %u RNGs exceed %d, %d, %d", n_params,
                n_opts, n_rngs, Params::kMaxParams, kMaxCheckpointOptimizers, kMaxCheckpointRngs);
  bool seen[Params::kMaxParams] = {false};
  for (unsigned i = 0; i < n_params; ++i) EMBER_TRY(read_param(in, i, params, seen, apply));
  for (int i = 0; i < params->count(); ++i)
    if (!seen[i])
      return fail(w, Code::shape_mismatch, "parameter '%s' is in the model but not in the file", (*params)[i].name);

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
  uint32_t counts[3];
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
  uint32_t counts2[3];
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

Status checkpoint_size(const Params& params, const CheckpointState& st, uint64_t* bytes) {
  *bytes = 0;
  EMBER_TRY(check_state("(size)", &params, st));
  uint64_t total = kHeaderBytes + meta_len(st) + kTrailerBytes + kOptBytes * uint64_t(st.n_opts) + kRngBytes * uint64_t(st.n_rngs);
  for (int i = 0; i < params.count(); ++i) {
    const Param& p = params[i];
    const uint64_t fixed = 2 + std::strlen(p.name) + 4 + 8 * uint64_t(p.shape.rank);
    uint64_t data;
    if (__builtin_mul_overflow(uint64_t(p.numel()), 4u * count_arrays(arrays_of(p)), &data) ||
        __builtin_add_overflow(total, fixed, &total) || __builtin_add_overflow(total, data, &total))
      return Status::error(Code::invalid_argument, "checkpoint: parameter '%s' makes the size overflow", p.name);
  }
  *bytes = total;
  return Status::ok();
}

Status save_checkpoint(const char* path, const Params& params, const CheckpointState& st) {
  char where[64];
  short_path(path, where, sizeof where);
  uint64_t size;
  EMBER_TRY(check_state(where, &params, st));
  EMBER_TRY(checkpoint_size(params, st, &size));
  AtomicWriter file;
  EMBER_TRY(file.open(path));
  Sink out(&file, nullptr, 0);
  EMBER_TRY(write_all(out, params, st, size));  // on failure ~AtomicWriter removes the temp
  return file.commit();
}

Status save_checkpoint_to_memory(uint8_t* buf, size_t cap, size_t* written, const Params& params,
                                 const CheckpointState& st) {
  *written = 0;
  uint64_t size;
  EMBER_TRY(checkpoint_size(params, st, &size));
  if (!buf || size > cap)
    return Status::error(Code::out_of_memory, "checkpoint <memory>: needs %llu bytes, buffer has %zu",
                         static_cast<unsigned long long>(size), cap);
  Sink out(nullptr, buf, cap);
  EMBER_TRY(write_all(out, params, st, size));
  *written = static_cast<size_t>(size);
  return Status::ok();
}

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

Status read_checkpoint_meta(const char* path, char* buf, size_t cap) {
  if (!buf || cap == 0) return Status::error(Code::invalid_argument, "checkpoint: no buffer for the meta text");
  char where[64];
  short_path(path, where, sizeof where);
  ReadFile file;
  Status s = file.open(path);
  if (!s.is_ok()) return Status::error(s.code(), "checkpoint: %s", s.message());
  uint64_t size;
  EMBER_TRY(file.size(&size));
  if (size < kHeaderBytes + kTrailerBytes)
    return fail(where, Code::corrupt_data, "%llu bytes is shorter than the smallest checkpoint (%zu)",
                static_cast<unsigned long long>(size), kHeaderBytes + kTrailerBytes);
  Source in(&file, nullptr, size, where);
  CheckpointState st;
  st.meta_out = buf, st.meta_cap = cap;
  uint32_t counts[3];
  EMBER_TRY(read_header(in, size, counts, st, true));
  EMBER_TRY(in.drain());
  return in.check_crc();
}

Status load_checkpoint_from_memory(const uint8_t* data, size_t size, Params* params, const CheckpointState& st) {
  if (!data && size) return Status::error(Code::invalid_argument, "checkpoint <memory>: null data");
  Source in(nullptr, data, size, "<memory>");
  return load(in, size, params, st);
}

Status save_checkpoint(const char* path, const Params& params, const Optimizer* opts, int n_opts, const Rng* rngs,
                       int n_rngs, uint64_t step) {
  CheckpointState st;
  // Saving only reads through these pointers; the struct is shared with loading.
  st.opts = const_cast<Optimizer*>(opts), st.n_opts = n_opts;
  st.rngs = const_cast<Rng*>(rngs), st.n_rngs = n_rngs;
  st.step = &step;
  return save_checkpoint(path, params, st);
}

Status load_checkpoint(const char* path, Params* params, Optimizer* opts, int n_opts, Rng* rngs, int n_rngs,
                       uint64_t* step) {
  CheckpointState st;
  st.opts = opts, st.n_opts = n_opts, st.rngs = rngs, st.n_rngs = n_rngs, st.step = step;
  return load_checkpoint(path, params, st);
}

}  // namespace ember::nn
