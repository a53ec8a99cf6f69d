#include "examples/ember/model_options.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "models/gan.h"
#include "nn/checkpoint.h"

namespace ember::tool {

void read_architecture(Cli& cli, models::AeConfig* c) {
  struct Key { const char* flag; const char* key; const char* metavar; const char* help; };
  static const Key keys[] = {
      {"--model", "kind", "ae|vae", "autoencoder or variational autoencoder (--model classifier: a classifier)"},
      {"--arch", "arch", "mlp|linear|conv", "network shape"},
      {"--widths", "widths", "W1,W2,..", "mlp hidden widths, encoder order (decoder mirrors)"},
      {"--channels", "channels", "C1,C2", "conv channels after each stride-2 layer"},
      {"--latent", "latent", "D", "latent (code) dimensions"},
      {"--act", "act", "NAME", "hidden activation: relu|tanh|leaky_relu|softplus|sigmoid"},
      {"--lik", "lik", "NAME", "decoder likelihood: bernoulli|gaussian|gaussian-learned"},
      {"--sigma", "sigma", "S", "gaussian: fixed decoder standard deviation"},
  };
  char def[64];
  for (const Key& k : keys) {
    char text[256];
    c->to_text(text, sizeof text);
    // The default shown is the config's current value of that key.
    const char* at = std::strstr(text, (std::string(k.key) + "=").c_str());
    std::snprintf(def, sizeof def, "%s", at ? at + std::strlen(k.key) + 1 : "");
    if (char* sp = std::strchr(def, ' ')) *sp = 0;
    const char* v = cli.text(k.flag, k.metavar, k.help, def);
    if (!cli.given(k.flag)) continue;
    const Status s = c->set(k.key, v);
    if (!s.is_ok()) cli.error(s.message());
  }
}

DataSpec read_data(Cli& cli, bool required) {
  DataSpec d;
  const char* env = std::getenv(kDataEnv);
  const char* def = env && *env ? env : (required ? nullptr : "");
  d.source = cli.text("--data", "DIR|sprites",
                      "MNIST directory (the four IDX files, .gz or not; default $EMBER_DATA), the built-in "
                      "'sprites', or (GANs) the built-in 2-D 'rings'", def);
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

CheckpointKind checkpoint_kind(int argc, char** argv) {
  for (int i = 0; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--model") != 0) continue;
    char meta[nn::kMaxCheckpointMeta + 1];
    if (!nn::read_checkpoint_meta(argv[i + 1], meta, sizeof meta).is_ok()) return CheckpointKind::unknown;
    if (!std::strncmp(meta, "kind=classifier ", std::strlen("kind=classifier "))) return CheckpointKind::classifier;
    models::GanConfig gan;
    if (gan.from_text(meta).is_ok()) return CheckpointKind::gan;
    return CheckpointKind::autoencoder;
  }
  return CheckpointKind::unknown;
}

}  // namespace ember::tool
