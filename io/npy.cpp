#include "io/npy.h"

#include <cstring>

#include "io/file.h"

namespace ember {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
constexpr size_t kPreambleV1 = 10, kPreambleV2 = 12;  // magic, version, header length

// Magic, version and header length from the first bytes p[0..n): *start is where the header
// text begins, *length its bytes.
Status parse_preamble(const uint8_t* p, size_t n, const char* file, size_t* start, size_t* length) {
  if (n < kPreambleV1) return corrupt("npy", file, "truncated: %zu bytes, the preamble takes %zu", n, kPreambleV1);
  if (std::memcmp(p, kMagic, kMagicBytes) != 0)
    return corrupt("npy", file, "bad magic (a .npy file starts with \\x93NUMPY)");
  const int major = p[6], minor = p[7];
  if (major < 1 || major > 3 || minor != 0)
    return corrupt("npy", file, "version %d.%d (1.0, 2.0 and 3.0 are known)", major, minor);
  if (major == 1) {
    *start = kPreambleV1;
    *length = static_cast<size_t>(p[8] | p[9] << 8);
  } else {
    if (n < kPreambleV2) return corrupt("npy", file, "truncated: %zu bytes, the preamble takes %zu", n, kPreambleV2);
    const uint32_t len = uint32_t(p[8]) | uint32_t(p[9]) << 8 | uint32_t(p[10]) << 16 | uint32_t(p[11]) << 24;
    if (len > kNpyMaxHeader)
      return corrupt("npy", file, "header of %u bytes (this reader takes %zu)", unsigned(len), kNpyMaxHeader);
    *start = kPreambleV2;
    *length = len;
  }
  if (*length > kNpyMaxHeader)
    return corrupt("npy", file, "header of %zu bytes (this reader takes %zu)", *length, kNpyMaxHeader);
  return Status::ok();
}

// The header dict, parsed (never evaluated). Offsets in messages count from the file's start.
class DictParser {
 public:
  DictParser(const char* text, size_t n, size_t base, const char* file) : s_(text), n_(n), base_(base), file_(file) {}

  Status run(NpyArray* out) {
    bool seen[3] = {false, false, false};
    static const char* const kKeys[3] = {"descr", "fortran_order", "shape"};
    space();
    EMBER_TRY(expect('{'));
    for (;;) {
      space();
      if (peek() == '}') break;
      size_t key = 0, key_len = 0;
      EMBER_TRY(quoted("a quoted key", &key, &key_len));
      int which = 0;
      while (which < 3 && !(std::strlen(kKeys[which]) == key_len && !std::memcmp(s_ + key, kKeys[which], key_len)))
        ++which;
      if (which == 3) return corrupt("npy", file_, "unknown header key '%s'", excerpt(key, key_len));
      if (seen[which]) return corrupt("npy", file_, "header key '%s' given twice", kKeys[which]);
      seen[which] = true;
      space();
      EMBER_TRY(expect(':'));
      space();
      if (which == 0) EMBER_TRY(descr());
      if (which == 1) EMBER_TRY(fortran_order());
      if (which == 2) EMBER_TRY(shape(out));
      space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') return corrupt("npy", file_, "header: expected ',' or '}' at byte %zu", at());
    }
    ++pos_;
    space();
    if (pos_ != n_) return corrupt("npy", file_, "header: unexpected bytes after the dict at byte %zu", at());
    for (int which = 0; which < 3; ++which)
      if (!seen[which]) return corrupt("npy", file_, "header has no '%s'", kKeys[which]);
    return Status::ok();
  }

