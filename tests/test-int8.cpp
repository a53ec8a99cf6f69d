// int8 weights for sampling (nn/quantize.h): the widening kernel on every ISA against the
// scalar reference, the quantizer, the int8 layers against the float layers on the widened
// weights (bit for bit, every ISA, several panels) and each ISA's against the scalar path's
// (to 1e-5: another summation order), the checkpoint records (in place from
// memory, and every refusal), and int8 samplers of a VAE and a DCGAN against float ones.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "models/ae-model.h"
#include "io/crc32.h"
#include "models/gan-model.h"
#include "nn/checkpoint.h"
#include "nn/ops.h"
#include "nn/quantize.h"
#include "tests/model-fixture.h"
#include "tests/temp-dir.h"
#include "tests/testing.h"

using namespace ember;
using namespace ember::nn;
using ember::testing::random_vector;

namespace {

bool bits_equal(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

using testing::Scratch;
std::vector<Context*>& contexts() { return testing::isa_contexts(); }

// Random int8 weights (-127..127) with a positive scale per channel along `axis`, and the
// float weights they stand for (scale * q, as the scalar widening computes it).
struct Int8Weights {
  std::vector<int8_t> q;
  std::vector<float> scale, wide;
  Int8Weights(const Shape& shape, int axis, uint64_t seed) {
    const size_t n = static_cast<size_t>(shape.numel());
    int64_t inner = 1;
    for (int d = axis + 1; d < shape.rank; ++d) inner *= shape.dims[d];
    const int64_t channels = shape.dims[axis];
    Rng rng(seed);
    q.resize(n), wide.resize(n), scale.resize(static_cast<size_t>(channels));
    for (float& s : scale) s = 0.001f + 0.02f * rng.uniform();
    for (size_t i = 0; i < n; ++i) {
      q[i] = static_cast<int8_t>(static_cast<int>(rng.uniform() * 255.0f) - 127);
      wide[i] = scale[static_cast<size_t>((static_cast<int64_t>(i) / inner) % channels)] * static_cast<float>(q[i]);
    }
  }
  Weights int8() const { return Weights(q.data(), scale.data()); }
};

ConvShape conv_shape(int n, int c, int h, int w, int o, int k, int stride, int pad) {
  ConvShape s;
  s.n = n, s.c = c, s.h = h, s.w = w, s.o = o, s.kh = s.kw = k, s.stride = stride, s.pad = pad;
  return s;
}

}  // namespace

TEST_CASE("int8: widen_i8 gives the scalar reference's bits on every ISA, odd sizes and tails") {
  const Kernels& ref = *kernels_for(Isa::scalar);
  std::vector<int8_t> q(1031);
  Rng rng(3);
  for (int8_t& v : q) v = static_cast<int8_t>(static_cast<int>(rng.uniform() * 255.0f) - 127);
  q[0] = 127, q[1] = -127, q[2] = 0;
  for (const Kernels* k : testing::available_kernels()) {
    CAPTURE(k->name);
    for (size_t n : {0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 1031})
      for (float s : {1.0f, 0.0123f, 3.0e-5f, 0.0f, 7.5f}) {
        std::vector<float> want(n + 1, -1.0f), got(n + 1, -1.0f);
        ref.widen_i8(q.data(), s, want.data(), n);
        k->widen_i8(q.data(), s, got.data(), n);
        CAPTURE(n);
        CHECK(bits_equal(got.data(), want.data(), n + 1));  // and nothing written past n
      }
  }
}

TEST_CASE("int8: dot_i8 on every ISA agrees with the scalar reference to rounding, odd sizes and tails") {
  const Kernels& ref = *kernels_for(Isa::scalar);
  std::vector<int8_t> q(1031);
  Rng rng(4);
  for (int8_t& v : q) v = static_cast<int8_t>(static_cast<int>(rng.uniform() * 255.0f) - 127);
  const std::vector<float> x = random_vector(q.size(), 5);
  for (const Kernels* k : testing::available_kernels()) {
    CAPTURE(k->name);
    for (size_t n : {0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 400, 1031}) {
      CAPTURE(n);
      double exact = 0, mag = 0;
      for (size_t i = 0; i < n; ++i) exact += double(q[i]) * x[i], mag += std::fabs(double(q[i]) * x[i]);
      const float want = ref.dot_i8(q.data(), x.data(), n), got = k->dot_i8(q.data(), x.data(), n);
      CHECK(std::fabs(double(want) - exact) <= 1e-6 * (mag + 1));
      CHECK(std::fabs(double(got) - exact) <= 1e-6 * (mag + 1));
    }
  }
}

TEST_CASE("int8: quantize_channel is symmetric, within half a step, and never -128") {
  std::vector<float> w = random_vector(37, 5, -0.3f, 0.7f);
  std::vector<int8_t> q(w.size());
  const float s = quantize_channel(w.data(), w.size(), q.data());
  float top = 0.0f;
  for (float v : w) top = std::fabs(v) > top ? std::fabs(v) : top;
  CHECK(s == top / 127.0f);
  bool has_max = false;
  for (size_t i = 0; i < w.size(); ++i) {
    CHECK(q[i] >= -127);
    CHECK(std::fabs(w[i] - s * q[i]) <= 0.5f * s * 1.0001f);
    has_max |= q[i] == 127;
  }
  CHECK(has_max);  // the largest |w| maps to 127
  std::vector<float> zeros(9, 0.0f);
  CHECK(quantize_channel(zeros.data(), zeros.size(), q.data()) == 0.0f);
  for (size_t i = 0; i < zeros.size(); ++i) CHECK(q[i] == 0);
}

TEST_CASE("int8: linear with int8 weights is the float layer on the widened weights, every ISA, several panels") {
  struct Case { int batch, in, out; };
  // in = 600: 6 channels per 4096-float panel, so out = 50 takes 9 panels; in = 5000: one each.
  // Up to kInt8DotRows rows, dot_i8 per output instead: the same to rounding.
  const Case cases[] = {{1, 1, 1}, {3, 17, 13}, {1, 600, 50}, {7, 600, 50}, {5, 5000, 3}, {2, 5000, 3},
                        {1, 20, 400}, {9, 20, 400}};
  std::vector<std::vector<float>> scalar;  // the scalar path's outputs (contexts() starts with it)
  for (Context* ctx : contexts()) {
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ++ci) {
      const Case& c = cases[ci];
      CAPTURE(ctx->k().name);
      CAPTURE(c.in);
      CAPTURE(c.out);
      const Int8Weights w(Shape(c.out, c.in), 0, 11);
      const std::vector<float> x = random_vector(size_t(c.batch) * c.in, 12), b = random_vector(size_t(c.out), 13);
      std::vector<float> want(size_t(c.batch) * c.out), got(want.size());
      Scratch sc(linear_scratch_floats(c.batch, c.in, true));
      REQUIRE(linear_forward(*ctx, x.data(), w.wide.data(), b.data(), want.data(), c.batch, c.in, c.out, Act::relu).is_ok());
      REQUIRE(linear_forward(*ctx, x.data(), w.int8(), b.data(), got.data(), c.batch, c.in, c.out, Act::relu, 0.0f, sc.p)
                  .is_ok());
      if (c.batch > kInt8DotRows) CHECK(bits_equal(got.data(), want.data(), want.size()));
      else CHECK(testing::first_mismatch(got.data(), want.data(), got.size(), 1e-5f, 1e-5f) < 0);  // dot_i8
      // And against the scalar reference: the same sums in another order.
      if (ctx->k().isa == Isa::scalar) scalar.push_back(got);
      else CHECK(testing::first_mismatch(got.data(), scalar[ci].data(), got.size(), 1e-5f, 1e-5f) < 0);
    }
  }
}

