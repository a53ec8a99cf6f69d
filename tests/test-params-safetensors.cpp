// nn/params-safetensors.h: a model's parameters to safetensors and back (bit for bit), renamed
// through a map, PyTorch's num_batches_tracked ignored, and every mismatch (missing, extra,
// misshaped) reported, one note each, before anything is read; NaN refused by name.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "nn/params-safetensors.h"
#include "tests/temp-dir.h"
#include "tests/testing.h"

using namespace ember;
using namespace ember::nn;
using ember::testing::message_has;

namespace {

// A small model: a conv, a transposed conv, a linear layer and a BatchNorm's four tensors.
struct Model {
  std::vector<uint8_t> block = std::vector<uint8_t>(1 << 20);
  Arena arena{block.data(), block.size()};
  Params params{&arena};
  explicit Model(int fc_out = 3, bool extra = false, uint64_t seed = 1) {
    int id = 0;
    const InitSpec init{Init::normal, 1.0f, 1, 1};
    REQUIRE(params.get_or_add("d.conv1.weight", Shape(4, 1, 3, 3), init, true, &id).is_ok());
    REQUIRE(params.get_or_add("g.deconv1.weight", Shape(4, 2, 4, 4), init, true, &id).is_ok());
    REQUIRE(params.get_or_add("g.fc.weight", Shape(fc_out, 5), init, true, &id).is_ok());
    REQUIRE(params.get_or_add("g.fc.bias", Shape(fc_out), init, true, &id).is_ok());
    for (const char* s : {"g.bn.weight", "g.bn.bias", "g.bn.running_mean", "g.bn.running_var"})
      REQUIRE(params.get_or_add(s, Shape(7), init, std::strstr(s, "running") == nullptr, &id).is_ok());
    if (extra) REQUIRE(params.get_or_add("d.extra.bias", Shape(2), init, true, &id).is_ok());
    REQUIRE(params.allocate(&arena, ParamMode::inference).is_ok());
    Rng rng(seed);
    params.initialise(&rng);
  }
  Status save(const std::string& path, const SafetensorsMeta* meta = nullptr, size_t n_meta = 0) const {
    std::vector<SafetensorsInput> list(size_t(params.count()));
    size_t count = 0;
    EMBER_TRY(params_to_safetensors(params, list.data(), list.size(), &count));
    SafetensorsWriteList w;
    w.tensors = list.data(), w.count = count, w.metadata = meta, w.metadata_count = n_meta;
    return safetensors_save(path.c_str(), w);
  }
  std::vector<float> values() const {
    std::vector<float> v;
    for (int i = 0; i < params.count(); ++i) v.insert(v.end(), params[i].value, params[i].value + params[i].numel());
    return v;
  }
};

// Opens path and loads it into m, collecting the notes.
struct Loader {
  std::vector<uint8_t> header = std::vector<uint8_t>(1 << 16);
  std::vector<JsonToken> tokens = std::vector<JsonToken>(4096);
  std::vector<SafetensorsTensor> tensors = std::vector<SafetensorsTensor>(64);
  std::vector<std::string> notes;
  SafetensorsFile file;
  Status load(const std::string& path, Model* m, TensorRename rename = nullptr, void* user = nullptr) {
    SafetensorsRoom room{tokens.data(), tokens.size(), tensors.data(), tensors.size()};
    EMBER_TRY(file.open(path.c_str(), header.data(), header.size(), room));
    SafetensorsLoad how;
    how.rename = rename, how.rename_user = user;
    how.note = [](void* u, const char* line) { static_cast<Loader*>(u)->notes.push_back(line); };
    how.note_user = this;
    return load_params_safetensors(file, "t.safetensors", &m->params, how);
  }
};

// Writes one F32 tensor file by hand, for names ember would never write.
void write_raw(const std::string& path, const char* name, const float* data, uint64_t n) {
  SafetensorsInput t;
  t.name = name, t.rank = 1, t.dims[0] = n, t.data = data;
  SafetensorsWriteList w;
  w.tensors = &t, w.count = 1;
  REQUIRE(safetensors_save(path.c_str(), w).is_ok());
}

}  // namespace

