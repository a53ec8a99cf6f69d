// Dataset: a labelled set of small grey images held as bytes, the way MNIST stores them.
//
// Readers (data/mnist.h) and generators (data/sprites.h) fill one; Batcher
// (data/batcher.h) turns it into shuffled float batches. The bytes live in the arena
// the dataset was loaded into; a Dataset is only a view and copying it copies no pixels.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ember::data {

struct Dataset {
  const uint8_t* pixels = nullptr;  // [count, rows, cols], row-major, 0..255
  const uint8_t* labels = nullptr;  // [count], each < classes; nullptr when unlabelled
  int count = 0, rows = 0, cols = 0;
  int classes = 0;                  // label values are 0..classes-1 (0 when unlabelled)
  size_t image_size() const { return static_cast<size_t>(rows) * static_cast<size_t>(cols); }
  const uint8_t* image(int i) const { return pixels + static_cast<size_t>(i) * image_size(); }
};

}  // namespace ember::data
