// ember: train and sample autoencoders and VAEs from the command line.
//
//   ember help                       the commands
//   ember CMD --help                 one command's options
#include <cstdio>
#include <cstring>

#include "examples/ember/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* summary;
};

const Command kCommands[] = {
    {"train", ember::tool::cmd_train, "train an autoencoder or VAE (checkpoint each epoch, --resume)"},
    {"sample", ember::tool::cmd_sample, "decode z ~ N(0, I) into a PNG grid"},
    {"reconstruct", ember::tool::cmd_reconstruct, "test images next to their reconstructions (PNG)"},
    {"interpolate", ember::tool::cmd_interpolate, "decode straight lines between the codes of two images (PNG)"},
    {"traverse", ember::tool::cmd_traverse, "vary one latent dimension at a time (PNG)"},
    {"latent-map", ember::tool::cmd_latent_map, "2-D codes of test images coloured by label (SVG)"},
    {"eval", ember::tool::cmd_eval, "quality metrics on the test set (text or --json)"},
    {"semisup", ember::tool::cmd_semisup, "few-label classifier on an encoder's codes vs from scratch"},
    {"info", ember::tool::cmd_info, "architecture and arena bytes by category"},
};

int help() {
  std::printf(
      "ember: train and sample generative models on a fixed block of memory\n\n"
      "usage: ember COMMAND [options]     (ember COMMAND --help for its options)\n\ncommands:\n");
  for (const Command& c : kCommands) std::printf("  %-13s %s\n", c.name, c.summary);
  std::printf(
      "\nexample (built-in data, no download, about a minute):\n"
      "  ember train --model vae --data sprites --epochs 5 --out sprites-vae.ember\n"
      "  ember sample --model sprites-vae.ember --out samples.png\n"
      "MNIST: --data DIR with the four IDX files (.gz or not), or set EMBER_DATA=DIR.\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))
    return help();
  for (const Command& c : kCommands)
    if (!std::strcmp(argv[1], c.name)) return c.run(argc - 2, argv + 2);
  std::fprintf(stderr, "ember: unknown command '%s' (see ember help)\n", argv[1]);
  return 2;
}
