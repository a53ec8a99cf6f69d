// MNIST and other IDX image sets (Fashion-MNIST, KMNIST, ...) into a Dataset.
//
// Files are IDX (data/idx.h), raw or gzip-compressed: a file starting with the gzip magic is
// inflated (io/inflate.h), anything else is read as IDX. Memory, all from the arena:
//   * the decompressed (or raw) bytes go to the arena head and stay there: the Dataset
//     points into them (the 16-byte IDX header stays in front of the pixels);
//   * a .gz file's compressed bytes are scratch at the arena tail, released with
//     reset_tail() as soon as they are inflated. They are inflated into whatever the head
//     has free (at most kMaxIdxBytes) and the head keeps only what was decoded, checked
//     against the gzip ISIZE field and CRC-32: ISIZE is not trusted for sizing, since in a
//     file cut short it is any 4 bytes; such a file is reported as truncated.
//     Peak use for MNIST's training images: 47 MB of pixels + 9.9 MB compressed.
// The loaders need the arena's tail empty (they use it and reset it). On any error the
// arena is rewound to where it was and *out is left untouched.
#pragma once
#include <cstddef>

#include "core/arena.h"
#include "core/status.h"
#include "data/dataset.h"

namespace ember::data {

constexpr int kMnistClasses = 10;
constexpr size_t kMaxIdxBytes = size_t(1) << 30;  // largest IDX file accepted (after inflating)
constexpr int kMaxImageSide = 4096;               // rows and cols must be 1..kMaxImageSide

// images_path: an IDX uint8 array (count, rows, cols); labels_path: an IDX uint8 vector
// (count), or nullptr for an unlabelled set. Counts must agree; classes = largest label + 1.
Status load_idx_images(Arena* arena, const char* images_path, const char* labels_path, Dataset* out);

// The MNIST training (train = true: train-images-idx3-ubyte, train-labels-idx1-ubyte) or
// test set (t10k-...) from dir, each file raw or with .gz (raw preferred when both exist).
// Labels must be digits (classes = 10). A missing file is an error naming it and where to
// get MNIST.
Status load_mnist(Arena* arena, const char* dir, bool train, Dataset* out);

}  // namespace ember::data
