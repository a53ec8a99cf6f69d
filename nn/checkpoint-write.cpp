// Checkpoint writer (format in checkpoint.h): streams through a 4 KiB buffer on the stack
// and encodes every field byte by byte in little-endian order, so the file is the same on
// any host and no struct layout or alignment ever leaks into it.
#include <cmath>
#include <cstring>

#include "io/crc32.h"
#include "nn/checkpoint-format.h"
#include "nn/checkpoint.h"
#include "io/file.h"

namespace ember::nn {

using namespace ckpt;

namespace {

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
  put32(h + 8, has_int8(params) ? kCheckpointVersion : 2);  // files without int8 stay version 2
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
    if (p.storage == Storage::int8) {
      EMBER_TRY(out.u8(p.out_axis));
      EMBER_TRY(out.floats(p.scale, static_cast<size_t>(p.channels())));
      EMBER_TRY(out.bytes(p.q, p.numel()));
      continue;
    }
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

// A checkpoint never holds NaN or infinity: a diverged run must not replace the last good
// file, and a reader could not tell such weights from damage.
Status check_finite(const Params& params) {
  for (int i = 0; i < params.count(); ++i) {
    const Param& p = params[i];
    if (p.storage == Storage::int8) {
      if (!p.q || !p.scale)
        return Status::error(Code::invalid_argument, "checkpoint: int8 parameter '%s' holds no values", p.name);
      for (int64_t c = 0; c < p.channels(); ++c)
        if (!std::isfinite(p.scale[c]) || p.scale[c] < 0.0f)
          return Status::error(Code::not_finite, "checkpoint: int8 parameter '%s' has a bad scale at channel %lld",
                               p.name, static_cast<long long>(c));
      for (size_t k = 0; k < p.numel(); ++k)
        if (p.q[k] == -128)
          return Status::error(Code::invalid_argument, "checkpoint: int8 parameter '%s' holds -128 (symmetric: "
                               "-127..127)", p.name);
      continue;
    }
    const float* arrays[3] = {p.value, p.m, p.v};
    static const char* const kWhat[3] = {"value", "first moment", "second moment"};
    for (int a = 0; a < 3; ++a) {
      if (!arrays[a]) continue;
      for (int64_t k = 0, n = p.numel(); k < n; ++k)
        if (!std::isfinite(arrays[a][k]))
          return Status::error(Code::not_finite,
                               "checkpoint: parameter '%s' has a non-finite %s (NaN or infinity) at element %lld; "
                               "not saved (the run diverged?)", p.name, kWhat[a], static_cast<long long>(k));
    }
  }
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
    if (p.storage == Storage::int8) {  // axis byte, scales, one byte per value
      data = 1 + 4 * uint64_t(p.channels()) + uint64_t(p.numel());
      total += fixed + data;
      continue;
    }
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
  EMBER_TRY(check_finite(params));
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
  EMBER_TRY(check_finite(params));
  if (!buf || size > cap)
    return Status::error(Code::out_of_memory, "checkpoint <memory>: needs %llu bytes, buffer has %zu",
                         static_cast<unsigned long long>(size), cap);
  Sink out(nullptr, buf, cap);
  EMBER_TRY(write_all(out, params, st, size));
  *written = static_cast<size_t>(size);
  return Status::ok();
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

}  // namespace ember::nn
