// Finite-difference gradient checks for op backward functions.
//
// Make the op's output a scalar by projecting it on a fixed random array r:
// L(x) = sum_i y_i(x) r_i, so dL/dy = r is what backward receives as dy. Then every analytic
// gradient entry dL/dx_j is compared with the central difference (L(x + h e_j) - L(x - h e_j))
// / 2h, L summed in double. Inputs should avoid kinks (relu at 0) by a margin larger than h.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace ember::testing {

inline double project(const float* y, const float* r, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(y[i]) * r[i];
  return s;
}

struct GradTolerance {
  float h = 1e-2f;       // step (float forward: rounding error ~ eps |L| / h, truncation ~ h^2)
  double rtol = 2e-2;    // relative to max(|numeric|, |analytic|)
  double atol = 2e-3;
  size_t max_checks = 48;  // entries checked, spread evenly over x
};

// loss() recomputes the forward pass from the current contents of x and returns L.
// analytic: dL/dx as backward produced it (n entries). Restores x afterwards.
template <class LossFn>
void check_gradient(const std::string& what, float* x, const float* analytic, size_t n, LossFn loss,
                    const GradTolerance& tol = GradTolerance()) {
  const size_t step = n > tol.max_checks ? n / tol.max_checks : 1;
  int bad = 0;
  for (size_t j = 0; j < n; j += step) {
    const float saved = x[j];
    x[j] = saved + tol.h;
    const double up = loss();
    x[j] = saved - tol.h;
    const double down = loss();
    x[j] = saved;
    const double numeric = (up - down) / (2.0 * static_cast<double>(tol.h));
    const double got = analytic[j];
    const double scale = std::fmax(std::fabs(numeric), std::fabs(got));
    if (!(std::fabs(numeric - got) <= tol.atol + tol.rtol * scale)) {
      if (++bad <= 5)
        MESSAGE(what << "[" << j << "]: analytic " << got << " vs numeric " << numeric);
    }
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " gradient entries disagree");
}

}  // namespace ember::testing
