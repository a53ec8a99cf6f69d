// Importance-weighted and naive likelihood estimates; see likelihood.h.
#include "metrics/likelihood.h"

#include <cmath>

#include "metrics/linalg.h"

namespace ember::metrics {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;  // log(2 pi)

enum class Proposal { posterior, prior };

// What one pass of sampling collects.
struct Tally {
  LogSumExp weights;     // log w_i
  double sum_lpx = 0.0;  // sum_i log p(x | z_i)
};

Status check_call(LatentModel& model, const float* x, int k, Rng* rng, Arena* scratch, const void* out,
                  const char* what) {
  if (!x || !rng || !scratch || !out) return Status::error(Code::invalid_argument, "%s: null argument", what);
  if (k < 1) return Status::error(Code::invalid_argument, "%s: %d samples (need at least 1)", what, k);
  if (model.latent_dim() < 1 || model.batch() < 1)
    return Status::error(Code::invalid_argument, "%s: model has latent_dim %d, batch %d", what, model.latent_dim(),
                         model.batch());
  return Status::ok();
}

// Draws k latents from q(z|x) (posterior) or N(0, I) (prior) in chunks of model.batch()
// rows and tallies the log weights. mu/logvar: q's parameters (unused for the prior).
Status sample(LatentModel& model, const float* x, const float* mu, const float* logvar, Proposal proposal, int k,
              Rng* rng, Arena* scratch, const char* what, Tally* tally) {
  const int d = model.latent_dim(), batch = model.batch();
  ScratchScope scope(scratch);
  float *z, *std_dev = nullptr;
  double* lpx;
  size_t z_count;
  if (!mul_fits(static_cast<size_t>(batch), static_cast<size_t>(d), &z_count))
    return Status::error(Code::invalid_argument, "%s: batch %d x latent %d overflows", what, batch, d);
  EMBER_TRY(scratch->alloc_array(z_count, &z));
  EMBER_TRY(scratch->alloc_array(static_cast<size_t>(batch), &lpx));
  if (proposal == Proposal::posterior) {
    EMBER_TRY(scratch->alloc_array(static_cast<size_t>(d), &std_dev));
    for (int j = 0; j < d; ++j) std_dev[j] = static_cast<float>(std::exp(0.5 * static_cast<double>(logvar[j])));
  }
  for (int done = 0, rows = 0; done < k; done += rows) {
    rows = k - done < batch ? k - done : batch;
    for (int r = 0; r < rows; ++r) {
      float* zr = z + static_cast<size_t>(r) * d;
      for (int j = 0; j < d; ++j) {
        const float eps = rng->normal();
        zr[j] = std_dev ? mu[j] + std_dev[j] * eps : eps;
      }
    }
    EMBER_TRY(model.log_px_given_z(x, z, rows, lpx));
    for (int r = 0; r < rows; ++r) {
      const double l = lpx[r];
      if (std::isnan(l) || l == std::numeric_limits<double>::infinity())
        return Status::error(Code::invalid_argument, "%s: model gave a non-finite log p(x|z) for sample %d", what,
                             done + r);
      double w = l;
      if (std_dev) {
        const float* zr = z + static_cast<size_t>(r) * d;
        w += log_standard_normal(zr, d) - log_normal_diag(zr, mu, logvar, d);
      }
      tally->weights.add(w);
      tally->sum_lpx += l;
    }
  }
  return Status::ok();
}

// Runs q on x into mu/logvar (from the scratch arena head, kept until the caller rewinds).
Status encode(LatentModel& model, const float* x, Arena* scratch, const char* what, float** mu, float** logvar) {
  const size_t d = static_cast<size_t>(model.latent_dim());
  EMBER_TRY(scratch->alloc_array(d, mu));
  EMBER_TRY(scratch->alloc_array(d, logvar));
  EMBER_TRY(model.encode(x, *mu, *logvar));
  for (size_t j = 0; j < d; ++j)
    if (!std::isfinite((*mu)[j]) || !std::isfinite((*logvar)[j]))
      return Status::error(Code::invalid_argument, "%s: encoder gave a non-finite mu/logvar at %zu", what, j);
  return Status::ok();
}

}  // namespace

double log_normal_diag(const float* v, const float* mu, const float* logvar, int d) {
  double s = 0.0;
  for (int j = 0; j < d; ++j) {
    const double diff = static_cast<double>(v[j]) - mu[j];
    s += kLog2Pi + logvar[j] + diff * diff * std::exp(-static_cast<double>(logvar[j]));
  }
  return -0.5 * s;
}

double log_standard_normal(const float* v, int d) {
  double s = 0.0;
  for (int j = 0; j < d; ++j) s += kLog2Pi + static_cast<double>(v[j]) * v[j];
  return -0.5 * s;
}

double log_bernoulli_logits(const float* x, const float* logits, int d) {
  double s = 0.0;
  for (int j = 0; j < d; ++j) {
    const double l = logits[j];
    const double softplus = (l > 0.0 ? l : 0.0) + std::log1p(std::exp(-std::fabs(l)));
    s += x[j] * l - softplus;
  }
  return s;
}

double kl_standard_normal(const float* mu, const float* logvar, int d) {
  double s = 0.0;
  for (int j = 0; j < d; ++j) {
    const double m = mu[j], lv = logvar[j];
    s += std::exp(lv) + m * m - 1.0 - lv;
  }
  return 0.5 * s;
}

void LogSumExp::add(double w) {
  if (w == -std::numeric_limits<double>::infinity()) return;
  if (w > max) {
    sum = sum * std::exp(max - w) + 1.0;
    max = w;
  } else {
    sum += std::exp(w - max);
  }
}

double LogSumExp::value() const {
  return sum > 0.0 ? max + std::log(sum) : -std::numeric_limits<double>::infinity();
}

Status nll_iwae(LatentModel& model, const float* x, int k, Rng* rng, Arena* scratch, double* nll) {
  EMBER_TRY(check_call(model, x, k, rng, scratch, nll, "nll_iwae"));
  ScratchScope scope(scratch);
  float *mu, *logvar;
  EMBER_TRY(encode(model, x, scratch, "nll_iwae", &mu, &logvar));
  Tally t;
  EMBER_TRY(sample(model, x, mu, logvar, Proposal::posterior, k, rng, scratch, "nll_iwae", &t));
  *nll = -(t.weights.value() - std::log(static_cast<double>(k)));
  return Status::ok();
}

Status nll_naive(LatentModel& model, const float* x, int k, Rng* rng, Arena* scratch, double* nll) {
  EMBER_TRY(check_call(model, x, k, rng, scratch, nll, "nll_naive"));
  Tally t;
  EMBER_TRY(sample(model, x, nullptr, nullptr, Proposal::prior, k, rng, scratch, "nll_naive", &t));
  *nll = -(t.weights.value() - std::log(static_cast<double>(k)));
  return Status::ok();
}

Status neg_elbo(LatentModel& model, const float* x, int samples, Rng* rng, Arena* scratch, double* out) {
  EMBER_TRY(check_call(model, x, samples, rng, scratch, out, "neg_elbo"));
  ScratchScope scope(scratch);
  float *mu, *logvar;
  EMBER_TRY(encode(model, x, scratch, "neg_elbo", &mu, &logvar));
  Tally t;
  EMBER_TRY(sample(model, x, mu, logvar, Proposal::posterior, samples, rng, scratch, "neg_elbo", &t));
  *out = kl_standard_normal(mu, logvar, model.latent_dim()) - t.sum_lpx / samples;
  return Status::ok();
}

}  // namespace ember::metrics
