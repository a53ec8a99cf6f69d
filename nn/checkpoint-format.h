// Internals shared by the checkpoint writer (checkpoint-write.cpp) and reader
// (checkpoint-read.cpp): the format's fixed sizes, little-endian field coding and the error
// wording. Not part of the API: the format itself is documented in checkpoint.h.
#pragma once
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "nn/checkpoint.h"

namespace ember::nn::ckpt {

constexpr uint8_t kMagic[8] = {'E', 'M', 'B', 'R', 'C', 'K', 'P', 'T'};
constexpr size_t kHeaderBytes = 40;
constexpr size_t kOptBytes = 24;
constexpr size_t kRngBytes = 24;
constexpr size_t kTrailerBytes = 12;  // u64 step + u32 crc
constexpr size_t kBufBytes = 4096;
constexpr uint8_t kHasValue = 1, kHasM = 2, kHasV = 4;
constexpr uint8_t kInt8 = 8;  // version 3: the value as int8 with per-channel scales, alone

inline bool has_int8(const Params& params) {
  for (int i = 0; i < params.count(); ++i)
    if (params[i].storage == Storage::int8) return true;
  return false;
}

inline void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v), p[1] = uint8_t(v >> 8); }
inline void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// "checkpoint <where>: <what>" — every error names the file (or "<memory>") first.
inline Status fail(const char* where, Code code, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
inline Status fail(const char* where, Code code, const char* fmt, ...) {
  char what[Status::kMaxMessage];
  va_list args;
  va_start(args, fmt);
  format_message(what, sizeof what, fmt, args);
  va_end(args);
  return Status::error(code, "checkpoint %s: %s", where, what);
}

inline int arrays_of(const Param& p) {
  if (p.storage == Storage::int8) return kInt8;
  return kHasValue | (p.m ? kHasM : 0) | (p.v ? kHasV : 0);
}
inline int count_arrays(int arrays) { return 1 + ((arrays & kHasM) ? 1 : 0) + ((arrays & kHasV) ? 1 : 0); }

// Caller-side checks shared by save and load (programming errors, not file problems).
inline size_t meta_len(const CheckpointState& st) { return st.meta ? std::strlen(st.meta) : 0; }
inline bool meta_char_ok(uint8_t c) { return c >= 0x20 && c <= 0x7E; }

inline Status check_state(const char* where, const Params* params, const CheckpointState& st) {
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
}  // namespace ember::nn::ckpt
