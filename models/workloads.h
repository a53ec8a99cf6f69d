// The reference models of ../shared/bench/WORKLOADS.md, built on the graph API: the MLP VAE
// (V), the deep autoencoder (A) and the DCGAN (D). ember-bench measures them against
// PyTorch and the tests count their allocations, so both build exactly these layers.
#pragma once
#include "models/gan-network.h"
#include "nn/graph.h"
#include "nn/optimizer.h"

namespace ember::models {

// V: x[B,784] in [0,1] -> 400 -> (mu, logvar)[B,20] -> z -> 400 -> logits[B,784];
// loss = (sum BCE-with-logits + KL) / B.
struct MlpVae {
  nn::T x, mu, logvar, z, logits, loss;
};
MlpVae build_mlp_vae(nn::Graph& g, int batch, int in = 784, int hidden = 400, int latent = 20);
// The decoder alone, z[B,latent] -> logits (same parameter names): on-device sampling (s1).
nn::T build_vae_decoder(nn::Graph& g, nn::T z, int in = 784, int hidden = 400);

// A: 784-1000-500-250-30-250-500-1000-784, ReLU hidden, linear code, sigmoid output;
// loss = sum of squared error / B.
struct DeepAutoencoder {
  nn::T x, code, out, loss;
};
DeepAutoencoder build_deep_autoencoder(nn::Graph& g, int batch);

// D: DCGAN for 28x28 (models/gan-network.h's kind=dcgan with channels 64,128). Generator parameters
// go to group kGenerator, discriminator to kDiscriminator (set on Params while building).
nn::T dcgan_generator(nn::Graph& g, nn::T z);        // z[B,100] -> tanh image [B,1,28,28]
nn::T dcgan_discriminator(nn::Graph& g, nn::T x);    // x[B,1,28,28] -> logit [B,1]

// The two graphs of one DCGAN step (WORKLOADS D), with PyTorch's reference loop order:
// fake = G(z); D step on D(real) -> 1 and D(fake) -> 0 with fake detached (copied into the
// D graph, so nothing flows back into G); then the G step on D(fake) -> 1 (non-saturating)
// through the updated, frozen D. Compile the D graph with train_groups = 1 << kDiscriminator
// and the G graph with 1 << kGenerator.
struct DcganStep {
  nn::T real, fake_in, ones_d, zeros_d, d_loss;  // in the D graph
  nn::T z, fake, ones_g, g_loss;                 // in the G graph
};
DcganStep build_dcgan(nn::Graph& d_graph, nn::Graph& g_graph, int batch, int z_dim = 100);
// Fills the constant target inputs (after compile).
void fill_dcgan_targets(nn::Graph& d_graph, nn::Graph& g_graph, const DcganStep& s);
// One training step: G forward, D update, G update. The caller fills real and z first.
Status dcgan_step(Context& ctx, nn::Graph& d_graph, nn::Graph& g_graph, const DcganStep& s, nn::Optimizer& d_opt,
                  nn::Optimizer& g_opt);

}  // namespace ember::models
