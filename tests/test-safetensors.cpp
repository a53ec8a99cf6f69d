// io/safetensors.h: round trips in memory and through files (bit for bit), F16/BF16
// conversion against hand-computed values, a file laid out as the reference library writes
// it, and one refusal per rule of the reader and the writer, each naming its cause.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "nn/checkpoint-format.h"
#include "tests/temp-dir.h"
#include "tests/testing.h"

using namespace ember;
using ember::testing::message_has;

namespace {

using Bytes = std::vector<uint8_t>;

// Room for a parse: tokens and tensors.
struct Room {
  std::vector<JsonToken> tokens;
  std::vector<SafetensorsTensor> tensors;
  SafetensorsRoom room;
  explicit Room(size_t max_tensors = 16, size_t tokens_n = 0) {
    tokens.resize(tokens_n ? tokens_n : safetensors_tokens(max_tensors, 8));
    tensors.resize(max_tensors);
    room.tokens = tokens.data(), room.token_capacity = tokens.size();
    room.tensors = tensors.data(), room.tensor_capacity = tensors.size();
  }
};

// A file from a header text (padded with spaces to a multiple of 8, as the reference library
// does) and data_bytes bytes of data (element bytes counting up).
Bytes file_of(const std::string& json, size_t data_bytes, bool pad = true) {
  std::string h = json;
  while (pad && h.size() % 8) h += ' ';
  Bytes b(8);
  for (int i = 0; i < 8; ++i) b[size_t(i)] = uint8_t(uint64_t(h.size()) >> (8 * i));
  b.insert(b.end(), h.begin(), h.end());
  for (size_t i = 0; i < data_bytes; ++i) b.push_back(uint8_t(i));
  return b;
}

Status parse(const Bytes& file, Room* room, SafetensorsView* view) {
  return view->parse_file(file.data(), file.size(), room->room);
}
Status refusal(const std::string& json, size_t data_bytes, size_t max_tensors = 16) {
  Room room(max_tensors);
  SafetensorsView view;
  const Status s = parse(file_of(json, data_bytes), &room, &view);
  CHECK(view.count() == 0);
  return s;
}

std::string entry(const char* name, const char* dtype, const char* shape, uint64_t begin, uint64_t end) {
  return std::string("\"") + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

}  // namespace

TEST_CASE("safetensors: F16 and BF16 convert exactly, including subnormals, infinities and NaN") {
  CHECK(f16_to_f32(0x3C00) == 1.0f);
  CHECK(f16_to_f32(0xC000) == -2.0f);
  CHECK(f16_to_f32(0x3555) == 0.333251953125f);
  CHECK(f16_to_f32(0x7BFF) == 65504.0f);              // the largest F16
  CHECK(f16_to_f32(0x0400) == std::ldexp(1.0f, -14));  // the smallest normal
  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));  // the smallest subnormal
  CHECK(f16_to_f32(0x03FF) == std::ldexp(1023.0f, -24));
  CHECK(f16_to_f32(0x8201) == -std::ldexp(513.0f, -24));
  CHECK(nn::ckpt::float_bits(f16_to_f32(0x0000)) == 0x00000000u);
  CHECK(nn::ckpt::float_bits(f16_to_f32(0x8000)) == 0x80000000u);  // negative zero keeps its sign
  CHECK(f16_to_f32(0x7C00) == INFINITY);
  CHECK(f16_to_f32(0xFC00) == -INFINITY);
  CHECK(nn::ckpt::float_bits(f16_to_f32(0x7E00)) == 0x7FC00000u);  // the quiet NaN
  CHECK(nn::ckpt::float_bits(f16_to_f32(0xFC01)) == 0xFF802000u);  // a signalling NaN's payload, shifted
  CHECK(std::isnan(f16_to_f32(0x7C01)));

  CHECK(bf16_to_f32(0x3F80) == 1.0f);
  CHECK(bf16_to_f32(0xC040) == -3.0f);
  CHECK(bf16_to_f32(0x3EAB) == 0.333984375f);
  CHECK(bf16_to_f32(0x0001) == std::ldexp(1.0f, -133));  // subnormal
  CHECK(nn::ckpt::float_bits(bf16_to_f32(0x8000)) == 0x80000000u);
  CHECK(bf16_to_f32(0x7F80) == INFINITY);
  CHECK(bf16_to_f32(0xFF80) == -INFINITY);
  CHECK(nn::ckpt::float_bits(bf16_to_f32(0x7FC1)) == 0x7FC10000u);
}

