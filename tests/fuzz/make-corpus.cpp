// Writes the seed corpus of every fuzz harness: tests/fuzz/corpus/<target>/ (small valid and
// near-valid inputs, a few KB at most). Built by `make FUZZ=1 fuzzers` as build-fuzz/make-corpus;
// run as `build-fuzz/make-corpus tests/fuzz/corpus` after a format changes, and commit the
// result. Deterministic: the same build writes the same bytes.
//
// Streams come from the library's own writers (ZlibWriter through tests/format-builders.h,
// save_checkpoint_to_memory, the configs' to_text), stored blocks and gzip members from
// tests/format-builders.h; one dynamic-Huffman block is built here bit by bit, since
// ZlibWriter only makes fixed ones.
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "io/npy.h"
#include "io/safetensors.h"
#include "models/ae-network.h"
#include "models/classifier-network.h"
#include "models/gan-network.h"
#include "tests/format-builders.h"
#include "tests/fuzz/checkpoint-model.h"

using namespace ember;
using ember::testing::Bytes;

namespace {

std::string g_root;
int g_written = 0;

void put(const char* target, const std::string& name, const Bytes& bytes) {
  const std::string dir = g_root + "/" + target;
  ::mkdir(g_root.c_str(), 0755);
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) || std::fclose(f)) {
    std::perror(path.c_str());
    std::exit(1);
  }
  ++g_written;
}
Bytes with_control(uint8_t control, const Bytes& b) {
  Bytes out = {control};
  out.insert(out.end(), b.begin(), b.end());
  return out;
}
Bytes cut(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + long(n < b.size() ? n : b.size())); }

// Raw deflate data from the library's compressor (LZ77 matches, fixed Huffman or stored blocks).
Bytes deflated(const Bytes& data) { return testing::zlib_unwrap(testing::zlib_of(data)); }

// One final dynamic block decoding to "abbbb": the code-length code gives 4 bits to each of
// the lengths 0..15 (16 codes: complete, so code = length value); literal/length code: 'a',
// 'b', end-of-block and length symbol 257 (length 3) with 2 bits each; distance code: the
// lone one-bit code RFC 1951 allows, symbol 0 (distance 1).
Bytes dynamic_block() {
  testing::BitWriter w;
  w.bits(1, 1), w.bits(2, 2);          // BFINAL, BTYPE 10
  w.bits(258 - 257, 5), w.bits(0, 5);  // HLIT: 258 literal/length codes, HDIST: 1 distance code
  w.bits(19 - 4, 4);                   // HCLEN: all 19 code-length code lengths follow
  static const int kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  for (int sym : kOrder) w.bits(sym < 16 ? 4 : 0, 3);
  for (int s = 0; s < 258; ++s) w.huff(s == 'a' || s == 'b' || s == 256 || s == 257 ? 2 : 0, 4);
  w.huff(1, 4);  // the distance code: symbol 0, 1 bit
  w.huff(0, 2), w.huff(1, 2);  // 'a', 'b' (codes in symbol order: 00 01 10 11)
  w.huff(3, 2), w.huff(0, 1);  // length 3, distance 1: "bbb"
  w.huff(2, 2);                // end of block
  return w.done();
}

Bytes idx(const std::vector<uint32_t>& dims, uint8_t seed) {
  Bytes b = {0, 0, 8, uint8_t(dims.size())};
  size_t count = 1;
  for (uint32_t d : dims) {
    for (int i = 3; i >= 0; --i) b.push_back(uint8_t(d >> (8 * i)));
    count *= d;
  }
  for (size_t i = 0; i < count; ++i) b.push_back(uint8_t((i * 37 + seed) % 7 * 40));  // a few grey levels
  return b;
}

