// Batcher: shuffled minibatches over a Dataset (or a PointSet) with no allocation per step.
//
// EpochOrder owns the index permutation (count int32 from the arena, taken once in init).
// Epoch e visits the indices in the order of a Fisher-Yates shuffle of 0..count-1 driven by
// an ember::Rng seeded from (seed, e) alone, so the state needed to resume is just
// (epoch, position) and seek() is O(1): the permutation is rebuilt lazily, on the first
// batch of an epoch. Each epoch yields steps_per_epoch() = count / batch full batches; the
// last count % batch indices of that epoch's order are dropped (a different few each
// epoch), so every batch has the same size and a compiled graph's shapes stay fixed.
//
// Batcher turns the indices into float images: Pixels::grey gives pixel / 255 (the
// correctly rounded quotient). Pixels::binarized (dynamic binarization, for Bernoulli
// likelihoods) gives 1.0 with probability pixel / 255 and 0.0 otherwise, drawn afresh every
// batch from an Rng seeded from (seed, epoch, step) — independent of the shuffle stream,
// and exactly reproduced after a seek. The draw is integer-only: with r the top 24 bits of
// a next_u32(), the pixel is 1 when r * 255 < pixel * 2^24, i.e. with probability
// ceil(pixel * 2^24 / 255) / 2^24 (exactly 0 for 0 and 1 for 255).
//
// For evaluation in a fixed order, fill_range() and gather() fill a batch from a range or
// a list of indices, the last batch possibly partial: rows past the valid ones are zeros.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/arena.h"
#include "core/status.h"
#include "data/dataset.h"
#include "data/rings.h"

namespace ember::data {

// A 64-bit seed for the stream of (seed, a, b) — e.g. (seed, epoch, step): each argument
// goes through splitmix64's bijective finaliser, so nearby tuples get unrelated seeds.
uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b);

class EpochOrder {
 public:
  // Takes count int32 from the arena. Errors: count < 1, batch outside 1..count, arena too
  // small (then the arena and this object are unchanged). `what` names the caller in errors.
  Status init(Arena* arena, int count, int batch, uint64_t seed, const char* what = "batcher");

  // The indices of the next batch (batch() of them, valid until the next call); advances,
  // moving to the next epoch after its last full batch.
  const int32_t* next();

  // Continue from batch `step` of `epoch` (0 <= step < steps_per_epoch(), epoch >= 0).
  // Out-of-range values give an error and change nothing.
  Status seek(int epoch, int step);

  int count() const { return count_; }
  int batch() const { return batch_; }
  int steps_per_epoch() const { return steps_; }
  int epoch() const { return epoch_; }        // epoch of the next batch
  int position() const { return position_; }  // step within that epoch of the next batch
  uint64_t seed() const { return seed_; }

 private:
  void shuffle();  // builds the order of epoch_

  int32_t* order_ = nullptr;
  uint64_t seed_ = 0;
  int count_ = 0, batch_ = 0, steps_ = 0;
  int epoch_ = 0, position_ = 0;
  int shuffled_epoch_ = -1;  // the epoch order_ holds; -1 for none yet
};

enum class Pixels : uint8_t { grey, binarized };

// Use next() and seek() only after a successful init().
//
// Images: next() fills x[batch, rows * cols] and labels[batch] (may be null; zeros when the
// dataset is unlabelled). The Dataset's pixels must outlive the Batcher (it keeps the view).
class Batcher : public EpochOrder {
 public:
  Status init(Arena* arena, const Dataset& data, int batch, uint64_t seed, Pixels pixels = Pixels::grey);
  void next(float* x, int32_t* labels);
  size_t x_floats() const { return static_cast<size_t>(batch()) * data_.image_size(); }
  const Dataset& data() const { return data_; }
  Pixels pixels() const { return pixels_; }

 private:
  Dataset data_;
  Pixels pixels_ = Pixels::grey;
};

// Points: next() fills xy[batch, 2] and modes[batch] (may be null).
class PointBatcher : public EpochOrder {
 public:
  Status init(Arena* arena, const PointSet& points, int batch, uint64_t seed);
  void next(float* xy, int32_t* modes);

 private:
  PointSet points_;
};

// Evaluation helpers (grey pixels, pixel / 255). fill_range copies images first ..
// first + batch - 1 that exist into x[batch, rows * cols] (labels may be null), zero-fills
// the remaining rows and returns how many are valid (0 when first is outside the set).
int fill_range(const Dataset& data, int first, int batch, float* x, int32_t* labels);
// gather copies the n images named by indices; an index outside the set is an error that
// leaves x and labels untouched.
Status gather(const Dataset& data, const int32_t* indices, int n, float* x, int32_t* labels);

}  // namespace ember::data