TEST_CASE("safetensors: a file laid out as the reference library writes it") {
  // Python: save_file({"a": torch.tensor([[1., 2.], [3., 4.]]), "b": torch.tensor([1., -2., .5],
  // dtype=torch.float16)}, path, metadata={"format": "pt"}): metadata first, tensors by dtype
  // size then name, compact JSON padded with spaces to 8 bytes.
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]}})";
  Bytes file = file_of(json, 0);
  CHECK((file.size() - 8) % 8 == 0);
  CHECK(file[8 + json.size()] == ' ');
  for (float v : {1.0f, 2.0f, 3.0f, 4.0f})
    for (int i = 0; i < 4; ++i) file.push_back(uint8_t(nn::ckpt::float_bits(v) >> (8 * i)));
  for (uint16_t h : {0x3C00, 0xC000, 0x3800}) file.push_back(uint8_t(h)), file.push_back(uint8_t(h >> 8));

  Room room;
  SafetensorsView view;
  REQUIRE(parse(file, &room, &view).is_ok());
  REQUIRE(view.count() == 2);
  CHECK(view.data_start() == 8 + (json.size() + 7) / 8 * 8);
  CHECK(view.data_size() == 22);
  const SafetensorsTensor* a = view.find("a");
  const SafetensorsTensor* b = view.find("b");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(view.find("c") == nullptr);
  CHECK(a->dtype == SafetensorsDtype::f32);
  CHECK(a->rank == 2);
  CHECK(a->dims[0] == 2);
  CHECK(a->numel == 4);
  CHECK(b->dtype == SafetensorsDtype::f16);
  CHECK(b->offset == 16);
  CHECK(b->bytes == 6);
  float out[4];
  REQUIRE(view.read_f32(*a, out, 4).is_ok());
  CHECK(out[3] == 4.0f);
  REQUIRE(view.read_f32(*b, out, 3).is_ok());
  CHECK(out[0] == 1.0f);
  CHECK(out[1] == -2.0f);
  CHECK(out[2] == 0.5f);
  CHECK(message_has(view.read_f32(*a, out, 3), "has 4 elements, the buffer holds 3"));
  char value[8];
  bool found = false;
  REQUIRE(view.metadata("format", value, sizeof value, &found).is_ok());
  CHECK(found);
  CHECK(std::string(value) == "pt");
  REQUIRE(view.metadata("other", value, sizeof value, &found).is_ok());
  CHECK_FALSE(found);
  CHECK(view.metadata_count() == 1);
  CHECK(view.metadata("format", value, 2, &found).code() == Code::invalid_argument);
}

