// Dense and convolution ops (Linear, Conv2d, ConvTranspose2d, BatchNorm): forward against
// naive loops, every gradient against finite differences, convT as conv's adjoint, the
// accumulate / null-pointer conventions, running statistics, and bit-identical results with
// 1 and 2 threads. All on the default ISA.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "nn/ops.h"
#include "tests/gradcheck.h"
#include "tests/testing.h"

using namespace ember;
using namespace ember::nn;
using ember::testing::check_gradient;
using ember::testing::project;
using ember::testing::random_vector;

namespace {

// A Context with its own arena, sized for the largest GEMM scratch any table needs.
struct Ctx {
  std::vector<unsigned char> buf;
  std::unique_ptr<Arena> arena;
  Context ctx;
  explicit Ctx(int threads) {
    size_t bytes = 0;
    for (const Kernels* k : ember::testing::available_kernels()) {
      const size_t b = Context::scratch_bytes(*k, threads);
      if (b > bytes) bytes = b;
    }
    buf.resize(bytes + 256);
    arena.reset(new Arena(buf.data(), buf.size()));
    Context::Options opt;
    opt.threads = threads;
    REQUIRE(ctx.init(arena.get(), opt).is_ok());
  }
};

Context& ctx1() {
  static Ctx c(1);
  return c.ctx;
}

using testing::Scratch;

ConvShape shape(int n, int c, int h, int w, int o, int kh, int kw, int stride, int pad) {
  ConvShape s;
  s.n = n, s.c = c, s.h = h, s.w = w, s.o = o, s.kh = kh, s.kw = kw, s.stride = stride, s.pad = pad;
  return s;
}

size_t numel(int a, int b, int c, int d) { return size_t(a) * b * c * d; }

// Direct loops, in double: y[n,o,oy,ox] = b[o] + sum w[o,c,ki,kj] x[n,c,oy s - p + ki, ox s - p + kj]
std::vector<float> naive_conv(const ConvShape& s, const float* x, const float* w, const float* b) {
  const int oh = s.out_h(false), ow = s.out_w(false);
  std::vector<float> y(numel(s.n, s.o, oh, ow));
  for (int n = 0; n < s.n; ++n)
    for (int o = 0; o < s.o; ++o)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double acc = b ? b[o] : 0.0;
          for (int c = 0; c < s.c; ++c)
            for (int ki = 0; ki < s.kh; ++ki)
              for (int kj = 0; kj < s.kw; ++kj) {
                const int iy = oy * s.stride - s.pad + ki, ix = ox * s.stride - s.pad + kj;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                acc += double(w[((o * s.c + c) * s.kh + ki) * s.kw + kj]) *
                       x[((size_t(n) * s.c + c) * s.h + iy) * s.w + ix];
              }
          y[((size_t(n) * s.o + o) * oh + oy) * ow + ox] = float(acc);
        }
  return y;
}

// Transposed conv by scattering, in double: each x[n,c,iy,ix] adds w[c,o,ki,kj] x to
// y[n,o,iy s - p + ki, ix s - p + kj].
std::vector<float> naive_conv_t(const ConvShape& s, const float* x, const float* w, const float* b) {
  const int oh = s.out_h(true), ow = s.out_w(true);
  std::vector<double> acc(numel(s.n, s.o, oh, ow), 0.0);
  for (int n = 0; n < s.n; ++n)
    for (int o = 0; o < s.o; ++o)
      for (int i = 0; i < oh * ow; ++i) acc[(size_t(n) * s.o + o) * oh * ow + i] = b ? b[o] : 0.0;
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.c; ++c)
      for (int iy = 0; iy < s.h; ++iy)
        for (int ix = 0; ix < s.w; ++ix) {
          const double v = x[((size_t(n) * s.c + c) * s.h + iy) * s.w + ix];
          for (int o = 0; o < s.o; ++o)
            for (int ki = 0; ki < s.kh; ++ki)
              for (int kj = 0; kj < s.kw; ++kj) {
                const int oy = iy * s.stride - s.pad + ki, ox = ix * s.stride - s.pad + kj;
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                acc[((size_t(n) * s.o + o) * oh + oy) * ow + ox] += w[((c * s.o + o) * s.kh + ki) * s.kw + kj] * v;
              }
        }
  return std::vector<float>(acc.begin(), acc.end());
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  REQUIRE(got.size() == want.size());
  const long bad = ember::testing::first_mismatch(got.data(), want.data(), got.size(), tol, tol);
  CHECK_MESSAGE(bad < 0, "first mismatch at " << bad << ": " << got[bad < 0 ? 0 : bad] << " vs "
                                                << want[bad < 0 ? 0 : bad]);
}

