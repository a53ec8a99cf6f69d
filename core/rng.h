// Rng: a seeded random stream that is bit-identical on every ISA and architecture.
//
// Generator: PCG32 (O'Neill 2014, XSH-RR output over a 64-bit LCG): small state, good
// statistics, and nothing but integer arithmetic, so x86, ARM and Cortex-M agree exactly.
// uniform() takes the top 24 bits (every value exactly representable as a float).
// normal() uses Marsaglia's polar method with ember's own log (rng.cpp) instead of libm's
// logf, whose last bit differs between C libraries; sqrt is correctly rounded by IEEE 754,
// so it is the same everywhere. All float arithmetic lives in rng.cpp (compiled with
// -ffp-contract=off), so a caller's FMA contraction cannot change the stream.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ember {

class Rng {
 public:
  // The whole state, e.g. for a checkpoint.
  struct State {
    uint64_t state = 0;
    uint64_t inc = 1;
    float spare = 0.0f;  // second normal of the last polar pair
    uint32_t has_spare = 0;
  };

  explicit Rng(uint64_t seed = 0, uint64_t stream = 0) { seed_with(seed, stream); }
  void seed_with(uint64_t seed, uint64_t stream = 0);

  uint32_t next_u32();
  float uniform();                                       // [0, 1)
  float uniform(float lo, float hi);
  uint32_t below(uint32_t n);                            // uniform in [0, n), unbiased; n > 0
  float normal();                                        // N(0, 1)
  float normal(float mean, float std);

  void fill_uniform(float* x, size_t n, float lo, float hi);
  void fill_normal(float* x, size_t n, float mean, float std);

  State save() const { return s_; }
  void restore(const State& s) { s_ = s; }

 private:
  State s_;
};

// Natural log of x > 0 computed with float operations in a fixed order: the same bits on
// every IEEE-754 machine (unlike libm). Max error about 2 ulp.
float portable_logf(float x);

}  // namespace ember