TEST_CASE("safetensors: write then read gives the same names, shapes, bits and metadata") {
  const std::vector<float> w = {1.5f, -0.0f, INFINITY, -INFINITY, nn::ckpt::bits_float(0x7FC12345u), nn::ckpt::bits_float(0x00000001u)};
  const float scalar = 3.25f;
  std::vector<SafetensorsInput> in(4);
  in[0].name = "enc.fc1.weight", in[0].rank = 2, in[0].dims[0] = 2, in[0].dims[1] = 3, in[0].data = w.data();
  in[1].name = "scalar", in[1].rank = 0, in[1].data = &scalar;
  in[2].name = "empty", in[2].rank = 2, in[2].dims[0] = 0, in[2].dims[1] = 5;
  in[3].name = "odd \"name\"\\ with\nnewline \xC3\xA9", in[3].rank = 1, in[3].dims[0] = 2, in[3].data = w.data() + 4;
  const SafetensorsMeta meta[] = {{"format", "pt"}, {"note", "tab\there \"quoted\" \x01 \xE2\x82\xAC"}};
  SafetensorsWriteList list;
  list.tensors = in.data(), list.count = in.size(), list.metadata = meta, list.metadata_count = 2;

  uint64_t bytes = 0, header = 0;
  REQUIRE(safetensors_size(list, &bytes, &header).is_ok());
  CHECK(header % 8 == 0);
  CHECK(bytes == header + 4 * (6 + 1 + 0 + 2));
  Bytes file(bytes + 10);
  size_t written = 0;
  REQUIRE(safetensors_write(list, file.data(), file.size(), &written).is_ok());
  CHECK(written == bytes);
  file.resize(written);
  CHECK(message_has(safetensors_write(list, file.data(), written - 1, &written), "takes"));

  Room room;
  SafetensorsView view;
  REQUIRE(parse(file, &room, &view).is_ok());
  REQUIRE(view.count() == 4);
  for (size_t i = 0; i < 4; ++i) {
    const SafetensorsTensor& t = view.tensor(i);
    CHECK(std::string(t.name) == in[i].name);  // data order is the order given
    CHECK(t.rank == in[i].rank);
    for (int d = 0; d < t.rank; ++d) CHECK(t.dims[d] == in[i].dims[d]);
    std::vector<float> got(t.numel + 1);
    REQUIRE(view.read_f32(t, got.data(), got.size()).is_ok());
    for (size_t e = 0; e < t.numel; ++e) CHECK(nn::ckpt::float_bits(got[e]) == nn::ckpt::float_bits(in[i].data[e]));
  }
  char value[64];
  bool found = false;
  REQUIRE(view.metadata("note", value, sizeof value, &found).is_ok());
  CHECK(std::string(value) == meta[1].value);

  // The same bytes through a file, and read back from it on demand.
  testing::TempDir dir("safetensors");
  const std::string path = dir.file("model.safetensors");
  REQUIRE(safetensors_save(path.c_str(), list).is_ok());
  uint64_t header_size = 0;
  REQUIRE(safetensors_header_size(path.c_str(), &header_size).is_ok());
  CHECK(header_size == header);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  Bytes disk(bytes);
  REQUIRE(std::fread(disk.data(), 1, disk.size(), f) == bytes);
  CHECK(std::fgetc(f) == EOF);
  std::fclose(f);
  CHECK(disk == file);

  Bytes head(header_size);
  Room file_room;
  SafetensorsFile sf;
  CHECK(message_has(sf.open(path.c_str(), head.data(), head.size() - 1, file_room.room), "the header needs"));
  REQUIRE(sf.open(path.c_str(), head.data(), head.size(), file_room.room).is_ok());
  REQUIRE(sf.view().count() == 4);
  const SafetensorsTensor* t = sf.view().find("enc.fc1.weight");
  REQUIRE(t);
  std::vector<float> got(6);
  REQUIRE(sf.read_f32(*t, got.data(), got.size()).is_ok());
  for (size_t e = 0; e < 6; ++e) CHECK(nn::ckpt::float_bits(got[e]) == nn::ckpt::float_bits(w[e]));
  REQUIRE(sf.view().metadata("format", value, sizeof value, &found).is_ok());
  CHECK(std::string(value) == "pt");
  CHECK(message_has(sf.view().read_f32(*t, got.data(), 6), "without its data"));

  std::filesystem::resize_file(path, bytes - 4);
  CHECK(message_has(sf.open(path.c_str(), head.data(), head.size(), file_room.room), "outside the data buffer"));
}

TEST_CASE("safetensors: empty lists, large F16/BF16 tensors read from a file in chunks") {
  SafetensorsWriteList none;
  Bytes file(64);
  size_t n = 0;
  REQUIRE(safetensors_write(none, file.data(), file.size(), &n).is_ok());
  CHECK(n == 16);
  CHECK(std::string(file.begin() + 8, file.begin() + 16) == "{}      ");
  Room room;
  SafetensorsView view;
  file.resize(n);
  REQUIRE(parse(file, &room, &view).is_ok());
  CHECK(view.count() == 0);

  const size_t count = 5000;  // more than one 4 KiB chunk of either dtype
  std::string json = "{" + entry("h", "F16", "[5000]", 0, 2 * count) + "," +
                     entry("g", "BF16", "[50,100]", 2 * count, 4 * count) + "}";
  Bytes big = file_of(json, 0);
  for (size_t i = 0; i < 2 * count; ++i) {
    const uint16_t h = i < count ? uint16_t(0x3C00 + i % 1024) : uint16_t(0x4000 + i % 128);
    big.push_back(uint8_t(h)), big.push_back(uint8_t(h >> 8));
  }
  testing::TempDir dir("safetensors");
  const std::string path = dir.file("half.safetensors");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(big.data(), 1, big.size(), f);
  std::fclose(f);
  uint64_t header = 0;
  REQUIRE(safetensors_header_size(path.c_str(), &header).is_ok());
  Bytes head(header);
  SafetensorsFile sf;
  REQUIRE(sf.open(path.c_str(), head.data(), head.size(), room.room).is_ok());
  std::vector<float> got(count);
  REQUIRE(sf.read_f32(*sf.view().find("h"), got.data(), count).is_ok());
  for (size_t i = 0; i < count; ++i) CHECK(got[i] == f16_to_f32(uint16_t(0x3C00 + i % 1024)));
  REQUIRE(sf.read_f32(*sf.view().find("g"), got.data(), count).is_ok());
  for (size_t i = 0; i < count; ++i) CHECK(got[i] == bf16_to_f32(uint16_t(0x4000 + (i + count) % 128)));
  CHECK(message_has(safetensors_header_size(dir.path.c_str(), &header), "not a regular file"));

  // A file that shrinks after open (past what stdio has buffered): the read says truncated.
  std::filesystem::resize_file(path, big.size() - 2);
  const Status cut = sf.read_f32(*sf.view().find("g"), got.data(), count);
  CHECK(cut.code() == Code::corrupt_data);
  CHECK(message_has(cut, "half.safetensors: tensor 'g': truncated"));
}

