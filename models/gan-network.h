// Generative adversarial networks on the graph API: the config and the networks only.
// (models/gan-model.h trains and samples them.)
//
// A generator G maps noise z ~ N(0, I) to a sample; a discriminator D maps a sample to a
// logit, D(x) = sigmoid(logit) being its belief that x is real. One config covers:
//
//   kind   mlp    G: [z, y] -> widths (ReLU) -> output;  D: [x, y] -> widths reversed
//                 (LeakyReLU 0.2) -> logit. Default PyTorch initialisation.
//          dcgan  WORKLOADS.md D (Radford et al. 2016) for rows x cols divisible by 4, channels
//                 c1,c2 (64,128 there): G z -> Linear(c2 * r/4 * c/4) -> BN -> ReLU -> reshape
//                 -> ConvT(c1, 4, 2, 1) -> BN -> ReLU -> ConvT(1, 4, 2, 1) -> tanh;
//                 D x -> Conv(c1, 4, 2, 1) -> LeakyReLU -> Conv(c2, 4, 2, 1) -> BN -> LeakyReLU
//                 -> flatten -> Linear(1). Conv and linear weights N(0, 0.02), BN weight 1, bias 0.
//   data   points  2-D samples (the rings toy); G's output layer is linear
//          images  rows x cols pixels in [-1, 1]; G ends in tanh. The caller scales real
//                  images from [0, 1] to [-1, 1] (to_signed_pixels) before training.
//   cond   a conditional GAN (Mirza & Osindero 2014): the class y in 0..classes-1 enters as a
//          one-hot vector. mlp: concatenated to z (G's input) and to x (D's input), so D's
//          hidden layers see image and class together. dcgan: concatenated to z; D is a
//          projection discriminator (Miyato & Koyama 2018): logit = w.f + <V y, s * f>, with
//          f the flattened conv features, V y a learned per-class embedding ("d.embed") and s
//          a learned per-feature scale ("d.proj", starting at 1). The class must interact
//          with the features: y concatenated to f before the last linear only adds a
//          per-class bias to the logit, so D cannot tell "a good 3 asked to be a 7" from a
//          good 7 (docs/lab-notes.md). The conv stack stays class-agnostic (what strokes
//          look like).
//   mbstd  the minibatch standard-deviation feature (Karras et al. 2018) in D, against mode
//          collapse: one extra input to D's last linear layer holding the average over
//          features of their standard deviation across the batch (nn/ops.h). mlp: after the
//          last hidden layer; dcgan: a (c2+1)-th channel before the flatten. D then sees how
//          diverse a batch is, and a generator emitting near-copies is easy to reject.
//   gan_loss  D minimises BCE(D(x), 1) + BCE(D(G(z)), 0) (each a batch mean) in both cases;
//          minimax  G minimises  E log(1 - D(G(z))) = -BCE(D(G(z)), 0), the original game
//                   (its gradient vanishes when D confidently rejects the fakes);
//          ns       G minimises -E log D(G(z)) = BCE(D(G(z)), 1): "flip the target, not the
//                   sign", the non-saturating heuristic (Goodfellow et al. 2014). Default.
//   d_steps, g_steps, unroll  the training schedule (models/gan-model.h).
//   topk   top-k G updates (Sinha et al. 2020): each G update takes its gradient only from
//          the fakes D scores most real, a share f of the batch with topk <= f <= 1 (the
//          trainer anneals f = max(topk, 0.99^epoch)); 0 turns it off. Part of the schedule.
//   info   InfoGAN (Chen et al. 2016) with one categorical code of `info` values, against
//          the unconditional generator's blends between classes: the last `info` entries of z
//          pick the code, c = argmax of them (uniform over the values, as z ~ N(0, I)), and G
//          sees [z without them, onehot(c)], so G keeps its z_dim inputs. A head on D's
//          features, Q(x) = Linear(f) ("d.q"), predicts c; G and Q both minimise
//          kInfoWeight * CE(Q(G(z)), c), a lower bound on -I(c; G(z)) (up to H(c)). G learns
//          to make the code visible, so each code value becomes one kind of sample (on MNIST,
//          most often one digit), and samples no longer sit between them. No labels are used.
//          Q trains in the D step (its loss is added to D's), G in the G step (added to G's).
//   info_cont  with info: that many continuous codes too, the z entries just before the
//          categorical ones, which G sees as they are; a second head ("d.qc") predicts them,
//          loss 0.5 ||Qc(G(z)) - c||^2 (a unit-variance Gaussian's NLL). Chen et al.'s MNIST
//          code has two: they take slant and width, so the categorical code is left the
//          digit's identity rather than a style.
//   info_real  with info: Q also learns the code of each real image from the labels train_step
//          is given (pseudo-labels, e.g. k-means clusters of the training images: no digit
//          labels), loss kInfoWeight * CE(Q(x), label). That ties each code value to one
//          cluster, where plain InfoGAN's codes settle on any easily seen style. The codes'
//          prior (GanModel::set_code_prior, e.g. the cluster sizes) then sets how often each
//          is drawn.
//   info_std  with info: G sees its plain noise entries (not the codes) times info_std. The
//          model scales them, so callers still draw z ~ N(0, I). ClusterGAN (Mukherjee et al.
//          2019) uses 0.1: with little noise beside the one-hot the code has to decide the
//          kind of sample, not just a style of it. 1 leaves z as it is.
//   ema    sample with an exponential moving average of G's weights (Yazici et al. 2019),
//          decay e.g. 0.999; 0 turns it off. The average is part of the model (state
//          parameters "ema.<name>", saved in checkpoints), see models/gan-model.h.
//
// Parameter names are fixed ("g.fc1.weight", "d.conv2.weight", ...) and every parameter of G
// is in group kGenerator, of D in kDiscriminator, so the D-step graph, the G-step graph, the
// sampler and a checkpoint all agree.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/rng.h"
#include "core/status.h"
#include "nn/graph.h"

