#include "io/safetensors.h"

#include <cstring>
#include <utility>

namespace ember {

namespace {

struct DtypeInfo {
  const char* name;
  size_t size;
};
// In the order of SafetensorsDtype.
constexpr DtypeInfo kDtypes[] = {{"BOOL", 1}, {"U8", 1},  {"I8", 1},   {"F8_E5M2", 1}, {"F8_E4M3", 1},
                                 {"I16", 2},  {"U16", 2}, {"F16", 2},  {"BF16", 2},    {"I32", 4},
                                 {"U32", 4},  {"F32", 4}, {"F64", 8},  {"I64", 8},     {"U64", 8}};
constexpr size_t kDtypeCount = sizeof kDtypes / sizeof kDtypes[0];

// A name from the file fit for a message (it may hold "\n" or worse once unescaped).
struct Shown {
  char s[44];
};
Shown shown(const char* text) {
  Shown out;
  message_excerpt(text, SIZE_MAX, out.s, sizeof out.s);
  return out;
}
// A string token of the header, unescaped and cut for a message.
Shown shown(const JsonDoc& doc, size_t i) {
  char buf[kSafetensorsMaxName + 1];
  if (!json_unescape(doc, i, buf, sizeof buf).is_ok()) std::strcpy(buf, "(a long string)");
  return shown(buf);
}

uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// The header length field against the limits: N <= kSafetensorsMaxHeader and the header
// within a file of file_size bytes.
Status check_header_length(uint64_t n, uint64_t file_size, const char* file) {
  if (n > kSafetensorsMaxHeader)
    return corrupt("safetensors", file, "header length %llu is above the limit of %llu bytes",
                   static_cast<unsigned long long>(n), static_cast<unsigned long long>(kSafetensorsMaxHeader));
  if (n > file_size - kSafetensorsPrefix)
    return corrupt("safetensors", file, "truncated: the header length says %llu bytes, %llu follow",
                   static_cast<unsigned long long>(n), static_cast<unsigned long long>(file_size - kSafetensorsPrefix));
  return Status::ok();
}

// In-place heap sort of tensors[0..n) (no memory of its own; n log n also for hostile n).
template <class Less>
void heap_sort(SafetensorsTensor* a, size_t n, Less less) {
  auto sift = [&](size_t root, size_t end) {
    for (size_t child; (child = 2 * root + 1) < end; root = child) {
      if (child + 1 < end && less(a[child], a[child + 1])) ++child;
      if (!less(a[root], a[child])) return;
      std::swap(a[root], a[child]);
    }
  };
  for (size_t i = n / 2; i-- > 0;) sift(i, n);
  for (size_t end = n; end > 1; --end) {
    std::swap(a[0], a[end - 1]);
    sift(0, end - 1);
  }
}

// The dtype, shape and data_offsets of one header entry (token v) into t.
Status parse_entry(const JsonDoc& doc, size_t v, uint64_t data_size, const char* file, SafetensorsTensor* t) {
  const Shown name = shown(t->name);
  if (doc.tokens[v].type != JsonType::object)
    return corrupt("safetensors", file, "tensor '%s': entry is a %s, not an object", name.s,
                   json_type_name(doc.tokens[v].type));
  static const char* const kKeys[3] = {"dtype", "shape", "data_offsets"};
  long at[3] = {-1, -1, -1};
  size_t k = v + 1;
  for (uint32_t m = 0; m < doc.tokens[v].children; ++m, k = doc.tokens[k + 1].next) {
    int which = 0;
    while (which < 3 && !json_equals(doc, k, kKeys[which])) ++which;
    if (which == 3) return corrupt("safetensors", file, "tensor '%s': unknown key '%s'", name.s, shown(doc, k).s);
    if (at[which] >= 0) return corrupt("safetensors", file, "tensor '%s': key '%s' given twice", name.s, kKeys[which]);
    at[which] = static_cast<long>(k + 1);
  }
  for (int which = 0; which < 3; ++which)
    if (at[which] < 0) return corrupt("safetensors", file, "tensor '%s': no '%s'", name.s, kKeys[which]);
  const size_t dtype = static_cast<size_t>(at[0]), shape = static_cast<size_t>(at[1]),
               offsets = static_cast<size_t>(at[2]);

  if (doc.tokens[dtype].type != JsonType::string)
    return corrupt("safetensors", file, "tensor '%s': dtype is not a string", name.s);
  size_t d = 0;
  while (d < kDtypeCount && !json_equals(doc, dtype, kDtypes[d].name)) ++d;
  if (d == kDtypeCount)
    return corrupt("safetensors", file, "tensor '%s': unknown dtype '%s'", name.s, shown(doc, dtype).s);
  t->dtype = static_cast<SafetensorsDtype>(d);

  if (doc.tokens[shape].type != JsonType::array)
    return corrupt("safetensors", file, "tensor '%s': shape is not an array", name.s);
  if (doc.tokens[shape].children > kSafetensorsMaxRank)
    return corrupt("safetensors", file, "tensor '%s': rank %u is above %d", name.s, unsigned(doc.tokens[shape].children),
                   kSafetensorsMaxRank);
  t->rank = static_cast<int>(doc.tokens[shape].children);
  t->numel = 1;
  for (int i = 0; i < t->rank; ++i) {
    const size_t dim = shape + 1 + static_cast<size_t>(i);  // numbers: one token each
    if (!json_to_u64(doc, dim, &t->dims[i]).is_ok())
      return corrupt("safetensors", file, "tensor '%s': shape entry %d is not a non-negative integer", name.s, i);
    if (__builtin_mul_overflow(t->numel, t->dims[i], &t->numel))
      return corrupt("safetensors", file, "tensor '%s': element count overflows at dimension %d", name.s, i);
  }
  if (__builtin_mul_overflow(t->numel, uint64_t(kDtypes[d].size), &t->bytes))
    return corrupt("safetensors", file, "tensor '%s': byte size overflows", name.s);

  if (doc.tokens[offsets].type != JsonType::array || doc.tokens[offsets].children != 2)
    return corrupt("safetensors", file, "tensor '%s': data_offsets is not an array of 2 numbers", name.s);
  uint64_t begin = 0, end = 0;
  if (!json_to_u64(doc, offsets + 1, &begin).is_ok() || !json_to_u64(doc, offsets + 2, &end).is_ok())
    return corrupt("safetensors", file, "tensor '%s': data_offsets are not non-negative integers", name.s);
  if (begin > end || end > data_size)
    return corrupt("safetensors", file, "tensor '%s': data_offsets [%llu, %llu] outside the data buffer of %llu bytes",
                   name.s, static_cast<unsigned long long>(begin), static_cast<unsigned long long>(end),
                   static_cast<unsigned long long>(data_size));
  if (end - begin != t->bytes)
    return corrupt("safetensors", file, "tensor '%s': data_offsets hold %llu bytes, %s of its shape need %llu", name.s,
                  static_cast<unsigned long long>(end - begin), kDtypes[d].name,
                  static_cast<unsigned long long>(t->bytes));
  t->offset = begin;
  return Status::ok();
}

// Tensor names unique, then the tensors sorted by offset and tiling the data buffer exactly.
Status check_layout(SafetensorsTensor* t, size_t n, uint64_t data_size, const char* file) {
  heap_sort(t, n,
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) { return std::strcmp(a.name, b.name) < 0; });
  for (size_t i = 1; i < n; ++i)
    if (std::strcmp(t[i - 1].name, t[i].name) == 0)
      return corrupt("safetensors", file, "tensor '%s' appears twice", shown(t[i].name).s);
  heap_sort(t, n, [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.bytes < b.bytes;
  });
  uint64_t covered = 0;
  for (size_t i = 0; i < n; ++i) {
    if (t[i].offset < covered)
      return corrupt("safetensors", file, "tensor '%s' overlaps tensor '%s'", shown(t[i].name).s,
                     shown(t[i - 1].name).s);
    if (t[i].offset > covered)
      return corrupt("safetensors", file, "a hole of %llu bytes in the data before tensor '%s'",
                    static_cast<unsigned long long>(t[i].offset - covered), shown(t[i].name).s);
    covered += t[i].bytes;
  }
  if (covered != data_size)
    return corrupt("safetensors", file, "%llu bytes of data after the last tensor (the tensors cover %llu of %llu)",
                  static_cast<unsigned long long>(data_size - covered), static_cast<unsigned long long>(covered),
                  static_cast<unsigned long long>(data_size));
  return Status::ok();
}

// The checks every read_f32 makes before touching data.
Status check_read(const SafetensorsTensor& t, uint64_t data_size, size_t capacity, const char* file) {
  const Shown shown_name = shown(t.name);
  const char* name = shown_name.s;
  if (t.dtype != SafetensorsDtype::f32 && t.dtype != SafetensorsDtype::f16 && t.dtype != SafetensorsDtype::bf16)
    return Status::error(Code::unsupported, "safetensors %s: tensor '%s' is %s; read_f32 reads F32, F16 and BF16", file,
                         name, safetensors_dtype_name(t.dtype));
  if (t.numel > capacity)
    return Status::error(Code::invalid_argument, "safetensors %s: tensor '%s' has %llu elements, the buffer holds %zu",
                         file, name, static_cast<unsigned long long>(t.numel), capacity);
  if (t.offset > data_size || t.bytes > data_size - t.offset || t.bytes != t.numel * safetensors_dtype_size(t.dtype))
    return Status::error(Code::invalid_argument, "safetensors %s: tensor '%s' is not one of this file's", file, name);
  return Status::ok();
}

// n little-endian elements of dtype (F32, F16 or BF16) at src to float32.
void decode_f32(SafetensorsDtype dtype, const uint8_t* src, size_t n, float* dst) {
  for (size_t i = 0; i < n; ++i) {
    if (dtype == SafetensorsDtype::f32) {
      const uint32_t bits = uint32_t(src[4 * i]) | uint32_t(src[4 * i + 1]) << 8 | uint32_t(src[4 * i + 2]) << 16 |
                            uint32_t(src[4 * i + 3]) << 24;
      std::memcpy(dst + i, &bits, 4);
    } else {
      const uint16_t h = static_cast<uint16_t>(src[2 * i] | src[2 * i + 1] << 8);
      dst[i] = dtype == SafetensorsDtype::f16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
  }
}

}  // namespace

const char* safetensors_dtype_name(SafetensorsDtype d) {
  const size_t i = static_cast<size_t>(d);
  return i < kDtypeCount ? kDtypes[i].name : "?";
}
size_t safetensors_dtype_size(SafetensorsDtype d) {
  const size_t i = static_cast<size_t>(d);
  return i < kDtypeCount ? kDtypes[i].size : 0;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = h >> 10 & 0x1Fu, mant = h & 0x3FFu, bits = 0;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | mant << 13;  // infinity, or NaN with its payload
  } else if (exp != 0) {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  } else if (mant == 0) {
    bits = sign;  // signed zero
  } else {  // subnormal: mant * 2^-24, normalised for float32
    exp = 127 - 15 + 1;
    while (!(mant & 0x400u)) mant <<= 1, --exp;
    bits = sign | exp << 23 | (mant & 0x3FFu) << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(uint16_t h) {
  const uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// ---- SafetensorsView ----

Status SafetensorsView::parse(const char* json, size_t json_size, uint64_t data_size, const SafetensorsRoom& room) {
  const char* file = name_;
  if (json_size == 0 || json[0] != '{') return corrupt("safetensors", file, "the header does not start with '{'");
  const Status js = json_parse(json, json_size, room.tokens, room.token_capacity, &doc_);
  if (!js.is_ok()) return Status::error(js.code(), "safetensors %s: header: %s", file, js.message());
  room_ = room;
  size_t n = 0;
  size_t k = 1;
  for (uint32_t m = 0; m < doc_.tokens[0].children; ++m, k = doc_.tokens[k + 1].next) {
    const size_t v = k + 1;
    if (json_equals(doc_, k, "__metadata__")) {
      if (metadata_ >= 0) return corrupt("safetensors", file, "__metadata__ given twice");
      if (doc_.tokens[v].type != JsonType::object) return corrupt("safetensors", file, "__metadata__ is not an object");
      for (size_t e = v + 1; e < doc_.tokens[v].next; e += 2)  // string keys and values: one token each
        if (doc_.tokens[e + 1].type != JsonType::string)
          return corrupt("safetensors", file, "metadata '%s' is a %s, not a string", shown(doc_, e).s,
                        json_type_name(doc_.tokens[e + 1].type));
      metadata_ = static_cast<long>(v);
      continue;
    }
    if (n == room.tensor_capacity)
      return corrupt("safetensors", file, "more than %zu tensors (the room given)", room.tensor_capacity);
    SafetensorsTensor& t = room.tensors[n];
    t = SafetensorsTensor();
    const size_t len = json_unescaped_size(doc_, k);
    if (len == 0) return corrupt("safetensors", file, "a tensor with an empty name");
    if (len > kSafetensorsMaxName)
      return corrupt("safetensors", file, "tensor name '%s' of %zu bytes (limit %zu)", shown(doc_, k).s, len,
                     kSafetensorsMaxName);
    EMBER_TRY(json_unescape(doc_, k, t.name, sizeof t.name));
    if (std::strlen(t.name) != len)
      return corrupt("safetensors", file, "tensor name '%s' holds a NUL", shown(t.name).s);
    EMBER_TRY(parse_entry(doc_, v, data_size, file, &t));
    ++n;
  }
  EMBER_TRY(check_layout(room.tensors, n, data_size, file));
  count_ = n;
  data_size_ = data_size;
  return Status::ok();
}

Status SafetensorsView::parse_file(const uint8_t* file, size_t size, const SafetensorsRoom& room, const char* name) {
  *this = SafetensorsView();
  std::strcpy(name_, shown(name ? name : "memory").s);
  if (!file && size) return Status::error(Code::invalid_argument, "safetensors %s: null buffer", name_);
  if (size < kSafetensorsPrefix)
    return corrupt("safetensors", name_, "truncated: %zu bytes, the length field takes 8", size);
  const uint64_t n = le64(file);
  EMBER_TRY(check_header_length(n, size, name_));
  const Status s = parse(reinterpret_cast<const char*>(file) + kSafetensorsPrefix, static_cast<size_t>(n),
                         size - kSafetensorsPrefix - n, room);
  if (!s.is_ok()) return (count_ = 0, metadata_ = -1, s);
  data_start_ = kSafetensorsPrefix + n;
  data_ = file + data_start_;
  return Status::ok();
}

Status SafetensorsView::parse_header(const uint8_t* header, size_t header_size, uint64_t file_size,
                                     const SafetensorsRoom& room, const char* name) {
  *this = SafetensorsView();
  std::strcpy(name_, shown(name ? name : "memory").s);
  if (!header || header_size < kSafetensorsPrefix || file_size < header_size)
    return corrupt("safetensors", name_, "truncated: a header of %zu bytes in a file of %llu", header_size,
                  static_cast<unsigned long long>(file_size));
  const uint64_t n = le64(header);
  EMBER_TRY(check_header_length(n, file_size, name_));
  if (n != header_size - kSafetensorsPrefix)
    return Status::error(Code::invalid_argument, "safetensors %s: the header needs %llu bytes, %zu were given", name_,
                         static_cast<unsigned long long>(n + kSafetensorsPrefix), header_size);
  const Status s = parse(reinterpret_cast<const char*>(header) + kSafetensorsPrefix, static_cast<size_t>(n),
                         file_size - header_size, room);
  if (!s.is_ok()) return (count_ = 0, metadata_ = -1, s);
  data_start_ = header_size;
  return Status::ok();
}

const SafetensorsTensor* SafetensorsView::find(const char* name) const {
  for (size_t i = 0; i < count_; ++i)
    if (std::strcmp(room_.tensors[i].name, name) == 0) return &room_.tensors[i];
  return nullptr;
}

size_t SafetensorsView::metadata_count() const { return metadata_ < 0 ? 0 : doc_.tokens[metadata_].children; }

Status SafetensorsView::metadata(const char* key, char* out, size_t cap, bool* found) const {
  *found = false;
  if (cap) out[0] = '\0';
  const long v = metadata_ < 0 ? -1 : json_find(doc_, static_cast<size_t>(metadata_), key);
  if (v < 0) return Status::ok();
  EMBER_TRY(json_unescape(doc_, static_cast<size_t>(v), out, cap));
  *found = true;
  return Status::ok();
}

Status SafetensorsView::read_f32(const SafetensorsTensor& t, float* dst, size_t capacity) const {
  if (!data_)
    return Status::error(Code::invalid_argument, "safetensors %s: a header without its data (use SafetensorsFile)",
                         name_);
  EMBER_TRY(check_read(t, data_size_, capacity, name_));
  decode_f32(t.dtype, data_ + t.offset, static_cast<size_t>(t.numel), dst);
  return Status::ok();
}

// ---- files ----

namespace {

// Opens path and reads its length field: *n = N, *file_size the file's bytes.
Status open_and_read_length(ReadFile* f, const char* path, const char* shown_path, uint64_t* n, uint64_t* file_size) {
  EMBER_TRY(f->open(path));
  EMBER_TRY(f->size(file_size));
  if (*file_size < kSafetensorsPrefix)
    return corrupt("safetensors", shown_path, "truncated: %llu bytes, the length field takes 8",
                   static_cast<unsigned long long>(*file_size));
  uint8_t prefix[kSafetensorsPrefix];
  EMBER_TRY(f->read_exact(prefix, sizeof prefix));
  *n = le64(prefix);
  return check_header_length(*n, *file_size, shown_path);
}

}  // namespace

Status safetensors_header_size(const char* path, uint64_t* bytes) {
  *bytes = 0;
  char sp[48];
  ReadFile f;
  uint64_t n = 0, size = 0;
  EMBER_TRY(open_and_read_length(&f, path, short_path(path, sp, sizeof sp), &n, &size));
  *bytes = kSafetensorsPrefix + n;
  return Status::ok();
}

Status SafetensorsFile::open(const char* path, uint8_t* header, size_t header_capacity, const SafetensorsRoom& room) {
  view_ = SafetensorsView();
  char sp[48];
  short_path(path, sp, sizeof sp);
  uint64_t n = 0, size = 0;
  Status s = open_and_read_length(&file_, path, sp, &n, &size);
  if (s.is_ok() && kSafetensorsPrefix + n > header_capacity)
    s = Status::error(Code::invalid_argument, "safetensors %s: the header needs %llu bytes, the buffer has %zu", sp,
                      static_cast<unsigned long long>(kSafetensorsPrefix + n), header_capacity);
  if (s.is_ok()) {
    for (size_t i = 0; i < kSafetensorsPrefix; ++i) header[i] = static_cast<uint8_t>(n >> (8 * i));
    s = file_.read_exact(header + kSafetensorsPrefix, static_cast<size_t>(n));
  }
  if (s.is_ok()) s = view_.parse_header(header, static_cast<size_t>(kSafetensorsPrefix + n), size, room, sp);
  if (!s.is_ok()) file_.close();
  return s;
}

Status SafetensorsFile::read_f32(const SafetensorsTensor& t, float* dst, size_t capacity) {
  char sp[48];
  const char* file = short_path(file_.path(), sp, sizeof sp);
  if (!file_.is_open()) return Status::error(Code::invalid_argument, "safetensors: read_f32 before a successful open");
  EMBER_TRY(check_read(t, view_.data_size(), capacity, file));
  EMBER_TRY(file_.seek(view_.data_start() + t.offset));
  const size_t size = safetensors_dtype_size(t.dtype);
  uint8_t chunk[4096];
  for (size_t done = 0, n = 0; done < t.numel; done += n) {
    n = t.numel - done < sizeof chunk / size ? static_cast<size_t>(t.numel - done) : sizeof chunk / size;
    const Status s = file_.read_exact(chunk, n * size);
    if (s.code() == Code::corrupt_data)  // the file ended: it shrank since open
      return corrupt("safetensors", file, "tensor '%s': truncated: the file ends before its byte %llu", shown(t.name).s,
                    static_cast<unsigned long long>(t.offset + done * size + n * size));
    EMBER_TRY(s);
    decode_f32(t.dtype, chunk, n, dst + done);
  }
  return Status::ok();
}

}  // namespace ember
