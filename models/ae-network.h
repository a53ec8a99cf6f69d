// Autoencoders and variational autoencoders on the graph API: the networks only.
// (models/ae-model.h runs them: training step, encode, decode, checkpoints.)
//
// One config describes every variant the command line offers:
//
//   kind   ae   x -> code -> x_hat; loss = reconstruction only
//          vae  x -> q(z|x) = N(mu, diag e^logvar) -> z = mu + e^(logvar/2) eps -> p(x|z);
//               loss = -log p(x|z) + KL(q(z|x) || N(0, I))   (the negative ELBO, per image)
//   arch   mlp     widths w1..wn, activation between layers, mirrored decoder
//          linear  no hidden layer, no activation: the autoencoder PCA is the optimum of
//          conv    two stride-2 4x4 convolutions (28 -> 14 -> 7) and a linear code, mirrored
//                  with transposed convolutions
//   likelihood  p(x|z) of the decoder, i.e. the reconstruction loss
//          bernoulli         logits; loss = sum BCE-with-logits(logits, x); x_hat = sigmoid
//          gaussian_fixed    mean; loss = sum 0.5 (x - mean)^2 / sigma^2 + const
//                            (for an ae: plain squared error; x_hat = mean)
//          gaussian_learned  mean and a per-pixel log-variance from the decoder (vae only)
//
// Parameter names are fixed ("enc.fc1.weight", "dec.out.bias", ...), so the training graph,
// the encoder-only and decoder-only inference graphs and a checkpoint all agree.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "nn/graph.h"

namespace ember::models {

enum class ModelKind : uint8_t { ae, vae };
enum class Arch : uint8_t { mlp, linear, conv };
enum class Likelihood : uint8_t { bernoulli, gaussian_fixed, gaussian_learned };

struct AeConfig {
  static constexpr int kMaxDepth = 4;
  ModelKind kind = ModelKind::vae;
  Arch arch = Arch::mlp;
  int rows = 28, cols = 28;
  int widths[kMaxDepth] = {400, 0, 0, 0};  // mlp hidden widths, encoder order
  int depth = 1;                           // how many of widths are used (mlp)
  int conv_channels[2] = {32, 64};         // conv arch: channels after each stride-2 conv
  int latent = 20;
  Act act = Act::relu;                     // between hidden layers (relu, tanh, leaky_relu, ...)
  Likelihood likelihood = Likelihood::bernoulli;
  float sigma = 1.0f;                      // gaussian_fixed: the decoder's standard deviation
  nn::Storage weights = nn::Storage::f32;  // int8: a decoder-only sampler's (ember export --weights int8)

  int pixels() const { return rows * cols; }
  Status validate() const;
  // One-line text form, e.g. "kind=vae arch=mlp rows=28 cols=28 widths=400 latent=20
  // act=relu lik=bernoulli sigma=1", kept in checkpoints so a file knows its architecture.
  Status to_text(char* buf, size_t cap) const;
  Status from_text(const char* text);
  // Parses one "key=value" (the same keys), for command lines.
  Status set(const char* key, const char* value);
};

const char* kind_name(ModelKind k);
const char* arch_name(Arch a);
const char* likelihood_name(Likelihood l);

// The nodes of the training graph. For an ae, mu is the code and logvar/kl are invalid.
struct AeNodes {
  nn::T x;                 // [B, pixels] input in [0, 1]
  nn::T mu, logvar;        // [B, latent] (vae) / mu = code (ae)
  nn::T z;                 // [B, latent] sample (vae) or the code (ae)
  nn::T out, out_logvar;   // decoder output: logits or mean; learned log-variance
  nn::T fixed_logvar;      // gaussian_fixed vae: constant input holding log sigma^2
  nn::T recon, kl, loss;   // per image (mean over the batch): -log p(x|z) (+ const), KL, sum
};

// The whole training graph; minimises loss. Fails on an invalid config or a graph error.
Status build_ae(nn::Graph& g, const AeConfig& c, int batch, AeNodes* out);
// Encoder only: x[B, pixels] -> mu (or code); *logvar set for a vae.
nn::T build_encoder(nn::Graph& g, const AeConfig& c, nn::T x, nn::T* logvar);
// Decoder only: z[B, latent] -> logits / mean [B, pixels]; *out_logvar for gaussian_learned.
nn::T build_decoder(nn::Graph& g, const AeConfig& c, nn::T z, nn::T* out_logvar);

}  // namespace ember::models
