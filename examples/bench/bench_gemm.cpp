// ember-bench gemm: placeholder until the GEMM benchmark lands.
#include "examples/bench/bench.h"

namespace ember::bench {

int gemm_main(int, char**) {
  std::fprintf(stderr, "ember-bench gemm: not implemented yet\n");
  return 1;
}

}  // namespace ember::bench
