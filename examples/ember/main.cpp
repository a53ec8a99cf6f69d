// ember: train and sample autoencoders, VAEs and GANs from the command line.
//
//   ember help                       the commands
//   ember CMD --help                 one command's options
//   ember --version
#include <cstdio>
#include <cstring>

#include "core/version.h"
#include "examples/ember/commands.h"
#include "nn/checkpoint.h"

namespace {


struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* summary;
};

const Command kCommands[] = {
    {"train", ember::tool::cmd_train, "train an AE, VAE, GAN, DCGAN, conditional GAN or classifier (--resume)"},
    {"sample", ember::tool::cmd_sample, "decode z ~ N(0, I) (VAE) or G(z) (GAN, --label) into a PNG grid"},
    {"reconstruct", ember::tool::cmd_reconstruct, "test images next to their reconstructions (PNG)"},
    {"interpolate", ember::tool::cmd_interpolate, "decode lines between two images' codes; GAN: slerp between two z (PNG)"},
    {"traverse", ember::tool::cmd_traverse, "vary one latent dimension at a time (PNG)"},
    {"latent-map", ember::tool::cmd_latent_map, "2-D codes of test images coloured by label (SVG)"},
    {"eval", ember::tool::cmd_eval, "quality metrics: AE/VAE on the test set, GAN samples, classifier (--json)"},
    {"semisup", ember::tool::cmd_semisup, "few-label classifier on an encoder's codes vs from scratch"},
    {"export", ember::tool::cmd_export, "a sampler file for a device (a VAE's decoder, a GAN's G), or safetensors"},
    {"import", ember::tool::cmd_import, "a safetensors file (PyTorch names) into an ember checkpoint"},
    {"dataset", ember::tool::cmd_dataset, "a dataset (e.g. the built-in sprites) as MNIST's four IDX files"},
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
  if (argc < 2) {  // a script that forgot the command must not pass
    help();
    return 2;
  }
  if (!std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) return help();
  if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "version")) {
    std::printf("ember %s (checkpoint format %u)\n", ember::kVersion, static_cast<unsigned>(ember::nn::kCheckpointVersion));
    return 0;
  }
  for (const Command& c : kCommands)
    if (!std::strcmp(argv[1], c.name)) return c.run(argc - 2, argv + 2);
  std::fprintf(stderr, "ember: unknown command '%s' (see ember help)\n", argv[1]);
  return 2;
}
