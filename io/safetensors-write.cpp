// The safetensors writer (io/safetensors.h): the list is checked, the exact size computed by
// emitting everything into a counter, then the same emitter writes to memory or a file.
#include <cstring>

#include "io/safetensors.h"

namespace ember {

namespace {

// Where emitted bytes go: a memory buffer (already checked to be big enough), a file, or
// nowhere (counting only).
class Sink {
 public:
  Sink() = default;
  explicit Sink(uint8_t* mem) : mem_(mem) {}
  explicit Sink(AtomicWriter* file) : file_(file) {}

  void put(const void* p, size_t n) {
    if (mem_) std::memcpy(mem_ + count_, p, n);
    else if (file_ && status_.is_ok()) status_ = file_->write(p, n);
    count_ += n;
  }
  void text(const char* s) { put(s, std::strlen(s)); }
  void number(uint64_t v) {
    char digits[24];
    int n = 0;
    do digits[sizeof digits - 1 - n++] = static_cast<char>('0' + v % 10);
    while (v /= 10);
    put(digits + sizeof digits - n, static_cast<size_t>(n));
  }
  // s as a JSON string: quotes and backslashes escaped, control bytes as \n or \u00XX; the
  // rest (valid UTF-8, checked before) as it is.
  void json_string(const char* s) {
    text("\"");
    for (; *s; ++s) {
      const unsigned char c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') {
        const char esc[2] = {'\\', static_cast<char>(c)};
        put(esc, 2);
      } else if (c < 0x20) {
        static const char kHex[] = "0123456789abcdef";
        static const char kNamed[] = "btn?fr";  // bytes 8 to 13; 11 (\v) has no short escape
        const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        const char named[2] = {'\\', c >= 8 && c <= 13 ? kNamed[c - 8] : '?'};
        if (named[1] != '?') put(named, 2);
        else put(u, 6);
      } else {
        put(s, 1);
      }
    }
    text("\"");
  }
  void floats(const float* data, uint64_t n) {
    uint8_t chunk[1024];
    for (uint64_t done = 0; done < n;) {
      const size_t k = n - done < sizeof chunk / 4 ? static_cast<size_t>(n - done) : sizeof chunk / 4;
      for (size_t i = 0; i < k; ++i) {  // little-endian whatever the host
        uint32_t bits;
        std::memcpy(&bits, data + done + i, 4);
        for (int b = 0; b < 4; ++b) chunk[4 * i + b] = static_cast<uint8_t>(bits >> (8 * b));
      }
      put(chunk, 4 * k);
      done += k;
    }
  }

  uint64_t count() const { return count_; }
  const Status& status() const { return status_; }

