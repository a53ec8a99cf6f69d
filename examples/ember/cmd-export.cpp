// ember export: a checkpoint's weights for somewhere else.
//
//   ember export --model vae.ember --out vae-dec.ember              sampler file: a VAE's decoder
//                                                                     or a GAN's G alone (its averages)
//   ember export --model vae.ember --c-array VAE_DEC --out dec.h    the same as a C array (examples/mcu/)
//   ember export --model vae.ember --weights int8 --out dec8.ember  int8 weights per output channel
//                                                                     (nn/quantize.h): a quarter of the bytes
//   ember export --model vae.ember --format safetensors --out vae.safetensors [--sampler]
//                                                                     every tensor (or the sampler's) under
//                                                                     PyTorch's names, for python/ember_torch.py
#include <cctype>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/interop.h"
#include "examples/ember/model-options.h"
#include "io/file.h"
#include "models/classifier-model.h"
#include "nn/params-safetensors.h"
#include "nn/quantize.h"

namespace ember::tool {

namespace {

bool is_c_name(const char* s) {
  if (!(std::isalpha(static_cast<unsigned char>(*s)) || *s == '_')) return false;
  for (; *s; ++s)
    if (!(std::isalnum(static_cast<unsigned char>(*s)) || *s == '_')) return false;
  return true;
}

// The bytes of `file` as `static const unsigned char NAME[] = {...};` in a header at `out`
// (atomically), for a firmware to compile in: the library loads it with
// nn::CheckpointRef::memory(NAME, sizeof NAME).
Status write_c_array(const char* file, const char* name, const char* out) {
  std::FILE* in = nullptr;
  EMBER_TRY(open_regular_file(file, &in));
  std::string text = std::string("// ") + name + ": an ember sampler file (`ember export --c-array`), for a board's "
                     "flash.\n// Load it with nn::CheckpointRef::memory(" + name + ", sizeof " + name + ").\n"
                     "#pragma once\n\nalignas(8) static const unsigned char " + name + "[] = {\n";
  unsigned char buf[4096];
  size_t n = 0, total = 0;
  char hex[8];
  while ((n = std::fread(buf, 1, sizeof buf, in)) > 0)
    for (size_t i = 0; i < n; ++i, ++total) {
      std::snprintf(hex, sizeof hex, "0x%02x,", buf[i]);
      text += hex;
      text += total % 16 == 15 ? "\n" : " ";
    }
  const bool read_error = std::ferror(in) != 0;
  std::fclose(in);
  if (read_error) return Status::error(Code::io_error, "%s: read failed", file);
  text += "\n};\n";
  AtomicWriter w;
  EMBER_TRY(w.open(out));
  EMBER_TRY(w.write(text.data(), text.size()));
  return w.commit();
}

// The checkpoint at `path` with values only: the whole model, or (sampler) its sampler part,
// a VAE's decoder or a GAN's generator holding the averaged weights when it has them.
template <class Model>
Status load_values(const char* path, bool sampler, Loaded<Model>* m) {
  typename Model::Setup s;
  EMBER_TRY(Model::read_config(path, &s.config));
  s.training = false;
  s.eval_batch = 1;
  if constexpr (std::is_same_v<Model, models::GanModel>) s.generator_only = sampler;
  if constexpr (std::is_same_v<Model, models::AeModel>) s.decoder_only = sampler;
  EMBER_TRY(m->model->configure(s));
  return open_for_inference(path, 1, MemoryPlan(), m);
}

size_t value_count(const nn::Params& p) {
  size_t n = 0;
  for (int i = 0; i < p.count(); ++i) n += p[i].numel();
  return n;
}

// Loads `path` as a sampler and saves that as an ember sampler file; int8: a second sampler
// built with int8 weights, quantized from the first (nn/quantize.h), is what is saved.
template <class Model>
Status write_sampler_file(const char* path, const char* out, bool int8, bool f32, size_t* values) {
  Loaded<Model> m;
  EMBER_TRY(load_values(path, true, &m));
  *values = value_count(m.model->params());
  const bool is_int8 = m.model->config().weights == nn::Storage::int8;
  if (is_int8 && f32)
    return Status::error(Code::invalid_argument, "%s holds int8 weights: export its float model instead", path);
  if (!int8 || is_int8) return m.model->save(out, m.step);
  Loaded<Model> q;
  typename Model::Setup s;
  s.config = m.model->config();
  s.config.weights = nn::Storage::int8;
  s.training = false;
  s.eval_batch = 1;
  if constexpr (std::is_same_v<Model, models::GanModel>) s.generator_only = true;
  if constexpr (std::is_same_v<Model, models::AeModel>) s.decoder_only = true;
  EMBER_TRY(q.model->configure(s));
  EMBER_TRY(open_session_for(q.model.get(), 1, MemoryPlan(), &q.session));
  EMBER_TRY(nn::quantize_params(m.model->params(), &q.model->params()));
  return q.model->save(out, m.step);
}

// The whole model (or its sampler part) as safetensors. A sampler file holds only its sampler
// part, so that is what it exports.
template <class Model>
Status write_safetensors(const char* path, const char* family, bool sampler, const char* out, size_t* values,
                         bool* as_sampler) {
  auto m = std::make_unique<Loaded<Model>>();
  Status s = load_values(path, sampler, m.get());
  if (!s.is_ok() && !sampler && !std::is_same_v<Model, models::ClassifierModel>) {
    auto part = std::make_unique<Loaded<Model>>();
    if (load_values(path, true, part.get()).is_ok()) m = std::move(part), sampler = true, s = Status::ok();
  }
  EMBER_TRY(s);
  auto config = m->model->config();
  if constexpr (std::is_same_v<Model, models::GanModel>)
    if (sampler) config.ema = 0.0f;  // G alone holds the averages under G's own names
  char text[nn::kMaxCheckpointMeta + 1];
  EMBER_TRY(config.to_text(text, sizeof text));
  const nn::Params& params = m->model->params();
  std::vector<SafetensorsInput> list(size_t(params.count()));
  size_t count = 0;
  EMBER_TRY(nn::params_to_safetensors(params, list.data(), list.size(), &count));
  const SafetensorsMeta meta[] = {{"format", "pt"},
                                  {kMetaConfig, text},
                                  {kMetaFamily, family},
                                  {kMetaPart, sampler ? kPartSampler : kPartModel}};
  SafetensorsWriteList w;
  w.tensors = list.data(), w.count = count, w.metadata = meta, w.metadata_count = sizeof meta / sizeof meta[0];
  EMBER_TRY(safetensors_save(out, w));
  *values = value_count(params);
  *as_sampler = sampler;
  return Status::ok();
}

}  // namespace

int cmd_export(int argc, char** argv) {
  Cli cli("export", "a sampler file (a GAN's G alone, its averages with --ema, or a VAE's decoder alone: values only, "
          "for a device that only samples), or the weights as safetensors for PyTorch", argc, argv);
  const char* path = cli.input("--model", "FILE", "checkpoint written by `ember train` (or `ember import`)", nullptr);
  const std::string format = cli.text("--format", "ember|safetensors", "ember: a sampler file; safetensors: every "
                                      "parameter and BatchNorm statistic under PyTorch's names (python/ember_torch.py)",
                                      "ember");
  const bool safetensors = format == "safetensors";
  if (!safetensors && format != "ember") cli.error("--format: ember or safetensors");
  const bool sampler = cli.flag("--sampler", "safetensors: the sampler part only (a VAE's decoder, a GAN's G)");
  const std::string weights = cli.text("--weights", "f32|int8", "a sampler file's weights: float32, or int8 with a "
                                       "float scale per output channel (a quarter of the bytes; for sampling only); "
                                       "default: as the file holds them", "");
  const bool int8 = weights == "int8";
  if (!weights.empty() && !int8 && weights != "f32") cli.error("--weights: f32 or int8");
  const char* array = cli.text("--c-array", "NAME", "write the sampler file as a C array NAME (a .h for a board's "
                               "flash: examples/mcu/) instead", "");
  const char* out = cli.output("--out", "FILE", "file to write: .ember, .h with --c-array, .safetensors", nullptr,
                               safetensors ? ".safetensors" : *array ? ".h" : ".ember");
  if (*array && !is_c_name(array)) cli.error(std::string("--c-array: '") + array + "' is not a C identifier");
  if (*array && safetensors) cli.error("--c-array writes an ember sampler file: not with --format safetensors");
  if (int8 && safetensors) cli.error("--weights int8 writes an ember sampler file: not with --format safetensors");
  if (sampler && !safetensors) cli.error("--sampler: with --format safetensors (an ember export is always a sampler)");
  if (!cli.finish()) return cli.exit_code();
  const CheckpointKind kind = checkpoint_kind(argc, argv);
  size_t values = 0;
  bool as_sampler = sampler;
  Status s;
  if (safetensors) {
    if (kind == CheckpointKind::gan) s = write_safetensors<models::GanModel>(path, "gan", sampler, out, &values, &as_sampler);
    else if (kind == CheckpointKind::autoencoder)
      s = write_safetensors<models::AeModel>(path, "autoencoder", sampler, out, &values, &as_sampler);
    else if (kind == CheckpointKind::classifier && !sampler)
      s = write_safetensors<models::ClassifierModel>(path, "classifier", false, out, &values, &as_sampler);
    else if (kind == CheckpointKind::classifier) s = Status::error(Code::invalid_argument, "%s: a classifier has no sampler part", path);
    else s = Status::error(Code::invalid_argument, "%s: not an ember checkpoint", path);
    if (!s.is_ok()) return report("export", s);
    std::printf("wrote %s (%s, %zu values)\n", out, as_sampler ? "the sampler part" : "the whole model", values);
    return 0;
  }
  // A C array: the sampler file is written next to it first, then turned into the header.
  const std::string file = *array ? std::string(out) + ".tmp.ember" : out;
  models::AeConfig ae;
  if (kind == CheckpointKind::gan) {
    s = write_sampler_file<models::GanModel>(path, file.c_str(), int8, weights == "f32", &values);
  } else if (kind == CheckpointKind::autoencoder) {
    s = models::AeModel::read_config(path, &ae);
    if (s.is_ok() && ae.kind != models::ModelKind::vae)
      s = Status::error(Code::invalid_argument, "%s: a plain autoencoder has no prior to sample from", path);
    if (s.is_ok()) s = write_sampler_file<models::AeModel>(path, file.c_str(), int8, weights == "f32", &values);
  } else {
    s = Status::error(Code::invalid_argument, "%s: not a GAN or VAE checkpoint", path);
  }
  if (s.is_ok() && *array) {
    s = write_c_array(file.c_str(), array, out);
    std::remove(file.c_str());
  }
  if (!s.is_ok()) return report("export", s);
  std::printf("wrote %s (%zu values%s%s%s)\n", out, values, int8 ? ", int8 weights" : "",
              *array ? ", as the C array " : "", array);
  return 0;
}

}  // namespace ember::tool