TEST_CASE("int8: conv2d and conv_t2d with int8 weights are the float layers on the widened weights") {
  struct Case { ConvShape s; bool transposed; };
  // Pixel-row and channel-major paths of both, with output channels over several panels:
  // conv K = 64*16 = 1024 (4 channels a panel, 9 channels); convT C kh kw = 128*16 = 2048
  // (2 a panel, 9 channels; Kc = 144 takes the pixel-row path), and 300*16 (1 a panel, Kc = 48:
  // channel-major); odd sizes everywhere else.
  const Case cases[] = {{conv_shape(2, 64, 6, 6, 9, 4, 2, 1), false}, {conv_shape(3, 1, 9, 7, 5, 3, 1, 1), false},
                        {conv_shape(2, 5, 7, 9, 3, 3, 2, 0), false}, {conv_shape(2, 128, 4, 3, 9, 4, 2, 1), true},
                        {conv_shape(2, 300, 3, 3, 3, 4, 2, 1), true}, {conv_shape(3, 6, 5, 4, 7, 3, 1, 1), true}};
  std::vector<std::vector<float>> scalar;  // the scalar path's outputs (contexts() starts with it)
  for (Context* ctx : contexts()) {
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ++ci) {
      const Case& c = cases[ci];
      const ConvShape& s = c.s;
      CAPTURE(ctx->k().name);
      CAPTURE(s.c);
      CAPTURE(c.transposed);
      const Shape ws = c.transposed ? Shape(s.c, s.o, s.kh, s.kw) : Shape(s.o, s.c, s.kh, s.kw);
      const Int8Weights w(ws, c.transposed ? 1 : 0, 21);
      const std::vector<float> x = random_vector(size_t(s.n) * s.c * s.h * s.w, 22), b = random_vector(size_t(s.o), 23);
      const size_t y_size = size_t(s.n) * s.o * s.out_h(c.transposed) * s.out_w(c.transposed);
      std::vector<float> want(y_size), got(y_size);
      Scratch sf(c.transposed ? conv_t2d_scratch_floats(s, 1) : conv2d_scratch_floats(s, 1));
      Scratch sq(c.transposed ? conv_t2d_scratch_floats(s, 1, true) : conv2d_scratch_floats(s, 1, true));
      if (c.transposed) {
        REQUIRE(conv_t2d_forward(*ctx, s, x.data(), w.wide.data(), b.data(), want.data(), sf.p).is_ok());
        REQUIRE(conv_t2d_forward(*ctx, s, x.data(), w.int8(), b.data(), got.data(), sq.p).is_ok());
      } else {
        REQUIRE(conv2d_forward(*ctx, s, x.data(), w.wide.data(), b.data(), want.data(), sf.p).is_ok());
        REQUIRE(conv2d_forward(*ctx, s, x.data(), w.int8(), b.data(), got.data(), sq.p).is_ok());
      }
      CHECK(bits_equal(got.data(), want.data(), y_size));
      if (ctx->k().isa == Isa::scalar) scalar.push_back(got);
      else CHECK(testing::first_mismatch(got.data(), scalar[ci].data(), got.size(), 1e-4f, 1e-5f) < 0);
    }
  }
}

