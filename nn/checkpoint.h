// Checkpoints: parameters, state buffers, optimizer state, RNG streams and a step counter
// in one small versioned, checksummed file, written atomically and loaded with full
// validation (a bad file never changes the model).
//
// ---- Format, version 3 (2 = without int8 records; 1 = also meta_len always 0) -----------
// All integers little-endian, floats IEEE-754 binary32 little-endian, no padding, no
// alignment. Sizes in bytes.
//
//   header (40 bytes)
//     8   magic        "EMBRCKPT"
//     4   u32 version  3 when a record is int8, else 2 (so a float file is the same as before)
//     4   u32 flags    0 (reserved; a reader of version 1 rejects any bit set)
//     8   u64 size     total file size in bytes, CRC included
//     4   u32 n_params number of parameter records (<= kMaxCheckpointParams)
//     4   u32 n_opts   number of optimizer records (<= kMaxCheckpointOptimizers)
//     4   u32 n_rngs   number of RNG records (<= kMaxCheckpointRngs)
//     4   u32 meta_len 0 .. kMaxCheckpointMeta (version 1: reserved, 0)
//   meta           meta_len bytes of printable ASCII (0x20..0x7E): the caller's description
//                  of the model, e.g. its architecture as "key=value ..." text
//   n_params parameter records
//     2   u16 name_len 1 .. Param::kMaxName - 1
//     *   name         name_len bytes, no terminator, no NUL inside
//     1   u8  rank     0 .. Shape::kMaxRank
//     1   u8  group
//     1   u8  trainable 0 or 1 (0: a state buffer such as BatchNorm running mean)
//     1   u8  arrays   bit 0 value (always set), bit 1 m, bit 2 v (moments: trainable only);
//                      or 8 alone (version 3): the value as int8, per output channel
//     8*rank i64 dims  each >= 0, product (numel) fits in int64 and in the file
//     then f32[numel] value, f32[numel] m if bit 1, f32[numel] v if bit 2
//     or, int8 (w = scale[c] q, c the index along `axis`; nn/quantize.h):
//     1   u8  axis     the output-channel axis, < rank, rank >= 2
//     f32[dims[axis]] scale  finite, >= 0
//     i8[numel] q          -127..127 (symmetric)
//   n_opts optimizer records (24 bytes)
//     1   u8  group
//     1   u8  kind     0 SGD (momentum), 1 Adam
//     2   u16 reserved 0
//     4   f32 lr       finite
//     8   i64 t        step counter (Adam bias correction), >= 0
//     8   u64 reserved 0
//   n_rngs RNG records (24 bytes): u64 state, u64 inc (odd), f32 spare, u32 has_spare (0/1)
//   trailer
//     8   u64 step     the caller's step counter
//     4   u32 crc      CRC-32 (IEEE 802.3, reflected 0xEDB88320, as zlib) of every byte before it
//
// Gradients are not saved: they are recomputed every step.
//
// ---- Loading rules ----------------------------------------------------------------------
// * Parameters are matched by name. The file and the model must hold the same set (a missing
//   or extra parameter is an error naming it) with equal shape, group and trainable flag.
// * With CheckpointState::rename, records go to the parameters it names or are skipped; a
//   renamed record may then fill a trainable parameter from a state buffer (or back) when the
//   model holds values only. Every model parameter must still be loaded exactly once.
// * int8: a record and its model parameter must agree on storage (Params::set_int8) and axis.
//   Loading from memory into parameters set to read int8 in place points them at the file's
//   bytes (no copy: the memory must outlive the model); from a file, such a model is refused.
// * Moments: present in the file but not allocated in the model (inference or SGD mode) —
//   skipped, no error (that is how an inference build loads a training checkpoint); absent
//   in the file but allocated in the model — zeroed (a fresh optimizer).
// * Optimizers: n_opts == 0 skips the file's optimizer records; otherwise the counts must
//   be equal and record i must have opts[i]'s group and kind; lr and t are restored. Same for
//   RNGs (n_rngs == 0 skips them). step == nullptr ignores the step counter.
// * Two passes. Pass 1 reads the whole input and checks everything above plus every size
//   against the input size (checked arithmetic: nothing can overflow) and the CRC; it
//   changes nothing. Only then pass 2 reads it again and copies the data in.
//   From a file both passes read through the same open handle, so a concurrent atomic save
//   (which renames a new file over the name) does not affect the load. Someone rewriting
//   the file *in place* between the passes can: pass 2 recomputes the CRC and re-checks
//   the structure and returns Code::corrupt_data saying the file changed during the load,
//   but by then some parameters may already hold the new bytes. That window is the price of
//   streaming (no buffer the size of the model); writers in ember never write in place.
// * Streaming: input is read through a 4 KiB buffer on the stack; no heap, no model-sized
//   buffer, so a microcontroller can load weights straight from flash (the memory variant).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/rng.h"
#include "core/status.h"
#include "nn/optimizer.h"
#include "nn/params.h"