// One conv-like op (conv or convT) behind a common face, for the shared checks.
struct ConvOp {
  ConvShape s;
  bool transposed;
  size_t x_size() const { return numel(s.n, s.c, s.h, s.w); }
  size_t y_size() const { return numel(s.n, s.o, s.out_h(transposed), s.out_w(transposed)); }
  size_t w_size() const { return numel(s.o, s.c, s.kh, s.kw); }
  size_t scratch(int workers) const {
    return transposed ? conv_t2d_scratch_floats(s, workers) : conv2d_scratch_floats(s, workers);
  }
  void forward(Context& ctx, const float* x, const float* w, const float* b, float* y, float* sc) const {
    if (transposed) conv_t2d_forward(ctx, s, x, w, b, y, sc);
    else conv2d_forward(ctx, s, x, w, b, y, sc);
  }
  void backward(Context& ctx, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                float* sc, GradWrites writes = {}) const {
    if (transposed) conv_t2d_backward(ctx, s, x, w, dy, dx, dw, db, sc, writes);
    else conv2d_backward(ctx, s, x, w, dy, dx, dw, db, sc, writes);
  }
  std::vector<float> naive(const float* x, const float* w, const float* b) const {
    return transposed ? naive_conv_t(s, x, w, b) : naive_conv(s, x, w, b);
  }
};

// Forward vs naive loops, then finite differences for x, w and b.
void check_conv_op(const ConvOp& op, uint64_t seed) {
  Context& ctx = ctx1();
  std::vector<float> x = random_vector(op.x_size(), seed), w = random_vector(op.w_size(), seed + 1);
  std::vector<float> b = random_vector(size_t(op.s.o), seed + 2);
  std::vector<float> r = random_vector(op.y_size(), seed + 3);
  std::vector<float> y(op.y_size());
  Scratch sc(op.scratch(ctx.threads()));
  op.forward(ctx, x.data(), w.data(), b.data(), y.data(), sc.p);
  check_close(y, op.naive(x.data(), w.data(), b.data()), 1e-5f);

  std::vector<float> dx(x.size(), 0.0f), dw(w.size(), 0.0f), db(b.size(), 0.0f);
  op.backward(ctx, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data(), sc.p);
  auto loss = [&] {
    op.forward(ctx, x.data(), w.data(), b.data(), y.data(), sc.p);
    return project(y.data(), r.data(), y.size());
  };
  check_gradient("dx", x.data(), dx.data(), x.size(), loss);
  check_gradient("dw", w.data(), dw.data(), w.size(), loss);
  check_gradient("db", b.data(), db.data(), b.size(), loss);
}

const ConvShape kShapes[] = {
    shape(2, 2, 5, 7, 3, 3, 3, 1, 0), shape(2, 3, 5, 7, 2, 3, 3, 1, 1), shape(2, 2, 7, 5, 3, 3, 3, 2, 1),
    shape(2, 3, 5, 7, 2, 4, 4, 2, 1), shape(2, 2, 6, 7, 3, 4, 4, 2, 2), shape(2, 2, 5, 7, 3, 3, 4, 1, 2),
    shape(2, 3, 7, 5, 2, 4, 3, 3, 2),
    shape(2, 2, 6, 7, 2, 2, 6, 2, 3),  // width 6: the generic path; pad > kh: windows wholly in padding
};

}  // namespace

TEST_CASE("linear: forward against loops, finite-difference gradients for x, W, b, fused act") {
  Context& ctx = ctx1();
  const int B = 3, I = 5, O = 4;
  std::vector<float> x = random_vector(B * I, 1), w = random_vector(O * I, 2), b = random_vector(O, 3);
  std::vector<float> r = random_vector(B * O, 4), y(B * O), want(B * O);
  for (int i = 0; i < B; ++i)
    for (int o = 0; o < O; ++o) {
      double acc = b[o];
      for (int k = 0; k < I; ++k) acc += double(x[i * I + k]) * w[o * I + k];
      want[i * O + o] = float(acc);
    }
  linear_forward(ctx, x.data(), w.data(), b.data(), y.data(), B, I, O);
  check_close(y, want, 1e-5f);
  linear_forward(ctx, x.data(), w.data(), b.data(), y.data(), B, I, O, Act::leaky_relu, 0.2f);
  for (float& v : want) v = v > 0 ? v : 0.2f * v;
  check_close(y, want, 1e-5f);

  std::vector<float> dx(x.size(), 0.0f), dw(w.size(), 0.0f), db(b.size(), 0.0f);
  linear_backward(ctx, x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data(), B, I, O);
  auto loss = [&] {
    linear_forward(ctx, x.data(), w.data(), b.data(), y.data(), B, I, O);
    return project(y.data(), r.data(), y.size());
  };
  check_gradient("linear dx", x.data(), dx.data(), x.size(), loss);
  check_gradient("linear dw", w.data(), dw.data(), w.size(), loss);
  check_gradient("linear db", b.data(), db.data(), b.size(), loss);
}