namespace {

// A small parameter table: an int8 weight [5, 7] (axis 0) or a convT's [3, 4, 2, 2] (axis 1),
// and a float bias.
struct Table {
  std::vector<uint8_t> buf = std::vector<uint8_t>(1 << 16);
  Arena arena{buf.data(), buf.size()};
  Params params{&arena};
  explicit Table(bool int8, bool in_place = false, int axis = 0) {
    int id = -1;
    const Shape w = axis == 0 ? Shape(5, 7) : Shape(3, 4, 2, 2);
    REQUIRE(params.get_or_add("fc.weight", w, InitSpec(), true, &id).is_ok());
    if (int8) REQUIRE(params.set_int8(id, axis).is_ok());
    REQUIRE(params.get_or_add("fc.bias", Shape(5), InitSpec(), true, &id).is_ok());
    params.set_int8_in_place(in_place);
    REQUIRE(params.allocate(&arena, ParamMode::inference).is_ok());
  }
  Param& w() { return params[0]; }
  void fill(uint64_t seed) {
    Rng rng(seed);
    int8_t* q = const_cast<int8_t*>(w().q);
    for (size_t i = 0; i < w().numel(); ++i) q[i] = static_cast<int8_t>(static_cast<int>(rng.uniform() * 255.0f) - 127);
    for (int64_t c = 0; c < w().channels(); ++c) w().scale[c] = 0.01f * float(c + 1);
    for (int i = 0; i < 5; ++i) params[1].value[i] = float(i) - 2.0f;
  }
  std::vector<uint8_t> bytes() {
    uint64_t size = 0;
    REQUIRE(checkpoint_size(params, CheckpointState(), &size).is_ok());
    std::vector<uint8_t> out(size);
    size_t written = 0;
    REQUIRE(save_checkpoint_to_memory(out.data(), out.size(), &written, params, CheckpointState()).is_ok());
    return out;
  }
};

// Where the int8 values of the first record begin: header, name, record header, dims, axis,
// scales.
size_t q_offset(int rank, int64_t channels) { return 40 + 2 + 9 + 4 + 8 * size_t(rank) + 1 + 4 * size_t(channels); }

void fix_crc(std::vector<uint8_t>& b) {
  const uint32_t c = crc32_update(0, b.data(), b.size() - 4);
  for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = uint8_t(c >> (8 * i));
}

}  // namespace