TEST_CASE("safetensors: the reader refuses each broken rule, naming the tensor and the cause") {
  const std::string a4 = entry("a", "F32", "[1]", 0, 4);
  struct Case {
    std::string json;
    size_t data;
    const char* cause;
  };
  const Case cases[] = {
      {"[]", 0, "does not start with '{'"},
      {" {}", 0, "does not start with '{'"},
      {"{\"a\":", 0, "header: json: object ends before a value"},
      {"{} x", 0, "header: json: unexpected 'x'"},
      {"{\"a\":1}", 0, "tensor 'a': entry is a number, not an object"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "tensor 'a': unknown key 'x'"},
      {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'a': no 'shape'"},
      {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1]}}", 4, "key 'dtype' given twice"},
      {"{" + entry("a", "F33", "[1]", 0, 4) + "}", 4, "tensor 'a': unknown dtype 'F33'"},
      {"{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype is not a string"},
      {"{" + entry("a", "F32", "1", 0, 4) + "}", 4, "shape is not an array"},
      {"{" + entry("a", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) + "}", 4, "rank 9 is above 8"},
      {"{" + entry("a", "F32", "[-1]", 0, 4) + "}", 4, "shape entry 0 is not a non-negative integer"},
      {"{" + entry("a", "F32", "[1.0]", 0, 4) + "}", 4, "shape entry 0 is not"},
      {"{" + entry("a", "U8", "[4294967296,4294967296,4294967296]", 0, 4) + "}", 4, "element count overflows"},
      {"{" + entry("a", "F64", "[4611686018427387904]", 0, 4) + "}", 4, "byte size overflows"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "not an array of 2 numbers"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 4, "not non-negative integers"},
      {"{" + entry("a", "F32", "[2]", 0, 8) + "}", 4, "[0, 8] outside the data buffer of 4 bytes"},
      {"{" + entry("a", "F32", "[0]", 4, 0) + "}", 4, "outside the data buffer"},
      {"{" + entry("a", "F32", "[2]", 0, 4) + "}", 4, "hold 4 bytes, F32 of its shape need 8"},
      {"{" + a4 + "," + entry("b", "F32", "[1]", 0, 4) + "}", 4, "overlaps"},
      {"{" + a4 + "," + entry("b", "F32", "[1]", 8, 12) + "}", 12, "a hole of 4 bytes in the data before tensor 'b'"},
      {"{" + a4 + "}", 8, "4 bytes of data after the last tensor"},
      {"{" + a4 + "," + a4 + "}", 8, "tensor 'a' appears twice"},
      {"{" + a4 + "," + entry("\\u0061", "F32", "[1]", 4, 8) + "}", 8, "tensor 'a' appears twice"},
      {"{" + entry("", "F32", "[1]", 0, 4) + "}", 4, "empty name"},
      {"{" + entry(std::string(256, 'n').c_str(), "F32", "[1]", 0, 4) + "}", 4, "of 256 bytes (limit 255)"},
      {"{" + entry("x\\u0000y", "F32", "[1]", 0, 4) + "}", 4, "tensor name 'x' holds a NUL"},
      {"{\"__metadata__\":{\"k\":1}," + a4 + "}", 4, "metadata 'k' is a number, not a string"},
      {"{\"__metadata__\":[]," + a4 + "}", 4, "__metadata__ is not an object"},
      {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__ given twice"},
      {"{" + a4 + "," + entry("b", "F32", "[1]", 4, 8) + "}", 8, "more than 1 tensors"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.json);
    const Status s = refusal(c.json, c.data, std::strstr(c.cause, "more than 1") ? 1 : 16);
    CHECK(s.code() == Code::corrupt_data);
    CHECK(message_has(s, "safetensors memory: "));
    CHECK(message_has(s, c.cause));
  }
  // A name with control bytes is shown without them.
  CHECK(message_has(refusal("{" + entry("a\\nb", "F33", "[1]", 0, 4) + "}", 4), "tensor 'a?b': unknown dtype"));
  // Not enough tokens for the header.
  Room few(4, 5);
  SafetensorsView view;
  CHECK(message_has(parse(file_of("{" + a4 + "}", 4), &few, &view), "more than 5 tokens"));
}