void inflate_seeds() {
  const Bytes text = testing::bytes_of("ember trains and samples generative models; ember, ember, ember.");
  const Bytes fixed = deflated(text), stored = testing::stored_deflate(text, 40), dyn = dynamic_block();
  const Bytes abbbb = testing::bytes_of("abbbb");
  // Control byte: decoder in bits 0-1 (raw, zlib, gzip, raw + in_used), capacity in bits 2-4
  // (0 null, 0, 1, 7, 100, 1000, 70000, 256 KiB).
  constexpr uint8_t kRaw = 0, kZlib = 1, kGzip = 2, kRawUsed = 3, kCap1000 = 5 << 2, kCap100 = 4 << 2;
  put("inflate", "raw-fixed", with_control(kRaw | kCap1000, fixed));
  put("inflate", "raw-stored", with_control(kRawUsed | kCap1000, stored));
  put("inflate", "raw-dynamic", with_control(kRaw | kCap100, dyn));
  put("inflate", "raw-empty-stored-null-output", with_control(kRaw, {0x01, 0x00, 0x00, 0xFF, 0xFF}));
  put("inflate", "zlib-fixed", with_control(kZlib | kCap1000, testing::zlib_of(text)));
  put("inflate", "zlib-dynamic", with_control(kZlib | kCap100, testing::zlib_wrap(dyn, abbbb)));
  testing::GzipHeader h;
  h.name = "seed.txt", h.comment = "c", h.extra = {1, 2, 3}, h.header_crc = true;
  put("inflate", "gzip-fixed-all-header-fields", with_control(kGzip | kCap1000, testing::gzip_wrap(fixed, text, h)));
  put("inflate", "gzip-dynamic", with_control(kGzip | kCap100, testing::gzip_wrap(dyn, abbbb)));
  put("inflate", "gzip-stored-cut", with_control(kGzip | kCap1000, cut(testing::gzip_wrap(stored, text), 60)));
  put("inflate", "raw-fixed-small-output", with_control(kRaw | (3 << 2), fixed));
}

void idx_seeds() {
  put("idx", "images", idx({2, 4, 3}, 1));
  put("idx", "labels", idx({5}, 2));
  put("idx", "rank4", idx({1, 2, 2, 2}, 3));
  put("idx", "images-cut", cut(idx({2, 4, 3}, 1), 20));

  // idx-file: control byte (arena 1 KiB, 8 KiB, 64 KiB, 1 MiB), then the file.
  const Bytes images = idx({3, 6, 5}, 4), big = idx({4, 28, 28}, 5);
  put("idx-file", "raw", with_control(3, images));
  put("idx-file", "gz-stored", with_control(3, testing::gzip_wrap(testing::stored_deflate(images, 50), images)));
  put("idx-file", "gz-fixed", with_control(3, testing::gzip_wrap(deflated(big), big)));
  testing::GzipHeader h;
  h.name = "train-images-idx3-ubyte";
  put("idx-file", "gz-named-small-arena", with_control(0, testing::gzip_wrap(deflated(big), big, h)));
  put("idx-file", "gz-cut", with_control(3, cut(testing::gzip_wrap(deflated(big), big), 40)));
}

void checkpoint_seeds() {
  fuzz::CheckpointModel m;
  if (!m.ok) std::exit(1);
  char ae[256], gan[256], cls[256];
  if (!models::AeConfig().to_text(ae, sizeof ae).is_ok() || !models::GanConfig().to_text(gan, sizeof gan).is_ok() ||
      !models::ClassifierConfig().to_text(cls, sizeof cls).is_ok())
    std::exit(1);
  for (const char* meta : {static_cast<const char*>(nullptr), static_cast<const char*>(ae),
                           static_cast<const char*>(gan), static_cast<const char*>(cls)}) {
    nn::CheckpointState st;
    st.opts = m.opts, st.n_opts = 2, st.rngs = m.rngs, st.n_rngs = 2, st.step = &m.step, st.meta = meta;
    Bytes b(8192);
    size_t n = 0;
    if (!nn::save_checkpoint_to_memory(b.data(), b.size(), &n, m.params, st).is_ok()) std::exit(1);
    b.resize(n);
    const std::string name = !meta ? "no-meta" : meta == ae ? "ae-meta" : meta == gan ? "gan-meta" : "classifier-meta";
    put("checkpoint", name, b);
    if (!meta) put("checkpoint", "no-meta-cut", cut(b, 100));
  }
  fuzz::Int8Model q(false);  // a version 3 file with int8 records
  if (!q.ok) std::exit(1);
  q.fill();
  Bytes b(4096);
  size_t n = 0;
  if (!nn::save_checkpoint_to_memory(b.data(), b.size(), &n, q.params, nn::CheckpointState()).is_ok()) std::exit(1);
  b.resize(n);
  put("checkpoint", "int8", b);
  put("checkpoint", "int8-cut", cut(b, 60));
}