TEST_CASE("int8: checkpoint records round-trip, load in place from memory, and are refused when wrong") {
  Table a(true);
  a.fill(7);
  std::vector<uint8_t> b = a.bytes();
  CHECK(b[8] == 3);  // int8 records make a version 3 file
  // Exactly the bytes the format describes: one per value, a float per channel, an axis byte.
  CHECK(b.size() == 40 + (2 + 9 + 4 + 16 + 1 + 5 * 4 + 35) + (2 + 7 + 4 + 8 + 5 * 4) + 12);

  Table copy(true);
  REQUIRE(load_checkpoint_from_memory(b.data(), b.size(), &copy.params, CheckpointState()).is_ok());
  CHECK(std::memcmp(copy.w().q, a.w().q, 35) == 0);
  CHECK(bits_equal(copy.w().scale, a.w().scale, 5));
  CHECK(copy.bytes() == b);

  Table flash(true, true);  // in place: no copy, q points into the bytes
  CHECK(flash.w().q == nullptr);
  CHECK(flash.params.bytes(ParamMode::inference).values < copy.params.bytes(ParamMode::inference).values);
  REQUIRE(load_checkpoint_from_memory(b.data(), b.size(), &flash.params, CheckpointState()).is_ok());
  CHECK(reinterpret_cast<const uint8_t*>(flash.w().q) == b.data() + q_offset(2, 5));
  CHECK(bits_equal(flash.w().scale, a.w().scale, 5));

  testing::TempDir dir("int8");
  const std::string path = dir.file("w8.ckpt");
  REQUIRE(save_checkpoint(path.c_str(), a.params, CheckpointState()).is_ok());
  Table from_file(true);
  REQUIRE(load_checkpoint(path.c_str(), &from_file.params, CheckpointState()).is_ok());
  CHECK(std::memcmp(from_file.w().q, a.w().q, 35) == 0);
  Table in_place(true, true);
  Status s = load_checkpoint(path.c_str(), &in_place.params, CheckpointState());
  CHECK(s.code() == Code::invalid_argument);
  CHECK(testing::message_has(s, "from memory"));
  CHECK(in_place.w().q == nullptr);

  // Storage and axis must agree with the model's.
  Table f32(false);
  f32.params[1].value[0] = 42.0f;
  s = load_checkpoint_from_memory(b.data(), b.size(), &f32.params, CheckpointState());
  CHECK(s.code() == Code::shape_mismatch);
  CHECK(testing::message_has(s, "int8 in the file, float32 in the model"));
  CHECK(f32.params[1].value[0] == 42.0f);
  const std::vector<uint8_t> fb = f32.bytes();
  CHECK(fb[8] == 2);
  s = load_checkpoint_from_memory(fb.data(), fb.size(), &copy.params, CheckpointState());
  CHECK(testing::message_has(s, "float32 in the file, int8 in the model"));

  // Hostile bytes (CRC fixed so that the check under test is reached); the model unchanged.
  const std::vector<uint8_t> before(copy.w().q, copy.w().q + 35);
  auto refused = [&](std::vector<uint8_t> bad, const char* why) {
    fix_crc(bad);
    const Status r = load_checkpoint_from_memory(bad.data(), bad.size(), &copy.params, CheckpointState());
    CAPTURE(r.message());
    CHECK(r.code() == Code::corrupt_data);
    CHECK(testing::message_has(r, why));
    CHECK(std::memcmp(copy.w().q, before.data(), 35) == 0);
  };
  std::vector<uint8_t> bad = b;
  bad[q_offset(2, 5) + 3] = 0x80;
  refused(bad, "-128");
  bad = b;
  bad[q_offset(2, 5) - 1] |= 0x80;  // the last scale's sign
  refused(bad, "negative");
  bad = b;
  bad[q_offset(2, 5) - 21] = 2;  // the axis byte: not below the rank
  refused(bad, "axis");
  bad = b;
  bad[8] = 2;  // int8 records are version 3
  refused(bad, "array set");
  bad = std::vector<uint8_t>(b.begin(), b.begin() + q_offset(2, 5) + 10);
  bad.resize(bad.size() + 4);
  for (int i = 0; i < 8; ++i) bad[16 + i] = uint8_t(uint64_t(bad.size()) >> (8 * i));
  refused(bad, "remain");
}

