// Log-likelihood estimates for latent-variable models (VAEs), generic over the model.
//
// IWAE bound (Burda, Grosse & Salakhutdinov 2015): with z_1..z_k ~ q(z|x),
//   log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x),   p(z) = N(0, I)
//   log p(x) ~= log (1/k) sum_i w_i = logsumexp(log w) - log k.
// Its expectation is a lower bound on log p(x) that tightens as k grows (k = 1 is the ELBO)
// and is exact for every k when q is the true posterior (all weights equal). The naive
// estimate samples the prior instead (w_i = p(x|z_i)); unbiased in p(x) but needs a huge k.
// We return nll = -estimate (nats). Log weights are summed with a streaming log-sum-exp in
// double (running maximum, so nothing overflows), and every log density is evaluated in
// double from the float z actually passed to the model.
//
// The model supplies q and p(x|z) through LatentModel; z is drawn in chunks of batch()
// rows, so a decoder compiled for a fixed batch evaluates k samples in ceil(k / batch) calls.
// Scratch comes from the Arena (released before returning).
#pragma once
#include <limits>

#include "core/arena.h"
#include "core/rng.h"
#include "core/status.h"

namespace ember::metrics {

// A model overrides all four. The defaults exist instead of pure virtuals (= 0), whose vtable
// slots would pull __cxa_pure_virtual (and std::terminate) into bare-metal builds: an
// incomplete model fails the estimators' argument check (latent_dim 0) or gets an error
// Status. The destructor is protected and non-virtual so that no deleting destructor (and
// so no operator delete) is ever needed; models are never deleted through this base.
struct LatentModel {
  virtual int latent_dim() const { return 0; }
  virtual int batch() const { return 0; }  // most z rows one log_px_given_z call takes
  // q(z|x) = N(mu, exp(logvar)) diagonal, for ONE image x.
  virtual Status encode(const float* /*x*/, float* /*mu*/, float* /*logvar*/) {
    return Status::error(Code::unsupported, "LatentModel: encode is not implemented by this model");
  }
  // out[r] = log p(x | z_r) for the rows z[r * latent_dim ..], r < rows <= batch().
  virtual Status log_px_given_z(const float* /*x*/, const float* /*z*/, int /*rows*/, double* /*out*/) {
    return Status::error(Code::unsupported, "LatentModel: log_px_given_z is not implemented by this model");
  }

 protected:
  ~LatentModel() = default;
};

// Log densities, summed over d coordinates, in double. log_normal_diag is log q(z|x) for an
// encoder and log N(x; mu, exp(logvar)) for a Gaussian decoder alike.
double log_normal_diag(const float* v, const float* mu, const float* logvar, int d);  // N(mu, exp(logvar))
double log_standard_normal(const float* v, int d);                                     // N(0, I)
// sum x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)) = x l - softplus(l), stable for any l;
// x in [0, 1] (for non-binary x this is the cross-entropy, not a normalised density).
double log_bernoulli_logits(const float* x, const float* logits, int d);
// KL(N(mu, exp(logvar)) || N(0, I)) in closed form.
double kl_standard_normal(const float* mu, const float* logvar, int d);

// log sum_i exp(w_i) over a stream of w, stable: keeps max and sum exp(w_i - max).
struct LogSumExp {
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0.0;  // sum of exp(w_i - max)
  void add(double w);
  double value() const;  // -inf when empty or every w was -inf
};

// IWAE negative log-likelihood of one image with k >= 1 samples of q.
Status nll_iwae(LatentModel& model, const float* x, int k, Rng* rng, Arena* scratch, double* nll);
// Naive estimate with k >= 1 samples of the prior.
Status nll_naive(LatentModel& model, const float* x, int k, Rng* rng, Arena* scratch, double* nll);
// Negative ELBO: KL(q || p(z)) in closed form minus the mean of log p(x|z) over `samples` z ~ q.
Status neg_elbo(LatentModel& model, const float* x, int samples, Rng* rng, Arena* scratch, double* out);

}  // namespace ember::metrics