void config_seeds() {
  char text[512];
  auto config = [&](uint8_t control, const char* name, auto c, const char* key, const char* value) {
    if (key && !c.set(key, value).is_ok()) std::exit(1);
    if (!c.to_text(text, sizeof text).is_ok()) std::exit(1);
    put("config", name, with_control(control, testing::bytes_of(text)));
  };
  config(0, "ae", models::AeConfig(), nullptr, nullptr);
  config(0, "ae-conv", models::AeConfig(), "arch", "conv");
  config(1, "gan", models::GanConfig(), nullptr, nullptr);
  config(1, "gan-dcgan", models::GanConfig(), "kind", "dcgan");
  config(2, "classifier", models::ClassifierConfig(), nullptr, nullptr);
  config(2, "classifier-mlp", models::ClassifierConfig(), "arch", "mlp");
  put("config", "ae-bad-value", with_control(0, testing::bytes_of("kind=vae latent=-3 sigma=1e-2")));
}

void history_seeds() {
  put("history", "three-rows", testing::bytes_of("epoch,loss,seconds\n1,2.5,10\n2,1.25,11\n3,0.5,12\n"));
  put("history", "past-checkpoint", testing::bytes_of("epoch,loss,seconds\n3,1,1\n4,1,1\n5,1,1\n6,1,1\n"));
  put("history", "repeats", testing::bytes_of("epoch,loss,seconds\n1,1,1\n2,1,1\n1,1,1\n2,1,1\n1,1,1\n2,1,1\n1,1,1\n"));
  put("history", "odd-numbers", testing::bytes_of("epoch,loss,seconds\n1,-1e-3,inf\n2,nan,0x10\n3,,\n"));
  put("history", "other-columns", testing::bytes_of("epoch,other,seconds\n1,2,3\n"));
  put("history", "empty", Bytes());
}