namespace ember::models {

constexpr uint8_t kGenerator = 0, kDiscriminator = 1;  // parameter groups
constexpr int kPointDims = 2;                          // data=points: (x, y)
constexpr int kMaxInfoCodes = 4096;  // info: code values at most
constexpr float kInfoWeight = 1.0f;  // info: weight of the code loss (lambda = 1 for a
                                     // categorical code, as Chen et al. use)

enum class GanKind : uint8_t { mlp, dcgan };
enum class GanData : uint8_t { points, images };
enum class GanLoss : uint8_t { minimax, ns };

struct GanConfig {
  static constexpr int kMaxDepth = 4;
  GanKind kind = GanKind::mlp;
  GanData data = GanData::images;
  int rows = 28, cols = 28;                  // images
  int z_dim = 100;
  int widths[kMaxDepth] = {256, 512, 0, 0};  // mlp: G's hidden widths in order; D's reversed
  int depth = 2;                             // how many widths are used (mlp)
  int channels[2] = {64, 128};               // dcgan: D's conv channels c1, c2 (G mirrors)
  bool cond = false;
  int classes = 10;                          // cond only
  bool mbstd = false;
  GanLoss loss = GanLoss::ns;
  int d_steps = 1;                           // D updates per step
  int g_steps = 1;                           // G updates per step (after the D updates)
  int unroll = 0;                            // look-ahead D steps for the G update (0: off)
  float ema = 0.0f;                          // decay of G's weight average for sampling (0: off)
  float topk = 0.0f;                         // G updates from the top share of the batch (0: off)
  int info = 0;                              // InfoGAN categorical code values (0: off)
  int info_cont = 0;                         // InfoGAN continuous codes (with info)
  float info_std = 1.0f;                     // with info: scale of the noise entries G sees
  bool info_real = false;                    // with info: Q learns real images' codes from labels
  nn::Storage weights = nn::Storage::f32;    // int8: a generator-only sampler's (ember export --weights int8)