 private:
  char peek() const { return pos_ < n_ ? s_[pos_] : '\0'; }
  size_t at() const { return base_ + pos_; }
  void space() {
    while (pos_ < n_ && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  Status expect(char c) {
    if (peek() != c) return corrupt("npy", file_, "header: expected '%c' at byte %zu", c, at());
    ++pos_;
    return Status::ok();
  }
  const char* excerpt(size_t start, size_t len) { return message_excerpt(s_ + start, len, shown_, sizeof shown_); }

  // A string in ' or " quotes, without escapes: its bytes are s_[*start, *start + *len).
  Status quoted(const char* what, size_t* start, size_t* len) {
    const char q = peek();
    if (q != '\'' && q != '"') return corrupt("npy", file_, "header: expected %s at byte %zu", what, at());
    const size_t open = pos_++;
    while (pos_ < n_ && s_[pos_] != q) {
      if (s_[pos_] == '\\') return corrupt("npy", file_, "header: an escape in a string at byte %zu", at());
      ++pos_;
    }
    if (pos_ == n_) return corrupt("npy", file_, "header: unterminated string at byte %zu", base_ + open);
    *start = open + 1, *len = pos_++ - open - 1;
    return Status::ok();
  }

  Status descr() {
    size_t start = 0, len = 0;
    EMBER_TRY(quoted("the descr string", &start, &len));
    if (len != 3 || std::memcmp(s_ + start, "<f4", 3) != 0)
      return Status::error(Code::unsupported, "npy %s: descr '%s' is not supported (only '<f4': little-endian float32)",
                           file_, excerpt(start, len));
    return Status::ok();
  }

  Status fortran_order() {
    if (n_ - pos_ >= 5 && !std::memcmp(s_ + pos_, "False", 5)) return pos_ += 5, Status::ok();
    if (n_ - pos_ >= 4 && !std::memcmp(s_ + pos_, "True", 4))
      return Status::error(Code::unsupported, "npy %s: fortran_order True (column-major) is not supported", file_);
    return corrupt("npy", file_, "header: fortran_order is neither True nor False at byte %zu", at());
  }

  // A tuple of non-negative integers: "()", "(n,)", "(n, m)", "(n, m,)"; Python 2's "3L" too.
  Status shape(NpyArray* out) {
    EMBER_TRY(expect('('));
    out->rank = 0;
    out->numel = 1;
    bool comma = false;
    for (;;) {
      space();
      if (peek() == ')') break;
      if (out->rank == kNpyMaxRank) return corrupt("npy", file_, "shape has more than %d entries", kNpyMaxRank);
      uint64_t v = 0;
      EMBER_TRY(integer(&v));
      out->dims[out->rank++] = v;
      if (__builtin_mul_overflow(out->numel, v, &out->numel))
        return corrupt("npy", file_, "shape: the element count overflows at entry %d", out->rank - 1);
      space();
      if (peek() == ',') {
        ++pos_, comma = true;
        continue;
      }
      if (peek() != ')') return corrupt("npy", file_, "header: expected ',' or ')' in shape at byte %zu", at());
      break;
    }
    if (out->rank == 1 && !comma)
      return corrupt("npy", file_, "shape (n) is an int, not a tuple (a 1-tuple is written (n,))");
    ++pos_;
    return Status::ok();
  }

  Status integer(uint64_t* v) {
    const size_t start = pos_;
    while (peek() >= '0' && peek() <= '9') {
      if (__builtin_mul_overflow(*v, uint64_t{10}, v) || __builtin_add_overflow(*v, uint64_t(s_[pos_] - '0'), v))
        return corrupt("npy", file_, "shape: an entry at byte %zu is above 2^64 - 1", base_ + start);
      ++pos_;
    }
    if (pos_ == start) return corrupt("npy", file_, "shape: expected a non-negative integer at byte %zu", at());
    if (s_[start] == '0' && pos_ - start > 1)
      return corrupt("npy", file_, "shape: leading zero at byte %zu", base_ + start);
    if (peek() == 'L') ++pos_;
    return Status::ok();
  }

  const char* s_;
  size_t n_;
  size_t pos_ = 0;
  size_t base_;
  const char* file_;
  char shown_[24];
};

// data_bytes after the header against the shape's numel * 4.
Status check_data(const NpyArray& a, uint64_t data_bytes, const char* file) {
  uint64_t need = 0;
  if (__builtin_mul_overflow(a.numel, uint64_t{4}, &need))
    return corrupt("npy", file, "shape: the byte size overflows");
  if (data_bytes < need)
    return corrupt("npy", file, "truncated: %llu data bytes, the shape needs %llu",
                   static_cast<unsigned long long>(data_bytes), static_cast<unsigned long long>(need));
  if (data_bytes > need)
    return corrupt("npy", file, "%llu unexpected bytes after the %llu data bytes",
                  static_cast<unsigned long long>(data_bytes - need), static_cast<unsigned long long>(need));
  return Status::ok();
}

void decode_f32(const uint8_t* src, size_t n, float* dst) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bits = uint32_t(src[4 * i]) | uint32_t(src[4 * i + 1]) << 8 | uint32_t(src[4 * i + 2]) << 16 |
                          uint32_t(src[4 * i + 3]) << 24;
    std::memcpy(dst + i, &bits, 4);
  }
}

