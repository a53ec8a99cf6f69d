#include "metrics/ae-eval.h"

#include <cmath>

namespace ember::metrics {

namespace {
constexpr double kAeLog2Pi = 1.8378770664093454836;
constexpr uint64_t kBinarizeStream = 0xB1;  // which derived stream binarizes test images

constexpr int kLlChunk = 256;  // rows of log-likelihoods summed per call (a stack array)
}  // namespace

Status AeEvaluator::init(Arena* arena, models::AeModel* model) {
  const int e = model->setup().eval_batch, d = model->config().pixels(), l = model->config().latent;
  const size_t mark = arena->mark();
  float** image_bufs[] = {&x_, &grey_, &out_, &out_lv_, &img_, &softplus_};
  float** latent_bufs[] = {&mu_, &lv_, &z_};
  for (float** b : image_bufs) {
    Status s = arena->alloc_array(static_cast<size_t>(e) * d, b);
    if (!s.is_ok()) return (arena->rewind(mark), s);
  }
  for (float** b : latent_bufs) {
    Status s = arena->alloc_array(static_cast<size_t>(e) * l, b);
    if (!s.is_ok()) return (arena->rewind(mark), s);
  }
  model_ = model;
  return Status::ok();
}

int AeEvaluator::load_rows(const data::Dataset& data, int first, int n_end, data::Pixels pixels, uint64_t seed, float* x) const {
  const int e = model_->setup().eval_batch;
  const int rows = n_end - first < e ? n_end - first : e;
  const size_t d = data.image_size();
  for (int r = 0; r < rows; ++r) {
    const uint8_t* px = data.image(first + r);
    float* row = x + r * d;
    if (pixels == data::Pixels::binarized) {
      // One draw per pixel from a stream fixed by (seed, image index): the same binarized
      // test set every time, whatever the batch size.
      Rng rng(data::derive_seed(seed, kBinarizeStream, static_cast<uint64_t>(first + r)));
      for (size_t i = 0; i < d; ++i) row[i] = rng.uniform() * 255.0f < static_cast<float>(px[i]) ? 1.0f : 0.0f;
    } else {
      for (size_t i = 0; i < d; ++i) row[i] = static_cast<float>(px[i]) / 255.0f;
    }
  }
  return rows;
}

void AeEvaluator::log_likelihood_rows(const float* x, size_t x_stride, const float* out, const float* out_logvar,
                                      int rows, double* ll) const {
  const models::AeConfig& c = model_->config();
  const int d = c.pixels();
  const double fixed_lv = 2.0 * std::log(static_cast<double>(c.sigma));
  // log(1 + e^o) by the SIMD kernel in float (an importance-weighted estimate evaluates
  // millions of images); the sums stay in double.
  if (c.likelihood == models::Likelihood::bernoulli)
    model_->context()->k().act_forward(Act::softplus, 0.0f, out, softplus_, static_cast<size_t>(rows) * d);
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + r * x_stride;
    const float* o = out + static_cast<size_t>(r) * d;
    double sum = 0;
    switch (c.likelihood) {
      case models::Likelihood::bernoulli: {  // log Bern(x; sigmoid(o)) = x o - log(1 + e^o)
        const float* sp = softplus_ + static_cast<size_t>(r) * d;
        for (int i = 0; i < d; ++i) sum += static_cast<double>(xr[i]) * o[i] - sp[i];
        break;
      }
      case models::Likelihood::gaussian_fixed:
        if (c.kind == models::ModelKind::ae) {  // the ae's loss is the plain squared error
          for (int i = 0; i < d; ++i) sum -= (static_cast<double>(xr[i]) - o[i]) * (static_cast<double>(xr[i]) - o[i]);
        } else {
          for (int i = 0; i < d; ++i) {
            const double diff = static_cast<double>(xr[i]) - o[i];
            sum -= 0.5 * (kAeLog2Pi + fixed_lv + diff * diff * std::exp(-fixed_lv));
          }
        }
        break;
      case models::Likelihood::gaussian_learned: {
        const float* lv = out_logvar + static_cast<size_t>(r) * d;
        for (int i = 0; i < d; ++i) {
          const double diff = static_cast<double>(xr[i]) - o[i];
          sum -= 0.5 * (kAeLog2Pi + lv[i] + diff * diff * std::exp(-static_cast<double>(lv[i])));
        }
        break;
      }
    }
    ll[r] = sum;
  }
}

Status AeEvaluator::evaluate(const data::Dataset& data, int n, data::Pixels pixels, uint64_t seed, AeEvalResult* out) {
  if (!model_) return Status::error(Code::invalid_argument, "evaluate: init() first");
  const models::AeConfig& c = model_->config();
  if (static_cast<int>(data.image_size()) != c.pixels())
    return Status::error(Code::shape_mismatch, "evaluate: images have %zu pixels, the model takes %d", data.image_size(),
                         c.pixels());
  const int total = n <= 0 || n > data.count ? data.count : n;
  const int d = c.pixels(), l = c.latent;
  const bool vae = c.kind == models::ModelKind::vae;
  Rng noise(data::derive_seed(seed, 0xE1B0, 0));
  double sq = 0, nll = 0, kl = 0, ll[kLlChunk];
  for (int first = 0; first < total;) {
    const int rows = load_rows(data, first, total, pixels, seed, x_);
    // The squared error is on grey pixels: the model's input itself unless it is binarized.
    const float* grey = x_;
    if (pixels != data::Pixels::grey) load_rows(data, first, total, data::Pixels::grey, seed, grey_), grey = grey_;
    EMBER_TRY(model_->encode(x_, rows, mu_, lv_));
    // The mean reconstruction decode(mu); an ae's objective uses the same decoder output.
    EMBER_TRY(model_->decode(mu_, rows, img_, out_, out_lv_));
    for (size_t i = 0; i < static_cast<size_t>(rows) * d; ++i)
      sq += (static_cast<double>(grey[i]) - img_[i]) * (static_cast<double>(grey[i]) - img_[i]);
    if (vae) {  // one-sample objective: z ~ q(z|x), decoded again
      for (size_t i = 0; i < static_cast<size_t>(rows) * l; ++i) {
        z_[i] = mu_[i] + std::exp(0.5f * lv_[i]) * noise.normal();
        kl += -0.5 * (1.0 + lv_[i] - static_cast<double>(mu_[i]) * mu_[i] - std::exp(static_cast<double>(lv_[i])));
      }
      EMBER_TRY(model_->decode(z_, rows, nullptr, out_, out_lv_));
    }
    for (int at = 0; at < rows; at += kLlChunk) {
      const int m = rows - at < kLlChunk ? rows - at : kLlChunk;
      const size_t off = static_cast<size_t>(at) * d;
      log_likelihood_rows(x_ + off, d, out_ + off, out_lv_ + off, m, ll);
      for (int r = 0; r < m; ++r) nll -= ll[r];
    }
    first += rows;
  }
  out->count = total;
  out->recon_sq_err = sq / total;
  out->recon = nll / total;
  out->kl = kl / total;
  out->loss = out->recon + out->kl;
  return Status::ok();
}

}  // namespace ember::metrics

namespace ember::metrics {

Status AeLatentModel::log_px_given_z(const float* x, const float* z, int rows, double* out) {
  EMBER_TRY(eval_->model()->decode(z, rows, nullptr, eval_->out_buffer(), eval_->out_logvar_buffer()));
  eval_->log_likelihood_rows(x, 0, eval_->out_buffer(), eval_->out_logvar_buffer(), rows, out);
  return Status::ok();
}

}  // namespace ember::metrics
