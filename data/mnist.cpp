// IDX/MNIST loading; memory use and rules in mnist.h.
#include "data/mnist.h"

#include <climits>
#include <cstring>

#include "data/idx.h"
#include "io/inflate.h"
#include "io/file.h"

namespace ember::data {

namespace {

constexpr size_t kShownPath = 48;  // characters of a path shown in a message
constexpr const char* kWhereToGet = "get MNIST from http://yann.lecun.com/exdb/mnist/ or ../shared/data/mnist";

// "path: message" for errors from calls that do not name the file themselves.
Status about(const char* shown, Status s) {
  if (s.is_ok()) return s;
  return Status::error(s.code(), "%s: %s", shown, s.message());
}

// Reads the whole file at path into the arena head, inflating it first when it is gzip.
// The compressed bytes are tail scratch; the caller resets the tail.
Status read_idx_file(Arena* arena, const char* path, const char* shown, const uint8_t** data, size_t* size) {
  ReadFile file;
  EMBER_TRY(file.open(path));
  uint64_t bytes = 0;
  EMBER_TRY(file.size(&bytes));
  if (bytes > kMaxIdxBytes)
    return Status::error(Code::unsupported, "%s: %llu bytes, more than the %zu-byte limit", shown,
                         static_cast<unsigned long long>(bytes), kMaxIdxBytes);
  const size_t n = static_cast<size_t>(bytes);
  uint8_t magic[2] = {0, 0};
  if (n >= sizeof magic) {
    EMBER_TRY(file.read_exact(magic, sizeof magic));
    EMBER_TRY(file.rewind());
  }
  void* out = nullptr;
  if (!is_gzip(magic, n >= sizeof magic ? sizeof magic : 0)) {
    EMBER_TRY(about(shown, arena->alloc(n, &out)));
    EMBER_TRY(file.read_exact(out, n));
    *data = static_cast<const uint8_t*>(out), *size = n;
    return Status::ok();
  }
  void* packed = nullptr;
  EMBER_TRY(about(shown, arena->alloc_tail(n, &packed)));
  EMBER_TRY(file.read_exact(packed, n));
  const uint8_t* in = static_cast<const uint8_t*>(packed);
  // ISIZE (the last 4 bytes) is only a claim, and in a file cut short it is whatever bytes
  // happen to end it: sizing the output from it turned a truncated file into "inflates to
  // 3421017562 bytes" or an arena shortfall. So the stream is inflated into all the room
  // the head has (up to the limit), gzip_decompress says "truncated" when the stream ends
  // early and checks ISIZE and the CRC-32 when it does not, and only what was decoded is
  // kept: the head goes back to its mark and takes that many bytes, at the same address.
  const size_t mark = arena->mark();
  const size_t room = arena->free_bytes() < kMaxIdxBytes ? arena->free_bytes() : kMaxIdxBytes;
  EMBER_TRY(about(shown, arena->alloc(room, &out)));
  size_t got = 0;
  const Status s = gzip_decompress(in, n, static_cast<uint8_t*>(out), room, &got);
  arena->rewind(mark);
  if (s.code() == Code::out_of_memory && room == kMaxIdxBytes)
    return Status::error(Code::unsupported, "%s: inflates to more than the %zu-byte limit", shown, kMaxIdxBytes);
  if (s.code() == Code::out_of_memory)
    return Status::error(Code::out_of_memory, "%s: inflates to more than the %zu bytes free in the arena", shown, room);
  EMBER_TRY(about(shown, s));
  void* kept = nullptr;
  EMBER_TRY(about(shown, arena->alloc(got, &kept)));
  *data = static_cast<const uint8_t*>(kept), *size = got;
  return Status::ok();
}

// Reads path (see read_idx_file), releases the tail scratch and parses an IDX array of
// `rank` dimensions; `shown` receives the path as messages show it.
Status read_array(Arena* arena, const char* path, int rank, const char* what, char (&shown)[kShownPath],
                  IdxArray* out) {
  short_path(path, shown, sizeof shown);
  const uint8_t* bytes = nullptr;
  size_t n = 0;
  EMBER_TRY(read_idx_file(arena, path, shown, &bytes, &n));
  arena->reset_tail();
  EMBER_TRY(idx_parse(bytes, n, shown, out));
  if (out->rank != rank)
    return Status::error(Code::corrupt_data, "%s: %d dimensions; %s", shown, out->rank, what);
  return Status::ok();
}

Status load(Arena* arena, const char* images_path, const char* labels_path, Dataset* ds) {
  char shown[kShownPath];
  IdxArray images;
  EMBER_TRY(read_array(arena, images_path, 3, "images are (count, rows, cols)", shown, &images));
  if (images.dims[0] > static_cast<uint32_t>(INT_MAX))
    return Status::error(Code::unsupported, "%s: %u images, more than %d", shown, unsigned(images.dims[0]), INT_MAX);
  if (images.dims[1] > static_cast<uint32_t>(kMaxImageSide) || images.dims[2] > static_cast<uint32_t>(kMaxImageSide))
    return Status::error(Code::unsupported, "%s: %u x %u images (sides up to %d)", shown, unsigned(images.dims[1]),
                         unsigned(images.dims[2]), kMaxImageSide);
  ds->pixels = images.data;
  ds->count = static_cast<int>(images.dims[0]);
  ds->rows = static_cast<int>(images.dims[1]);
  ds->cols = static_cast<int>(images.dims[2]);
  ds->labels = nullptr;
  ds->classes = 0;
  if (!labels_path) return Status::ok();

  IdxArray labels;
  EMBER_TRY(read_array(arena, labels_path, 1, "labels are a vector", shown, &labels));
  if (labels.dims[0] != images.dims[0])
    return Status::error(Code::corrupt_data, "%s: %u labels for %u images", shown, unsigned(labels.dims[0]),
                         unsigned(images.dims[0]));
  int top = 0;
  for (size_t i = 0; i < labels.count; ++i)
    if (labels.data[i] > top) top = labels.data[i];
  ds->labels = labels.data;
  ds->classes = top + 1;
  return Status::ok();
}

// dir/name, or dir/name.gz when only that exists, into path.
Status find_file(const char* dir, const char* name, char* path) {
  const size_t dlen = std::strlen(dir), nlen = std::strlen(name);
  const bool slash = dlen > 0 && dir[dlen - 1] == '/';
  const char kGz[] = ".gz";
  char shown[kShownPath - 16];
  if (dlen + 1 + nlen + sizeof kGz > kMaxPath)
    return Status::error(Code::invalid_argument, "mnist: directory %s: path too long (limit %zu)",
                         short_path(dir, shown, sizeof shown), kMaxPath - 1);
  std::memcpy(path, dir, dlen);
  size_t at = dlen;
  if (!slash) path[at++] = '/';
  std::memcpy(path + at, name, nlen + 1);
  ReadFile probe;
  if (probe.open(path).is_ok()) return Status::ok();
  std::memcpy(path + at + nlen, kGz, sizeof kGz);
  if (probe.open(path).is_ok()) return Status::ok();
  return Status::error(Code::io_error, "mnist: no %s[.gz] in %s; %s", name, short_path(dir, shown, sizeof shown),
                       kWhereToGet);
}

}  // namespace

Status load_idx_images(Arena* arena, const char* images_path, const char* labels_path, Dataset* out) {
  if (!arena || !images_path || !out)
    return Status::error(Code::invalid_argument, "load_idx_images: arena, images path and output are required");
  if (arena->used() != arena->mark())
    return Status::error(Code::invalid_argument,
                         "load_idx_images: the arena tail holds %zu bytes; it must be empty (the loader uses and resets it)",
                         arena->used() - arena->mark());
  const size_t mark = arena->mark();
  Dataset ds;
  const Status s = load(arena, images_path, labels_path, &ds);
  arena->reset_tail();
  if (!s.is_ok()) {
    arena->rewind(mark);
    return s;
  }
  *out = ds;
  return Status::ok();
}

Status load_mnist(Arena* arena, const char* dir, bool train, Dataset* out) {
  if (!arena || !dir || !*dir || !out)
    return Status::error(Code::invalid_argument, "load_mnist: arena, directory and output are required");
  char images[kMaxPath], labels[kMaxPath];
  EMBER_TRY(find_file(dir, train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte", images));
  EMBER_TRY(find_file(dir, train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte", labels));
  const size_t mark = arena->mark();
  Dataset ds;
  EMBER_TRY(load_idx_images(arena, images, labels, &ds));
  if (ds.classes > kMnistClasses) {
    int bad = 0;
    while (ds.labels[bad] < kMnistClasses) ++bad;
    arena->rewind(mark);
    char shown[kShownPath];
    return Status::error(Code::corrupt_data, "idx: %s: label %d of image %d is not a class 0..9",
                         short_path(labels, shown, sizeof shown), ds.labels[bad], bad);
  }
  ds.classes = kMnistClasses;
  *out = ds;
  return Status::ok();
}

}  // namespace ember::data
