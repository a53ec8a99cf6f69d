// ember-bench: the reference workloads of ../shared/bench/WORKLOADS.md, one subcommand each.
#pragma once
#include <cstdio>

namespace ember::bench {

// Each subcommand parses its own flags (argv[0] is the subcommand) and returns an exit code.
int gemm_main(int argc, char** argv);
int vae_main(int argc, char** argv);     // V
int ae_main(int argc, char** argv);      // A
int dcgan_main(int argc, char** argv);   // D
int classifier_main(int argc, char** argv);  // C
int sample_main(int argc, char** argv);  // s1, s2, s3

}  // namespace ember::bench
