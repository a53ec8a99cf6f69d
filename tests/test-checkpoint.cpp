// Checkpoints: round trips, memory buffers, atomic saves, meta text, renamed loads and bit-exact
// resume of training (the refusals are in test-checkpoint-refusals.cpp).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/checkpoint-fixture.h"
#include "tests/testing.h"
#include "platform/context.h"

using namespace ember;
using namespace ember::nn;
using namespace ember::testing::ckpt;
namespace fs = std::filesystem;

TEST_CASE("checkpoint: round trip restores values, moments, optimizers, RNGs and step bit-exactly") {
  TempDir dir;
  Model a(ParamMode::train_adam, 1);
  a.scramble(3);
  const std::string path = dir.file("a.ckpt");
  REQUIRE(a.save(path).is_ok());
  CHECK(dir.entries() == 1);  // no temp file left behind
  uint64_t size = 0;
  REQUIRE(checkpoint_size(a.params, a.state(), &size).is_ok());
  const std::vector<uint8_t> bytes = read_bytes(path);
  CHECK(bytes.size() == size);
  CHECK(std::memcmp(bytes.data(), "EMBRCKPT", 8) == 0);
  CHECK(bytes == a.to_memory());  // file and memory writers agree

  Model b(ParamMode::train_adam, 2);
  b.scramble(5);
  REQUIRE(b.load(path).is_ok());
  for (int i = 0; i < a.params.count(); ++i) {
    const Param &p = a.params[i], &q = b.params[i];
    CHECK(same_floats(p.value, q.value, p.numel()));
    if (p.m) CHECK(same_floats(p.m, q.m, p.numel()));
    if (p.v) CHECK(same_floats(p.v, q.v, p.numel()));
  }
  CHECK(b.params[2].m == nullptr);  // the state buffer has no moments
  for (int i = 0; i < 2; ++i) {
    CHECK(b.opts[i].steps() == a.opts[i].steps());
    CHECK(b.opts[i].config().lr == a.opts[i].config().lr);
    CHECK(b.rngs[i].next_u32() == a.rngs[i].next_u32());
    CHECK(b.rngs[i].normal() == a.rngs[i].normal());
  }
  CHECK(b.step == a.step);

  // The brief's flat signatures do the same.
  Model c(ParamMode::train_adam, 9);
  uint64_t step = 0;
  REQUIRE(save_checkpoint(path.c_str(), a.params, a.opts, 2, a.rngs, 2, 99).is_ok());
  REQUIRE(load_checkpoint(path.c_str(), &c.params, c.opts, 2, c.rngs, 2, &step).is_ok());
  CHECK(step == 99);
  CHECK(same_floats(c.params[0].value, a.params[0].value, a.params[0].numel()));
}

TEST_CASE("checkpoint: memory buffers (weights from flash)") {
  Model a(ParamMode::train_adam, 1);
  a.scramble(2);
  const std::vector<uint8_t> bytes = a.to_memory();
  Model b(ParamMode::train_adam, 4);
  REQUIRE(load_checkpoint_from_memory(bytes.data(), bytes.size(), &b.params, b.state()).is_ok());
  // Values and moments restored, gradients (zero in both) untouched: the whole arena agrees,
  // past the parameter table at its start (which points into each model's own arena).
  const size_t table = a.params.table_bytes() + a.params.bytes(ParamMode::train_adam).table;
  REQUIRE(a.arena.used() == b.arena.used());
  CHECK(std::memcmp(a.arena.base() + table, b.arena.base() + table, a.arena.used() - table) == 0);
  CHECK(b.step == a.step);

  std::vector<uint8_t> small(bytes.size() - 1);
  size_t written = 7;
  Status s = save_checkpoint_to_memory(small.data(), small.size(), &written, a.params, a.state());
  CHECK(s.code() == Code::out_of_memory);
  CHECK(has(s, "needs"));
  CHECK(written == 0);
}