TEST_CASE("int8: a ConvTranspose2d weight is quantized per output channel, axis 1") {
  Table t(true, false, 1);
  CHECK(t.w().channels() == 4);
  CHECK(t.w().channel_inner() == 4);
  Table f(false, false, 1);
  Rng rng(9);
  rng.fill_uniform(f.w().value, f.w().numel(), -1.0f, 1.0f);
  for (int i = 0; i < 5; ++i) f.params[1].value[i] = 0.5f * float(i);
  REQUIRE(quantize_params(f.params, &t.params).is_ok());
  for (int64_t o = 0; o < 4; ++o) {  // the scale is the channel's max over every input channel
    float top = 0.0f;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t k = 0; k < 4; ++k) top = std::fmax(top, std::fabs(f.w().value[(c * 4 + o) * 4 + k]));
    CHECK(t.w().scale[o] == top / 127.0f);
  }
  Table back(false, false, 1);
  REQUIRE(dequantize_params(t.params, &back.params, false).is_ok());
  for (size_t i = 0; i < f.w().numel(); ++i) {
    const int64_t o = (int64_t(i) / 4) % 4;
    CHECK(std::fabs(back.w().value[i] - f.w().value[i]) <= 0.5f * t.w().scale[o] * 1.0001f);
  }
  CHECK(bits_equal(back.params[1].value, f.params[1].value, 5));
}

