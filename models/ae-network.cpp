#include "models/ae-network.h"

#include <cstring>

#include "models/config-text.h"

namespace ember::models {

using nn::Graph;
using nn::Reduction;
using nn::T;

namespace {

constexpr int kConvKernel = 4, kConvStride = 2, kConvPad = 1;  // halves 28 -> 14 -> 7
constexpr float kMaxSigma = 1e6f;
constexpr const char* kEncNames[AeConfig::kMaxDepth] = {"enc.fc1", "enc.fc2", "enc.fc3", "enc.fc4"};
constexpr const char* kDecNames[AeConfig::kMaxDepth] = {"dec.fc1", "dec.fc2", "dec.fc3", "dec.fc4"};

constexpr Named kKinds[] = {{"ae", int(ModelKind::ae)}, {"vae", int(ModelKind::vae)}};
constexpr Named kArchs[] = {{"mlp", int(Arch::mlp)}, {"linear", int(Arch::linear)}, {"conv", int(Arch::conv)}};
constexpr Named kLiks[] = {{"bernoulli", int(Likelihood::bernoulli)},
                           {"gaussian", int(Likelihood::gaussian_fixed)},
                           {"gaussian-learned", int(Likelihood::gaussian_learned)}};
constexpr Named kActs[] = {{"relu", int(Act::relu)}, {"tanh", int(Act::tanh)}, {"sigmoid", int(Act::sigmoid)},
                           {"softplus", int(Act::softplus)}, {"leaky_relu", int(Act::leaky_relu)}};

T act(Graph& g, const AeConfig& c, T x) { return g.activation(x, c.act, c.act == Act::leaky_relu ? 0.2f : 0.0f); }

// Side of the conv arch's smallest feature map.
int conv_side(int side) { return side / (kConvStride * kConvStride); }

}  // namespace

const char* kind_name(ModelKind k) { return name_of(kKinds, int(k)); }
const char* arch_name(Arch a) { return name_of(kArchs, int(a)); }
const char* likelihood_name(Likelihood l) { return name_of(kLiks, int(l)); }

Status AeConfig::validate() const {
  if (rows < 1 || cols < 1 || rows > kMaxSide || cols > kMaxSide)
    return Status::error(Code::invalid_argument, "model: image size %dx%d out of range 1..%d", rows, cols, kMaxSide);
  if (latent < 1 || latent > kMaxWidth)
    return Status::error(Code::invalid_argument, "model: latent %d out of range 1..%d", latent, kMaxWidth);
  if (arch == Arch::mlp) {
    if (depth < 1 || depth > kMaxDepth)
      return Status::error(Code::invalid_argument, "model: mlp needs 1..%d hidden widths, got %d", kMaxDepth, depth);
    for (int i = 0; i < depth; ++i)
      if (widths[i] < 1 || widths[i] > kMaxWidth)
        return Status::error(Code::invalid_argument, "model: width %d out of range 1..%d", widths[i], kMaxWidth);
  }
  if (arch == Arch::conv) {
    if (rows % 4 || cols % 4)
      return Status::error(Code::invalid_argument, "model: conv arch needs sides divisible by 4, got %dx%d", rows, cols);
    for (int ch : conv_channels)
      if (ch < 1 || ch > kMaxWidth) return Status::error(Code::invalid_argument, "model: conv channels %d out of range", ch);
  }
  if (arch == Arch::conv && likelihood == Likelihood::gaussian_learned)
    return Status::error(Code::invalid_argument, "model: the conv decoder has no learned variance head (use bernoulli or gaussian)");
  if (kind == ModelKind::ae && likelihood == Likelihood::gaussian_learned)
    return Status::error(Code::invalid_argument, "model: an ae has no learned variance (use bernoulli or gaussian)");
  if (!(sigma > 0.0f && sigma < kMaxSigma)) return Status::error(Code::invalid_argument, "model: sigma must be > 0");
  return Status::ok();
}

Status AeConfig::set(const char* key, const char* value) {
  if (!std::strcmp(key, "kind")) return set_enum(kKinds, key, value, &kind);
  if (!std::strcmp(key, "arch")) return set_enum(kArchs, key, value, &arch);
  if (!std::strcmp(key, "lik")) return set_enum(kLiks, key, value, &likelihood);
  if (!std::strcmp(key, "act")) return set_enum(kActs, key, value, &act);
  if (!std::strcmp(key, "rows")) return parse_int(key, value, 1, kMaxSide, &rows);
  if (!std::strcmp(key, "cols")) return parse_int(key, value, 1, kMaxSide, &cols);
  if (!std::strcmp(key, "latent")) return parse_int(key, value, 1, kMaxWidth, &latent);
  if (!std::strcmp(key, "sigma")) return parse_float(key, value, &sigma);
  if (!std::strcmp(key, "widths")) return parse_int_list(key, value, 1, kMaxWidth, widths, kMaxDepth, &depth);
  if (!std::strcmp(key, "channels")) return parse_int_pair(key, value, 1, kMaxWidth, conv_channels);
  if (!std::strcmp(key, "weights")) return set_enum(kWeightStorages, key, value, &weights);
  return Status::error(Code::invalid_argument, "model: unknown key '%s'", key);
}

Status AeConfig::to_text(char* buf, size_t cap) const {
  TextWriter w(buf, cap);
  w.put("kind=").put(kind_name(kind)).put(" arch=").put(arch_name(arch));
  w.put(" rows=").put_int(rows).put(" cols=").put_int(cols).put(" widths=");
  for (int i = 0; i < depth; ++i) (i ? w.put(",") : w).put_int(widths[i]);
  w.put(" channels=").put_int(conv_channels[0]).put(",").put_int(conv_channels[1]);
  w.put(" latent=").put_int(latent).put(" act=").put(name_of(kActs, int(act)));
  w.put(" lik=").put(likelihood_name(likelihood)).put(" sigma=").put_float(sigma);
  if (weights != nn::Storage::f32) w.put(" weights=").put(name_of(kWeightStorages, int(weights)));
  return w.status("model config");
}

Status AeConfig::from_text(const char* text) { return config_from_text(text, this); }

T build_encoder(Graph& g, const AeConfig& c, T x, T* logvar) {
  const int batch = static_cast<int>(g.shape(x)[0]);
  T h = x;
  if (c.arch == Arch::mlp) {
    for (int i = 0; i < c.depth; ++i) h = act(g, c, g.linear(h, c.widths[i], kEncNames[i]));
  } else if (c.arch == Arch::conv) {
    h = g.reshape(h, Shape(batch, 1, c.rows, c.cols));
    h = act(g, c, g.conv2d(h, c.conv_channels[0], kConvKernel, kConvStride, kConvPad, "enc.conv1"));
    h = act(g, c, g.conv2d(h, c.conv_channels[1], kConvKernel, kConvStride, kConvPad, "enc.conv2"));
    h = g.flatten(h);
  }
  const bool vae = c.kind == ModelKind::vae;
  const T mu = g.linear(h, c.latent, vae ? "enc.mu" : "enc.code");
  if (vae && logvar) *logvar = g.linear(h, c.latent, "enc.logvar");
  return mu;
}

T build_decoder(Graph& g, const AeConfig& c, T z, T* out_logvar) {
  const int batch = static_cast<int>(g.shape(z)[0]);
  T h = z;
  if (c.arch == Arch::mlp) {
    for (int i = c.depth - 1; i >= 0; --i) h = act(g, c, g.linear(h, c.widths[i], kDecNames[i]));
  } else if (c.arch == Arch::conv) {
    const int r = conv_side(c.rows), q = conv_side(c.cols);
    h = act(g, c, g.linear(h, c.conv_channels[1] * r * q, "dec.fc"));
    h = g.reshape(h, Shape(batch, c.conv_channels[1], r, q));
    h = act(g, c, g.conv_t2d(h, c.conv_channels[0], kConvKernel, kConvStride, kConvPad, "dec.deconv2"));
    return g.flatten(g.conv_t2d(h, 1, kConvKernel, kConvStride, kConvPad, "dec.deconv1"));
  }
  if (out_logvar && c.likelihood == Likelihood::gaussian_learned) *out_logvar = g.linear(h, c.pixels(), "dec.logvar");
  return g.linear(h, c.pixels(), "dec.out");
}

Status build_ae(Graph& g, const AeConfig& c, int batch, AeNodes* out) {
  EMBER_TRY(c.validate());
  AeNodes n;
  n.x = g.input("x", Shape(batch, c.pixels()));
  n.mu = build_encoder(g, c, n.x, &n.logvar);
  n.z = c.kind == ModelKind::vae ? g.reparam(n.mu, n.logvar) : n.mu;
  n.out = build_decoder(g, c, n.z, &n.out_logvar);
  switch (c.likelihood) {
    case Likelihood::bernoulli: n.recon = g.bce_logits(n.out, n.x, Reduction::mean); break;
    case Likelihood::gaussian_fixed:
      if (c.kind == ModelKind::ae) {
        n.recon = g.mse(n.out, n.x, Reduction::mean);
      } else {
        n.fixed_logvar = g.input("fixed_logvar", Shape(batch, c.pixels()));
        n.recon = g.gauss_nll(n.x, n.out, n.fixed_logvar, Reduction::mean);
      }
      break;
    case Likelihood::gaussian_learned: n.recon = g.gauss_nll(n.x, n.out, n.out_logvar, Reduction::mean); break;
  }
  if (c.kind == ModelKind::vae) {
    n.kl = g.kl_std_normal(n.mu, n.logvar, Reduction::mean);
    n.loss = g.add(n.recon, n.kl);
  } else {
    n.loss = n.recon;
  }
  g.minimize(n.loss);
  g.mark_output(n.out);
  *out = n;
  return g.status();
}

}  // namespace ember::models
