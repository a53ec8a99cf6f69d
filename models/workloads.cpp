#include "models/workloads.h"

#include <cstring>

namespace ember::models {

using nn::Graph;
using nn::Reduction;
using nn::T;

MlpVae build_mlp_vae(Graph& g, int batch, int in, int hidden, int latent) {
  MlpVae m;
  m.x = g.input("x", Shape(batch, in));
  const T h = g.relu(g.linear(m.x, hidden, "enc.fc1"));
  m.mu = g.linear(h, latent, "enc.mu");
  m.logvar = g.linear(h, latent, "enc.logvar");
  m.z = g.reparam(m.mu, m.logvar);
  m.logits = build_vae_decoder(g, m.z, in, hidden);
  m.loss = g.add(g.bce_logits(m.logits, m.x, Reduction::mean), g.kl_std_normal(m.mu, m.logvar, Reduction::mean));
  g.minimize(m.loss);
  return m;
}

T build_vae_decoder(Graph& g, T z, int in, int hidden) {
  return g.linear(g.relu(g.linear(z, hidden, "dec.fc1")), in, "dec.out");
}

DeepAutoencoder build_deep_autoencoder(Graph& g, int batch) {
  static const int kWidths[] = {1000, 500, 250};
  static const char* const kEnc[] = {"enc.fc1", "enc.fc2", "enc.fc3"};
  static const char* const kDec[] = {"dec.fc3", "dec.fc2", "dec.fc1"};
  DeepAutoencoder a;
  a.x = g.input("x", Shape(batch, 784));
  T h = a.x;
  for (int i = 0; i < 3; ++i) h = g.relu(g.linear(h, kWidths[i], kEnc[i]));
  a.code = g.linear(h, 30, "enc.code");
  h = a.code;
  for (int i = 2; i >= 0; --i) h = g.relu(g.linear(h, kWidths[i], kDec[2 - i]));
  a.out = g.sigmoid(g.linear(h, 784, "dec.out"));
  a.loss = g.mse(a.out, a.x, Reduction::mean);
  g.minimize(a.loss);
  return a;
}

namespace {
// WORKLOADS.md D: GanConfig's dcgan for 28x28 with channels 64,128.
GanConfig workload_dcgan() {
  GanConfig c;
  c.kind = GanKind::dcgan;
  return c;
}
}  // namespace

T dcgan_generator(Graph& g, T z) { return gan_generator(g, workload_dcgan(), z, T()); }
T dcgan_discriminator(Graph& g, T x) { return gan_discriminator(g, workload_dcgan(), x, T()); }

DcganStep build_dcgan(Graph& d_graph, Graph& g_graph, int batch, int z_dim) {
  DcganStep s;
  nn::Params& params = *d_graph.params();
  // G step graph: z -> G -> fake -> D -> BCE(target 1). Trains G through a frozen D.
  params.set_group(kGenerator);
  s.z = g_graph.input("z", Shape(batch, z_dim));
  s.fake = dcgan_generator(g_graph, s.z);
  params.set_group(kDiscriminator);
  s.ones_g = g_graph.input("ones", Shape(batch, 1));
  s.g_loss = g_graph.bce_logits(dcgan_discriminator(g_graph, s.fake), s.ones_g, Reduction::mean);
  g_graph.minimize(s.g_loss);
  g_graph.mark_output(s.fake);
  // D step graph: D(real) -> 1, D(fake) -> 0; fake is G's output, copied in (detached).
  s.real = d_graph.input("real", Shape(batch, 1, 28, 28));
  s.fake_in = d_graph.input("fake", Shape(batch, 1, 28, 28));
  s.ones_d = d_graph.input("ones", Shape(batch, 1));
  s.zeros_d = d_graph.input("zeros", Shape(batch, 1));
  const T real_loss = d_graph.bce_logits(dcgan_discriminator(d_graph, s.real), s.ones_d, Reduction::mean);
  const T fake_loss = d_graph.bce_logits(dcgan_discriminator(d_graph, s.fake_in), s.zeros_d, Reduction::mean);
  s.d_loss = d_graph.add(real_loss, fake_loss);
  d_graph.minimize(s.d_loss);
  dcgan_init(params);
  return s;
}

void fill_dcgan_targets(Graph& d_graph, Graph& g_graph, const DcganStep& s) {
  const int batch = static_cast<int>(d_graph.shape(s.ones_d)[0]);
  for (int i = 0; i < batch; ++i) {
    d_graph.data(s.ones_d)[i] = 1.0f;
    d_graph.data(s.zeros_d)[i] = 0.0f;
    g_graph.data(s.ones_g)[i] = 1.0f;
  }
}

}  // namespace ember::models

namespace ember::models {

Status dcgan_step(Context& ctx, nn::Graph& d_graph, nn::Graph& g_graph, const DcganStep& s, nn::Optimizer& d_opt,
                  nn::Optimizer& g_opt) {
  nn::Params& params = *d_graph.params();
  EMBER_TRY(g_graph.forward_to(s.fake));  // G(z) once, as PyTorch's reference loop does
  std::memcpy(d_graph.data(s.fake_in), g_graph.data(s.fake), g_graph.node(s.fake).shape.numel() * sizeof(float));
  EMBER_TRY(d_graph.forward());
  EMBER_TRY(d_graph.backward());
  EMBER_TRY(d_opt.step(ctx, params));
  EMBER_TRY(g_graph.forward_from(s.fake));  // D(G(z)) with the updated D
  EMBER_TRY(g_graph.backward());
  return g_opt.step(ctx, params);
}

}  // namespace ember::models