TEST_CASE("linear: the GEMM's Status comes back (ok, or the error of an uninitialised context)") {
  const int B = 2, I = 3, O = 4;
  std::vector<float> x = random_vector(B * I, 1), w = random_vector(O * I, 2), y(B * O), dx(B * I);
  CHECK(linear_forward(ctx1(), x.data(), w.data(), nullptr, y.data(), B, I, O).is_ok());
  Context none;
  CHECK(linear_forward(none, x.data(), w.data(), nullptr, y.data(), B, I, O).code() == Code::invalid_argument);
  CHECK(linear_backward(none, x.data(), w.data(), y.data(), dx.data(), nullptr, nullptr, B, I, O).code() ==
        Code::invalid_argument);
}

TEST_CASE("conv2d: forward against direct loops and gradients, strides 1-3, padding 0-2") {
  uint64_t seed = 100;
  for (const ConvShape& s : kShapes) {
    INFO("h " << s.h << " w " << s.w << " k " << s.kh << "x" << s.kw << " stride " << s.stride << " pad " << s.pad);
    check_conv_op(ConvOp{s, false}, seed += 10);
  }
}

TEST_CASE("conv_t2d: forward against scatter loops and gradients, strides 1-3, padding 0-2") {
  uint64_t seed = 200;
  for (const ConvShape& s : kShapes) {
    INFO("h " << s.h << " w " << s.w << " k " << s.kh << "x" << s.kw << " stride " << s.stride << " pad " << s.pad);
    check_conv_op(ConvOp{s, true}, seed += 10);
  }
}

// The shapes above have short patches (C kh kw <= 64 for conv, O kh kw for convT), so they take
// the channel-major path (detail::use_cm). The same shapes with 8 channels on the patch side
// take the pixel-row path and its im2col / col2im through a ring of padded rows for every kernel
// width; the last two have padded rows (kh of them, 4 x 532 floats) over the stack budget of
// that fast path, so they take the clipped one.
TEST_CASE("conv and conv_t2d: pixel-row layout (long patches), strides 1-3, padding 0-2, big planes") {
  uint64_t seed = 300;
  for (bool transposed : {false, true}) {
    for (ConvShape s : kShapes) {
      (transposed ? s.o : s.c) = 8;
      INFO((transposed ? "convT" : "conv") << " h " << s.h << " w " << s.w << " k " << s.kh << "x" << s.kw
                                           << " stride " << s.stride << " pad " << s.pad);
      check_conv_op(ConvOp{s, transposed}, seed += 10);
    }
  }
  check_conv_op(ConvOp{shape(1, 5, 6, 530, 2, 4, 4, 2, 1), false}, 401);
  check_conv_op(ConvOp{shape(1, 2, 3, 265, 5, 4, 4, 2, 1), true}, 402);  // y is 6 x 530
}

TEST_CASE("conv and conv_t2d: DCGAN-sized layers over several image groups match the loops") {
  // 20 images of these shapes need two GEMM groups (images_per_group), so group edges are hit;
  // the 1-channel layers take the channel-major path.
  const ConvOp ops[] = {{shape(20, 64, 14, 14, 128, 4, 4, 2, 1), false}, {shape(20, 128, 7, 7, 64, 4, 4, 2, 1), true},
                        {shape(20, 1, 28, 28, 64, 4, 4, 2, 1), false}, {shape(20, 64, 14, 14, 1, 4, 4, 2, 1), true}};
  for (const ConvOp& op : ops) {
    Context& ctx = ctx1();
    std::vector<float> x = random_vector(op.x_size(), 7), w = random_vector(op.w_size(), 8, -0.05f, 0.05f);
    std::vector<float> b = random_vector(size_t(op.s.o), 9), y(op.y_size());
    Scratch sc(op.scratch(1));
    op.forward(ctx, x.data(), w.data(), b.data(), y.data(), sc.p);
    check_close(y, op.naive(x.data(), w.data(), b.data()), 1e-4f);
  }
}

