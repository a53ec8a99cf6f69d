// ember dataset: a dataset as the four IDX files MNIST comes in, for other tools to read (e.g.
// python/train_ddp.py on the built-in sprites), and for `--data DIR` to read back.
//
//   ember dataset --data sprites --out runs/sprites     (train-images-idx3-ubyte, train-labels-idx1-ubyte,
//                                                       t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "data/idx.h"
#include "io/file.h"
#include "examples/ember/cli.h"
#include "examples/ember/commands.h"
#include "examples/ember/model-options.h"
#include "models/model-common.h"

namespace ember::tool {

namespace {

constexpr const char* kFiles[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                   "t10k-labels-idx1-ubyte"};

Status save_set(const std::string& dir, const char* prefix, const data::Dataset& d) {
  const uint32_t image_dims[] = {uint32_t(d.count), uint32_t(d.rows), uint32_t(d.cols)};
  EMBER_TRY(data::idx_save((dir + "/" + prefix + "-images-idx3-ubyte").c_str(), image_dims, 3, d.pixels));
  if (!d.labels) return Status::ok();
  const uint32_t label_dims[] = {uint32_t(d.count)};
  return data::idx_save((dir + "/" + prefix + "-labels-idx1-ubyte").c_str(), label_dims, 1, d.labels);
}

}  // namespace

int cmd_dataset(int argc, char** argv) {
  Cli cli("dataset", "write a dataset (the built-in sprites, or any --data) as the four IDX files of MNIST", argc, argv);
  const DataSpec spec = read_data(cli, true);
  const std::string dir = cli.text("--out", "DIR", "folder to write the files into (made if missing)", nullptr);
  const bool force = cli.flag("--force", "replace the four files when DIR has them already");
  if (!cli.finish()) return cli.exit_code();
  // A folder of real data is never written over unasked (e.g. --out pointing at MNIST).
  for (const char* f : kFiles)
    if (!force && file_kind((dir + "/" + f).c_str()) != FileKind::missing)
      return report("dataset", Status::error(Code::invalid_argument, "%s/%s exists; --force replaces the dataset in %s",
                                             dir.c_str(), f, dir.c_str()));
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    return report("dataset", Status::error(Code::io_error, "%s: cannot create it: %s", dir.c_str(), std::strerror(errno)));
  MemoryPlan plan;
  size_t bytes = 0, context = 0;
  int workers = 1;
  Status s = data_bytes(spec, true, true, &bytes);
  plan.add("datasets", bytes);
  if (s.is_ok()) s = models::context_share(1, &workers, &context);
  plan.add("context", context);
  Session session;
  if (s.is_ok()) s = session.open(plan, 1);
  data::Dataset train, test;
  if (s.is_ok()) s = load_data(&session.arena, spec, true, true, &train, &test);
  if (s.is_ok()) s = save_set(dir, "train", train);
  if (s.is_ok()) s = save_set(dir, "t10k", test);
  if (!s.is_ok()) return report("dataset", s);
  std::printf("wrote %s: %d training and %d test images of %dx%d%s\n", dir.c_str(), train.count, test.count, train.rows,
              train.cols, train.labels ? ", with labels" : "");
  return 0;
}

}  // namespace ember::tool
