#include "examples/ember/interop.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "examples/ember/cli.h"
#include "io/npy.h"

namespace ember::tool {

SampleFiles read_sample_files(Cli& cli) {
  SampleFiles f;
  f.z_in = cli.input("--z", "Z.npy", "decode these latents, [n, latent] float32, instead of drawing n (--n and "
                     "--seed are then unused)", "");
  f.save_z = cli.output("--save-z", "Z.npy", "also write the latents, [n, latent] float32", "", ".npy");
  f.save_x = cli.output("--save-x", "X.npy", "also write the samples, [n, 1, rows, cols] float32 in [0, 1] (rings: "
                        "[n, 2])", "", ".npy");
  return f;
}

Status latent_rows(const char* path, int latent, int max_rows, int* n) {
  NpyArray a;
  EMBER_TRY(npy_read_info(path, &a));
  const bool one = a.rank == 1 && a.dims[0] == uint64_t(latent);
  const bool rows = a.rank == 2 && a.dims[1] == uint64_t(latent) && a.dims[0] >= 1;
  if (!one && !rows)
    return Status::error(Code::shape_mismatch, "%s: latents must be [n, %d] (or [%d]) for this model", path, latent,
                         latent);
  if (rows && a.dims[0] > uint64_t(max_rows))
    return Status::error(Code::invalid_argument, "%s: %llu rows, at most %d", path,
                         static_cast<unsigned long long>(a.dims[0]), max_rows);
  *n = one ? 1 : static_cast<int>(a.dims[0]);
  return Status::ok();
}

Status save_latents(const char* path, const float* z, int n, int latent) {
  const uint64_t dims[] = {uint64_t(n), uint64_t(latent)};
  return npy_save(path, dims, 2, z);
}

Status save_samples(const char* path, const float* x, int n, int rows, int cols) {
  if (rows == 0) {
    const uint64_t dims[] = {uint64_t(n), uint64_t(cols)};
    return npy_save(path, dims, 2, x);
  }
  const uint64_t dims[] = {uint64_t(n), 1, uint64_t(rows), uint64_t(cols)};
  return npy_save(path, dims, 4, x);
}

Status NameMap::read(const char* path) {
  std::ifstream in(path);
  if (!in) return Status::error(Code::io_error, "--names %s: cannot open it", path);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string from, to, more;
    if (!(fields >> from)) continue;  // blank or comment
    if (!(fields >> to) || (fields >> more))
      return Status::error(Code::invalid_argument, "--names %s:%d: want two names, 'file_name ember_name'", path, number);
    for (const auto& p : pairs)
      if (p.first == from)
        return Status::error(Code::invalid_argument, "--names %s:%d: %s is mapped twice", path, number,
                             from.substr(0, 60).c_str());
    pairs.emplace_back(from, to);
  }
  return Status::ok();
}

bool NameMap::rename(void* user, const char* file_name, char* out, size_t cap) {
  const NameMap& m = *static_cast<const NameMap*>(user);
  for (const auto& p : m.pairs)
    if (p.first == file_name) {
      std::snprintf(out, cap, "%s", p.second.c_str());
      return true;
    }
  return false;
}

}  // namespace ember::tool