// Opens path and parses its preamble and header; the file is left at the first data byte.
Status open_npy(ReadFile* f, const char* path, const char* file, NpyArray* out) {
  EMBER_TRY(f->open(path));
  uint64_t size = 0;
  EMBER_TRY(f->size(&size));
  uint8_t preamble[kPreambleV2];
  const size_t got = size < sizeof preamble ? static_cast<size_t>(size) : sizeof preamble;
  EMBER_TRY(f->read_exact(preamble, got));
  size_t start = 0, length = 0;
  EMBER_TRY(parse_preamble(preamble, got, file, &start, &length));
  if (size - start < length) return corrupt("npy", file, "truncated: the header needs %zu bytes", length);
  char header[kNpyMaxHeader];
  EMBER_TRY(f->seek(start));
  EMBER_TRY(f->read_exact(header, length));
  NpyArray a;
  EMBER_TRY(DictParser(header, length, start, file).run(&a));
  a.data_offset = start + length;
  EMBER_TRY(check_data(a, size - a.data_offset, file));
  *out = a;
  return Status::ok();
}

// The header text numpy writes, without padding: "{'descr': '<f4', ..., 'shape': (2, 3), }".
size_t header_text(const uint64_t* dims, int rank, char* out) {
  size_t n = 0;
  auto put = [&](const char* s) {
    for (; *s; ++s) out[n++] = *s;
  };
  put("{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int d = 0; d < rank; ++d) {
    if (d) put(", ");
    char digits[24];
    int k = 0;
    uint64_t v = dims[d];
    do digits[sizeof digits - 1 - k++] = static_cast<char>('0' + v % 10);
    while (v /= 10);
    for (int i = sizeof digits - k; i < static_cast<int>(sizeof digits); ++i) out[n++] = digits[i];
  }
  put(rank == 1 ? ",), }" : "), }");
  return n;
}

// The whole preamble and padded header for this shape into out (room: kNpyMaxHeader); returns
// its length, a multiple of kNpyAlign. numpy's rule: 1 to 64 spaces, then '\n'.
size_t make_header(const uint64_t* dims, int rank, uint8_t* out) {
  char* text = reinterpret_cast<char*>(out) + kPreambleV1;
  size_t len = header_text(dims, rank, text) + 1;  // + the newline
  const size_t pad = kNpyAlign - (kPreambleV1 + len) % kNpyAlign;
  std::memset(text + len - 1, ' ', pad);
  len += pad;
  text[len - 1] = '\n';
  std::memcpy(out, kMagic, kMagicBytes);
  out[6] = 1, out[7] = 0;
  out[8] = static_cast<uint8_t>(len), out[9] = static_cast<uint8_t>(len >> 8);
  return kPreambleV1 + len;
}

Status check_shape(const uint64_t* dims, int rank, uint64_t* data_bytes) {
  if (rank < 0 || rank > kNpyMaxRank || (!dims && rank))
    return Status::error(Code::invalid_argument, "npy: rank %d (0 to %d)", rank, kNpyMaxRank);
  uint64_t n = 1;
  for (int d = 0; d < rank; ++d)
    if (__builtin_mul_overflow(n, dims[d], &n))
      return Status::error(Code::invalid_argument, "npy: element count overflows");
  if (__builtin_mul_overflow(n, uint64_t{4}, data_bytes))
    return Status::error(Code::invalid_argument, "npy: byte size overflows");
  return Status::ok();
}

void encode_f32(const float* src, size_t n, uint8_t* dst) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, src + i, 4);
    for (int b = 0; b < 4; ++b) dst[4 * i + b] = static_cast<uint8_t>(bits >> (8 * b));
  }
}

}  // namespace

Status npy_parse(const uint8_t* buf, size_t size, const char* name, NpyArray* out) {
  *out = NpyArray();
  char file[48];
  message_excerpt(name ? name : "memory", SIZE_MAX, file, sizeof file);
  if (!buf && size) return Status::error(Code::invalid_argument, "npy %s: null buffer", file);
  size_t start = 0, length = 0;
  EMBER_TRY(parse_preamble(buf, size, file, &start, &length));
  if (size - start < length)
    return corrupt("npy", file, "truncated: the header needs %zu bytes, %zu follow", length, size - start);
  NpyArray a;
  EMBER_TRY(DictParser(reinterpret_cast<const char*>(buf) + start, length, start, file).run(&a));
  a.data_offset = start + length;
  EMBER_TRY(check_data(a, size - a.data_offset, file));
  a.data = buf + a.data_offset;
  *out = a;
  return Status::ok();
}