TEST_CASE("checkpoint: inference and SGD models load training checkpoints; missing moments are zeroed") {
  TempDir dir;
  Model a(ParamMode::train_adam, 1);
  a.scramble(2);
  REQUIRE(a.save(dir.file("adam.ckpt")).is_ok());

  // Inference: values only, moments in the file skipped, no optimizers or RNGs asked for.
  Model inf(ParamMode::inference, 3);
  uint64_t step = 0;
  CheckpointState only_values;
  only_values.step = &step;
  REQUIRE(load_checkpoint(dir.file("adam.ckpt").c_str(), &inf.params, only_values).is_ok());
  for (int i = 0; i < a.params.count(); ++i) {
    CHECK(inf.params[i].m == nullptr);
    CHECK(same_floats(inf.params[i].value, a.params[i].value, a.params[i].numel()));
  }
  CHECK(step == a.step);

  // SGD model: m restored from the file, v (not allocated) skipped.
  Model sgd(ParamMode::train_sgd, 4);
  REQUIRE(load_checkpoint(dir.file("adam.ckpt").c_str(), &sgd.params, only_values).is_ok());
  CHECK(sgd.params[0].v == nullptr);
  CHECK(same_floats(sgd.params[0].m, a.params[0].m, a.params[0].numel()));

  // The other way: an inference checkpoint into a training model zeroes the moments.
  REQUIRE(save_checkpoint(dir.file("inf.ckpt").c_str(), inf.params, CheckpointState()).is_ok());
  Model b(ParamMode::train_adam, 5);
  b.scramble(6);
  REQUIRE(load_checkpoint(dir.file("inf.ckpt").c_str(), &b.params, CheckpointState()).is_ok());
  for (int i = 0; i < b.params.count(); ++i) {
    const Param& p = b.params[i];
    CHECK(same_floats(p.value, a.params[i].value, p.numel()));
    for (size_t j = 0; p.m && j < p.numel(); ++j) CHECK((p.m[j] == 0.0f && p.v[j] == 0.0f));
  }
}

TEST_CASE("checkpoint: saves are atomic; a failed save leaves the old file intact") {
  TempDir dir;
  Model a(ParamMode::train_adam, 1), b(ParamMode::train_adam, 2);
  a.scramble(1), b.scramble(2);
  const std::string path = dir.file("model.ckpt");
  REQUIRE(a.save(path).is_ok());
  const std::vector<uint8_t> old = read_bytes(path);

  // Overwrite: the new bytes, and nothing else left in the directory.
  REQUIRE(b.save(path).is_ok());
  CHECK(read_bytes(path) == b.to_memory());
  CHECK(dir.entries() == 1);
  REQUIRE(a.save(path).is_ok());
  CHECK(read_bytes(path) == old);

  // The temp name is taken (by a directory): the save fails before touching the target.
  const std::string blocker = path + ".tmp." + std::to_string(::getpid());
  fs::create_directory(blocker);
  Status s = b.save(path);
  CHECK(s.code() == Code::io_error);
  CHECK_MESSAGE(has(s, "temp file"), std::string(s.message()));
  CHECK(read_bytes(path) == old);
  CHECK(fs::is_directory(blocker));  // not ours: not removed
  fs::remove(blocker);

  // The target is a directory: the rename fails, the temp file is removed.
  const std::string sub = dir.file("sub");
  fs::create_directory(sub);
  s = b.save(sub);
  CHECK(s.code() == Code::io_error);
  CHECK_MESSAGE(has(s, "rename"), std::string(s.message()));
  CHECK(fs::is_directory(sub));
  CHECK(dir.entries() == 2);  // model.ckpt and sub only

  // A directory that does not exist.
  s = b.save(dir.file("nowhere/x.ckpt"));
  CHECK(s.code() == Code::io_error);
  CHECK(has(s, "x.ckpt"));

  // A read-only directory (root ignores permissions, so only as a normal user).
  if (::geteuid() != 0) {
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    s = b.save(path);
    fs::permissions(dir.path, fs::perms::owner_all);
    CHECK(s.code() == Code::io_error);
    CHECK(read_bytes(path) == old);
  }
  CHECK(dir.entries() == 2);

  // Invalid arguments are refused before any file is created.
  Params unallocated;
  s = save_checkpoint(dir.file("u.ckpt").c_str(), unallocated, CheckpointState());
  CHECK(s.code() == Code::invalid_argument);
  CHECK(!fs::exists(dir.file("u.ckpt")));
}

namespace {
// One fake training step: gradients from the data RNG, then both optimizers.
void train_step(Context& ctx, Model& m) {
  for (int i = 0; i < m.params.count(); ++i) {
    Param& p = m.params[i];
    if (p.grad) m.rngs[0].fill_normal(p.grad, p.numel(), 0.0f, 1.0f);
    else m.rngs[1].fill_uniform(p.value, p.numel(), -1.0f, 1.0f);  // a running statistic moves too
  }
  REQUIRE(m.opts[0].step(ctx, m.params).is_ok());
  REQUIRE(m.opts[1].step(ctx, m.params).is_ok());
  ++m.step;
}
}  // namespace

