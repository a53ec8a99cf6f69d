// ember-bench SUBCOMMAND [flags]: dispatch to the workload benchmarks.
#include <cstring>

#include "examples/bench/bench.h"

namespace {

struct Subcommand {
  const char* name;
  int (*main)(int, char**);
  const char* what;
};

const Subcommand kSubcommands[] = {
    {"gemm", ember::bench::gemm_main, "GEMM shapes g1..g5: GFLOP/s"},
    {"vae", ember::bench::vae_main, "V: MLP VAE training step, batch 128: ms"},
    {"ae", ember::bench::ae_main, "A: deep autoencoder training step, batch 128: ms"},
    {"dcgan", ember::bench::dcgan_main, "D: DCGAN step (D update + G update), batch 64: ms"},
    {"classifier", ember::bench::classifier_main, "C: small conv classifier training step, batch 64: ms"},
    {"sample", ember::bench::sample_main, "s1, s2: one-sample latency (us); s3: DCGAN images/s"},
};

int usage(FILE* out) {
  std::fprintf(out, "usage: ember-bench SUBCOMMAND [--threads N] [--isa X] [--json FILE]\n\n");
  for (const Subcommand& s : kSubcommands) std::fprintf(out, "  %-10s %s\n", s.name, s.what);
  std::fprintf(out, "\n'ember-bench SUBCOMMAND --help' for its flags.\n");
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  if (!std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help")) return usage(stdout);
  for (const Subcommand& s : kSubcommands)
    if (!std::strcmp(argv[1], s.name)) return s.main(argc - 1, argv + 1);
  std::fprintf(stderr, "ember-bench: unknown subcommand '%s'\n", argv[1]);
  return usage(stderr);
}