Status npy_read_f32(const NpyArray& a, float* dst, size_t capacity) {
  if (!a.data) return Status::error(Code::invalid_argument, "npy: no parsed data to read");
  if (a.numel > capacity)
    return Status::error(Code::invalid_argument, "npy: %llu elements, the buffer holds %zu",
                         static_cast<unsigned long long>(a.numel), capacity);
  decode_f32(a.data, static_cast<size_t>(a.numel), dst);
  return Status::ok();
}

Status npy_read_info(const char* path, NpyArray* out) {
  *out = NpyArray();
  char file[48];
  ReadFile f;
  return open_npy(&f, path, short_path(path, file, sizeof file), out);
}

Status npy_load(const char* path, float* dst, size_t capacity, NpyArray* out) {
  char file[48];
  short_path(path, file, sizeof file);
  ReadFile f;
  NpyArray a;
  EMBER_TRY(open_npy(&f, path, file, &a));
  if (a.numel > capacity)
    return Status::error(Code::invalid_argument, "npy %s: %llu elements, the buffer holds %zu", file,
                         static_cast<unsigned long long>(a.numel), capacity);
  uint8_t chunk[4096];
  for (uint64_t done = 0; done < a.numel;) {
    const size_t n = a.numel - done < sizeof chunk / 4 ? static_cast<size_t>(a.numel - done) : sizeof chunk / 4;
    const Status s = f.read_exact(chunk, 4 * n);
    if (s.code() == Code::corrupt_data)  // the file shrank since its size was taken
      return corrupt("npy", file, "truncated: the file ends within element %llu",
                     static_cast<unsigned long long>(done));
    EMBER_TRY(s);
    decode_f32(chunk, n, dst + done);
    done += n;
  }
  if (out) *out = a;
  return Status::ok();
}

Status npy_size(const uint64_t* dims, int rank, uint64_t* bytes) {
  *bytes = 0;
  uint64_t data = 0;
  EMBER_TRY(check_shape(dims, rank, &data));
  uint8_t header[kNpyMaxHeader];
  const size_t h = make_header(dims, rank, header);
  if (__builtin_add_overflow(data, uint64_t(h), bytes))
    return Status::error(Code::invalid_argument, "npy: size overflows");
  return Status::ok();
}

Status npy_write(const uint64_t* dims, int rank, const float* data, uint8_t* out, size_t capacity, size_t* written) {
  *written = 0;
  uint64_t total = 0;
  EMBER_TRY(npy_size(dims, rank, &total));
  uint64_t data_bytes = 0;
  EMBER_TRY(check_shape(dims, rank, &data_bytes));
  if (data_bytes && !data) return Status::error(Code::invalid_argument, "npy: no data");
  if (!out || total > capacity)
    return Status::error(Code::out_of_memory, "npy: the file takes %llu bytes, the buffer has %zu",
                         static_cast<unsigned long long>(total), out ? capacity : 0);
  const size_t h = make_header(dims, rank, out);
  const size_t n = static_cast<size_t>((total - h) / 4);
  encode_f32(data, n, out + h);
  *written = static_cast<size_t>(total);
  return Status::ok();
}

Status npy_save(const char* path, const uint64_t* dims, int rank, const float* data) {
  uint64_t total = 0;
  EMBER_TRY(npy_size(dims, rank, &total));
  uint8_t buf[kNpyMaxHeader];
  const size_t h = make_header(dims, rank, buf);
  const uint64_t n = (total - h) / 4;
  if (n && !data) return Status::error(Code::invalid_argument, "npy: no data");
  AtomicWriter w;
  EMBER_TRY(w.open(path));
  EMBER_TRY(w.write(buf, h));
  for (uint64_t done = 0; done < n;) {
    const size_t k = n - done < sizeof buf / 4 ? static_cast<size_t>(n - done) : sizeof buf / 4;
    encode_f32(data + done, k, buf);
    EMBER_TRY(w.write(buf, 4 * k));
    done += k;
  }
  return w.commit();
}

}  // namespace ember