  // Values per sample: kPointDims or rows * cols.
  int dims() const { return data == GanData::points ? kPointDims : rows * cols; }
  // G's one-hot input width: the classes (cond), the code values (info), else 0.
  int onehot_dim() const { return cond ? classes : info; }
  Status validate() const;
  // One-line text form kept in checkpoints, e.g. "kind=dcgan data=images rows=28 cols=28
  // z_dim=100 widths=256,512 channels=64,128 cond=0 classes=10 mbstd=0 gan_loss=ns d_steps=1
  // g_steps=1 unroll=0 ema=0 topk=0 info=0 info_cont=0 info_std=1 info_real=0".
  Status to_text(char* buf, size_t cap) const;
  Status from_text(const char* text);
  // Parses one "key=value" (the keys above), for command lines.
  Status set(const char* key, const char* value);
  // Same networks (parameters and their shapes): everything but gan_loss, d_steps, g_steps,
  // unroll, topk and the ema decay, which only change how training proceeds (ema on or off
  // must match: the average is a set of parameters).
  bool same_networks(const GanConfig& o) const;
};

// G: z[B, z_dim] (cond: and onehot[B, classes]; info: z[B, z_dim - info] and onehot[B, info])
// -> sample: [B, dims] for mlp, [B, 1, rows,
// cols] for dcgan. Sets the parameter group to kGenerator.
nn::T gan_generator(nn::Graph& g, const GanConfig& c, nn::T z, nn::T onehot);
// D: x[B, dims] or [B, 1, rows, cols] (and onehot) -> logit [B, 1]. Sets group kDiscriminator.
// info: q_logits (if given) gets Q(x) [B, info], the code logits, from the same features, and
// q_cont (if info_cont) Qc(x) [B, info_cont], the continuous codes' means.
nn::T gan_discriminator(nn::Graph& g, const GanConfig& c, nn::T x, nn::T onehot, nn::T* q_logits = nullptr,
                        nn::T* q_cont = nullptr);
// The DCGAN initialisation (above) for every conv and linear weight in params.
void dcgan_init(nn::Params& params);

// The two training graphs. The D graph computes fakes with G itself (G's nodes get no
// gradient there: compile it with train_groups = 1 << kDiscriminator), so a D step is one
// forward, one backward and one Adam update; the G graph (train_groups = 1 << kGenerator)
// runs D frozen: the gradient flows through D into G, D's parameters get none.
struct GanNodes {
  // D graph: d_loss = BCE(D(real), ones) + BCE(D(G(d_z)), zeros)
  //                  (info: + kInfoWeight * d_info, d_info = CE(Q(G(d_z, d_fake_onehot)), d_code)
  //                   + 0.5 ||Qc(G(...)) - d_cont||^2 with info_cont; d_cont are z's entries;
  //                   info_real: + kInfoWeight * real_info, real_info = CE(Q(real), real_code)).
  nn::T real_code, real_info, real, real_onehot, d_z, d_fake_onehot, d_code, d_cont, ones, zeros, real_logit, fake_logit, d_loss, d_info;
  // G graph: g_loss = BCE(D(G(z)), target) (ns: target 1) or -BCE(D(G(z)), target 0) (minimax).
  // With topk the loss reads BCE(D(G(z)) * g_mask, target): g_logit is D(G(z)), and g_mask
  // (1 in the forward) is set to 0 on the rows left out before the backward, which reads it.
  // info: + kInfoWeight * g_info, as d_info on G's batch (g_code, g_cont).
  nn::T z, fake_onehot, fake, target, g_loss, g_logit, g_mask, g_code, g_cont, g_info;
};
Status build_gan(nn::Graph& d_graph, nn::Graph& g_graph, const GanConfig& c, int batch, GanNodes* out);
// After compile: the constant targets (ones, zeros, the G target for the config's loss).
void fill_gan_targets(nn::Graph& d_graph, nn::Graph& g_graph, const GanConfig& c, const GanNodes& n);

// info: writes the code entries of one z row (its last info values) so that the sampler
// reads `code` from them, whatever the codes' prior (+8 there, -8 elsewhere); the noise
// entries are left alone.
void set_info_code(const GanConfig& c, float* z_row, int code);

// The truncation trick (Brock et al. 2019, BigGAN): in each of n z rows, every noise entry
// (all but an info model's code entries, whose draw is the codes' prior) with |z| > t is
// redrawn from rng until it is not, so G sees N(0, 1) truncated to [-t, t]: fewer poor
// samples, less variety. t >= kMinTruncation (below, nearly every draw would be redrawn).
constexpr float kMinTruncation = 0.05f;
Status truncate_noise(const GanConfig& c, Rng& rng, float t, float* z, int n);

// Spherical interpolation between latent vectors a and b (d values each) at t in [0, 1]:
// out = (sin((1 - t) w) a + sin(t w) b) / sin w, w the angle between a and b. Gaussian z
// concentrate near the sphere of radius sqrt(d); a straight line between two of them runs
// well inside it, where G saw no input, while slerp keeps the ends' radius (White 2016,
// "Sampling generative networks"). Nearly parallel ends fall back to the straight line.
void slerp(const float* a, const float* b, int d, float t, float* out);

// Pixels in [0, 1] <-> the generators' [-1, 1] (2p - 1 and (x + 1) / 2 clamped to [0, 1]).
void to_signed_pixels(float* x, size_t n);
void to_unit_pixels(float* x, size_t n);

}  // namespace ember::models