TEST_CASE("safetensors: the length field and the file are checked before the header") {
  Room room;
  SafetensorsView view;
  CHECK(message_has(view.parse_file(nullptr, 0, room.room), "truncated: 0 bytes"));
  Bytes file = file_of("{}", 0);
  CHECK(parse(file, &room, &view).is_ok());
  CHECK(parse(file_of("{}", 0, false), &room, &view).is_ok());  // padding is optional
  file[0] = 9;                                                  // one more byte than there is
  CHECK(message_has(parse(file, &room, &view), "truncated: the header length says 9 bytes, 8 follow"));
  Bytes huge = file_of("{}", 0);
  huge[3] = 0x10;  // 256 MiB
  CHECK(message_has(parse(huge, &room, &view), "above the limit of 100000000 bytes"));
  CHECK(message_has(view.parse_file(file.data(), 7, room.room, "x.safetensors"), "safetensors x.safetensors: truncated"));

  const Bytes i32 = file_of("{" + entry("i", "I32", "[1]", 0, 4) + "}", 4);
  REQUIRE(parse(i32, &room, &view).is_ok());
  float out[1];
  CHECK(message_has(view.read_f32(view.tensor(0), out, 1), "is I32; read_f32 reads F32, F16 and BF16"));

  testing::TempDir dir("safetensors");
  const std::string path = dir.file("short.safetensors");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(file.data(), 1, 5, f);
  std::fclose(f);
  uint64_t header = 0;
  CHECK(message_has(safetensors_header_size(path.c_str(), &header), "truncated: 5 bytes"));
}

TEST_CASE("safetensors: the writer refuses names and lists the format does not allow") {
  const float x[2] = {1, 2};
  auto refused = [&](std::vector<SafetensorsInput> in, std::vector<SafetensorsMeta> meta = {}) {
    SafetensorsWriteList list;
    list.tensors = in.data(), list.count = in.size(), list.metadata = meta.data(), list.metadata_count = meta.size();
    uint64_t bytes = 0;
    const Status s = safetensors_size(list, &bytes);
    CHECK(bytes == 0);
    return s;
  };
  SafetensorsInput t;
  t.name = "t", t.rank = 1, t.dims[0] = 2, t.data = x;
  SafetensorsInput u = t;
  CHECK(message_has(refused({t, u}), "tensor name 't' given twice (0 and 1)"));
  u.name = "";
  CHECK(message_has(refused({t, u}), "tensor 1 has an empty name"));
  u.name = "__metadata__";
  CHECK(message_has(refused({u}), "named __metadata__"));
  const std::string long_name(256, 'n');
  u.name = long_name.c_str();
  CHECK(message_has(refused({u}), "name of 256 bytes (limit 255)"));
  u.name = "bad \xC3";
  CHECK(message_has(refused({u}), "not valid UTF-8"));
  u = t, u.rank = 9;
  CHECK(message_has(refused({u}), "rank 9"));
  u = t, u.data = nullptr;
  CHECK(message_has(refused({u}), "no data"));
  u = t, u.rank = 3, u.dims[0] = u.dims[1] = u.dims[2] = uint64_t(1) << 22;
  u.name = "big";
  CHECK(message_has(refused({u}), "overflows"));  // 2^66 elements
  CHECK(message_has(refused({t}, {{"k", "v"}, {"k", "w"}}), "metadata key 'k' given twice"));
  CHECK(message_has(refused({t}, {{"k", nullptr}}), "value missing"));
  CHECK(message_has(refused({t}, {{"", "v"}}), "empty name"));
}
