#include "models/gan-network.h"

#include <cmath>
#include <cstring>

#include "models/config-text.h"

namespace ember::models {

using nn::Graph;
using nn::Reduction;
using nn::T;

namespace {

constexpr int kGanConvKernel = 4, kGanConvStride = 2, kGanConvPad = 1;  // halves the side: 28 -> 14 -> 7
constexpr int kGanDownsample = kGanConvStride * kGanConvStride;          // two halvings
constexpr float kLeakySlope = 0.2f;
constexpr float kDcganInitStd = 0.02f;
constexpr int kMaxClasses = 1 << 12;
constexpr int kMaxSteps = 100;  // d_steps, g_steps and unroll
constexpr const char* kGNames[GanConfig::kMaxDepth] = {"g.fc1", "g.fc2", "g.fc3", "g.fc4"};
constexpr const char* kDNames[GanConfig::kMaxDepth] = {"d.fc1", "d.fc2", "d.fc3", "d.fc4"};

constexpr Named kGanKinds[] = {{"mlp", int(GanKind::mlp)}, {"dcgan", int(GanKind::dcgan)}};
constexpr Named kData[] = {{"points", int(GanData::points)}, {"images", int(GanData::images)}};
constexpr Named kLosses[] = {{"minimax", int(GanLoss::minimax)}, {"ns", int(GanLoss::ns)}};

Status parse_flag(const char* key, const char* value, bool* out) {
  int v = 0;
  EMBER_TRY(parse_int(key, value, 0, 1, &v));
  *out = v != 0;
  return Status::ok();
}

}  // namespace

Status GanConfig::validate() const {
  if (z_dim < 1 || z_dim > kMaxWidth)
    return Status::error(Code::invalid_argument, "gan: z_dim %d out of range 1..%d", z_dim, kMaxWidth);
  if (data == GanData::images && (rows < 1 || cols < 1 || rows > kMaxSide || cols > kMaxSide))
    return Status::error(Code::invalid_argument, "gan: image size %dx%d out of range 1..%d", rows, cols, kMaxSide);
  if (kind == GanKind::mlp) {
    if (depth < 1 || depth > kMaxDepth)
      return Status::error(Code::invalid_argument, "gan: mlp needs 1..%d hidden widths, got %d", kMaxDepth, depth);
    for (int i = 0; i < depth; ++i)
      if (widths[i] < 1 || widths[i] > kMaxWidth)
        return Status::error(Code::invalid_argument, "gan: width %d out of range 1..%d", widths[i], kMaxWidth);
  } else {
    if (data != GanData::images) return Status::error(Code::invalid_argument, "gan: dcgan needs data=images");
    if (rows % kGanDownsample || cols % kGanDownsample)
      return Status::error(Code::invalid_argument, "gan: dcgan needs sides divisible by %d, got %dx%d", kGanDownsample,
                           rows, cols);
    for (int ch : channels)
      if (ch < 1 || ch > kMaxWidth)
        return Status::error(Code::invalid_argument, "gan: channels %d out of range 1..%d", ch, kMaxWidth);
  }
  if (cond && (classes < 1 || classes > kMaxClasses))
    return Status::error(Code::invalid_argument, "gan: classes %d out of range 1..%d", classes, kMaxClasses);
  if (d_steps < 1 || d_steps > kMaxSteps)
    return Status::error(Code::invalid_argument, "gan: d_steps %d out of range 1..%d", d_steps, kMaxSteps);
  if (g_steps < 1 || g_steps > kMaxSteps)
    return Status::error(Code::invalid_argument, "gan: g_steps %d out of range 1..%d", g_steps, kMaxSteps);
  if (unroll < 0 || unroll > kMaxSteps)
    return Status::error(Code::invalid_argument, "gan: unroll %d out of range 0..%d", unroll, kMaxSteps);
  if (!(ema >= 0.0f && ema < 1.0f)) return Status::error(Code::invalid_argument, "gan: ema must lie in [0, 1)");
  if (!(topk >= 0.0f && topk <= 1.0f)) return Status::error(Code::invalid_argument, "gan: topk must lie in [0, 1]");
  if (info < 0 || info == 1 || info >= z_dim || info > kMaxInfoCodes)
    return Status::error(Code::invalid_argument, "gan: info %d must be 0 (off) or 2..min(z_dim - 1, %d)", info,
                         kMaxInfoCodes);
  if (info > 0 && cond) return Status::error(Code::invalid_argument, "gan: info and cond do not go together");
  if (!(info_std > 0.0f && info_std <= 1.0f) || (info == 0 && info_std != 1.0f))
    return Status::error(Code::invalid_argument, "gan: info_std must lie in (0, 1], and be 1 without info");
  if (info_real && info == 0) return Status::error(Code::invalid_argument, "gan: info_real needs info > 0");
  if (info_cont < 0 || (info_cont > 0 && info == 0) || info + info_cont >= z_dim)
    return Status::error(Code::invalid_argument, "gan: info_cont %d needs info > 0 and info + info_cont < z_dim (%d)",
                         info_cont, z_dim);
  return Status::ok();
}

Status GanConfig::set(const char* key, const char* value) {
  if (!std::strcmp(key, "kind")) return set_enum(kGanKinds, key, value, &kind);
  if (!std::strcmp(key, "data")) return set_enum(kData, key, value, &data);
  if (!std::strcmp(key, "gan_loss")) return set_enum(kLosses, key, value, &loss);
  if (!std::strcmp(key, "rows")) return parse_int(key, value, 1, kMaxSide, &rows);
  if (!std::strcmp(key, "cols")) return parse_int(key, value, 1, kMaxSide, &cols);
  if (!std::strcmp(key, "z_dim")) return parse_int(key, value, 1, kMaxWidth, &z_dim);
  if (!std::strcmp(key, "widths")) return parse_int_list(key, value, 1, kMaxWidth, widths, kMaxDepth, &depth);
  if (!std::strcmp(key, "channels")) return parse_int_pair(key, value, 1, kMaxWidth, channels);
  if (!std::strcmp(key, "cond")) return parse_flag(key, value, &cond);
  if (!std::strcmp(key, "classes")) return parse_int(key, value, 1, kMaxClasses, &classes);
  if (!std::strcmp(key, "mbstd")) return parse_flag(key, value, &mbstd);
  if (!std::strcmp(key, "d_steps")) return parse_int(key, value, 1, kMaxSteps, &d_steps);
  if (!std::strcmp(key, "g_steps")) return parse_int(key, value, 1, kMaxSteps, &g_steps);
  if (!std::strcmp(key, "unroll")) return parse_int(key, value, 0, kMaxSteps, &unroll);
  if (!std::strcmp(key, "ema")) return parse_float(key, value, &ema);
  if (!std::strcmp(key, "topk")) return parse_float(key, value, &topk);
  if (!std::strcmp(key, "info")) return parse_int(key, value, 0, kMaxWidth, &info);
  if (!std::strcmp(key, "info_cont")) return parse_int(key, value, 0, kMaxWidth, &info_cont);
  if (!std::strcmp(key, "info_std")) return parse_float(key, value, &info_std);
  if (!std::strcmp(key, "info_real")) return parse_flag(key, value, &info_real);
  if (!std::strcmp(key, "weights")) return set_enum(kWeightStorages, key, value, &weights);
  return Status::error(Code::invalid_argument, "gan: unknown key '%s'", key);
}

Status GanConfig::to_text(char* buf, size_t cap) const {
  TextWriter w(buf, cap);
  w.put("kind=").put(name_of(kGanKinds, int(kind))).put(" data=").put(name_of(kData, int(data)));
  w.put(" rows=").put_int(rows).put(" cols=").put_int(cols).put(" z_dim=").put_int(z_dim).put(" widths=");
  for (int i = 0; i < depth; ++i) (i ? w.put(",") : w).put_int(widths[i]);
  w.put(" channels=").put_int(channels[0]).put(",").put_int(channels[1]);
  w.put(" cond=").put_int(cond).put(" classes=").put_int(classes).put(" mbstd=").put_int(mbstd);
  w.put(" gan_loss=").put(name_of(kLosses, int(loss))).put(" d_steps=").put_int(d_steps);
  w.put(" g_steps=").put_int(g_steps).put(" unroll=").put_int(unroll).put(" ema=").put_float(ema);
  w.put(" topk=").put_float(topk).put(" info=").put_int(info).put(" info_cont=").put_int(info_cont);
  w.put(" info_std=").put_float(info_std).put(" info_real=").put_int(info_real);
  if (weights != nn::Storage::f32) w.put(" weights=").put(name_of(kWeightStorages, int(weights)));
  return w.status("gan config");
}

Status GanConfig::from_text(const char* text) { return config_from_text(text, this); }

bool GanConfig::same_networks(const GanConfig& o) const {
  GanConfig a = *this, b = o;
  // The schedule, not the networks; averaging on or off adds parameters, its decay does not.
  a.loss = b.loss, a.d_steps = b.d_steps, a.g_steps = b.g_steps, a.unroll = b.unroll, a.topk = b.topk;
  if (a.ema > 0.0f && b.ema > 0.0f) a.ema = b.ema;
  char ta[kModelConfigText], tb[kModelConfigText];
  return a.to_text(ta, sizeof ta).is_ok() && b.to_text(tb, sizeof tb).is_ok() && std::strcmp(ta, tb) == 0;
}

T gan_generator(Graph& g, const GanConfig& c, T z, T onehot) {
  g.params()->set_group(kGenerator);
  if (!z.ok()) return T();  // an earlier build error; the graph reports it
  const int batch = static_cast<int>(g.shape(z)[0]);
  T h = c.onehot_dim() > 0 ? g.concat(z, onehot) : z;
  if (c.kind == GanKind::dcgan) {
    const int r = c.rows / kGanDownsample, q = c.cols / kGanDownsample;
    h = g.relu(g.batchnorm(g.linear(h, c.channels[1] * r * q, "g.fc"), "g.bn0"));
    h = g.reshape(h, Shape(batch, c.channels[1], r, q));
    h = g.relu(g.batchnorm(g.conv_t2d(h, c.channels[0], kGanConvKernel, kGanConvStride, kGanConvPad, "g.deconv1"), "g.bn1"));
    return g.tanh(g.conv_t2d(h, 1, kGanConvKernel, kGanConvStride, kGanConvPad, "g.deconv2"));
  }
  for (int i = 0; i < c.depth; ++i) h = g.relu(g.linear(h, c.widths[i], kGNames[i]));
  h = g.linear(h, c.dims(), "g.out");
  return c.data == GanData::images ? g.tanh(h) : h;
}

T gan_discriminator(Graph& g, const GanConfig& c, T x, T onehot, T* q_logits, T* q_cont) {
  g.params()->set_group(kDiscriminator);
  if (!x.ok()) return T();
  const int batch = static_cast<int>(g.shape(x)[0]);
  T h = x;
  if (c.kind == GanKind::dcgan) {
    if (g.shape(x).rank != 4) h = g.reshape(h, Shape(batch, 1, c.rows, c.cols));
    h = g.leaky_relu(g.conv2d(h, c.channels[0], kGanConvKernel, kGanConvStride, kGanConvPad, "d.conv1"), kLeakySlope);
    h = g.conv2d(h, c.channels[1], kGanConvKernel, kGanConvStride, kGanConvPad, "d.conv2");
    h = g.leaky_relu(g.batchnorm(h, "d.bn2"), kLeakySlope);
    if (c.mbstd) h = g.minibatch_stddev(h);
    h = g.flatten(h);
    T logit = g.linear(h, 1, "d.fc");
    if (c.info > 0 && q_logits) *q_logits = g.linear(h, c.info, "d.q");
    if (c.info_cont > 0 && q_cont) *q_cont = g.linear(h, c.info_cont, "d.qc");
    if (!c.cond || !h.ok()) return logit;
    // The projection term <embed(y), features>, each feature scaled by d.proj (starts at 1).
    const int features = static_cast<int>(g.shape(h)[1]);
    const T embed = g.linear(onehot, features, "d.embed", false);
    return g.add(logit, g.linear(g.mul(embed, h), 1, "d.proj", false));
  }
  if (c.cond) h = g.concat(h, onehot);
  for (int i = 0; i < c.depth; ++i) h = g.leaky_relu(g.linear(h, c.widths[c.depth - 1 - i], kDNames[i]), kLeakySlope);
  if (c.mbstd) h = g.minibatch_stddev(h);
  if (c.info > 0 && q_logits) *q_logits = g.linear(h, c.info, "d.q");
  if (c.info_cont > 0 && q_cont) *q_cont = g.linear(h, c.info_cont, "d.qc");
  return g.linear(h, 1, "d.out");
}

void dcgan_init(nn::Params& params) {
  for (int i = 0; i < params.count(); ++i) {
    nn::Param& p = params[i];
    const char* last_dot = std::strrchr(p.name, '.');
    const bool weight = last_dot && std::strcmp(last_dot, ".weight") == 0;
    if (weight && !std::strstr(p.name, ".bn")) p.init.kind = nn::Init::normal, p.init.arg = kDcganInitStd;
    if (!std::strcmp(p.name, "d.proj.weight")) p.init.kind = nn::Init::ones;  // a plain inner product at first
  }
}

namespace {
// The code loss: CE(q, code) (+ 0.5 ||qc - cont||^2 with continuous codes), batch means.
T info_loss(Graph& g, const GanConfig& c, T q, T code, T qc, T cont) {
  constexpr float kHalf = 0.5f;  // a unit-variance Gaussian's NLL, up to its constant
  const T ce = g.softmax_ce(q, code, Reduction::mean);
  return c.info_cont > 0 ? g.add(ce, g.scale(g.mse(qc, cont, Reduction::mean), kHalf)) : ce;
}
}  // namespace

Status build_gan(Graph& d_graph, Graph& g_graph, const GanConfig& c, int batch, GanNodes* out) {
  EMBER_TRY(c.validate());
  GanNodes n;
  const int dims = c.dims();
  // G step: z -> G -> D (frozen) -> the generator's objective.
  const int noise = c.z_dim - c.info;  // z's Gaussian inputs to G (info: the rest pick the code)
  n.z = g_graph.input("z", Shape(batch, noise));
  if (c.onehot_dim() > 0) n.fake_onehot = g_graph.input("fake_onehot", Shape(batch, c.onehot_dim()));
  n.fake = g_graph.flatten(gan_generator(g_graph, c, n.z, n.fake_onehot));
  n.target = g_graph.input("target", Shape(batch, 1));
  T g_q, g_qc;
  n.g_logit = gan_discriminator(g_graph, c, n.fake, c.cond ? n.fake_onehot : T(), &g_q, &g_qc);
  T judged = n.g_logit;
  if (c.topk > 0.0f) {
    n.g_mask = g_graph.input("g_mask", Shape(batch, 1));
    judged = g_graph.mul(n.g_logit, n.g_mask);
    g_graph.mark_output(n.g_logit);
  }
  const T g_bce = g_graph.bce_logits(judged, n.target, Reduction::mean);
  n.g_loss = c.loss == GanLoss::ns ? g_bce : g_graph.scale(g_bce, -1.0f);
  if (c.info > 0) {
    n.g_code = g_graph.labels("code", batch);
    if (c.info_cont > 0) n.g_cont = g_graph.input("cont", Shape(batch, c.info_cont));
    n.g_info = info_loss(g_graph, c, g_q, n.g_code, g_qc, n.g_cont);
    n.g_loss = g_graph.add(n.g_loss, g_graph.scale(n.g_info, kInfoWeight));
    g_graph.mark_output(n.g_info);
  }
  g_graph.minimize(n.g_loss);
  g_graph.mark_output(n.fake);
  // D step: real -> D -> 1, G(d_z) -> D -> 0 (G gets no gradient in this graph).
  n.real = d_graph.input("real", Shape(batch, dims));
  n.d_z = d_graph.input("z", Shape(batch, noise));
  if (c.cond) n.real_onehot = d_graph.input("real_onehot", Shape(batch, c.classes));
  if (c.onehot_dim() > 0) n.d_fake_onehot = d_graph.input("fake_onehot", Shape(batch, c.onehot_dim()));
  n.ones = d_graph.input("ones", Shape(batch, 1));
  n.zeros = d_graph.input("zeros", Shape(batch, 1));
  const T d_fake = d_graph.flatten(gan_generator(d_graph, c, n.d_z, n.d_fake_onehot));
  T d_q, d_qc;
  T real_q;
  n.real_logit = gan_discriminator(d_graph, c, n.real, n.real_onehot, c.info_real ? &real_q : nullptr);
  n.fake_logit = gan_discriminator(d_graph, c, d_fake, c.cond ? n.d_fake_onehot : T(), &d_q, &d_qc);
  n.d_loss = d_graph.add(d_graph.bce_logits(n.real_logit, n.ones, Reduction::mean),
                         d_graph.bce_logits(n.fake_logit, n.zeros, Reduction::mean));
  if (c.info > 0) {
    n.d_code = d_graph.labels("code", batch);
    if (c.info_cont > 0) n.d_cont = d_graph.input("cont", Shape(batch, c.info_cont));
    n.d_info = info_loss(d_graph, c, d_q, n.d_code, d_qc, n.d_cont);
    n.d_loss = d_graph.add(n.d_loss, d_graph.scale(n.d_info, kInfoWeight));
    d_graph.mark_output(n.d_info);
  }
  if (c.info_real) {
    n.real_code = d_graph.labels("real_code", batch);
    n.real_info = d_graph.softmax_ce(real_q, n.real_code, Reduction::mean);
    n.d_loss = d_graph.add(n.d_loss, d_graph.scale(n.real_info, kInfoWeight));
    d_graph.mark_output(n.real_info);
  }
  d_graph.minimize(n.d_loss);
  d_graph.mark_output(n.real_logit);
  d_graph.mark_output(n.fake_logit);
  if (c.kind == GanKind::dcgan) dcgan_init(*d_graph.params());
  EMBER_TRY(g_graph.status());
  EMBER_TRY(d_graph.status());
  *out = n;
  return Status::ok();
}

void fill_gan_targets(Graph& d_graph, Graph& g_graph, const GanConfig& c, const GanNodes& n) {
  const int batch = static_cast<int>(d_graph.shape(n.ones)[0]);
  const float g_target = c.loss == GanLoss::ns ? 1.0f : 0.0f;
  for (int i = 0; i < batch; ++i) {
    d_graph.data(n.ones)[i] = 1.0f;
    d_graph.data(n.zeros)[i] = 0.0f;
    g_graph.data(n.target)[i] = g_target;
  }
}

void set_info_code(const GanConfig& c, float* z_row, int code) {
  // +-8: Phi(8) rounds to 1 - 6e-16 and Phi(-8) to 6e-16, Gumbel values of about 35 and -3.6,
  // a gap no prior's log ratio within float range of sizes comes near.
  constexpr float kForce = 8.0f;
  for (int j = 0; j < c.info; ++j) z_row[c.z_dim - c.info + j] = j == code ? kForce : -kForce;
}

Status truncate_noise(const GanConfig& c, Rng& rng, float t, float* z, int n) {
  static_assert(kMinTruncation == 0.05f, "the message below names it");  // Status formats no floats
  if (!(t >= kMinTruncation)) return Status::error(Code::invalid_argument, "truncation must be at least 0.05");
  const int noise = c.z_dim - c.info;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < noise; ++j)
      for (float& v = z[static_cast<size_t>(i) * c.z_dim + j]; std::fabs(v) > t;) v = rng.normal();
  return Status::ok();
}

void slerp(const float* a, const float* b, int d, float t, float* out) {
  constexpr double kMinAngle = 1e-6;  // below it sin(w) ~ 0: interpolate linearly
  double ab = 0, aa = 0, bb = 0;
  for (int k = 0; k < d; ++k) ab += double(a[k]) * b[k], aa += double(a[k]) * a[k], bb += double(b[k]) * b[k];
  const double c = aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 1.0;
  const double w = std::acos(c < -1 ? -1 : c > 1 ? 1 : c);
  const double ca = w < kMinAngle ? 1 - t : std::sin((1 - t) * w) / std::sin(w);
  const double cb = w < kMinAngle ? t : std::sin(t * w) / std::sin(w);
  for (int k = 0; k < d; ++k) out[k] = static_cast<float>(ca * a[k] + cb * b[k]);
}

void to_signed_pixels(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = 2.0f * x[i] - 1.0f;
}

void to_unit_pixels(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float p = 0.5f * (x[i] + 1.0f);
    x[i] = p < 0.0f ? 0.0f : p > 1.0f ? 1.0f : p;
  }
}

}  // namespace ember::models
