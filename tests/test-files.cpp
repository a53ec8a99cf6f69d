// Only regular files are opened for reading: a FIFO, a directory or a device is refused with
// "not a regular file" by every reader of files, and a FIFO without hanging (fopen on a FIFO
// blocks until a writer comes, which is how `ember info --file FIFO` used to hang).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core/arena.h"
#include "data/mnist.h"
#include "io/file.h"
#include "nn/checkpoint.h"
#include "nn/params.h"
#include "tests/temp-dir.h"
#include "tests/testing.h"
#include "train/history.h"

using namespace ember;

namespace {

bool has(const Status& s, const char* text) { return std::strstr(s.message(), text) != nullptr; }

// Runs open_it on another thread. If it has not returned after a few seconds it is blocked in
// the FIFO: the check fails, and opening the write end releases it so the test can end.
Status without_hanging(const std::string& fifo, const std::function<Status()>& open_it) {
  std::packaged_task<Status()> task(open_it);
  std::future<Status> done = task.get_future();
  std::thread t(std::move(task));
  const bool returned = done.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  CHECK_MESSAGE(returned, "opening the FIFO ", fifo, " blocked");
  if (!returned) {
    const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) ::close(w);
  }
  t.join();
  return done.get();
}

}  // namespace

TEST_CASE("files: a FIFO is refused as not a regular file, without blocking, by every reader" *
          doctest::skip(testing::kWasm)) {
  testing::TempDir dir("files");
  const std::string fifo = dir.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const char* path = fifo.c_str();

  auto refused = [&](const char* who, const std::function<Status()>& open_it) {
    const Status s = without_hanging(fifo, open_it);
    CHECK_MESSAGE(s.code() == Code::io_error, who, ": ", s.message());
    CHECK_MESSAGE(has(s, "not a regular file"), who, ": ", s.message());
    CHECK_MESSAGE(has(s, "pipe"), who, ": ", s.message());
  };
  refused("ReadFile", [&] {
    ReadFile f;
    const Status s = f.open(path);
    CHECK_FALSE(f.is_open());
    return s;
  });
  refused("open_regular_file", [&] {
    std::FILE* f = reinterpret_cast<std::FILE*>(&dir);
    bool missing = true;
    const Status s = open_regular_file(path, &f, &missing);
    CHECK(f == nullptr);
    CHECK_FALSE(missing);
    return s;
  });
  refused("read_checkpoint_meta", [&] {
    char meta[64];
    return nn::read_checkpoint_meta(path, meta, sizeof meta);
  });
  std::vector<uint8_t> buf(1 << 16);
  refused("load_idx_images", [&] {
    Arena arena(buf.data(), buf.size());
    data::Dataset ds;
    return data::load_idx_images(&arena, path, nullptr, &ds);
  });
  refused("History::read_csv", [&] {
    Arena arena(buf.data(), buf.size());
    static const char* const kNames[] = {"epoch", "loss"};
    train::History h;
    REQUIRE(h.init(&arena, kNames, 2, 4).is_ok());
    return h.read_csv(path, 10);
  });
}

TEST_CASE("files: directories are refused, a missing file is told apart, a regular file opens") {
  testing::TempDir dir("files");
  std::FILE* f = nullptr;
  bool missing = false;
  Status s = open_regular_file(dir.path.c_str(), &f, &missing);
  CHECK(has(s, "not a regular file"));
  CHECK_FALSE(missing);
  s = open_regular_file(dir.file("absent").c_str(), &f, &missing);
  CHECK(s.code() == Code::io_error);
  CHECK(missing);
  CHECK(has(s, "absent"));
  CHECK(open_regular_file("", &f).code() == Code::invalid_argument);

  std::ofstream(dir.file("plain")) << "abc";
  ReadFile r;
  REQUIRE(r.open(dir.file("plain").c_str()).is_ok());
  uint64_t n = 0;
  REQUIRE(r.size(&n).is_ok());
  CHECK(n == 3);
  char got[3];
  REQUIRE(r.read_exact(got, 3).is_ok());
  CHECK(std::memcmp(got, "abc", 3) == 0);
}

TEST_CASE("files: a history log that exists but cannot be read is an error, not an empty log") {
  testing::TempDir dir("files");
  std::vector<uint8_t> buf(1 << 12);
  Arena arena(buf.data(), buf.size());
  static const char* const kNames[] = {"epoch", "loss"};
  train::History h;
  REQUIRE(h.init(&arena, kNames, 2, 4).is_ok());
  // Taken as empty, an unreadable log would be replaced by a fresh one at the next epoch.
  const Status s = h.read_csv(dir.path.c_str(), 10);
  CHECK_FALSE(s.is_ok());
  CHECK(has(s, "not a regular file"));
  CHECK(h.read_csv(dir.file("absent.csv").c_str(), 10).is_ok());
  CHECK(h.rows() == 0);
}