 private:
  uint8_t* mem_ = nullptr;
  AtomicWriter* file_ = nullptr;
  uint64_t count_ = 0;
  Status status_;
};

uint64_t numel_of(const SafetensorsInput& t) {
  uint64_t n = 1;
  for (int d = 0; d < t.rank; ++d) n *= t.dims[d];  // checked not to overflow first
  return n;
}

// A name or metadata key: non-empty, valid UTF-8, at most kSafetensorsMaxName bytes.
Status check_name(const char* what, const char* s, size_t index) {
  if (!s || !*s) return Status::error(Code::invalid_argument, "safetensors: %s %zu has an empty name", what, index);
  const size_t n = std::strlen(s);
  if (n > kSafetensorsMaxName)
    return Status::error(Code::invalid_argument, "safetensors: %s %zu: name of %zu bytes (limit %zu)", what, index, n,
                         kSafetensorsMaxName);
  if (!json_valid_utf8(s, n))
    return Status::error(Code::invalid_argument, "safetensors: %s %zu: name is not valid UTF-8", what, index);
  return Status::ok();
}

Status check_list(const SafetensorsWriteList& list) {
  if ((!list.tensors && list.count) || (!list.metadata && list.metadata_count))
    return Status::error(Code::invalid_argument, "safetensors: null tensor or metadata list");
  for (size_t i = 0; i < list.count; ++i) {
    const SafetensorsInput& t = list.tensors[i];
    EMBER_TRY(check_name("tensor", t.name, i));
    char name[44];
    message_excerpt(t.name, SIZE_MAX, name, sizeof name);
    if (std::strcmp(t.name, "__metadata__") == 0)
      return Status::error(Code::invalid_argument, "safetensors: tensor %zu is named __metadata__", i);
    for (size_t j = 0; j < i; ++j)
      if (std::strcmp(list.tensors[j].name, t.name) == 0)
        return Status::error(Code::invalid_argument, "safetensors: tensor name '%s' given twice (%zu and %zu)",
                             name, j, i);
    if (t.rank < 0 || t.rank > kSafetensorsMaxRank)
      return Status::error(Code::invalid_argument, "safetensors: tensor '%s': rank %d (0 to %d)", name, t.rank,
                           kSafetensorsMaxRank);
    uint64_t n = 1, bytes = 0;
    for (int d = 0; d < t.rank; ++d)
      if (__builtin_mul_overflow(n, t.dims[d], &n))
        return Status::error(Code::invalid_argument, "safetensors: tensor '%s': element count overflows", name);
    if (__builtin_mul_overflow(n, uint64_t{4}, &bytes))
      return Status::error(Code::invalid_argument, "safetensors: tensor '%s': byte size overflows", name);
    if (n && !t.data) return Status::error(Code::invalid_argument, "safetensors: tensor '%s': no data", name);
  }
  for (size_t i = 0; i < list.metadata_count; ++i) {
    const SafetensorsMeta& m = list.metadata[i];
    EMBER_TRY(check_name("metadata entry", m.key, i));
    char key[44];
    message_excerpt(m.key, SIZE_MAX, key, sizeof key);
    if (!m.value || !json_valid_utf8(m.value, std::strlen(m.value)))
      return Status::error(Code::invalid_argument, "safetensors: metadata '%s': value missing or not UTF-8", key);
    for (size_t j = 0; j < i; ++j)
      if (std::strcmp(list.metadata[j].key, m.key) == 0)
        return Status::error(Code::invalid_argument, "safetensors: metadata key '%s' given twice", key);
  }
  return Status::ok();
}

// The header JSON, without the length field or padding.
void emit_json(const SafetensorsWriteList& list, Sink* out) {
  out->text("{");
  if (list.metadata_count) {
    out->text("\"__metadata__\":{");
    for (size_t i = 0; i < list.metadata_count; ++i) {
      if (i) out->text(",");
      out->json_string(list.metadata[i].key);
      out->text(":");
      out->json_string(list.metadata[i].value);
    }
    out->text("}");
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < list.count; ++i) {
    const SafetensorsInput& t = list.tensors[i];
    if (i || list.metadata_count) out->text(",");
    out->json_string(t.name);
    out->text(":{\"dtype\":\"F32\",\"shape\":[");
    for (int d = 0; d < t.rank; ++d) {
      if (d) out->text(",");
      out->number(t.dims[d]);
    }
    const uint64_t end = offset + 4 * numel_of(t);
    out->text("],\"data_offsets\":[");
    out->number(offset);
    out->text(",");
    out->number(end);
    out->text("]}");
    offset = end;
  }
  out->text("}");
}

// Everything: length field, JSON, padding to a multiple of 8, data. json_size from a count.
void emit_file(const SafetensorsWriteList& list, uint64_t json_size, Sink* out) {
  const uint64_t padded = (json_size + 7) / 8 * 8;
  uint8_t prefix[kSafetensorsPrefix];
  for (size_t i = 0; i < kSafetensorsPrefix; ++i) prefix[i] = static_cast<uint8_t>(padded >> (8 * i));
  out->put(prefix, sizeof prefix);
  emit_json(list, out);
  for (uint64_t i = json_size; i < padded; ++i) out->text(" ");
  for (size_t i = 0; i < list.count; ++i) out->floats(list.tensors[i].data, numel_of(list.tensors[i]));
}

// Checks the list and measures it: the JSON alone and the whole file.
Status measure(const SafetensorsWriteList& list, uint64_t* json_size, uint64_t* total) {
  EMBER_TRY(check_list(list));
  Sink counter;
  emit_json(list, &counter);
  *json_size = counter.count();
  const uint64_t padded = (*json_size + 7) / 8 * 8;
  if (padded > kSafetensorsMaxHeader)
    return Status::error(Code::invalid_argument, "safetensors: header of %llu bytes (limit %llu)",
                         static_cast<unsigned long long>(padded),
                         static_cast<unsigned long long>(kSafetensorsMaxHeader));
  uint64_t bytes = kSafetensorsPrefix + padded;
  for (size_t i = 0; i < list.count; ++i)
    if (__builtin_add_overflow(bytes, 4 * numel_of(list.tensors[i]), &bytes))
      return Status::error(Code::invalid_argument, "safetensors: the file size overflows");
  *total = bytes;
  return Status::ok();
}

}  // namespace

Status safetensors_size(const SafetensorsWriteList& list, uint64_t* bytes, uint64_t* header_bytes) {
  *bytes = 0;
  uint64_t json_size = 0;
  EMBER_TRY(measure(list, &json_size, bytes));
  if (header_bytes) *header_bytes = kSafetensorsPrefix + (json_size + 7) / 8 * 8;
  return Status::ok();
}

Status safetensors_write(const SafetensorsWriteList& list, uint8_t* out, size_t capacity, size_t* written) {
  *written = 0;
  uint64_t json_size = 0, total = 0;
  EMBER_TRY(measure(list, &json_size, &total));
  if (!out || total > capacity)
    return Status::error(Code::out_of_memory, "safetensors: the file takes %llu bytes, the buffer has %zu",
                         static_cast<unsigned long long>(total), out ? capacity : 0);
  Sink sink(out);
  emit_file(list, json_size, &sink);
  *written = static_cast<size_t>(sink.count());
  return Status::ok();
}

Status safetensors_save(const char* path, const SafetensorsWriteList& list) {
  uint64_t json_size = 0, total = 0;
  EMBER_TRY(measure(list, &json_size, &total));
  AtomicWriter w;
  EMBER_TRY(w.open(path));
  Sink sink(&w);
  emit_file(list, json_size, &sink);
  EMBER_TRY(sink.status());
  return w.commit();
}

}  // namespace ember
