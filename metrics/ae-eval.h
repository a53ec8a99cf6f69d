// Evaluating an AeModel over a dataset: the per-image figures `ember eval` and the training
// loop report. Sums run in double, image by image, in a fixed order, so results do not
// depend on the batch size used inside the model.
//
//   recon_sq_err  sum over pixels of (x - x_hat)^2, x = byte / 255, x_hat = decode(mu(x)):
//                 Hinton & Salakhutdinov's "squared error per image" (always on grey x)
//   loss          the training objective on one draw of z per image: for a vae the negative
//                 ELBO = recon + kl, for an ae the reconstruction loss alone
//   recon         -log p(x|z) (bernoulli: sum of BCE; gaussian: Gaussian NLL; a gaussian
//                 ae: the squared error, its training loss)
//   kl            KL(q(z|x) || N(0, I)) (vae)
// With Pixels::binarized each test image is binarized once with a fixed seed (the usual
// stochastically binarized test set), the same for every call with that seed.
#pragma once
#include <cstdint>

#include "core/arena.h"
#include "models/ae-model.h"
#include "data/batcher.h"
#include "data/dataset.h"
#include "metrics/likelihood.h"

namespace ember::metrics {

struct AeEvalResult {
  double recon_sq_err = 0, loss = 0, recon = 0, kl = 0;
  int count = 0;
};

class AeEvaluator {
 public:
  // Takes its buffers (a few rows of images and codes) from the arena.
  Status init(Arena* arena, models::AeModel* model);
  // Over images [0, n) of data (n <= 0: all).
  Status evaluate(const data::Dataset& data, int n, data::Pixels pixels, uint64_t seed, AeEvalResult* out);

  // Fills x[rows, pixels] with images first.. of data as the model sees them (grey, or
  // binarized from (seed, image index)); returns the rows filled (<= eval batch).
  int load_rows(const data::Dataset& data, int first, int n_end, data::Pixels pixels, uint64_t seed, float* x) const;
  // ll[r] = log p(x_r | z_r) for `rows` <= eval batch rows, summed in double, from the
  // decoder outputs `out` (and `out_logvar`) of z_r. x_r = x + r * x_stride (x_stride 0:
  // one image for every row, as importance sampling needs).
  void log_likelihood_rows(const float* x, size_t x_stride, const float* out, const float* out_logvar, int rows,
                           double* ll) const;

  models::AeModel* model() const { return model_; }
  float* x_buffer() const { return x_; }
  float* out_buffer() const { return out_; }
  float* out_logvar_buffer() const { return out_lv_; }

 private:
  models::AeModel* model_ = nullptr;
  float *x_ = nullptr, *grey_ = nullptr, *mu_ = nullptr, *lv_ = nullptr, *z_ = nullptr;
  float *out_ = nullptr, *out_lv_ = nullptr, *img_ = nullptr, *softplus_ = nullptr;
};

// The model as metrics/likelihood.h sees it, for nll_iwae / nll_naive (a vae).
class AeLatentModel : public LatentModel {
 public:
  explicit AeLatentModel(AeEvaluator* eval) : eval_(eval) {}
  int latent_dim() const override { return eval_->model()->config().latent; }
  int batch() const override { return eval_->model()->setup().eval_batch; }
  Status encode(const float* x, float* mu, float* logvar) override { return eval_->model()->encode(x, 1, mu, logvar); }
  Status log_px_given_z(const float* x, const float* z, int rows, double* out) override;

 private:
  AeEvaluator* eval_;
};

}  // namespace ember::metrics