// json: control byte (token capacity in bits 0-1: 0, 4, 64, 4096; depth limit 1 + bits 2-7).
void json_seeds() {
  constexpr uint8_t kPlenty = 3, kDepth32 = 31 << 2;
  put("json", "object", with_control(kPlenty | kDepth32, testing::bytes_of(
      R"({"a": [1, -2.5e3, true, false, null], "b\u00e9\ud83d\ude00": {"c": "x\ny"}, "d": {}, "e": []})")));
  put("json", "escapes", with_control(kPlenty | kDepth32, testing::bytes_of(
      R"(["\"\\\/\b\f\n\r\t\u0041", 0, 18446744073709551615, 18446744073709551616, 1E+2])")));
  put("json", "small-capacity", with_control(1 | kDepth32, testing::bytes_of("[1, 2, 3]")));
  put("json", "depth-3", with_control(kPlenty | (2 << 2), testing::bytes_of("[[[1]], [[[2]]]]")));
}

// A safetensors file from its header text and data bytes (header padded to 8 as written).
Bytes safetensors_of(std::string json, const Bytes& data) {
  while (json.size() % 8) json += ' ';
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(uint8_t(uint64_t(json.size()) >> (8 * i)));
  b.insert(b.end(), json.begin(), json.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

// safetensors: control byte (tensor room in bits 0-1: 0, 1, 4, 64; bit 2: 16 tokens), then the file.
void safetensors_seeds() {
  const float w[6] = {1.5f, -2, 0.25f, 3, -0.0f, 1e-3f};
  SafetensorsInput in[3];
  in[0].name = "enc.weight", in[0].rank = 2, in[0].dims[0] = 2, in[0].dims[1] = 2, in[0].data = w;
  in[1].name = "enc.bias \"quoted\"", in[1].rank = 1, in[1].dims[0] = 2, in[1].data = w + 4;
  in[2].name = "empty", in[2].rank = 2, in[2].dims[0] = 0, in[2].dims[1] = 3;
  const SafetensorsMeta meta[2] = {{"format", "pt"}, {"note", "line\nbreak"}};
  SafetensorsWriteList list;
  list.tensors = in, list.count = 3, list.metadata = meta, list.metadata_count = 2;
  Bytes b(512);
  size_t n = 0;
  if (!safetensors_write(list, b.data(), b.size(), &n).is_ok()) std::exit(1);
  b.resize(n);
  put("safetensors", "written", with_control(3, b));
  put("safetensors", "written-room-1", with_control(1, b));
  put("safetensors", "written-16-tokens", with_control(3 | 4, b));
  put("safetensors", "written-cut", with_control(3, cut(b, 40)));
  // As the reference library lays it out: F32 first, then F16, BF16 and I32, by name.
  Bytes data;
  for (int i = 0; i < 8; ++i) data.push_back(uint8_t(i == 3 || i == 7 ? 0x3F : 0));  // two F32 0.5
  for (uint8_t v : {0x00, 0x3C, 0x01, 0x00, 0x00, 0x7C, 0x00, 0xFE}) data.push_back(v);  // F16 1, subnormal, inf, NaN
  for (uint8_t v : {0x80, 0x3F, 0x80, 0xBF}) data.push_back(v);  // BF16 1, -1
  for (uint8_t v : {1, 0, 0, 0}) data.push_back(v);               // I32 1
  put("safetensors", "mixed-dtypes", with_control(3, safetensors_of(
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("h":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]},"g":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]},)"
      R"("i":{"dtype":"I32","shape":[],"data_offsets":[20,24]}})", data)));
  put("safetensors", "empty", with_control(3, safetensors_of("{}", Bytes())));
}

// npy: the file itself.
void npy_seeds() {
  const float x[6] = {1, -2, 0.5f, 3, -0.0f, 7};
  auto written = [&](const char* name, std::vector<uint64_t> dims) {
    Bytes b(256);
    size_t n = 0;
    if (!npy_write(dims.data(), int(dims.size()), x, b.data(), b.size(), &n).is_ok()) std::exit(1);
    b.resize(n);
    put("npy", name, b);
    return b;
  };
  const Bytes b23 = written("2x3", {2, 3});
  written("vector", {5});
  written("scalar", {});
  written("empty", {0, 4});
  put("npy", "2x3-cut", cut(b23, 100));
  // Version 2.0, double quotes, keys reordered, no trailing comma, 16-byte alignment.
  std::string h = "{\"shape\": (3,), \"descr\": \"<f4\", \"fortran_order\": False}";
  while ((12 + h.size() + 1) % 16) h += ' ';
  h += '\n';
  Bytes v2 = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, uint8_t(h.size()), 0, 0, 0};
  v2.insert(v2.end(), h.begin(), h.end());
  v2.insert(v2.end(), 12, 0x40);
  put("npy", "v2-double-quotes", v2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR   (writes CORPUS_DIR/<target>/<seed>)\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  inflate_seeds();
  idx_seeds();
  checkpoint_seeds();
  config_seeds();
  history_seeds();
  json_seeds();
  safetensors_seeds();
  npy_seeds();
  std::printf("make-corpus: %d seeds in %s\n", g_written, g_root.c_str());
  return 0;
}
