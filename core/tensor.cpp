#include "core/tensor.h"

namespace ember {

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] < 0) return -1;
    if (dims[i] != 0 && n > INT64_MAX / dims[i]) return -1;
    n *= dims[i];
  }
  return n;
}

int64_t Shape::stride(int i) const {
  int64_t s = 1;
  for (int j = rank - 1; j > i; --j) s *= dims[j];
  return s;
}

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int i = 0; i < rank; ++i)
    if (dims[i] != o.dims[i]) return false;
  return true;
}

const char* Shape::str(char* buf, size_t cap) const {
  size_t len = 0;
  auto put = [&](char c) {
    if (len + 1 < cap) buf[len++] = c;
  };
  put('[');
  for (int i = 0; i < rank; ++i) {
    if (i) put(','), put(' ');
    char digits[24];
    int n = 0;
    int64_t v = dims[i];
    if (v < 0) put('-'), v = -v;
    do digits[n++] = static_cast<char>('0' + v % 10); while ((v /= 10) != 0);
    while (n) put(digits[--n]);
  }
  put(']');
  if (cap) buf[len] = '\0';
  return buf;
}

Status Shape::validate() const {
  char s[96];
  if (rank < 0 || rank > kMaxRank)
    return Status::error(Code::invalid_argument, "shape: rank %d outside 0..%d", rank, kMaxRank);
  if (numel() < 0)
    return Status::error(Code::invalid_argument, "shape %s: negative dimension or too many elements",
                         str(s, sizeof s));
  return Status::ok();
}

Status Tensor::reshape(const Shape& to, Tensor* out) const {
  EMBER_TRY(to.validate());
  if (to.numel() != numel()) {
    char a[96], b[96];
    return Status::error(Code::shape_mismatch, "reshape %s -> %s: %lld vs %lld elements",
                         shape.str(a, sizeof a), to.str(b, sizeof b),
                         static_cast<long long>(numel()), static_cast<long long>(to.numel()));
  }
  *out = Tensor(data, to);
  return Status::ok();
}

Status Tensor::slice(int64_t begin, int64_t end, Tensor* out) const {
  if (shape.rank < 1 || begin < 0 || end < begin || end > shape.dims[0]) {
    char a[96];
    return Status::error(Code::invalid_argument, "slice [%lld, %lld) of %s is out of range",
                         static_cast<long long>(begin), static_cast<long long>(end),
                         shape.str(a, sizeof a));
  }
  Shape s = shape;
  s.dims[0] = end - begin;
  *out = Tensor(data + begin * shape.stride(0), s);
  return Status::ok();
}

Status expect_same_shape(const Shape& a, const Shape& b, const char* what) {
  if (a == b) return Status::ok();
  char sa[96], sb[96];
  return Status::error(Code::shape_mismatch, "%s: shapes %s and %s differ", what,
                       a.str(sa, sizeof sa), b.str(sb, sizeof sb));
}

}  // namespace ember