TEST_CASE("checkpoint: resuming from the middle of training is bit-exact") {
  TempDir dir;
  std::vector<uint8_t> ctx_buf(4 << 20);
  Arena ctx_arena(ctx_buf.data(), ctx_buf.size());
  Context ctx;
  Context::Options opt;
  opt.threads = 1;
  REQUIRE(ctx.init(&ctx_arena, opt).is_ok());
  constexpr int kSteps = 12;
  const std::string path = dir.file("mid.ckpt");

  Model a(ParamMode::train_adam, 1);
  a.opts[1].set_lr(3e-3f);
  for (int t = 0; t < kSteps; ++t) {
    if (t == kSteps / 2) REQUIRE(a.save(path).is_ok());
    train_step(ctx, a);
  }

  Model b(ParamMode::train_adam, 42);  // different initial values: all must come from the file
  REQUIRE(b.load(path).is_ok());
  CHECK(b.step == kSteps / 2);
  CHECK(b.opts[0].steps() == kSteps / 2);
  CHECK(b.opts[1].config().lr == 3e-3f);
  while (b.step < kSteps) train_step(ctx, b);

  for (int i = 0; i < a.params.count(); ++i) {
    const Param &p = a.params[i], &q = b.params[i];
    CHECK_MESSAGE(same_floats(p.value, q.value, p.numel()), p.name);
    if (p.m) CHECK(same_floats(p.m, q.m, p.numel()));
    if (p.v) CHECK(same_floats(p.v, q.v, p.numel()));
  }
  CHECK(b.opts[1].steps() == a.opts[1].steps());
  CHECK(b.rngs[0].next_u32() == a.rngs[0].next_u32());
}

TEST_CASE("checkpoint: meta text is stored, read back alone, and checked") {
  TempDir dir;
  Model src(ParamMode::train_adam, 1);
  CheckpointState st = src.state();
  st.meta = "kind=vae latent=20";
  const std::string path = dir.file("meta.ckpt");
  REQUIRE(save_checkpoint(path.c_str(), src.params, st).is_ok());
  char text[64];
  REQUIRE(read_checkpoint_meta(path.c_str(), text, sizeof text).is_ok());
  CHECK(std::string(text) == "kind=vae latent=20");
  char tiny[8];
  CHECK(read_checkpoint_meta(path.c_str(), tiny, sizeof tiny).code() == Code::invalid_argument);

  Model dst(ParamMode::train_adam, 2);
  CheckpointState in = dst.state();
  in.meta_out = text, in.meta_cap = sizeof text;
  std::memset(text, 'x', sizeof text);
  REQUIRE(load_checkpoint(path.c_str(), &dst.params, in).is_ok());
  CHECK(std::string(text) == "kind=vae latent=20");

  // A byte outside printable ASCII is refused when saving, and in a file.
  st.meta = "bad\ttab";
  CHECK(save_checkpoint(dir.file("bad.ckpt").c_str(), src.params, st).code() == Code::invalid_argument);
  std::vector<uint8_t> b = src.to_memory();  // no meta: version 2 (no int8 records) with meta_len 0
  CHECK(b[8] == 2);
  b[36] = 1;  // claims one meta byte: the parse shifts and the CRC catches it
  Status s = load_checkpoint_from_memory(b.data(), b.size(), &dst.params, dst.state());
  CHECK(s.code() == Code::corrupt_data);
  b[8] = 1;  // version 1 must have 0 there
  s = load_checkpoint_from_memory(b.data(), b.size(), &dst.params, dst.state());
  CHECK(s.code() == Code::corrupt_data);
}

namespace {
// The rename hook of the test below: "ema.X" loads into X, "d.*" is skipped, X itself is
// skipped when the file has "ema.X" (every g.* here), other names stay.
bool averaged_g_only(void*, const char* name, char* out, size_t cap) {
  if (!std::strncmp(name, "d.", 2) || !std::strncmp(name, "g.", 2)) return false;
  std::snprintf(out, cap, "%s", std::strncmp(name, "ema.", 4) ? name : name + 4);
  return true;
}
}  // namespace

