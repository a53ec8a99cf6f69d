// ember import: a safetensors file (from PyTorch, python/ember_torch.py, or `ember export`)
// into an ember checkpoint that every command takes.
//
//   ember import vae.safetensors --out vae.ember                     architecture from the metadata
//   ember import w.safetensors --out vae.ember --model vae --widths 400 --latent 20
//   ember import w.safetensors --out g.ember --model dcgan --names names.txt
//
// The file's tensors must be exactly the model's (or its sampler part's: a VAE's decoder, a
// GAN's G), under ember's names (the PyTorch ones; --names renames), with the model's shapes:
// every missing, extra or misshaped tensor is printed, and nothing is written.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/gan-commands.h"
#include "examples/ember/interop.h"
#include "examples/ember/model-options.h"
#include "io/file.h"
#include "models/checkpoint-kind.h"
#include "models/classifier-model.h"
#include "nn/params-safetensors.h"

namespace ember::tool {

namespace {

// The value of `--model` among the arguments ("" when absent).
std::string model_flag(int argc, char** argv) {
  for (int i = 0; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--model")) return argv[i + 1];
  for (int i = 0; i < argc; ++i)
    if (!std::strncmp(argv[i], "--model=", 8)) return argv[i] + 8;
  return "";
}

void print_problem(void*, const char* line) { std::fprintf(stderr, "  %s\n", line); }

// Whether every tensor (renamed, PyTorch's extras aside) belongs to the sampler part.
bool only_sampler_tensors(const SafetensorsView& v, const NameMap& names, const char* prefix) {
  char target[256];
  for (size_t i = 0; i < v.count(); ++i) {
    const char* name = v.tensor(i).name;
    if (nn::is_ignored_tensor(name)) continue;
    if (NameMap::rename(const_cast<NameMap*>(&names), name, target, sizeof target)) name = target;
    if (std::strncmp(name, prefix, std::strlen(prefix)) != 0) return false;
  }
  return true;
}

struct Import {
  const char* in = nullptr;
  const char* out = nullptr;
  std::string config;  // the model's config text
  std::string part;    // model | sampler | "" (decide from the names)
  NameMap names;
  SafetensorsFile* file = nullptr;
};

// Builds Model (values only) from the config, fills it from the file and saves it.
template <class Model>
Status import_as(const Import& im, const char* sampler_prefix, std::string* what, size_t* values) {
  typename Model::Setup s;
  EMBER_TRY(s.config.from_text(im.config.c_str()));
  s.training = false;
  s.eval_batch = 1;
  bool sampler = im.part == kPartSampler;
  if (im.part.empty() && sampler_prefix) sampler = only_sampler_tensors(im.file->view(), im.names, sampler_prefix);
  if (sampler && !sampler_prefix) return Status::error(Code::invalid_argument, "%s: this model has no sampler part", im.in);
  if constexpr (std::is_same_v<Model, models::GanModel>) s.generator_only = sampler;
  if constexpr (std::is_same_v<Model, models::AeModel>) s.decoder_only = sampler;
  auto model = std::make_unique<Model>();
  EMBER_TRY(model->configure(s));
  Session session;
  EMBER_TRY(open_session_for(model.get(), 1, MemoryPlan(), &session));
  nn::SafetensorsLoad how;
  how.rename = NameMap::rename, how.rename_user = const_cast<NameMap*>(&im.names);
  how.note = print_problem;
  EMBER_TRY(nn::load_params_safetensors(*im.file, im.in, &model->params(), how));
  EMBER_TRY(model->save(im.out, 0));
  *what = sampler ? "a sampler file" : "a model";
  *values = 0;
  for (int i = 0; i < model->params().count(); ++i) *values += model->params()[i].numel();
  return Status::ok();
}

}  // namespace

int cmd_import(int argc, char** argv) {
  Cli cli("import", "a safetensors file (PyTorch names and layouts: python/ember_torch.py, `ember export`) into an "
          "ember checkpoint; the architecture from its metadata, else from the flags", argc, argv);
  const char* out = cli.output("--out", "FILE.ember", "checkpoint to write", nullptr, ".ember");
  const bool force = cli.flag("--force", "replace --out when it exists");
  const char* names_path = cli.input("--names", "MAP", "rename tensors: lines 'file_name ember_name' (# comments)", "");
  // Architecture flags, for a file without ember's metadata: those of `ember train`.
  const std::string kind = model_flag(argc, argv);
  const bool gan = kind == "gan" || kind == "dcgan" || kind == "cgan";
  models::GanConfig gc;
  models::AeConfig ac;
  std::vector<ConfigFlag> given;
  static const ConfigFlag kImageFlags[] = {{"--rows", "rows", "R", "image rows"}, {"--cols", "cols", "C", "image columns"}};
  static const ConfigFlag kClassFlag[] = {{"--classes", "classes", "K", "cgan: classes"}};
  if (gan) {
    read_gan_architecture(cli, &gc, &given);
    read_config_flags(cli, kImageFlags, 2, &gc, &given);
    read_config_flags(cli, kClassFlag, 1, &gc, &given);
  } else {
    read_architecture(cli, &ac, &given);
    read_config_flags(cli, kImageFlags, 2, &ac, &given);
  }
  const bool arch_given = !given.empty() || cli.given("--model") || cli.given("--mbstd");
  const char* in = cli.positional_input("FILE.safetensors", "the file to import");
  if (!cli.finish()) return cli.exit_code();
  if (file_kind(out) != FileKind::missing && !force)
    return report("import", Status::error(Code::invalid_argument, "--out %s exists; --force replaces it", out));

  Import im;
  im.in = in, im.out = out;
  Status s = *names_path ? im.names.read(names_path) : Status::ok();
  uint64_t header_bytes = 0;
  if (s.is_ok()) s = safetensors_header_size(in, &header_bytes);
  if (!s.is_ok()) return report("import", s);
  // Room for the parse: a JSON token takes at least two bytes of the header, a tensor 40.
  std::vector<uint8_t> header(static_cast<size_t>(header_bytes));
  std::vector<JsonToken> tokens(size_t(header_bytes / 2 + 16));
  std::vector<SafetensorsTensor> tensors(size_t(header_bytes / 40 + 4));
  SafetensorsRoom room{tokens.data(), tokens.size(), tensors.data(), tensors.size()};
  SafetensorsFile file;
  s = file.open(in, header.data(), header.size(), room);
  im.file = &file;
  char text[nn::kMaxCheckpointMeta + 1], excerpt[48];
  bool has_config = false, has_part = false;
  if (s.is_ok()) s = file.view().metadata(kMetaConfig, text, sizeof text, &has_config);
  if (s.is_ok() && has_config && arch_given)
    s = Status::error(Code::invalid_argument, "%s records its architecture (%s): drop the architecture flags", in,
                      kMetaConfig);
  if (s.is_ok() && has_config) im.config = text;
  if (s.is_ok() && !has_config && !arch_given)
    s = Status::error(Code::invalid_argument, "%s has no ember.config metadata: give the architecture (--model vae "
                      "--widths 400 --latent 20 ..., as for ember train)", in);
  if (s.is_ok() && !has_config) s = gan ? gc.to_text(text, sizeof text) : ac.to_text(text, sizeof text);
  if (s.is_ok() && !has_config) im.config = text;
  if (s.is_ok()) s = file.view().metadata(kMetaPart, text, sizeof text, &has_part);
  if (s.is_ok() && has_part) im.part = text;
  if (s.is_ok() && has_part && im.part != kPartModel && im.part != kPartSampler)
    s = Status::error(Code::corrupt_data, "%s: %s is '%s', not model or sampler", in, kMetaPart,
                      message_excerpt(text, std::strlen(text), excerpt, sizeof excerpt));
  models::CheckpointKind family = models::CheckpointKind::autoencoder;
  if (s.is_ok()) s = models::config_kind(im.config.c_str(), &family);
  std::string what;
  size_t values = 0;
  if (s.is_ok() && family == models::CheckpointKind::gan) s = import_as<models::GanModel>(im, "g.", &what, &values);
  else if (s.is_ok() && family == models::CheckpointKind::autoencoder) s = import_as<models::AeModel>(im, "dec.", &what, &values);
  else if (s.is_ok()) s = import_as<models::ClassifierModel>(im, nullptr, &what, &values);
  if (!s.is_ok()) return report("import", s);
  std::printf("wrote %s (%s of %zu values: %s)\n", out, what.c_str(), values, im.config.c_str());
  return 0;
}

}  // namespace ember::tool
