#include "examples/ember/model-options.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "models/checkpoint-kind.h"
#include "models/gan-network.h"
#include "nn/checkpoint.h"

namespace ember::tool {

void config_text_value(const char* text, const char* key, char* buf, size_t cap) {
  const std::string pattern = std::string(key) + "=";
  const char* at = text;
  // The key at the start of the text or after a space (not inside another key's name).
  while ((at = std::strstr(at, pattern.c_str())) && at != text && at[-1] != ' ') ++at;
  std::snprintf(buf, cap, "%s", at ? at + pattern.size() : "");
  if (char* sp = std::strchr(buf, ' ')) *sp = 0;
}

void read_architecture(Cli& cli, models::AeConfig* c, std::vector<ConfigFlag>* given) {
  static const ConfigFlag flags[] = {
      {"--model", "kind", "ae|vae", "autoencoder or variational autoencoder (--model classifier: a classifier)"},
      {"--arch", "arch", "mlp|linear|conv", "network shape"},
      {"--widths", "widths", "W1,W2,..", "mlp hidden widths, encoder order (decoder mirrors)"},
      {"--channels", "channels", "C1,C2", "conv channels after each stride-2 layer"},
      {"--latent", "latent", "D", "latent (code) dimensions"},
      {"--act", "act", "NAME", "hidden activation: relu|tanh|leaky_relu|softplus|sigmoid"},
      {"--lik", "lik", "NAME", "decoder likelihood: bernoulli|gaussian|gaussian-learned"},
      {"--sigma", "sigma", "S", "gaussian: fixed decoder standard deviation"},
  };
  read_config_flags(cli, flags, sizeof flags / sizeof flags[0], c, given);
}

DataSpec read_data(Cli& cli, bool required) {
  DataSpec d;
  const char* env = std::getenv(data::kDataEnv);
  const char* def = env && *env ? env : (required ? nullptr : "");
  d.source = cli.text("--data", "DIR|sprites",
                      "folder of an IDX dataset such as MNIST or Fashion-MNIST (the four IDX files, .gz or "
                      "not; default $EMBER_DATA), the built-in 'sprites', or (GANs) the built-in 2-D 'rings'", def);
  d.sprites_train = cli.integer("--sprites-train", "N", "sprites: training images", d.sprites_train, 1, 1 << 22);
  d.sprites_test = cli.integer("--sprites-test", "N", "sprites: test images", d.sprites_test, 1, 1 << 22);
  return d;
}

std::string stem_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) return path.substr(0, dot);
  return path;
}

CheckpointKind checkpoint_file_kind(const char* path) {
  models::CheckpointKind k;
  if (!models::checkpoint_kind(path, &k).is_ok()) return CheckpointKind::unknown;  // the command says why
  if (k == models::CheckpointKind::classifier) return CheckpointKind::classifier;
  return k == models::CheckpointKind::gan ? CheckpointKind::gan : CheckpointKind::autoencoder;
}

CheckpointKind checkpoint_kind(int argc, char** argv) {
  for (int i = 0; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--model")) return checkpoint_file_kind(argv[i + 1]);
  return CheckpointKind::unknown;
}

}  // namespace ember::tool