TEST_CASE("conv_t2d is the adjoint of conv2d: <conv(x), y> == <x, convT(y)>") {
  Context& ctx = ctx1();
  // Shapes where the transposed conv maps the conv's output size back to its input size.
  const ConvShape shapes[] = {shape(2, 3, 7, 5, 2, 3, 3, 2, 1), shape(2, 2, 6, 8, 3, 4, 4, 2, 1),
                              shape(2, 2, 5, 7, 3, 3, 3, 1, 2)};
  for (const ConvShape& s : shapes) {
    const int oh = s.out_h(false), ow = s.out_w(false);
    ConvShape t = shape(s.n, s.o, oh, ow, s.c, s.kh, s.kw, s.stride, s.pad);
    REQUIRE(t.out_h(true) == s.h);
    REQUIRE(t.out_w(true) == s.w);
    std::vector<float> x = random_vector(numel(s.n, s.c, s.h, s.w), 31), w = random_vector(numel(s.o, s.c, s.kh, s.kw), 32);
    std::vector<float> y = random_vector(numel(s.n, s.o, oh, ow), 33);
    std::vector<float> cx(y.size()), ty(x.size());
    Scratch sc(conv2d_scratch_floats(s, 1) + conv_t2d_scratch_floats(t, 1));
    conv2d_forward(ctx, s, x.data(), w.data(), nullptr, cx.data(), sc.p);
    conv_t2d_forward(ctx, t, y.data(), w.data(), nullptr, ty.data(), sc.p);  // w[O,C,kh,kw] read as convT's [C',O',..]
    const double lhs = project(cx.data(), y.data(), y.size()), rhs = project(x.data(), ty.data(), x.size());
    CHECK(std::fabs(lhs - rhs) <= 1e-4 * (1.0 + std::fabs(lhs)));
  }
}