namespace ember::nn {

constexpr uint32_t kCheckpointVersion = 3;
constexpr uint32_t kOldestCheckpointVersion = 1;  // still read
constexpr size_t kMaxCheckpointMeta = 1024;
constexpr int kMaxCheckpointParams = 1 << 16;  // a sanity bound on a damaged count
constexpr int kMaxCheckpointOptimizers = 16;
constexpr int kMaxCheckpointRngs = 64;

// What a checkpoint holds besides the parameters. Every pointer may be null with its count 0.
struct CheckpointState {
  Optimizer* opts = nullptr;
  int n_opts = 0;
  Rng* rngs = nullptr;
  int n_rngs = 0;
  uint64_t* step = nullptr;
  // Saving: NUL-terminated meta text to store (null: none). Loading: where to copy the
  // file's meta text (NUL-terminated; null: ignored; a too-small buffer is an error).
  const char* meta = nullptr;
  char* meta_out = nullptr;
  size_t meta_cap = 0;
  // Loading part of a file into another model (e.g. only a GAN's averaged generator, into a
  // sampler that holds nothing else): for each parameter record, rename(rename_user, name,
  // out, cap) writes the model parameter's name to load it into (NUL-terminated, < cap) and
  // returns true, or returns false to skip the record (still checked, not loaded). Null: every
  // record loads into the parameter of its own name. Either way every model parameter must be
  // loaded exactly once.
  bool (*rename)(void* user, const char* name, char* out, size_t cap) = nullptr;
  void* rename_user = nullptr;
};

// Bytes save_checkpoint would write for this model and state (0 with an error if invalid).
Status checkpoint_size(const Params& params, const CheckpointState& state, uint64_t* bytes);

// Writes a checkpoint atomically: temp file, fsync, rename. On failure `path` is unchanged.
Status save_checkpoint(const char* path, const Params& params, const CheckpointState& state);
// Writes the same bytes into buf (e.g. for flash); *written is the size used.
Status save_checkpoint_to_memory(uint8_t* buf, size_t cap, size_t* written, const Params& params,
                                 const CheckpointState& state);

// Validates the whole file, then loads it (see the rules above). On any error nothing in
// params or state has changed (except in the documented changed-during-load case).
Status load_checkpoint(const char* path, Params* params, const CheckpointState& state);
Status load_checkpoint_from_memory(const uint8_t* data, size_t size, Params* params,
                                   const CheckpointState& state);

// The signatures suggested in the design brief, as thin wrappers.
Status save_checkpoint(const char* path, const Params& params, const Optimizer* opts, int n_opts, const Rng* rngs,
                       int n_rngs, uint64_t step);
Status load_checkpoint(const char* path, Params* params, Optimizer* opts, int n_opts, Rng* rngs, int n_rngs,
                       uint64_t* step);

// Whether `path` is a regular file that starts with the checkpoint magic (damaged or not).
// Programs that write checkpoints use it never to replace a file that is something else.
bool is_checkpoint_file(const char* path);

// The meta text of a checkpoint (empty for version 1), after checking the header and the CRC
// of the whole file; loads nothing. For picking the model to build before loading into it.
Status read_checkpoint_meta(const char* path, char* buf, size_t cap);

// A checkpoint in a file, or in memory (a board's flash: a sampler file compiled in as a
// constant array): the same readers for both. The reading functions are chosen where the
// reference is made, so a firmware that only names memory links no file code (and so no
// stdio, whose buffers come from malloc).
struct CheckpointRef {
  const char* path = nullptr;     // a file, or
  const uint8_t* data = nullptr;  // `size` bytes in memory
  size_t size = 0;
  Status (*read_meta)(const CheckpointRef& ref, char* buf, size_t cap) = nullptr;
  Status (*load)(const CheckpointRef& ref, Params* params, const CheckpointState& state) = nullptr;

  static CheckpointRef file(const char* path);
  static CheckpointRef memory(const uint8_t* data, size_t size);
  const char* name() const { return path ? path : "<memory>"; }
};
Status read_checkpoint_meta(const CheckpointRef& ref, char* buf, size_t cap);
Status load_checkpoint(const CheckpointRef& ref, Params* params, const CheckpointState& state);

}  // namespace ember::nn