TEST_CASE("params-safetensors: a round trip is bit for bit, with the layouts and metadata as given") {
  testing::TempDir dir("pst");
  Model a(3, false, 1), b(3, false, 2);
  const SafetensorsMeta meta[] = {{"format", "pt"}, {"ember.config", "kind=test"}};
  REQUIRE(a.save(dir.file("m.safetensors"), meta, 2).is_ok());
  CHECK(a.values() != b.values());
  Loader l;
  REQUIRE(l.load(dir.file("m.safetensors"), &b).is_ok());
  CHECK(a.values() == b.values());
  CHECK(l.notes.empty());
  const SafetensorsTensor* t = l.file.view().find("g.deconv1.weight");
  REQUIRE(t);
  CHECK(t->rank == 4);
  CHECK((t->dims[0] == 4 && t->dims[1] == 2 && t->dims[2] == 4 && t->dims[3] == 4));
  char config[32];
  bool found = false;
  REQUIRE(l.file.view().metadata("ember.config", config, sizeof config, &found).is_ok());
  CHECK(found);
  CHECK(std::string(config) == "kind=test");
}

TEST_CASE("params-safetensors: every mismatch is noted and counted, and nothing is read") {
  testing::TempDir dir("pst");
  Model file_model(4, true, 1);  // g.fc is [4, 5] and [4]; d.extra.bias is not in the target
  REQUIRE(file_model.save(dir.file("m.safetensors")).is_ok());
  Model target(3, false, 2);
  const std::vector<float> before = target.values();
  Loader l;
  const Status s = l.load(dir.file("m.safetensors"), &target);
  CHECK(s.code() == Code::shape_mismatch);
  CHECK(message_has(s, "0 missing, 1 extra, 2 misshaped"));
  CHECK(l.notes.size() == 3);
  bool saw_shapes = false, saw_extra = false;
  for (const std::string& n : l.notes) {
    saw_shapes = saw_shapes || n == "misshaped g.fc.weight: [4, 5] in the file, [3, 5] in the model";
    saw_extra = saw_extra || n == "extra d.extra.bias [2]";
  }
  CHECK(saw_shapes);
  CHECK(saw_extra);
  CHECK(target.values() == before);

  // A file of one tensor: everything else is missing.
  const float one[2] = {1, 2};
  write_raw(dir.file("one.safetensors"), "d.extra.bias", one, 2);
  Loader l2;
  const Status s2 = l2.load(dir.file("one.safetensors"), &target);
  CHECK(message_has(s2, "8 missing, 1 extra, 0 misshaped"));
  CHECK(l2.notes.size() == 9);
  CHECK(target.values() == before);
}

TEST_CASE("params-safetensors: renamed tensors load, num_batches_tracked is ignored, NaN is refused") {
  testing::TempDir dir("pst");
  Model a(3, false, 1);
  // The same tensors under other names, plus PyTorch's counter.
  std::vector<SafetensorsInput> list(size_t(a.params.count()) + 1);
  size_t count = 0;
  REQUIRE(params_to_safetensors(a.params, list.data(), list.size(), &count).is_ok());
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i) names.push_back(std::string("torch.") + list[i].name);
  for (size_t i = 0; i < count; ++i) list[i].name = names[i].c_str();
  const float counter = 17.0f;
  list[count].name = "torch.g.bn.num_batches_tracked", list[count].rank = 0, list[count].data = &counter;
  SafetensorsWriteList w;
  w.tensors = list.data(), w.count = count + 1;
  REQUIRE(safetensors_save(dir.file("r.safetensors").c_str(), w).is_ok());
  const TensorRename strip = [](void*, const char* name, char* out, size_t cap) {
    if (std::strncmp(name, "torch.", 6) != 0) return false;
    std::snprintf(out, cap, "%s", name + 6);
    return true;
  };
  Model b(3, false, 2);
  Loader l;
  CHECK(l.load(dir.file("r.safetensors"), &b).code() == Code::shape_mismatch);  // not renamed: all extra
  Loader l2;
  REQUIRE(l2.load(dir.file("r.safetensors"), &b, strip).is_ok());
  CHECK(a.values() == b.values());
  CHECK(is_ignored_tensor("g.bn.num_batches_tracked"));
  CHECK_FALSE(is_ignored_tensor("g.bn.running_var"));

  // A NaN in one tensor: refused, naming it and the element.
  a.params[a.params.find("g.fc.bias")].value[1] = std::nanf("");
  std::vector<SafetensorsInput> raw(size_t(a.params.count()));
  REQUIRE(params_to_safetensors(a.params, raw.data(), raw.size(), &count).is_ok());
  SafetensorsWriteList w2;
  w2.tensors = raw.data(), w2.count = count;
  REQUIRE(safetensors_save(dir.file("nan.safetensors").c_str(), w2).is_ok());
  Loader l3;
  const Status s = l3.load(dir.file("nan.safetensors"), &b);
  CHECK(s.code() == Code::not_finite);
  CHECK(message_has(s, "g.fc.bias holds NaN at element 1"));
}