TEST_CASE("dense ops: backward adds into gradients and skips null ones") {
  Context& ctx = ctx1();
  for (bool transposed : {false, true}) {
    const ConvOp op{shape(2, 3, 5, 7, 2, 4, 4, 2, 1), transposed};
    std::vector<float> x = random_vector(op.x_size(), 41), w = random_vector(op.w_size(), 42);
    std::vector<float> dy = random_vector(op.y_size(), 43);
    Scratch sc(op.scratch(1));
    std::vector<float> dx1(x.size(), 0.0f), dw1(w.size(), 0.0f), db1(size_t(op.s.o), 0.0f);
    op.backward(ctx, x.data(), w.data(), dy.data(), dx1.data(), dw1.data(), db1.data(), sc.p);
    std::vector<float> dx2 = dx1, dw2 = dw1, db2 = db1;
    op.backward(ctx, x.data(), w.data(), dy.data(), dx2.data(), dw2.data(), db2.data(), sc.p);
    // dx is scattered contribution by contribution (col2im), so the second call rounds
    // differently from 2 dx; dW and db take one addition each and double exactly.
    for (size_t i = 0; i < dx1.size(); ++i) CHECK(dx2[i] == doctest::Approx(2.0f * dx1[i]).epsilon(1e-5));
    for (size_t i = 0; i < dw1.size(); ++i) CHECK(dw2[i] == 2.0f * dw1[i]);
    for (size_t i = 0; i < db1.size(); ++i) CHECK(db2[i] == 2.0f * db1[i]);
    // Each gradient alone (others null) gives the same values.
    std::vector<float> dx(x.size(), 0.0f), dw(w.size(), 0.0f), db(db1.size(), 0.0f);
    op.backward(ctx, x.data(), w.data(), dy.data(), dx.data(), nullptr, nullptr, sc.p);
    op.backward(ctx, x.data(), w.data(), dy.data(), nullptr, dw.data(), nullptr, sc.p);
    op.backward(ctx, x.data(), w.data(), dy.data(), nullptr, nullptr, db.data(), sc.p);
    op.backward(ctx, x.data(), w.data(), dy.data(), nullptr, nullptr, nullptr, sc.p);
    CHECK(dx == dx1);
    CHECK(dw == dw1);
    CHECK(db == db1);
  }
  const int B = 3, I = 5, O = 4;
  std::vector<float> x = random_vector(B * I, 51), w = random_vector(O * I, 52), dy = random_vector(B * O, 53);
  std::vector<float> dx1(x.size(), 0.0f), dw1(w.size(), 0.0f), db1(O, 0.0f);
  linear_backward(ctx, x.data(), w.data(), dy.data(), dx1.data(), dw1.data(), db1.data(), B, I, O);
  std::vector<float> dx2 = dx1, dw2 = dw1, db2 = db1;
  linear_backward(ctx, x.data(), w.data(), dy.data(), dx2.data(), dw2.data(), db2.data(), B, I, O);
  for (size_t i = 0; i < dx1.size(); ++i) CHECK(dx2[i] == 2.0f * dx1[i]);
  for (size_t i = 0; i < dw1.size(); ++i) CHECK(dw2[i] == 2.0f * dw1[i]);
  for (size_t i = 0; i < db1.size(); ++i) CHECK(db2[i] == 2.0f * db1[i]);
  std::vector<float> dw(w.size(), 0.0f);
  linear_backward(ctx, x.data(), w.data(), dy.data(), nullptr, dw.data(), nullptr, B, I, O);
  CHECK(dw == dw1);
  // GradWrites params: dW and db written over whatever they held (NaN here), with the bits of
  // adding to zeros; dx still adds. GradWrites dx: the reverse.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  GradWrites params;
  params.params = true;
  std::vector<float> dx3 = dx1, dw3(w.size(), nan), db3(size_t(O), nan);
  linear_backward(ctx, x.data(), w.data(), dy.data(), dx3.data(), dw3.data(), db3.data(), B, I, O, params);
  CHECK(std::memcmp(dw3.data(), dw1.data(), dw1.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(db3.data(), db1.data(), db1.size() * sizeof(float)) == 0);
  CHECK(dx3 == dx2);
  GradWrites dx_only;
  dx_only.dx = true;
  std::vector<float> dx4(x.size(), nan), dw4 = dw1, db4 = db1;
  linear_backward(ctx, x.data(), w.data(), dy.data(), dx4.data(), dw4.data(), db4.data(), B, I, O, dx_only);
  CHECK(dx4 == dx1);
  CHECK(dw4 == dw2);
  CHECK(db4 == db2);
}

TEST_CASE("dense ops: GradWrites dx writes the input gradient over NaN, as adding into zeros gives") {
  // Every path of the convolutions' backward data pass: the pixel-row layout with the ring
  // col2im and with the clipped one (rows too wide for the ring on the stack), the channel-major
  // layout with pixels no window covers (stride 3 > kernel 2), and both transposed layouts;
  // batch norm per image plane and per feature. On 1 and 2 threads. A NaN left anywhere in dx
  // (an element added to, or never written) fails the comparison (NaN equals nothing).
  static Ctx two(2);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  GradWrites writes;
  writes.dx = true;
  for (Context* ctx : {&ctx1(), &two.ctx}) {
    const ConvOp ops[] = {{shape(3, 8, 9, 9, 5, 4, 4, 2, 1), false},   {shape(2, 5, 7, 531, 3, 4, 4, 2, 1), false},
                          {shape(3, 2, 8, 8, 4, 2, 2, 3, 0), false},   {shape(3, 8, 5, 5, 8, 4, 4, 2, 1), true},
                          {shape(3, 6, 5, 5, 2, 3, 3, 1, 1), true},    {shape(17, 3, 6, 7, 4, 3, 3, 1, 1), false}};
    for (const ConvOp& op : ops) {
      CAPTURE(op.transposed);
      CAPTURE(op.s.c);
      std::vector<float> x = random_vector(op.x_size(), 91), w = random_vector(op.w_size(), 92);
      std::vector<float> dy = random_vector(op.y_size(), 93);
      Scratch sc(op.scratch(ctx->threads()));
      std::vector<float> added(x.size(), 0.0f), written(x.size(), nan);
      op.backward(*ctx, x.data(), w.data(), dy.data(), added.data(), nullptr, nullptr, sc.p);
      op.backward(*ctx, x.data(), w.data(), dy.data(), written.data(), nullptr, nullptr, sc.p, writes);
      CHECK(written == added);
    }
    for (int s : {1, 20}) {
      BatchNormShape sh;
      sh.n = 5, sh.c = s == 1 ? 37 : 6, sh.s = s;
      const size_t total = size_t(sh.n) * sh.c * s;
      std::vector<float> x = random_vector(total, 94), dy = random_vector(total, 95), g = random_vector(size_t(sh.c), 96);
      std::vector<float> y(total), m(sh.c), is(sh.c), rm(sh.c, 0.0f), rv(sh.c, 1.0f);
      Scratch bs(batchnorm_scratch_floats(sh));
      batchnorm_forward_train(*ctx, sh, x.data(), g.data(), nullptr, y.data(), m.data(), is.data(), rm.data(),
                              rv.data(), bs.p);
      std::vector<float> added(total, 0.0f), written(total, nan);
      batchnorm_backward(*ctx, sh, x.data(), g.data(), m.data(), is.data(), dy.data(), added.data(), nullptr, nullptr,
                         bs.p);
      batchnorm_backward(*ctx, sh, x.data(), g.data(), m.data(), is.data(), dy.data(), written.data(), nullptr, nullptr,
                         bs.p, writes);
      CHECK(written == added);
    }
  }
}

TEST_CASE("conv2d: an input activation folded into dx gives the bits of its own backward after") {
  // The pixel-row layout (ring and clipped col2im) and the channel-major one; x is a ReLU or
  // LeakyReLU output (exact zeros included), as the graph folds it (graph-compile.cpp).
  static Ctx two(2);
  GradWrites writes;
  writes.dx = true;
  for (Context* ctx : {&ctx1(), &two.ctx}) {
    const ConvShape shapes[] = {shape(3, 8, 9, 9, 5, 4, 4, 2, 1), shape(2, 5, 7, 531, 3, 4, 4, 2, 1),
                                shape(3, 2, 8, 8, 4, 2, 2, 3, 0), shape(17, 3, 6, 7, 4, 3, 3, 1, 1)};
    for (const ConvShape& s : shapes) {
      for (const InputAct f : {InputAct{Act::relu, 0.0f}, InputAct{Act::leaky_relu, 0.2f}}) {
        CAPTURE(s.c);
        CAPTURE(static_cast<int>(f.act));
        const ConvOp op{s, false};
        std::vector<float> pre = random_vector(op.x_size(), 97), w = random_vector(op.w_size(), 98);
        std::vector<float> dy = random_vector(op.y_size(), 99), x(pre.size());
        for (size_t i = 0; i < pre.size(); i += 7) pre[i] = 0.0f;
        act_forward(*ctx, f.act, f.slope, pre.data(), x.data(), x.size());
        Scratch sc(op.scratch(ctx->threads()));
        std::vector<float> d_out(x.size()), after(x.size()), folded(x.size());
        REQUIRE(conv2d_backward(*ctx, s, x.data(), w.data(), dy.data(), d_out.data(), nullptr, nullptr, sc.p, writes)
                    .is_ok());
        act_backward(*ctx, f.act, f.slope, x.data(), x.data(), d_out.data(), after.data(), x.size(), writes);
        REQUIRE(conv2d_backward(*ctx, s, x.data(), w.data(), dy.data(), folded.data(), nullptr, nullptr, sc.p, writes, f)
                    .is_ok());
        CHECK(folded == after);
        CHECK(folded != d_out);  // f' did something
        // Folding needs dx written: adding the folded gradient into another is refused.
        CHECK_FALSE(
            conv2d_backward(*ctx, s, x.data(), w.data(), dy.data(), folded.data(), nullptr, nullptr, sc.p, {}, f).is_ok());
      }
    }
  }
}

namespace {

// Training-mode BN: forward against a double-precision hand computation (incl. running
// stats), then finite differences for x, gamma, beta through the batch statistics.
void check_batchnorm_train(int n, int c, int s, uint64_t seed) {
  Context& ctx = ctx1();
  BatchNormShape sh;
  sh.n = n, sh.c = c, sh.s = s, sh.momentum = 0.1f;
  const size_t total = size_t(n) * c * s;
  std::vector<float> x = random_vector(total, seed, -2.0f, 3.0f), y(total), r = random_vector(total, seed + 1);
  std::vector<float> g = random_vector(size_t(c), seed + 2, 0.5f, 1.5f), b = random_vector(size_t(c), seed + 3);
  std::vector<float> mean(c), invstd(c), rm = random_vector(size_t(c), seed + 4), rv = random_vector(size_t(c), seed + 5, 0.5f, 2.0f);
  const std::vector<float> rm0 = rm, rv0 = rv;
  Scratch bs(batchnorm_scratch_floats(sh));
  batchnorm_forward_train(ctx, sh, x.data(), g.data(), b.data(), y.data(), mean.data(), invstd.data(), rm.data(),
                          rv.data(), bs.p);
  const double cnt = double(n) * s;
  for (int ch = 0; ch < c; ++ch) {
    double m = 0, v = 0;
    for (int i = 0; i < n; ++i)
      for (int p = 0; p < s; ++p) m += x[(size_t(i) * c + ch) * s + p];
    m /= cnt;
    for (int i = 0; i < n; ++i)
      for (int p = 0; p < s; ++p) v += (x[(size_t(i) * c + ch) * s + p] - m) * (x[(size_t(i) * c + ch) * s + p] - m);
    v /= cnt;
    CHECK(mean[ch] == doctest::Approx(m).epsilon(1e-5));
    CHECK(invstd[ch] == doctest::Approx(1.0 / std::sqrt(v + sh.eps)).epsilon(1e-5));
    CHECK(rm[ch] == doctest::Approx(0.9 * rm0[ch] + 0.1 * m).epsilon(1e-5));
    CHECK(rv[ch] == doctest::Approx(0.9 * rv0[ch] + 0.1 * v * cnt / (cnt - 1)).epsilon(1e-5));
    for (int i = 0; i < n; ++i)
      for (int p = 0; p < s; ++p) {
        const size_t at = (size_t(i) * c + ch) * s + p;
        CHECK(y[at] == doctest::Approx(g[ch] * (x[at] - m) / std::sqrt(v + sh.eps) + b[ch]).epsilon(1e-4).scale(1));
      }
  }
  std::vector<float> dx(total, 0.0f), dg(size_t(c), 0.0f), db(size_t(c), 0.0f);
  batchnorm_backward(ctx, sh, x.data(), g.data(), mean.data(), invstd.data(), r.data(), dx.data(), dg.data(), db.data(),
                     bs.p);
  auto loss = [&] {
    std::vector<float> m2(c), s2(c), rm2(c, 0.0f), rv2(c, 1.0f);
    batchnorm_forward_train(ctx, sh, x.data(), g.data(), b.data(), y.data(), m2.data(), s2.data(), rm2.data(),
                            rv2.data(), bs.p);
    return project(y.data(), r.data(), total);
  };
  check_gradient("bn dx", x.data(), dx.data(), total, loss);
  check_gradient("bn dgamma", g.data(), dg.data(), g.size(), loss);
  check_gradient("bn dbeta", b.data(), db.data(), b.size(), loss);
}

}  // namespace

TEST_CASE("batchnorm: training mode, 1-D and 2-D, statistics and gradients") {
  SUBCASE("1-D [N, C]") { check_batchnorm_train(6, 5, 1, 300); }
  SUBCASE("1-D, several channel blocks") { check_batchnorm_train(4, 600, 1, 310); }
  SUBCASE("2-D [N, C, H W]") { check_batchnorm_train(3, 4, 35, 320); }
  SUBCASE("2-D, one value per plane beyond the lanes") { check_batchnorm_train(2, 3, 17, 330); }
}

TEST_CASE("batchnorm: eval mode uses the running statistics") {
  Context& ctx = ctx1();
  for (int s : {1, 20}) {
    BatchNormShape sh;
    sh.n = 3, sh.c = 4, sh.s = s;
    const size_t total = size_t(sh.n) * sh.c * s;
    std::vector<float> x = random_vector(total, 400), y(total);
    std::vector<float> g = random_vector(4, 401), b = random_vector(4, 402), rm = random_vector(4, 403);
    std::vector<float> rv = random_vector(4, 404, 0.5f, 2.0f);
    batchnorm_forward_eval(ctx, sh, x.data(), g.data(), b.data(), rm.data(), rv.data(), y.data());
    for (size_t i = 0; i < total; ++i) {
      const int ch = int(i / s) % sh.c;
      CHECK(y[i] == doctest::Approx(g[ch] * (x[i] - rm[ch]) / std::sqrt(rv[ch] + sh.eps) + b[ch]).epsilon(1e-5));
    }
  }
}

TEST_CASE("dense ops: bit-identical results with 1 and 2 threads (and 3 for the convs)") {
  static Ctx two(2), three(3);
  Context* ctxs[3] = {&ctx1(), &two.ctx, &three.ctx};
  if (ThreadPool::hardware_threads() == 1 && two.ctx.threads() == 1) return;  // built without threads
  REQUIRE(two.ctx.threads() == 2);
  // DCGAN-like conv shapes with several image groups and GEMMs big enough to split; groups of
  // fewer images than threads (batch 1 and 2), and runs of images cut unevenly (3 threads).
  const ConvOp ops[] = {{shape(20, 64, 14, 14, 128, 4, 4, 2, 1), false},
                        {shape(20, 128, 7, 7, 64, 4, 4, 2, 1), true},
                        {shape(20, 1, 28, 28, 64, 4, 4, 2, 1), false},
                        {shape(20, 64, 14, 14, 1, 4, 4, 2, 1), true},
                        {shape(9, 3, 11, 13, 5, 3, 3, 1, 1), false},
                        {shape(9, 5, 6, 7, 3, 4, 4, 2, 1), true},
                        {shape(1, 32, 9, 9, 16, 3, 3, 1, 1), false},
                        {shape(2, 32, 14, 14, 32, 4, 4, 2, 1), false},
                        {shape(7, 32, 28, 28, 32, 4, 4, 2, 1), false},
                        {shape(1, 32, 7, 7, 16, 4, 4, 2, 1), true},
                        {shape(5, 16, 7, 7, 32, 4, 4, 2, 1), true}};
  for (const ConvOp& op : ops) {
    std::vector<float> x = random_vector(op.x_size(), 61), w = random_vector(op.w_size(), 62);
    std::vector<float> b = random_vector(size_t(op.s.o), 63), dy = random_vector(op.y_size(), 64);
    std::vector<float> out[3][4];
    for (int t = 0; t < 3; ++t) {
      Scratch sc(op.scratch(t + 1));
      std::vector<float> y(op.y_size()), dx(x.size(), 0.5f), dw(w.size(), 0.5f), db(b.size(), 0.5f);
      op.forward(*ctxs[t], x.data(), w.data(), b.data(), y.data(), sc.p);
      op.backward(*ctxs[t], x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), sc.p);
      out[t][0] = y, out[t][1] = dx, out[t][2] = dw, out[t][3] = db;
    }
    for (int t = 1; t < 3; ++t)
      for (int j = 0; j < 4; ++j) CHECK(std::memcmp(out[0][j].data(), out[t][j].data(), out[0][j].size() * 4) == 0);
  }
  {  // linear, VAE-sized
    const int B = 128, I = 784, O = 400;
    std::vector<float> x = random_vector(B * I, 71), w = random_vector(O * I, 72), b = random_vector(O, 73);
    std::vector<float> dy = random_vector(B * O, 74);
    std::vector<float> out[2][4];
    for (int t = 0; t < 2; ++t) {
      std::vector<float> y(B * O), dx(x.size(), 0.5f), dw(w.size(), 0.5f), db(b.size(), 0.5f);
      linear_forward(*ctxs[t], x.data(), w.data(), b.data(), y.data(), B, I, O, Act::relu);
      linear_backward(*ctxs[t], x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), B, I, O);
      out[t][0] = y, out[t][1] = dx, out[t][2] = dw, out[t][3] = db;
    }
    for (int j = 0; j < 4; ++j) CHECK(out[0][j] == out[1][j]);
  }
  for (int s : {1, 196}) {  // batchnorm, 1-D over several channel blocks and 2-D (beyond one chunk)
    BatchNormShape sh;
    sh.n = 16, sh.c = s == 1 ? 700 : 24, sh.s = s;
    const size_t total = size_t(sh.n) * sh.c * s;
    std::vector<float> x = random_vector(total, 81), dy = random_vector(total, 82);
    std::vector<float> g = random_vector(size_t(sh.c), 83), b = random_vector(size_t(sh.c), 84);
    std::vector<float> out[2][7];
    for (int t = 0; t < 2; ++t) {
      std::vector<float> y(total), m(sh.c), is(sh.c), rm(sh.c, 0.0f), rv(sh.c, 1.0f);
      std::vector<float> dx(total, 0.5f), dg(sh.c, 0.5f), db(sh.c, 0.5f);
      Scratch bs(batchnorm_scratch_floats(sh));
      batchnorm_forward_train(*ctxs[t], sh, x.data(), g.data(), b.data(), y.data(), m.data(), is.data(), rm.data(),
                              rv.data(), bs.p);
      batchnorm_backward(*ctxs[t], sh, x.data(), g.data(), m.data(), is.data(), dy.data(), dx.data(), dg.data(),
                         db.data(), bs.p);
      out[t][0] = y, out[t][1] = m, out[t][2] = is, out[t][3] = rv, out[t][4] = dx, out[t][5] = dg, out[t][6] = db;
    }
    for (int j = 0; j < 7; ++j) CHECK(out[0][j] == out[1][j]);
  }
}