TEST_CASE("int8: a VAE decoder and a DCGAN generator sample what their float twins on w' sample") {
  using models::AeModel;
  using models::GanModel;
  // VAE: a trained-looking float decoder (random weights), its int8 copy, and the float model
  // holding the int8 copy's weights widened back.
  AeModel::Setup fs = testing::small_ae(models::ModelKind::vae, models::Arch::mlp, false, true);
  testing::ModelFixture<AeModel> f(fs);
  Rng(4).fill_uniform(f->params()[0].value, f->params()[0].numel(), -0.5f, 0.5f);
  AeModel::Setup qs = fs;
  qs.config.weights = Storage::int8;
  testing::ModelFixture<AeModel> q(qs);
  CHECK(q->params().int8_count() == 2);
  REQUIRE(quantize_params(f->params(), &q->params()).is_ok());
  testing::ModelFixture<AeModel> w(fs);
  REQUIRE(dequantize_params(q->params(), &w->params(), false).is_ok());
  const int n = 5;
  std::vector<float> z = random_vector(size_t(n) * fs.config.latent, 6, -2.0f, 2.0f);
  std::vector<float> xq(size_t(n) * 256), xw(xq.size()), xf(xq.size());
  REQUIRE(q->decode(z.data(), n, xq.data()).is_ok());
  REQUIRE(w->decode(z.data(), n, xw.data()).is_ok());
  REQUIRE(f->decode(z.data(), n, xf.data()).is_ok());
  CHECK(bits_equal(xq.data(), xw.data(), xq.size()));
  CHECK(testing::first_mismatch(xq.data(), xf.data(), xq.size(), 0.0f, 0.02f) < 0);  // close to the float model
  // One sample at a time (dot_i8, no panel): the same images to rounding, and no scratch.
  AeModel::Setup q1s = qs;
  q1s.eval_batch = 1;
  testing::ModelFixture<AeModel> q1(q1s);
  REQUIRE(quantize_params(f->params(), &q1->params()).is_ok());
  std::vector<float> x1(xq.size());
  REQUIRE(q1->decode(z.data(), n, x1.data()).is_ok());
  CHECK(testing::first_mismatch(x1.data(), xq.data(), xq.size(), 1e-5f, 1e-6f) < 0);
  CHECK(q1->decoder_graph().bytes().scratch == 0);
  // Saved and loaded back (a version 3 sampler file), it samples the same.
  testing::TempDir dir("int8-models");
  const std::string path = dir.file("dec8.ember");
  REQUIRE(q->save(path.c_str(), 1).is_ok());
  AeModel::Setup read;
  REQUIRE(AeModel::read_config(path.c_str(), &read.config).is_ok());
  CHECK(read.config.weights == Storage::int8);
  testing::ModelFixture<AeModel> q2(qs);
  uint64_t step = 0;
  REQUIRE(q2->load(path.c_str(), &step).is_ok());
  REQUIRE(q2->decode(z.data(), n, xw.data()).is_ok());
  CHECK(bits_equal(xq.data(), xw.data(), xq.size()));
  // Sampling only: training or an encoder with int8 weights is refused.
  AeModel never;
  AeModel::Setup train = qs;
  train.decoder_only = false;
  CHECK(never.configure(train).code() == Code::invalid_argument);

  // DCGAN: linear, BatchNorm and two ConvTranspose2d layers.
  GanModel::Setup gs = testing::small_gan(models::GanKind::dcgan, false, true);
  gs.eval_batch = 5;  // above kInt8DotRows: g.fc through a panel too
  testing::ModelFixture<GanModel> g(gs);
  for (int i = 0; i < g->params().count(); ++i) {
    Param& p = g->params()[i];
    if (p.shape.rank >= 2) Rng(uint64_t(30 + i)).fill_uniform(p.value, p.numel(), -0.3f, 0.3f);
  }
  GanModel::Setup gq = gs;
  gq.config.weights = Storage::int8;
  testing::ModelFixture<GanModel> g8(gq);
  CHECK(g8->params().int8_count() == 3);
  REQUIRE(quantize_params(g->params(), &g8->params()).is_ok());
  testing::ModelFixture<GanModel> gw(gs);
  REQUIRE(dequantize_params(g8->params(), &gw->params(), false).is_ok());
  std::vector<float> gz = random_vector(size_t(3) * gs.config.z_dim, 8);
  std::vector<float> y8(size_t(3) * 256), yw(y8.size());
  const int32_t labels[3] = {0, 0, 0};
  REQUIRE(g8->generate(gz.data(), labels, 3, y8.data()).is_ok());
  REQUIRE(gw->generate(gz.data(), labels, 3, yw.data()).is_ok());
  CHECK(bits_equal(y8.data(), yw.data(), y8.size()));
  // The weights take a quarter of the bytes, plus a scale per channel (the panel of scratch
  // the int8 layers add is fixed: 16 KiB at most per layer, shared through the plan).
  const size_t v8 = g8->params().bytes(ParamMode::inference).values;
  const size_t v32 = g->params().bytes(ParamMode::inference).values;
  CHECK(v8 < v32);  // tiny layers: each piece is rounded to 64 bytes
}
