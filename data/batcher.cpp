#include "data/batcher.h"

#include <climits>
#include <cstring>

#include "core/rng.h"

namespace ember::data {

namespace {

// Rng streams, so the shuffle and the binarization never reuse each other's numbers.
constexpr uint64_t kShuffleStream = 0x73687566666c65ull;  // "shuffle"
constexpr uint64_t kBinarizeStream = 0x62696e617279ull;   // "binary"
constexpr float kPixelMax = 255.0f;
constexpr int kUniformBits = 24;  // the top bits of next_u32() a binarization draw uses

// splitmix64's finaliser: a bijection on 64 bits with good avalanche.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void grey_image(const uint8_t* pixels, size_t n, float* x) {
  for (size_t k = 0; k < n; ++k) x[k] = static_cast<float>(pixels[k]) / kPixelMax;
}

void binary_image(const uint8_t* pixels, size_t n, Rng* bits, float* x) {
  for (size_t k = 0; k < n; ++k) {
    const uint32_t r = bits->next_u32() >> (32 - kUniformBits);  // < 2^24, so r * 255 < 2^32
    x[k] = r * 255u < (static_cast<uint32_t>(pixels[k]) << kUniformBits) ? 1.0f : 0.0f;
  }
}

int32_t label_of(const Dataset& data, int index) { return data.labels ? data.labels[index] : 0; }

}  // namespace

uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b) { return mix64(mix64(mix64(seed) ^ a) ^ b); }

// ---- EpochOrder ----

Status EpochOrder::init(Arena* arena, int count, int batch, uint64_t seed, const char* what) {
  if (!arena) return Status::error(Code::invalid_argument, "%s: null arena", what);
  if (count < 1) return Status::error(Code::invalid_argument, "%s: empty set (count %d)", what, count);
  if (batch < 1 || batch > count)
    return Status::error(Code::invalid_argument, "%s: batch %d outside 1..%d (the set's size)", what, batch, count);
  int32_t* order = nullptr;
  const Status s = arena->alloc_array(static_cast<size_t>(count), &order);
  if (!s.is_ok()) return Status::error(s.code(), "%s: order of %d indices: %s", what, count, s.message());
  order_ = order;
  seed_ = seed;
  count_ = count;
  batch_ = batch;
  steps_ = count / batch;
  epoch_ = position_ = 0;
  shuffled_epoch_ = -1;
  return Status::ok();
}

void EpochOrder::shuffle() {
  for (int i = 0; i < count_; ++i) order_[i] = i;
  // The stream constant doubles as the third seed word: binarization uses (epoch, step)
  // with step < 2^31, so the two never start from the same seed.
  Rng rng(derive_seed(seed_, static_cast<uint64_t>(epoch_), kShuffleStream), kShuffleStream);
  for (int i = count_ - 1; i > 0; --i) {
    const int j = static_cast<int>(rng.below(static_cast<uint32_t>(i) + 1u));
    const int32_t t = order_[i];
    order_[i] = order_[j];
    order_[j] = t;
  }
  shuffled_epoch_ = epoch_;
}

const int32_t* EpochOrder::next() {
  if (shuffled_epoch_ != epoch_) shuffle();
  const int32_t* indices = order_ + static_cast<size_t>(position_) * static_cast<size_t>(batch_);
  if (++position_ == steps_) {
    position_ = 0;
    epoch_ = epoch_ < INT_MAX ? epoch_ + 1 : 0;  // wraps rather than overflow after 2^31 epochs
  }
  return indices;
}

Status EpochOrder::seek(int epoch, int step) {
  if (!order_) return Status::error(Code::invalid_argument, "batcher: seek before init");
  if (epoch < 0 || step < 0 || step >= steps_)
    return Status::error(Code::invalid_argument, "batcher: seek to epoch %d step %d; need epoch >= 0, step 0..%d",
                         epoch, step, steps_ - 1);
  epoch_ = epoch;
  position_ = step;
  return Status::ok();
}

// ---- Batcher ----

Status Batcher::init(Arena* arena, const Dataset& data, int batch, uint64_t seed, Pixels pixels) {
  if (!data.pixels || data.rows < 1 || data.cols < 1)
    return Status::error(Code::invalid_argument, "batcher: dataset without pixels (%d x %d, pixels %p)", data.rows,
                         data.cols, static_cast<const void*>(data.pixels));
  EMBER_TRY(EpochOrder::init(arena, data.count, batch, seed, "batcher"));
  data_ = data;
  pixels_ = pixels;
  return Status::ok();
}

void Batcher::next(float* x, int32_t* labels) {
  // The binarization stream belongs to this batch's (epoch, step), read before advancing.
  Rng bits(derive_seed(seed(), static_cast<uint64_t>(epoch()), static_cast<uint64_t>(position())),
           kBinarizeStream);
  const int32_t* indices = EpochOrder::next();
  const size_t n = data_.image_size();
  for (int b = 0; b < batch(); ++b) {
    float* row = x + static_cast<size_t>(b) * n;
    if (pixels_ == Pixels::binarized)
      binary_image(data_.image(indices[b]), n, &bits, row);
    else
      grey_image(data_.image(indices[b]), n, row);
    if (labels) labels[b] = label_of(data_, indices[b]);
  }
}

// ---- PointBatcher ----

Status PointBatcher::init(Arena* arena, const PointSet& points, int batch, uint64_t seed) {
  if (!points.xy) return Status::error(Code::invalid_argument, "point batcher: point set without points");
  EMBER_TRY(EpochOrder::init(arena, points.count, batch, seed, "point batcher"));
  points_ = points;
  return Status::ok();
}

void PointBatcher::next(float* xy, int32_t* modes) {
  const int32_t* indices = EpochOrder::next();
  for (int b = 0; b < batch(); ++b) {
    const size_t i = static_cast<size_t>(indices[b]);
    xy[2 * b] = points_.xy[2 * i];
    xy[2 * b + 1] = points_.xy[2 * i + 1];
    if (modes) modes[b] = points_.mode ? points_.mode[i] : 0;
  }
}

// ---- evaluation ----

int fill_range(const Dataset& data, int first, int batch, float* x, int32_t* labels) {
  const size_t n = data.image_size();
  int valid = 0;
  for (int b = 0; b < batch; ++b) {
    float* row = x + static_cast<size_t>(b) * n;
    const bool inside = first >= 0 && b < data.count - first;  // first + b < count without overflow
    if (inside) {
      grey_image(data.image(first + b), n, row);
      ++valid;
    } else {
      std::memset(row, 0, n * sizeof(float));
    }
    if (labels) labels[b] = inside ? label_of(data, first + b) : 0;
  }
  return valid;
}

Status gather(const Dataset& data, const int32_t* indices, int n, float* x, int32_t* labels) {
  for (int b = 0; b < n; ++b)
    if (indices[b] < 0 || indices[b] >= data.count)
      return Status::error(Code::invalid_argument, "gather: index %d (entry %d) outside the set of %d",
                           static_cast<int>(indices[b]), b, data.count);
  const size_t size = data.image_size();
  for (int b = 0; b < n; ++b) {
    grey_image(data.image(indices[b]), size, x + static_cast<size_t>(b) * size);
    if (labels) labels[b] = label_of(data, indices[b]);
  }
  return Status::ok();
}

}  // namespace ember::data