TEST_CASE("checkpoint: rename loads part of a file into another model, checked like the rest") {
  TempDir dir;
  const std::string path = dir.file("parts.ckpt");
  // The file: g.fc1.weight, g.fc1.bias (trainable), their averages "ema.*" (state buffers),
  // and a D parameter; the model: only g.fc1.weight and g.fc1.bias, values only.
  std::vector<uint8_t> buf(1 << 16), small(1 << 16);
  Arena arena(buf.data(), buf.size()), small_arena(small.data(), small.size());
  Params file(&arena), model(&small_arena);
  int id;
  const InitSpec init{Init::normal, 1.0f};
  file.set_group(0);
  REQUIRE(file.get_or_add("g.fc1.weight", Shape(3, 4), init, true, &id).is_ok());
  REQUIRE(file.get_or_add("g.fc1.bias", Shape(3), init, true, &id).is_ok());
  REQUIRE(file.get_or_add("ema.g.fc1.weight", Shape(3, 4), init, false, &id).is_ok());
  REQUIRE(file.get_or_add("ema.g.fc1.bias", Shape(3), init, false, &id).is_ok());
  file.set_group(1);
  REQUIRE(file.get_or_add("d.fc.weight", Shape(1, 3), init, true, &id).is_ok());
  REQUIRE(file.allocate(&arena, ParamMode::train_adam).is_ok());
  Rng rng(3);
  file.initialise(&rng);
  REQUIRE(save_checkpoint(path.c_str(), file, CheckpointState()).is_ok());
  model.set_group(0);
  REQUIRE(model.get_or_add("g.fc1.weight", Shape(3, 4), init, true, &id).is_ok());
  REQUIRE(model.get_or_add("g.fc1.bias", Shape(3), init, true, &id).is_ok());
  REQUIRE(model.allocate(&small_arena, ParamMode::inference).is_ok());

  // Without the hook the file's extra records are refused.
  Status plain = load_checkpoint(path.c_str(), &model, CheckpointState());
  CHECK(plain.code() == Code::shape_mismatch);
  CHECK_MESSAGE(has(plain, "'ema.g.fc1.weight' is in the file but not in the model"), std::string(plain.message()));
  CheckpointState st;
  st.rename = averaged_g_only;
  REQUIRE(load_checkpoint(path.c_str(), &model, st).is_ok());
  CHECK(same_floats(model[0].value, file[file.find("ema.g.fc1.weight")].value, 12));
  CHECK(same_floats(model[1].value, file[file.find("ema.g.fc1.bias")].value, 3));
  CHECK(!same_floats(model[0].value, file[0].value, 12));

  // A model with moments may not take a state buffer as a trainable parameter.
  std::vector<uint8_t> big(1 << 16);
  Arena big_arena(big.data(), big.size());
  Params trains(&big_arena);
  trains.set_group(0);
  REQUIRE(trains.get_or_add("g.fc1.weight", Shape(3, 4), init, true, &id).is_ok());
  REQUIRE(trains.get_or_add("g.fc1.bias", Shape(3), init, true, &id).is_ok());
  REQUIRE(trains.allocate(&big_arena, ParamMode::train_adam).is_ok());
  const std::vector<float> before(trains[0].value, trains[0].value + 12);
  Status s = load_checkpoint(path.c_str(), &trains, st);
  CHECK(s.code() == Code::shape_mismatch);
  CHECK_MESSAGE(has(s, "a state buffer in the file, trainable in the model"), std::string(s.message()));
  CHECK(same_floats(trains[0].value, before.data(), 12));

  // A name the model lacks, or a parameter nothing loads into, is an error naming it.
  st.rename = [](void*, const char* name, char* out, size_t cap) {
    std::snprintf(out, cap, "%s", std::strncmp(name, "ema.", 4) ? "nothing" : name + 4);
    return !std::strncmp(name, "ema.", 4) || !std::strncmp(name, "d.", 2);
  };
  s = load_checkpoint(path.c_str(), &model, st);
  CHECK_MESSAGE(has(s, "'d.fc.weight' (as 'nothing') is in the file but not in the model"), std::string(s.message()));
  st.rename = [](void*, const char* name, char* out, size_t cap) {
    std::snprintf(out, cap, "%s", name + 4);
    return !std::strcmp(name, "ema.g.fc1.weight");
  };
  s = load_checkpoint(path.c_str(), &model, st);
  CHECK_MESSAGE(has(s, "'g.fc1.bias' is in the model but not in the file"), std::string(s.message()));
}

TEST_CASE("checkpoint: a save removes the temp files of killed saves of the same file, and nothing else" *
          doctest::skip(testing::kWasm)) {
  TempDir dir;
  Model a(ParamMode::train_adam, 1);
  const std::string path = dir.file("model.ckpt");
  // A pid that is surely gone: a child that has exited and been waited for.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  const std::string stale = path + ".tmp." + std::to_string(child);
  const std::string alive = path + ".tmp." + std::to_string(::getppid());  // a live process
  const std::string other = dir.file(("other.ckpt.tmp." + std::to_string(child)).c_str());  // another file's
  const std::string odd = path + ".tmp." + std::to_string(child) + "x";            // not a pid
  for (const std::string* f : {&stale, &alive, &other, &odd}) write_bytes(*f, std::vector<uint8_t>(100, 7));
  REQUIRE(a.save(path).is_ok());
  CHECK(!fs::exists(stale));
  CHECK(fs::exists(alive));
  CHECK(fs::exists(other));
  CHECK(fs::exists(odd));
  CHECK(dir.entries() == 4);
}
